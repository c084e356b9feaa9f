#!/usr/bin/env bash
# Builds Berth's server (release) and the benchmarks, installs what the
# HTTP benchmarks drive when missing (Debian: wrk, docker-registry for e2e,
# nginx-light for limits), and runs one `berth-bench` subcommand.
#   Benchmarks/scripts/bench.sh e2e [WORKDIR]      Berth vs distribution 2.8.2
#   Benchmarks/scripts/bench.sh limits [WORKDIR]   Berth vs nginx and dd, same run
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
sub="${1:?usage: bench.sh e2e|limits [args]}"
shift

need=()
command -v wrk >/dev/null || need+=(wrk)
case "$sub" in
    e2e) [[ -x /usr/bin/docker-registry ]] || need+=(docker-registry) ;;
    limits) [[ -x /usr/sbin/nginx ]] || need+=(nginx-light) ;;
esac
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
exec .build/release/berth-bench "$sub" "$@"
