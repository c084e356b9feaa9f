#!/usr/bin/env bash
# Berth vs docker-registry / distribution 2.8.2 (see bench.sh).
#   Benchmarks/scripts/e2e.sh [WORKDIR]
exec "$(dirname "$0")/bench.sh" e2e "$@"
