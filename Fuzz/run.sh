#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs them.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]   run each target SECONDS (default 60)
#   Fuzz/run.sh smoke                   every target briefly (~90 s in all)
#   Fuzz/run.sh build                   build only
#
# Each target runs on a copy of its seed corpus (Fuzz/Corpus/<target>) in a
# temp dir, so the checked-in corpus only changes by hand. Crash inputs land
# in Fuzz/artifacts/<target>/; a crash makes the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")"

TARGETS_ALL=(FuzzManifest FuzzIndex FuzzDescriptor FuzzDigest FuzzRepositoryName FuzzReference
             FuzzContentRange FuzzByteRange FuzzAcceptHeader FuzzPackRecordHeader FuzzPackFileHeader
             FuzzLMDBRecords)
JOBS="${FUZZ_BUILD_JOBS:-2}"

build() {
    # -sanitize=fuzzer links libFuzzer's main (so -parse-as-library: no
    # Swift top-level main); address adds ASan. Debug keeps assertions on.
    swift build -c debug -j "$JOBS" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
}

mode="${1:-60}"
if [[ "$mode" == "build" ]]; then build; exit 0; fi
if [[ "$mode" == "smoke" ]]; then
    seconds=5
    shift || true
else
    seconds="$mode"
    shift || true
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${TARGETS_ALL[@]}"); fi

build
bin="$(swift build -c debug --show-bin-path -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)"

work="$(mktemp -d "${TMPDIR:-/tmp}/berth-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "artifacts/$t"
    cp Corpus/"$t"/* "$work/$t"/
    echo "== $t (${seconds}s)"
    if ! "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "$work/$t" >"$work/$t.log" 2>&1; then
        echo "!! $t failed; crash input(s) in Fuzz/artifacts/$t/"
        tail -n 40 "$work/$t.log"
        status=1
    fi
    grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$work/$t.log" || true
done
exit "$status"
