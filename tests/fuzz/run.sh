#!/bin/sh
# tests/fuzz/run.sh -- builds the libFuzzer targets and runs each for a bounded time.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]   fuzz each target (default 60 s, all targets)
#        tests/fuzz/run.sh --seeds-only [TARGET...]            run each target once over its seeds
#
# DESIGN: the build lives in build-fuzz (clang, -DCOFFER_FUZZ=ON), and so does everything a run
# writes: each target fuzzes a work corpus, build-fuzz/corpus/<target>, into which the committed
# seeds of tests/fuzz/corpus/<target> are copied first (so what one run learns carries over to the
# next, and the committed seeds are never written to); crash, leak and timeout inputs go to
# build-fuzz/artifacts/<target>/, libFuzzer's output to build-fuzz/logs/<target>.log. The seeds-only
# mode hands libFuzzer the seed files themselves, which it runs once each and writes nothing: the
# regression check of deploy/run-tests.sh. One summary line per target; the exit status is non-zero
# when any target crashed.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
build="$repo/build-fuzz"
seeds_only=0
seconds=60

if [ "${1:-}" = "--seeds-only" ]; then
    seeds_only=1
    shift
elif [ $# -gt 0 ] && [ -z "$(printf '%s' "$1" | tr -d 0-9)" ]; then
    seconds=$1
    shift
    if [ "$seconds" -eq 0 ]; then
        echo "run.sh: SECONDS_PER_TARGET must be at least 1 (libFuzzer takes 0 as no limit)" >&2
        exit 2
    fi
fi
if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=""
    for src in "$repo"/tests/fuzz/fuzz_*.c; do
        targets="$targets $(basename "$src" .c)"
    done
fi
for t in $targets; do
    if [ ! -f "$repo/tests/fuzz/$t.c" ]; then
        echo "run.sh: no target $t (tests/fuzz/$t.c)" >&2
        exit 2
    fi
done

echo "== building the fuzz targets in build-fuzz"
CC=clang cmake -S "$repo" -B "$build" -DCOFFER_FUZZ=ON -DCOFFER_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz >/dev/null

failed=0
for t in $targets; do
    bin="$build/tests/fuzz/$t"
    seed_dir="$repo/tests/fuzz/corpus/$t"
    log="$build/logs/$t.log"
    artifacts="$build/artifacts/$t/"
    mkdir -p "$build/logs" "$artifacts"
    dict=""
    if [ -f "$repo/tests/fuzz/dict/$t.dict" ]; then
        dict="-dict=$repo/tests/fuzz/dict/$t.dict"
    fi
    if [ "$seeds_only" = 1 ]; then
        if "$bin" -artifact_prefix="$artifacts" "$seed_dir"/* >"$log" 2>&1; then
            echo "$t: $(grep -c '^Executed ' "$log") seeds, no crash"
        else
            echo "$t: CRASHED over its seeds (log: $log)"
            failed=1
        fi
        continue
    fi
    work="$build/corpus/$t"
    mkdir -p "$work"
    cp "$seed_dir"/* "$work"/
    # -timeout: an input that runs for 10 s is a hang; -print_final_stats: the exec count per second
    # shellcheck disable=SC2086 # $dict is empty or one word
    if "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" $dict "$work" >"$log" 2>&1; then
        status="no crash"
    else
        status="CRASHED: $(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1) (log: $log)"
        failed=1
    fi
    # libFuzzer ends a full run with "Done N runs in S second(s)"; a crash ends it early, with the count in its stats
    runs=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -n 1 || true)
    if [ -z "$runs" ]; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1) runs before it stopped"
    fi
    echo "$t: $runs, $status"
done
exit "$failed"
