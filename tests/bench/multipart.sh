#!/usr/bin/env bash
# tests/bench/multipart.sh -- multipart upload throughput and server memory,
# against dd's durable write rate on the same disk.
#
# DESIGN: the same conventions as run.sh (shared through lib.sh): binaries
# built in BUILD_DIR unless given, one work dir under the build dir for
# Coffer's data and dd's file (the repo's disk, never a RAM /tmp), Coffer on
# 127.0.0.1 and a free port with a random root key pair, every step under
# `timeout` within one budget, and only the PIDs started here are stopped.
# Three measurements:
#   dd     dd if=/dev/zero bs=1M conv=fdatasync of the object size
#   bench  coffer-bench put-multipart: parts of 8 MiB, 16 in flight, own HTTP
#          client (one sendmsg per part, no client-side copies), ETags checked
#   aws    /usr/bin/aws s3 cp of a file made beforehand in a temp dir, with
#          the CLI's default multipart settings (8 MiB parts, 10 requests in
#          flight) and nothing read from $HOME; Coffer is restarted first (by
#          default) so its VmHWM covers only this copy, and VmRSS is sampled
#          every 100 ms during it.
#
# Usage: tests/bench/multipart.sh      (knobs in tests/bench/README.md)
#   BENCH_MP_SIZE=64M tests/bench/multipart.sh      quick smoke run
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

BUILD_DIR=${BUILD_DIR:-$repo/build}
COFFER_BIN=${COFFER_BIN:-}
BENCH_BIN=${BENCH_BIN:-}
AWS_BIN=${AWS_BIN:-/usr/bin/aws}       # not the `aws` on PATH, which may be another version
SIZE=${BENCH_MP_SIZE:-1G}
PART_SIZE=${BENCH_MP_PART_SIZE:-8M}
CONCURRENCY=${BENCH_MP_CONCURRENCY:-16}
PHASES=${BENCH_PHASES:-"dd bench aws"}
RESTART=${BENCH_MP_RESTART:-1}         # 1: restart Coffer before the aws copy
BUDGET=${BENCH_BUDGET:-400}            # seconds for the whole run
KEEP=${BENCH_KEEP:-0}                  # 1: keep the work dir (server log)
STRICT=${BENCH_STRICT:-0}              # 1: exit 1 when a target is missed
BUCKET=bench
BENCH_KEY=multipart.bin
AWS_KEY=aws-cp.bin

start_time=$SECONDS
deadline=$((start_time + BUDGET))
log_tag=bench-mp
# shellcheck source=lib.sh
source "$here/lib.sh"

size_bytes=$(to_bytes "$SIZE")
part_bytes=$(to_bytes "$PART_SIZE")
((size_bytes >= 1048576)) || fail "BENCH_MP_SIZE must be at least 1M"
((part_bytes > 0)) || fail "BENCH_MP_PART_SIZE must be above 0"

need_coffer=0
if has_phase bench || has_phase aws; then need_coffer=1; fi
build_bins "$need_coffer"
if has_phase aws; then
    [[ -x $AWS_BIN ]] || fail "no AWS CLI at $AWS_BIN (set AWS_BIN or drop aws from BENCH_PHASES)"
fi

# ---- work dirs and cleanup ------------------------------------------------------

mkdir -p "$BUILD_DIR"
work=$(mktemp -d "$BUILD_DIR/bench-mp.XXXXXX")
src=$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench-mp.XXXXXX") # the file aws uploads; any disk will do
coffer_pid=""
sampler_pid=""

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    stop_pid "$sampler_pid"
    stop_pid "$coffer_pid"
    rm -rf "$src"
    finish_work_dir "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# dd's file, then two stored objects (the bench's and aws's) with room for parts.
need_kb=$(((4 * size_bytes + 200 * 1024 * 1024) / 1024))
require_free_kb "$work" "$need_kb" "next to the build dir"
if has_phase aws; then
    require_free_kb "$src" $(((size_bytes + 64 * 1024 * 1024) / 1024)) "in ${TMPDIR:-/tmp} for the aws source file"
fi

declare -A R=()
errors=0
cores=$(nproc)
log "work dir on $(df -P "$work" | awk 'NR == 2 { print $1 }'), $cores cores, object $SIZE, parts $PART_SIZE"

# Peak memory of coffer_pid while a command runs: VmRSS/RssAnon/RssFile sampled
# every interval_s into R[prefix.rss|anon|file] (kB), VmHWM after it into
# R[prefix.hwm]. The command's stdout is passed through.
with_mem_sampler() { # prefix interval_s cmd...
    local prefix=$1 interval=$2 rc=0
    shift 2
    rm -f "$work/mem.stop" "$work/mem.peak"
    sample_mem "$coffer_pid" "$work/mem.peak" "$work/mem.stop" "$((deadline - SECONDS + 5))" "$interval" &
    sampler_pid=$!
    "$@" || rc=$?
    touch "$work/mem.stop"
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
    if [[ -r $work/mem.peak ]]; then
        read -r "R[$prefix.rss]" "R[$prefix.anon]" "R[$prefix.file]" <"$work/mem.peak" || true
    fi
    R[$prefix.hwm]=$(status_kb "$coffer_pid" VmHWM)
    return "$rc"
}

