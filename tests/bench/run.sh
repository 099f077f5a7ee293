#!/usr/bin/env bash
# tests/bench/run.sh -- measures Coffer on loopback against yardsticks taken in
# the same run: nginx serving the same files, and dd for the disk's durable
# write rate.
#
# DESIGN: everything lives in one work directory under the build directory, so
# Coffer's data, nginx's files and dd's file sit on the same disk as the repo
# (/tmp may be a RAM disk or another device). The script starts Coffer and
# nginx itself, keeps their PIDs and stops exactly those on exit. Every step
# runs under `timeout` with a share of one overall budget (BENCH_BUDGET), so
# the whole run stays bounded even when the server hangs.
#
# Helpers shared with multipart.sh live in lib.sh.
#
# Usage: tests/bench/run.sh          (see tests/bench/README.md for the knobs)
#   BENCH_SECONDS=2 BENCH_LARGE_SIZE=64M tests/bench/run.sh    quick smoke run
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

BUILD_DIR=${BUILD_DIR:-$repo/build}
COFFER_BIN=${COFFER_BIN:-}
BENCH_BIN=${BENCH_BIN:-}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
SMALL_SECONDS=${BENCH_SECONDS:-10}
SMALL_COUNT=${BENCH_COUNT:-0}          # 0: bounded by BENCH_SECONDS only
CONNS=${BENCH_CONNS:-32}
SMALL_SIZE=${BENCH_SMALL_SIZE:-4096}
LARGE_SIZE=${BENCH_LARGE_SIZE:-1G}
PHASES=${BENCH_PHASES:-"coffer nginx dd"}
NGINX_KEYS=${BENCH_NGINX_KEYS:-20000}  # files for nginx when the coffer phase is skipped
BUDGET=${BENCH_BUDGET:-290}            # seconds for the whole run
KEEP=${BENCH_KEEP:-0}                  # 1: keep the work dir (logs, nginx.conf)
STRICT=${BENCH_STRICT:-0}              # 1: exit 1 when a target is missed
BUCKET=bench
PREFIX=obj-
LARGE_KEY=large.bin

start_time=$SECONDS
deadline=$((start_time + BUDGET))
# shellcheck source=lib.sh
source "$here/lib.sh" # log, fail, step_budget, build_bins, start_coffer, sample_mem, dd_rate ...

# ---- sizes ----------------------------------------------------------------

small_bytes=$(to_bytes "$SMALL_SIZE")
large_bytes=$(to_bytes "$LARGE_SIZE")
((large_bytes >= 1048576)) || fail "BENCH_LARGE_SIZE must be at least 1M"

# ---- build ----------------------------------------------------------------

need_coffer=0
if has_phase coffer; then need_coffer=1; fi
build_bins "$need_coffer"
if has_phase nginx; then
    [[ -x $NGINX_BIN ]] || fail "no nginx at $NGINX_BIN (set NGINX_BIN or drop nginx from BENCH_PHASES)"
fi

# ---- work dir and cleanup -----------------------------------------------------

mkdir -p "$BUILD_DIR"
work=$(mktemp -d "$BUILD_DIR/bench-work.XXXXXX")
work=$(cd "$work" && pwd) # absolute: nginx resolves relative paths against its -p prefix
coffer_pid=""
nginx_pid=""
sampler_pid=""

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local pid
    for pid in $sampler_pid $nginx_pid $coffer_pid; do
        stop_pid "$pid"
    done
    finish_work_dir "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_kb=$(((3 * large_bytes + 200 * 1024 * 1024) / 1024))
require_free_kb "$work" "$need_kb" "next to the build dir"

# ---- helpers ------------------------------------------------------------------

# Runs coffer-bench under the step budget; prints its RESULT line (empty when
# it produced none). Request errors are reported, not fatal.
run_bench() { # cap_s args...
    local cap=$1 t out rc=0
    shift
    t=$(step_budget "$cap")
    if ((t <= 0)); then
        log "time budget spent; skipping: $1"
        return 0
    fi
    out=$(timeout -k 5 "$t" "$BENCH_BIN" "$@") || rc=$?
    if ((rc == 124 || rc == 137)); then
        log "timed out after ${t}s: $1"
    elif ((rc > 1)); then
        log "coffer-bench $1 failed (exit $rc)"
    fi
    grep '^RESULT ' <<<"$out" | tail -n 1 || true
}

# ---- results (empty = not measured) --------------------------------------------

