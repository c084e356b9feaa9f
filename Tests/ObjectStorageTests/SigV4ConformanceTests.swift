import Foundation
import Testing
@testable import ObjectStorage

/// The Swift signer against botocore's SigV4Auth, S3SigV4Auth and
/// S3SigV4QueryAuth on the same requests: canonical request, string to sign,
/// Authorization header and presigned URL must be byte-for-byte equal.
@Suite struct SigV4ConformanceTests {
    struct Case {
        var signer: String  // s3 | generic | presign
        var method: String
        var scheme = "http"
        var host = "127.0.0.1:9000"
        var bucket: String? = "berth-bucket"
        var key: String? = nil
        var path = "/"
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: [UInt8]? = nil
        var unsigned = false
        var token: String? = nil
        var region = "us-east-1"
        var service = "s3"
        var timestamp: TimeInterval = 1_780_000_000
        var expires = 900

        var wirePath: String {
            guard let key else { return path }
            return (bucket.map { "/" + $0 } ?? "") + "/" + URIEncoding.encodePath(key)
        }

        var json: [String: Any] {
            [
                "signer": signer, "method": method, "scheme": scheme, "host": host,
                "bucket": bucket as Any, "key": key as Any, "path": path,
                "query": query.map { [$0.0, $0.1] }, "headers": headers.map { [$0.0, $0.1] },
                "body_hex": body.map { SigV4Crypto.hex($0) } as Any, "unsigned": unsigned,
                "access": "AKIDEXAMPLEBERTH", "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "token": token as Any, "region": region, "service": service,
                "timestamp": timestamp, "expires": expires,
            ]
        }
    }

    static let oddKeys = [
        "plain.txt", "with space/and more spaces", "plus+sign+key", "ünïcødé/日本語/файл",
        "tilde~under_score-dash.dot", "!*'()[]{}$&,;=@:?#%", "docker/registry/v2/blobs/sha256/ab/abcdef/data",
        "trailing/slash/", "a//double//slash", "emoji 🚢 berth",
    ]

