#!/usr/bin/env python3
"""Signs requests with botocore's own signers, for SigV4ConformanceTests.

stdin: a JSON list of cases; stdout: a JSON list of results, in order.
A case: {signer: "s3" | "generic" | "presign", method, scheme, host,
         bucket (path-style bucket or null), key (raw object key or null),
         path (raw path used when key is null), query: [[name, value]],
         headers: [[name, value]], body_hex (null: no body),
         unsigned: bool, access, secret, token (or null), region,
         service, timestamp (seconds since epoch), expires}
The path is built here with botocore's own key encoding
(percent_encode(key, safe='/~')), independently of the Swift code.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def build_path(case):
    if case.get("key") is not None:
        key = percent_encode(case["key"], safe="/~")
        return "/" + case["bucket"] + "/" + key if case.get("bucket") else "/" + key
    return case["path"]


def sign(case):
    when = datetime.datetime.fromtimestamp(case["timestamp"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda: when
    creds = Credentials(case["access"], case["secret"], case.get("token"))
    url = f'{case["scheme"]}://{case["host"]}{build_path(case)}'
    body = bytes.fromhex(case["body_hex"]) if case.get("body_hex") is not None else None
    request = AWSRequest(method=case["method"], url=url, data=body,
                         headers=dict(case["headers"]) if case["headers"] else {},
                         params=[tuple(p) for p in case["query"]])
    if case["unsigned"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    kind = case["signer"]
    if kind == "s3":
        signer = botocore.auth.S3SigV4Auth(creds, case["service"], case["region"])
    elif kind == "generic":
        signer = botocore.auth.SigV4Auth(creds, case["service"], case["region"])
    else:
        signer = botocore.auth.S3SigV4QueryAuth(creds, case["service"], case["region"], expires=case["expires"])
    seen = {}
    original = signer.string_to_sign

    def recording(req, canonical_request):
        seen["canonical_request"] = canonical_request
        seen["string_to_sign"] = original(req, canonical_request)
        return seen["string_to_sign"]

    signer.string_to_sign = recording
    signer.add_auth(request)
    return {"canonical_request": seen["canonical_request"],
            "string_to_sign": seen["string_to_sign"],
            "url": request.url,
            "headers": {k: v for k, v in request.headers.items()}}


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
