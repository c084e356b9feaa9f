#!/usr/bin/env bash
# Builds Berth's server and the benchmarks, installs wrk if missing (Debian),
# and runs `berth-bench e2e` (Berth vs docker-registry / distribution 2.8.2).
#   Benchmarks/scripts/e2e.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

need=()
command -v wrk >/dev/null || need+=(wrk)
[[ -x /usr/bin/docker-registry ]] || need+=(docker-registry)
if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "berth-bench: missing: ${need[*]}; install with: sudo apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

(cd "$here/.." && swift build -c release -j 2 --product regctl)
cd "$here"
swift build -c release -j 2
exec .build/release/berth-bench e2e "$@"