    static var cases: [Case] {
        var all: [Case] = []
        for (i, key) in oddKeys.enumerated() {
            all.append(Case(signer: "s3", method: ["GET", "PUT", "HEAD", "DELETE", "POST"][i % 5], key: key,
                            body: i % 5 == 1 ? Array("body of \(key)".utf8) : nil, unsigned: i % 3 == 0,
                            token: i % 4 == 0 ? "FQoGZXIvYXdzE//session+token==" : nil))
            all.append(Case(signer: "presign", method: "GET", key: key,
                            query: i % 2 == 0 ? [("response-content-disposition", "attachment; filename=\"ü x.bin\"")] : [],
                            token: i % 3 == 0 ? "tok/+=" : nil, expires: 60 + i))
        }
        all += [
            Case(signer: "s3", method: "POST", key: "mp/obj", query: [("uploads", "")],
                 headers: [("Content-Type", "application/octet-stream"), ("x-amz-storage-class", "STANDARD_IA")],
                 body: []),
            Case(signer: "s3", method: "PUT", key: "mp/obj",
                 query: [("partNumber", "10"), ("uploadId", "2~abc/def+ghi=")], body: Array(repeating: 7, count: 1000)),
            Case(signer: "s3", method: "GET", key: nil, path: "/berth-bucket",
                 query: [("list-type", "2"), ("prefix", "docker/ä b/"), ("continuation-token", "1/+abc=="),
                         ("max-keys", "3"), ("delimiter", "/")]),
            Case(signer: "s3", method: "GET", key: "ranged", headers: [("Range", "bytes=5-  10"), ("X-Amz-Meta-Odd", "  many   spaces\there  ")]),
            Case(signer: "s3", method: "PUT", key: "copy dst", query: [("partNumber", "1"), ("uploadId", "u")],
                 headers: [("x-amz-copy-source", "/berth-bucket/copy%20src"), ("x-amz-copy-source-range", "bytes=0-5242879"),
                           ("User-Agent", "berth/1.0"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")]),
            Case(signer: "s3", method: "POST", key: nil, path: "/berth-bucket", query: [("delete", "")],
                 headers: [("Content-Type", "application/xml")], body: Array("<Delete><Object><Key>a</Key></Object></Delete>".utf8)),
            Case(signer: "s3", method: "GET", scheme: "https", host: "berth-bucket.s3.eu-west-3.amazonaws.com", bucket: nil,
                 key: "virtual host/key", unsigned: true, region: "eu-west-3", timestamp: 1_700_000_000),
            Case(signer: "generic", method: "GET", bucket: nil, path: "/a/./b/../c%20d//e/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
                 region: "us-east-1", service: "iam"),
            Case(signer: "generic", method: "POST", bucket: nil, path: "", body: Array("Action=GetCallerIdentity".utf8),
                 service: "sts"),
            Case(signer: "presign", method: "PUT", scheme: "https", host: "s3.amazonaws.com", key: "upload/target",
                 query: [("partNumber", "2"), ("uploadId", "x y")], expires: 604_800),
        ]
        return all
    }

    static func botocore(_ cases: [Case]) throws -> [[String: Any]] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/botocore_sign.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: cases.map(\.json)))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ObjectStorageTestError("botocore_sign.py failed (is botocore installed? scripts/install-deps.sh --test): \(stderr)")
        }
        return try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }

    @Test func signaturesMatchBotocore() throws {
        let cases = Self.cases
        let expected = try Self.botocore(cases)
        #expect(expected.count == cases.count)
        for (c, boto) in zip(cases, expected) {
            let credentials = SigV4Credentials(accessKey: "AKIDEXAMPLEBERTH", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                               sessionToken: c.token)
            let signer = SigV4Signer(credentials: credentials, region: c.region, service: c.service,
                                     flavor: c.signer == "generic" ? .generic : .s3)
            let request = SigV4Request(method: c.method, scheme: c.scheme, host: c.host, path: c.wirePath,
                                       query: c.query, headers: c.headers)
            let date = Date(timeIntervalSince1970: c.timestamp)
            let botoHeaders = boto["headers"] as! [String: String]
            if c.signer == "presign" {
                let (url, signature) = signer.presign(request, expires: c.expires, date: date)
                #expect(signature.canonicalRequest == boto["canonical_request"] as? String, "\(c.method) \(c.wirePath)")
                #expect(signature.stringToSign == boto["string_to_sign"] as? String)
                #expect(url == boto["url"] as? String, "\(c.method) \(c.wirePath)")
            } else {
                let hash = c.unsigned ? SigV4Signer.unsignedPayload : SigV4Crypto.sha256Hex(c.body ?? [])
                let signature = signer.sign(request, payloadHash: hash, date: date)
                #expect(signature.canonicalRequest == boto["canonical_request"] as? String, "\(c.method) \(c.wirePath)")
                #expect(signature.stringToSign == boto["string_to_sign"] as? String)
                let mine = Dictionary(signature.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
                for name in ["Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"] {
                    #expect(mine[name.lowercased()] == botoHeaders[name], "\(name) for \(c.method) \(c.wirePath)")
                }
            }
        }
    }

    /// AWS's published example (sigv4 "GET Object" in the S3 API reference).
    @Test func awsDocumentedExample() {
        let signer = SigV4Signer(credentials: .init(accessKey: "AKIAIOSFODNN7EXAMPLE",
                                                    secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1")
        let request = SigV4Request(method: "GET", scheme: "https", host: "examplebucket.s3.amazonaws.com",
                                   path: "/test.txt", headers: [("Range", "bytes=0-9")])
        let signature = signer.sign(request, payloadHash: SigV4Signer.emptyPayloadHash,
                                    date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }
}

struct ObjectStorageTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
