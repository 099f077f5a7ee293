# shellcheck shell=bash
# shellcheck disable=SC2154 # here, repo, BUILD_DIR, deadline, COFFER_BIN, BENCH_BIN: set by the caller
# tests/bench/lib.sh -- shared by run.sh and multipart.sh; sourced, not run.
#
# DESIGN: the benchmark scripts agree on where binaries come from (built in
# BUILD_DIR unless COFFER_BIN/BENCH_BIN say otherwise), where data goes (a
# work dir under BUILD_DIR, so it sits on the repo's disk, never on a /tmp
# that may be a RAM disk), how Coffer is started (loopback, a free port, a
# random root key pair) and how processes are stopped (by the PIDs the script
# started, SIGTERM then SIGKILL after a bounded wait). Every wait here is
# bounded. The caller sets `here`, `repo`, `BUILD_DIR`, `deadline` (SECONDS
# at which the run's budget ends) and optionally `log_tag`, then sources this.

log() { printf '%s: %s\n' "${log_tag:-bench}" "$*" >&2; }
fail() {
    log "$*"
    exit 2
}

# Seconds left for a step: its own cap, never past the overall deadline.
step_budget() {
    local cap=$1 left=$((deadline - SECONDS))
    if ((left < cap)); then
        echo "$left"
    else
        echo "$cap"
    fi
}

# Runs a command under timeout with a step's budget; a spent budget fails the run
# (timeout 0 would mean no limit at all).
budgeted() { # cap_s cmd...
    local t
    t=$(step_budget "$1")
    shift
    ((t > 0)) || fail "time budget spent before: $1"
    timeout -k 5 "$t" "$@"
}

to_bytes() { # 4096, 4K, 64M, 1G -> bytes (binary multiples)
    local s=$1 n unit
    n=${s%%[KkMmGg]*}
    unit=${s#"$n"}
    [[ $n =~ ^[0-9]+$ ]] || fail "cannot parse size '$s'"
    case $unit in
    "") echo "$n" ;;
    [Kk]*) echo $((n * 1024)) ;;
    [Mm]*) echo $((n * 1024 * 1024)) ;;
    [Gg]*) echo $((n * 1024 * 1024 * 1024)) ;;
    *) fail "cannot parse size '$s'" ;;
    esac
}