declare -A R=()
record() { # name result-line
    local name=$1 line=$2 k
    [[ -n $line ]] || return 0
    echo "RESULT run=$name ${line#RESULT }"
    for k in ops errors ops_per_s mb_per_s p50_ms p90_ms p99_ms max_ms; do
        R[$name.$k]=$(field "$line" "$k")
    done
}

# dd's durable write rate, recorded as R[dd.mb_per_s]. A first, unrecorded dd is
# written and removed before it: on a VM that gives free memory back to its host,
# the first touch of a page costs a host fault, and a write into pages never used
# before runs at a fraction of the disk's rate (three 1 GiB dd runs in a row
# without removing their files: 791, 326, 211 MB/s). So dd, like Coffer's large
# PUT right after it, starts just after 1 GiB of page cache was freed.
measure_dd() {
    local t dd_res dd_bytes dd_secs
    t=$(step_budget 120)
    if ((t <= 0)); then
        log "time budget spent; skipping dd"
        return 0
    fi
    log "dd: $LARGE_SIZE with conv=fdatasync (after an unrecorded one)"
    dd_rate "$work/ddfile" "$large_bytes" "$t" >/dev/null
    dd_res=$(dd_rate "$work/ddfile" "$large_bytes" "$t")
    if [[ -n $dd_res ]]; then
        read -r dd_bytes dd_secs 'R[dd.mb_per_s]' <<<"$dd_res"
        echo "RESULT run=dd mode=dd bytes=$dd_bytes seconds=$dd_secs mb_per_s=${R[dd.mb_per_s]}"
    fi
}

cores=$(nproc)
log "work dir on $(df -P "$work" | awk 'NR == 2 { print $1 }'), $cores cores, ${SMALL_SECONDS}s small phases at $CONNS conns, large object $LARGE_SIZE"

# ---- Coffer ---------------------------------------------------------------------

small_keys=$NGINX_KEYS
if has_phase coffer; then
    unset COFFER_ROOT_ACCESS_KEY COFFER_ROOT_SECRET_KEY # a fresh random pair
    start_coffer "$work/coffer" "$work/coffer.log"
    sleep 0.5
    R[idle_rss]=$(status_kb "$coffer_pid" VmRSS)

    mb=$(timeout 30 "$BENCH_BIN" mkbucket --url "$url" --bucket "$BUCKET") || true
    [[ $mb == RESULT* ]] || fail "could not create bucket $BUCKET (see above; server log: $work/coffer.log)"

    count_arg=()
    if ((SMALL_COUNT > 0)); then count_arg=(--count "$SMALL_COUNT"); fi
    log "coffer: $SMALL_SIZE PUT, $CONNS conns"
    line=$(run_bench $((SMALL_SECONDS + 60)) put-small --url "$url" --bucket "$BUCKET" --prefix "$PREFIX" \
        --size "$small_bytes" --conns "$CONNS" --seconds "$SMALL_SECONDS" "${count_arg[@]}")
    record coffer_put_small "$line"
    small_keys=${R[coffer_put_small.ops]:-0}

    if ((small_keys > 0)); then
        log "coffer: $SMALL_SIZE GET, $CONNS conns, over $small_keys keys"
        line=$(run_bench $((SMALL_SECONDS + 60)) get-small --url "$url" --bucket "$BUCKET" --prefix "$PREFIX" \
            --size "$small_bytes" --conns "$CONNS" --seconds "$SMALL_SECONDS" --keys "$small_keys" "${count_arg[@]}")
        record coffer_get_small "$line"
    fi
    sleep 1
    R[small_rss]=$(status_kb "$coffer_pid" VmRSS)

    if has_phase dd; then
        measure_dd # the yardstick, in the same state of memory as the PUT that follows
    fi
    log "coffer: $LARGE_SIZE PUT"
    sample_mem "$coffer_pid" "$work/mem.peak" "$work/mem.stop" 200 &
    sampler_pid=$!
    line=$(run_bench 150 put-large --url "$url" --bucket "$BUCKET" --key "$LARGE_KEY" --size "$large_bytes")
    touch "$work/mem.stop"
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
    record coffer_put_large "$line"
    read -r 'R[peak_rss]' 'R[peak_anon]' 'R[peak_file]' <"$work/mem.peak" || true
    R[hwm]=$(status_kb "$coffer_pid" VmHWM)

    if [[ -n ${R[coffer_put_large.ops]:-} ]]; then
        # from the disk first (the PUT wrote around the page cache; evicting makes sure), then from the page cache
        evict_cache "$work/coffer/d1" "$work/coffer/d2"
        log "coffer: $LARGE_SIZE GET from the disk"
        line=$(run_bench 120 get-large --url "$url" --bucket "$BUCKET" --key "$LARGE_KEY" --size "$large_bytes")
        record coffer_get_large_cold "$line"
        log "coffer: $LARGE_SIZE GET from the page cache"
        line=$(run_bench 120 get-large --url "$url" --bucket "$BUCKET" --key "$LARGE_KEY" --size "$large_bytes")
        record coffer_get_large "$line"
    fi
    R[end_rss]=$(status_kb "$coffer_pid" VmRSS)
