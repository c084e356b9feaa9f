#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs them.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]   run each target SECONDS (default 60)
#   Fuzz/run.sh smoke                   every target briefly (~90 s in all, what `make test` runs)
#   Fuzz/run.sh grow SECONDS [TARGET...] run, then merge what the run found into
#                                       Fuzz/Corpus/<target>, minimised (-merge=1)
#   Fuzz/run.sh build                   build only
#
# Every run starts from the kept corpus (Fuzz/Corpus/<target>: hand-written
# seed-*, regression-* crashers, and the minimised inputs earlier `grow` runs
# found), copied to a temp dir; only `grow` writes the corpus back. The
# normal test suite replays every corpus file (Tests/FuzzReplayTests). Crash
# inputs land in Fuzz/artifacts/<target>/; a crash makes the script exit
# non-zero.
set -euo pipefail
cd "$(dirname "$0")"

# Every harness under Sources/ (FuzzReplayTests checks each has a corpus).
TARGETS_ALL=($(ls Sources))
JOBS="${FUZZ_BUILD_JOBS:-2}"

build() {
    # -sanitize=fuzzer links libFuzzer's main (so -parse-as-library: no
    # Swift top-level main); address adds ASan. Debug keeps assertions on.
    swift build -c debug -j "$JOBS" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
}

mode="${1:-60}"
if [[ "$mode" == "build" ]]; then build; exit 0; fi
grow=0
if [[ "$mode" == "smoke" ]]; then
    # 19 targets: 3 s each plus start-up and the corpus replay keep it near 90 s.
    seconds="${FUZZ_SMOKE_SECONDS:-3}"
    shift || true
elif [[ "$mode" == "grow" ]]; then
    grow=1
    seconds="${2:?grow needs SECONDS}"
    shift 2
else
    seconds="$mode"
    shift || true
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${TARGETS_ALL[@]}"); fi

build
bin="$(swift build -c debug --show-bin-path -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)"
flags=(-timeout=10 -rss_limit_mb=2048 -max_len=65536)

work="$(mktemp -d "${TMPDIR:-/tmp}/berth-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "artifacts/$t"
    cp Corpus/"$t"/* "$work/$t"/
    echo "== $t (${seconds}s)"
    asan="${ASAN_OPTIONS:-}"
    # Yams (the YAML parser under FuzzConfig) keeps a 24-byte allocation per
    # process that LeakSanitizer reports at exit: not ours, and not per input.
    if [[ "$t" == FuzzConfig ]]; then asan="detect_leaks=0"; fi
    if ! ASAN_OPTIONS="$asan" "$bin/$t" -max_total_time="$seconds" "${flags[@]}" \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "$work/$t" >"$work/$t.log" 2>&1; then
        echo "!! $t failed; crash input(s) in Fuzz/artifacts/$t/"
        tail -n 40 "$work/$t.log"
        status=1
    fi
    grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$work/$t.log" || true
    if [[ "$grow" == 1 && "$status" == 0 ]]; then
        # Minimise the kept corpus plus what this run found into a fresh
        # directory; hand-written seeds and regressions stay under their names.
        mkdir -p "$work/$t.min"
        # (run from the work dir: a merge that trips on an input writes its
        # crash-* file to the current directory, never into the tree)
        (cd "$work" && ASAN_OPTIONS="$asan" "$bin/$t" -merge=1 "${flags[@]}" "$work/$t.min" "$OLDPWD/Corpus/$t" "$work/$t") \
            >"$work/$t.merge.log" 2>&1
        find Corpus/"$t" -type f ! -name 'seed-*' ! -name 'regression-*' -delete
        for f in "$work/$t.min"/*; do
            [[ -e "$f" ]] || continue
            sum="$(sha1sum "$f" | cut -c1-40)"
            # Skip inputs identical to a kept seed or regression.
            dup=0
            for k in Corpus/"$t"/seed-* Corpus/"$t"/regression-*; do
                [[ -e "$k" ]] && cmp -s "$f" "$k" && { dup=1; break; }
            done
            [[ "$dup" == 1 ]] || cp "$f" Corpus/"$t"/"$sum"
        done
        echo "   corpus: $(ls Corpus/"$t" | wc -l) files, $(du -sk Corpus/"$t" | cut -f1) KiB"
    fi
done
exit "$status"