# Builds what is missing and sets COFFER_BIN / BENCH_BIN. need_coffer=0 skips
# the server. When the top-level project does not configure (work in progress
# elsewhere), the load generator alone is built from this directory.
build_bins() { # need_coffer
    local need_coffer=$1 targets=()
    if [[ -z $COFFER_BIN ]] && ((need_coffer)); then
        targets+=(coffer)
        COFFER_BIN=$BUILD_DIR/coffer
    fi
    if [[ -z $BENCH_BIN ]]; then
        targets+=(coffer-bench)
        BENCH_BIN=$BUILD_DIR/tests/bench/coffer-bench
    fi
    if ((${#targets[@]} > 0)); then
        log "building ${targets[*]} in $BUILD_DIR"
        mkdir -p "$BUILD_DIR"
        if cmake -S "$repo" -B "$BUILD_DIR" >"$BUILD_DIR/bench-cmake.log" 2>&1; then
            cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${targets[@]}" >&2 || fail "build failed"
        elif [[ ${targets[*]} == coffer-bench ]]; then
            log "top-level configure failed (see $BUILD_DIR/bench-cmake.log); building coffer-bench on its own"
            if ! { cmake -S "$here" -B "$BUILD_DIR/bench-only" >&2 && cmake --build "$BUILD_DIR/bench-only" >&2; }; then
                fail "build failed"
            fi
            BENCH_BIN=$BUILD_DIR/bench-only/coffer-bench
        else
            cat "$BUILD_DIR/bench-cmake.log" >&2
            fail "cmake configure failed"
        fi
    fi
    [[ -x $BENCH_BIN ]] || fail "no load generator at $BENCH_BIN"
    if ((need_coffer)); then
        [[ -x $COFFER_BIN ]] || fail "no server binary at $COFFER_BIN"
    fi
}

# Fails unless dir's file system has more than need_kb free.
require_free_kb() { # dir need_kb what
    local avail_kb
    avail_kb=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
    ((avail_kb > $2)) || fail "need ~$(($2 / 1024)) MiB free $3, have $((avail_kb / 1024)) MiB"
}

# The end of a run: removes the work dir unless KEEP=1 asked to keep it.
finish_work_dir() { # dir
    if [[ ${KEEP:-0} == 1 ]]; then
        log "work dir kept: $1"
    else
        rm -rf "$1"
    fi
}

# Stops one process this script started: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() { # pid (empty: nothing to do)
    local pid=$1
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

field() { # field "RESULT ... key=value ..." key -> value
    local line=" $1 " key=$2
    line=${line#* "$key"=}
    [[ $line != " $1 " ]] || return 0
    echo "${line%% *}"
}

wait_port() { # port pid logfile name
    local port=$1 pid=$2 logf=$3 name=$4
    for _ in $(seq 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$logf" >&2 || true
            fail "$name exited before listening on port $port"
        fi
        sleep 0.1
    done
    tail -n 20 "$logf" >&2 || true
    fail "$name did not listen on port $port within 15 s"
}

status_kb() { # pid field -> kB (0 when absent)
    local k v rest out=0
    if [[ -r /proc/$1/status ]]; then
        while read -r k v rest; do
            if [[ $k == "$2:" ]]; then
                out=$v
                break
            fi
        done <"/proc/$1/status"
    fi
    echo "$out"
}

mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# Samples VmRSS/RssAnon/RssFile every interval_s (default 0.05) until the stop
# file appears, the process exits or max_s passes; writes the peaks (kB) to out.
sample_mem() { # pid out stopfile max_s [interval_s]
    local pid=$1 out=$2 stop=$3 end=$((SECONDS + $4)) interval=${5:-0.05}
    local prss=0 panon=0 pfile=0 k v rest rss anon file
    while [[ ! -e $stop ]] && ((SECONDS < end)) && [[ -r /proc/$pid/status ]]; do
        rss=0 anon=0 file=0
        while read -r k v rest; do
            case $k in
            VmRSS:) rss=$v ;;
            RssAnon:) anon=$v ;;
            RssFile:) file=$v ;;
            esac
        done <"/proc/$pid/status" 2>/dev/null || true
        if ((rss > prss)); then prss=$rss; fi
        if ((anon > panon)); then panon=$anon; fi
        if ((file > pfile)); then pfile=$file; fi
        echo "$prss $panon $pfile" >"$out.tmp" && mv "$out.tmp" "$out"
        sleep "$interval"
    done
}

# Starts Coffer on 127.0.0.1 and a free port over the data dirs under dir
# (created if missing, kept across restarts), with the root key pair in
# COFFER_ROOT_ACCESS_KEY / COFFER_ROOT_SECRET_KEY (generated on first use and
# exported for coffer-bench). Sets coffer_pid and url.
start_coffer() { # dir logfile
    local dir=$1 logf=$2 port
    port=$("$BENCH_BIN" free-port)
    if [[ -z ${COFFER_ROOT_ACCESS_KEY:-} || -z ${COFFER_ROOT_SECRET_KEY:-} ]]; then
        COFFER_ROOT_ACCESS_KEY=benchadmin
        COFFER_ROOT_SECRET_KEY=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    fi
    export COFFER_ROOT_ACCESS_KEY COFFER_ROOT_SECRET_KEY
    mkdir -p "$dir/d1" "$dir/d2" "$dir/meta"
    "$COFFER_BIN" serve --listen "127.0.0.1:$port" --data "$dir/d1" --data "$dir/d2" --meta "$dir/meta" >>"$logf" 2>&1 &
    coffer_pid=$!
    wait_port "$port" "$coffer_pid" "$logf" coffer
    url=http://127.0.0.1:$port
    log "coffer pid $coffer_pid on $url"
}

# Drops the page cache of each file named or found under a directory named (clean
# pages only: the files must be synced), so the next read of them comes from the disk.
evict_cache() { # path...
    find "$@" -type f -exec dd iflag=nocache count=0 status=none if={} \;
}

# dd of `bytes` zeros to file with conv=fdatasync (the file is removed after):
# the disk's durable sequential write rate. Prints "BYTES SECONDS MB_PER_S",
# or nothing when dd failed (its output goes to the log).
dd_rate() { # file bytes timeout_s
    local file=$1 bytes=$2 t=$3 out line b s
    out=$(LC_ALL=C timeout "$t" dd if=/dev/zero of="$file" bs=1M count=$((bytes / 1048576)) conv=fdatasync 2>&1) || true
    rm -f "$file"
    # "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 2.34 s, 459 MB/s"
    line=$(grep ' copied, ' <<<"$out" | tail -n 1 || true)
    if [[ -z $line ]]; then
        log "dd failed: $out"
        return 0
    fi
    b=${line%% bytes*}
    s=${line#*copied, }
    s=${s%% s*}
    echo "$b $s $(awk -v b="$b" -v s="$s" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s }')"
}

ratio() { # a b -> a/b with 2 decimals, empty if either is missing
    [[ -n $1 && -n $2 ]] || return 0
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'
}

verdict() { # value op limit -> PASS/MISS/n/a
    local v=$1 op=$2 lim=$3
    if [[ -z $v ]]; then
        echo "n/a"
    elif awk -v v="$v" -v l="$lim" -v op="$op" 'BEGIN { exit !((op == ">=") ? v >= l : v <= l) }'; then
        echo PASS
    else
        echo MISS
    fi
}

has_phase() { [[ " $PHASES " == *" $1 "* ]]; } # phase (PHASES: the caller's list)

# Prints the closing line and exits: 1 on errors, or on missed targets when STRICT=1.
finish_run() { # errors_label errors misses
    echo "total $((SECONDS - start_time)) s; $1: $2; targets missed: $3"
    if (($2 > 0)); then
        exit 1
    fi
    if [[ $STRICT == 1 ]] && (($3 > 0)); then
        exit 1
    fi
    exit 0
}