fi

# ---- nginx ------------------------------------------------------------------------

if has_phase nginx; then
    nroot=$work/nginx/root
    mkdir -p "$nroot" "$work/nginx/tmp"
    log "nginx: writing $small_keys files of $SMALL_SIZE and one of $LARGE_SIZE"
    budgeted 60 "$BENCH_BIN" mkfiles --dir "$nroot" --bucket "$BUCKET" --prefix "$PREFIX" \
        --keys "$small_keys" --size "$small_bytes" >/dev/null
    budgeted 60 "$BENCH_BIN" mkfile --out "$nroot/$BUCKET/$LARGE_KEY" --key "$LARGE_KEY" \
        --size "$large_bytes" >/dev/null
    sync "$nroot/$BUCKET/$LARGE_KEY" # no writeback of fresh pages during the measurements
    sync -f "$nroot"

    nport=$("$BENCH_BIN" free-port)
    user_line=""
    if (($(id -u) == 0)); then
        user_line="user $(id -un) $(id -gn);" # workers would otherwise drop to nobody
    fi
    cat >"$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes $cores;
daemon off;
master_process on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000000;
    default_type application/octet-stream;
    types { }
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $nroot;
        location / { }
    }
}
EOF
    "$NGINX_BIN" -e "$work/nginx/error.log" -p "$work/nginx/" -c "$work/nginx/nginx.conf" >"$work/nginx.log" 2>&1 &
    nginx_pid=$!
    wait_port "$nport" "$nginx_pid" "$work/nginx/error.log" nginx
    nurl=http://127.0.0.1:$nport
    log "nginx pid $nginx_pid on $nurl ($cores workers)"

    log "nginx: $SMALL_SIZE GET, $CONNS conns, over $small_keys keys"
    line=$(run_bench $((SMALL_SECONDS + 60)) get-small --no-sign --url "$nurl" --bucket "$BUCKET" --prefix "$PREFIX" \
        --size "$small_bytes" --conns "$CONNS" --seconds "$SMALL_SECONDS" --keys "$small_keys")
    record nginx_get_small "$line"
    log "nginx: $LARGE_SIZE GET from the page cache"
    line=$(run_bench 120 get-large --no-sign --url "$nurl" --bucket "$BUCKET" --key "$LARGE_KEY" --size "$large_bytes")
    record nginx_get_large "$line"
    evict_cache "$nroot/$BUCKET/$LARGE_KEY"
    log "nginx: $LARGE_SIZE GET from the disk"
    line=$(run_bench 120 get-large --no-sign --url "$nurl" --bucket "$BUCKET" --key "$LARGE_KEY" --size "$large_bytes")
    record nginx_get_large_cold "$line"

    stop_pid "$nginx_pid"
    nginx_pid=""
    rm -rf "$nroot"
fi

# ---- dd: the disk's durable sequential write rate (here when the coffer phase did not run) ----

if has_phase dd && [[ -z ${R[dd.mb_per_s]:-} ]]; then
    measure_dd
fi

# ---- summary ----------------------------------------------------------------------------

misses=0
errors=0
row() { # label value yardstick ratio target verdict
    printf '%-30s %12s %18s %8s %12s  %s\n' "$1" "${2:-n/a}" "${3:--}" "${4:--}" "$5" "$6"
}

r_get_small=$(ratio "${R[coffer_get_small.ops_per_s]:-}" "${R[nginx_get_small.ops_per_s]:-}")
r_get_large=$(ratio "${R[coffer_get_large.mb_per_s]:-}" "${R[nginx_get_large.mb_per_s]:-}")
r_get_cold=$(ratio "${R[coffer_get_large_cold.mb_per_s]:-}" "${R[nginx_get_large_cold.mb_per_s]:-}")
r_put_large=$(ratio "${R[coffer_put_large.mb_per_s]:-}" "${R[dd.mb_per_s]:-}")
idle_mib=""
peak_mib=""
if [[ -n ${R[idle_rss]:-} ]]; then idle_mib=$(mib "${R[idle_rss]}"); fi
if [[ -n ${R[peak_rss]:-} ]]; then peak_mib=$(mib "${R[peak_rss]}"); fi