# ---- Coffer ---------------------------------------------------------------------------

region=us-east-1
if ((need_coffer)); then
    # Sign for the region Coffer reports by default (its `serve --help` names it).
    r=$("$COFFER_BIN" serve --help 2>&1 | sed -n 's/.*--region.*(default \([^)]*\)).*/\1/p' | head -n 1 || true)
    region=${r:-$region}
    unset COFFER_ROOT_ACCESS_KEY COFFER_ROOT_SECRET_KEY # a fresh random pair
    start_coffer "$work/coffer" "$work/coffer.log"
    mb=$(timeout 30 "$BENCH_BIN" mkbucket --url "$url" --bucket "$BUCKET" --region "$region") || true
    [[ $mb == RESULT* ]] || fail "could not create bucket $BUCKET (see above; server log: $work/coffer.log)"
fi

# ---- a. dd ------------------------------------------------------------------------------

if has_phase dd; then
    t=$(step_budget 120)
    if ((t > 0)); then
        log "dd: $SIZE with conv=fdatasync"
        dd_res=$(dd_rate "$work/ddfile" "$size_bytes" "$t")
        if [[ -n $dd_res ]]; then
            read -r dd_bytes dd_secs 'R[dd.mb_per_s]' <<<"$dd_res"
            echo "RESULT run=dd mode=dd bytes=$dd_bytes seconds=$dd_secs mb_per_s=${R[dd.mb_per_s]}"
        fi
    fi
fi

# ---- b. coffer-bench put-multipart ---------------------------------------------------------

if has_phase bench; then
    t=$(step_budget 240)
    if ((t > 0)); then
        log "coffer-bench put-multipart: $SIZE in $PART_SIZE parts, $CONCURRENCY in flight"
        rc=0
        with_mem_sampler bench 0.05 timeout -k 5 "$t" "$BENCH_BIN" put-multipart --url "$url" --bucket "$BUCKET" \
            --key "$BENCH_KEY" --region "$region" --size "$size_bytes" --part-size "$part_bytes" \
            --concurrency "$CONCURRENCY" --verify >"$work/bench.out" || rc=$?
        line=$(grep '^RESULT ' "$work/bench.out" | tail -n 1 || true)
        if ((rc != 0)) || [[ -z $line ]]; then
            log "put-multipart failed (exit $rc)"
            errors=$((errors + 1))
        fi
        if [[ -n $line ]]; then
            echo "RESULT run=bench_multipart ${line#RESULT }"
            for k in mb_per_s complete_ms parts_per_s parts seconds errors etag; do
                R[bench.$k]=$(field "$line" "$k")
            done
        fi
    fi
fi

# ---- c. aws s3 cp -------------------------------------------------------------------------------

# The AWS CLI with nothing from $HOME or the environment: credentials and
# region from variables, empty config and credentials files of its own.
aws_run() { # timeout_s args...
    local t=$1
    shift
    ((t > 0)) || return 1 # budget spent (timeout 0 would not limit it)
    env -i HOME="$work/aws-home" PATH=/usr/bin:/bin LC_ALL=C.UTF-8 \
        AWS_ACCESS_KEY_ID="$COFFER_ROOT_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$COFFER_ROOT_SECRET_KEY" \
        AWS_DEFAULT_REGION="$region" AWS_CONFIG_FILE="$work/aws-home/config" \
        AWS_SHARED_CREDENTIALS_FILE="$work/aws-home/credentials" AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" \
        timeout -k 5 "$t" "$AWS_BIN" --endpoint-url "$url" "$@"
}

if has_phase aws; then
    mkdir -p "$work/aws-home"
    : >"$work/aws-home/config"
    : >"$work/aws-home/credentials"
    log "aws: writing the $SIZE source file (not timed)"
    budgeted 60 "$BENCH_BIN" mkfile --out "$src/$AWS_KEY" --key "$AWS_KEY" --size "$size_bytes" >/dev/null
    head -c 1024 "$src/$AWS_KEY" >"$src/small.bin"
    if [[ $RESTART == 1 ]]; then
        log "restarting coffer so that its VmHWM covers the aws copy only"
        stop_pid "$coffer_pid"
        coffer_pid=""
        start_coffer "$work/coffer" "$work/coffer.log"
    fi
    R[aws.idle_rss]=$(status_kb "$coffer_pid" VmRSS)

    # The CLI's fixed cost (Python start-up, one small PUT), for reading the figure below.
    t0=$EPOCHREALTIME
    if aws_run "$(step_budget 60)" s3 cp --only-show-errors --no-progress "$src/small.bin" "s3://$BUCKET/small.bin"; then
        R[aws.small_s]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    fi

    t=$(step_budget 240)
    if ((t > 0)); then
        log "aws s3 cp: $SIZE, default multipart settings"
        rc=0
        t0=$EPOCHREALTIME
        with_mem_sampler aws 0.1 aws_run "$t" s3 cp --only-show-errors --no-progress "$src/$AWS_KEY" \
            "s3://$BUCKET/$AWS_KEY" || rc=$?
        t1=$EPOCHREALTIME
        if ((rc != 0)); then
            log "aws s3 cp failed (exit $rc)"
            errors=$((errors + 1))
        else
            R[aws.seconds]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
            R[aws.mb_per_s]=$(awk -v n="$size_bytes" -v s="${R[aws.seconds]}" 'BEGIN { if (s > 0) printf "%.1f", n / 1e6 / s }')
            # What was stored: the size and a multipart ETag (not timed).
            head=$(aws_run 60 s3api head-object --bucket "$BUCKET" --key "$AWS_KEY" \
                --query '[ContentLength, ETag]' --output text 2>&1) || true
            read -r got_len got_etag <<<"$head"
            got_etag=${got_etag//\"/}
            if [[ $got_len != "$size_bytes" || ! $got_etag =~ ^[0-9a-f]{32}-[0-9]+$ ]]; then
                log "aws copy stored something else: $head"
                errors=$((errors + 1))
            fi
            R[aws.etag]=$got_etag
            echo "RESULT run=aws_cp mode=aws-s3-cp bytes=$size_bytes seconds=${R[aws.seconds]} mb_per_s=${R[aws.mb_per_s]}" \
                "peak_rss_kb=${R[aws.rss]:-} vmhwm_kb=${R[aws.hwm]:-} etag=$got_etag"
        fi
    fi
fi

# ---- summary ----------------------------------------------------------------------------------------

row() { # label value yardstick ratio target verdict
    printf '%-34s %10s %14s %8s %10s  %s\n' "$1" "${2:-n/a}" "${3:--}" "${4:--}" "${5:--}" "${6:-}"
}
kb_mib() { if [[ -n ${1:-} ]]; then mib "$1"; fi; }

r_bench=$(ratio "${R[bench.mb_per_s]:-}" "${R[dd.mb_per_s]:-}")
r_aws=$(ratio "${R[aws.mb_per_s]:-}" "${R[dd.mb_per_s]:-}")
aws_peak=$(kb_mib "${R[aws.rss]:-}")
v_bench=$(verdict "$r_bench" ">=" 0.5)
v_aws_mem=$(verdict "$aws_peak" "<=" 256)
misses=0
for v in "$v_bench" "$v_aws_mem"; do
    if [[ $v == MISS ]]; then misses=$((misses + 1)); fi
done
dd_col=${R[dd.mb_per_s]:+dd ${R[dd.mb_per_s]}}

echo
echo "== Coffer multipart upload: loopback, $cores cores, $SIZE object, MB = 10^6 bytes =="
row "measure" "value" "yardstick" "ratio" "target" "result"
row "dd $SIZE conv=fdatasync MB/s" "${R[dd.mb_per_s]:-}"
row "coffer-bench multipart MB/s" "${R[bench.mb_per_s]:-}" "$dd_col" "${r_bench:+${r_bench}x}" ">= 0.5x" "$v_bench"
row "  completion ms" "${R[bench.complete_ms]:-}"
row "  parts/s (${R[bench.parts]:-?} x $PART_SIZE, $CONCURRENCY in flight)" "${R[bench.parts_per_s]:-}"
row "aws s3 cp MB/s" "${R[aws.mb_per_s]:-}" "$dd_col" "${r_aws:+${r_aws}x}"
row "  aws s3 cp of 1 KiB, s" "${R[aws.small_s]:-}"
row "coffer peak RSS in aws cp MiB" "$aws_peak" "" "" "<= 256" "$v_aws_mem"
hwm_since="since start"
if [[ $RESTART == 1 ]]; then hwm_since="since restart"; fi
row "  VmHWM after aws cp MiB" "$(kb_mib "${R[aws.hwm]:-}")" "$hwm_since"
row "coffer peak RSS in bench MiB" "$(kb_mib "${R[bench.rss]:-}")"
if [[ -n ${R[aws.rss]:-} ]]; then
    echo "coffer memory in aws cp MiB: idle before $(kb_mib "${R[aws.idle_rss]:-}"), peak VmRSS $aws_peak" \
        "(RssAnon $(kb_mib "${R[aws.anon]:-}"), RssFile $(kb_mib "${R[aws.file]:-}")), sampled every 100 ms"
fi
finish_run "failed steps" "$errors" "$misses"