v_get_small=$(verdict "$r_get_small" ">=" 0.5)
v_put_small=$(verdict "${R[coffer_put_small.ops_per_s]:-}" ">=" 5000)
v_put_large=$(verdict "$r_put_large" ">=" 0.5)
v_get_large=$(verdict "$r_get_large" ">=" 0.5)
v_get_cold=$(verdict "$r_get_cold" ">=" 0.5)
v_idle=$(verdict "$idle_mib" "<=" 30)
v_peak=$(verdict "$peak_mib" "<=" 256)

for v in "$v_get_small" "$v_put_small" "$v_put_large" "$v_get_large" "$v_get_cold" "$v_idle" "$v_peak"; do
    if [[ $v == MISS ]]; then misses=$((misses + 1)); fi
done
for k in coffer_put_small coffer_get_small coffer_put_large coffer_get_large coffer_get_large_cold nginx_get_small nginx_get_large \
    nginx_get_large_cold; do
    errors=$((errors + ${R[$k.errors]:-0}))
done

echo
echo "== Coffer benchmark: loopback, $cores cores, $CONNS conns for small objects, MB = 10^6 bytes =="
row "measure" "coffer" "yardstick" "ratio" "target" "result"
row "${SMALL_SIZE} GET ops/s" "${R[coffer_get_small.ops_per_s]:-}" \
    "${R[nginx_get_small.ops_per_s]:+nginx ${R[nginx_get_small.ops_per_s]}}" "${r_get_small:+${r_get_small}x}" ">= 0.5x" "$v_get_small"
row "${SMALL_SIZE} PUT ops/s" "${R[coffer_put_small.ops_per_s]:-}" "" "" ">= 5000" "$v_put_small"
row "${LARGE_SIZE} PUT MB/s" "${R[coffer_put_large.mb_per_s]:-}" \
    "${R[dd.mb_per_s]:+dd ${R[dd.mb_per_s]}}" "${r_put_large:+${r_put_large}x}" ">= 0.5x" "$v_put_large"
row "${LARGE_SIZE} GET MB/s, page cache" "${R[coffer_get_large.mb_per_s]:-}" \
    "${R[nginx_get_large.mb_per_s]:+nginx ${R[nginx_get_large.mb_per_s]}}" "${r_get_large:+${r_get_large}x}" ">= 0.5x" "$v_get_large"
row "${LARGE_SIZE} GET MB/s, disk" "${R[coffer_get_large_cold.mb_per_s]:-}" \
    "${R[nginx_get_large_cold.mb_per_s]:+nginx ${R[nginx_get_large_cold.mb_per_s]}}" "${r_get_cold:+${r_get_cold}x}" ">= 0.5x" "$v_get_cold"
row "idle RSS MiB" "$idle_mib" "" "" "<= 30" "$v_idle"
row "peak RSS in ${LARGE_SIZE} PUT MiB" "$peak_mib" "" "" "<= 256" "$v_peak"
echo
echo "latency ms (p50 / p90 / p99 / max) and errors:"
for k in coffer_put_small coffer_get_small nginx_get_small coffer_put_large coffer_get_large_cold nginx_get_large_cold \
    coffer_get_large nginx_get_large; do
    [[ -n ${R[$k.ops]:-} ]] || continue
    printf '  %-22s %10s / %10s / %10s / %10s   ops %s, errors %s\n' "$k" "${R[$k.p50_ms]}" "${R[$k.p90_ms]}" \
        "${R[$k.p99_ms]}" "${R[$k.max_ms]}" "${R[$k.ops]}" "${R[$k.errors]}"
done
if has_phase coffer; then
    echo "coffer memory MiB: idle $idle_mib, after small objects $(mib "${R[small_rss]:-0}"), peak in ${LARGE_SIZE} PUT" \
        "$peak_mib (RssAnon $(mib "${R[peak_anon]:-0}"), RssFile $(mib "${R[peak_file]:-0}")), VmHWM $(mib "${R[hwm]:-0}")," \
        "at end $(mib "${R[end_rss]:-0}")"
fi
finish_run "request errors" "$errors" "$misses"
