#!/usr/bin/env bash
# log.sh - measures the public log on SQLite:
# a) log entries appended per second while the API takes durable stage
#    changes (bench/events.lua, as in run.sh; each change appends one entry,
#    the move: its answer shows no one's personal data, so records no access);
# b) meanwhile, the time from a commit to a signed checkpoint covering it
#    (bench/log_latency.py: add a note, then poll /log/checkpoint), p50 and p99;
# c) inclusion proofs served per second with BENCH_LOG_ENTRIES entries in the
#    log (10,000,000 by default; bench/log_fill appends the missing entries
#    through the store's own append, in bulk), by wrk with bench/proof.lua.
#
# Everything runs on 127.0.0.1 in a temporary directory removed on exit; every
# process started is stopped on exit, failure and ^C. The summary is printed
# and written to bench/out/log.txt.
#
# Environment: BENCH_CASES (100000), BENCH_SECONDS (20), BENCH_LOG_ENTRIES
# (10000000), OPENCASE_THREADS (4).
set -euo pipefail

CASES=${BENCH_CASES:-100000}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
LOG_ENTRIES=${BENCH_LOG_ENTRIES:-10000000}
THREADS=${OPENCASE_THREADS:-4}
WRK_THREADS=2
EVENT_CONNECTIONS=16
PROOF_CONNECTIONS=64

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
BIN="$ROOT/build-bench/opencase"
FILL="$ROOT/build-bench/log_fill"
WORK=""
SERVER_PID=""
PROBE_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

stop_pid() {
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap '' INT TERM
    stop_pid "$PROBE_PID"
    stop_pid "$SERVER_PID"
    [[ -n "$WORK" && -d "$WORK" ]] && rm -rf "$WORK"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { sed -En "s/(^|.*[[:space:]])$2=([^[:space:]]*).*/\2/p" <<<"$1"; }
result_line() { grep '^RESULT ' "$1" | tail -n 1 || die "no result in $1"; }
row() { printf '%-58s %14s\n' "$@"; }

spare_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no spare port found"
}

start_server() {
    PORT=$(spare_port)
    OPENCASE_THREADS=$THREADS "$BIN" --db "$DB" --listen "127.0.0.1:$PORT" serve \
        >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    BASE="http://127.0.0.1:$PORT"
    for _ in $(seq 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$WORK/server.log" >&2
    die "opencase did not start"
}

log_size() { curl -fsS "$BASE/log/entries?limit=1" | sed -En 's/^\{"size":([0-9]+),.*/\1/p'; }
signed_size() { curl -fsS "$BASE/log/checkpoint" | sed -n 2p; }

for cmd in wrk curl python3; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is needed (apt-get install wrk curl python3)"
done

cd "$ROOT"
if [[ -d build-bench ]]; then
    meson configure build-bench -Dbuildtype=release -Dtests=disabled >/dev/null
else
    meson setup build-bench --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-bench opencase log_fill >/dev/null || die "build failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/opencase-logbench.XXXXXX")
DB="$WORK/log.db"
mkdir -p "$BENCH/out"

log "loading $CASES demo cases"
"$BIN" --db "$DB" init >/dev/null || die "opencase init failed"
"$BIN" --db "$DB" demo --cases "$CASES" --events 5 --credentials "$WORK/credentials.txt" \
    >"$WORK/demo.log" || die "the demo data could not be loaded"
awk '$3 == "investigating" && $4 == "burglary" { print $1 }' "$WORK/credentials.txt" \
    >"$WORK/investigating.txt"
# One case is kept for the latency probe's notes; the load moves the others.
probe_ref=$(head -n 1 "$WORK/investigating.txt")
tail -n +2 "$WORK/investigating.txt" >"$WORK/load.txt"
[[ -n "$probe_ref" && -s "$WORK/load.txt" ]] || die "no burglary case at stage investigating"
API_KEY=$("$BIN" --db "$DB" key create --org wessex-police --label bench 2>>"$WORK/demo.log" |
    grep -oE '[A-Za-z0-9_-]{20,}' | tail -n 1) || true
[[ -n "$API_KEY" ]] || die "cannot create an API key"

start_server
log "a) and b): stage changes through the API for ${SECONDS_PER_RUN}s, with the latency probe"
size0=$(log_size)
python3 "$BENCH/log_latency.py" "$BASE" "$API_KEY" "$probe_ref" "$SECONDS_PER_RUN" \
    >"$WORK/latency.txt" 2>&1 &
PROBE_PID=$!
start=$(date +%s.%N)
wrk -t"$WRK_THREADS" -c"$EVENT_CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
    -s "$BENCH/events.lua" "$BASE" -- "$WORK/load.txt" "$WRK_THREADS" "$API_KEY" \
    >"$WORK/wrk-events.txt" 2>&1 || die "wrk failed: $(cat "$WORK/wrk-events.txt")"
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
size1=$(log_size)
wait "$PROBE_PID" || die "the latency probe failed: $(cat "$WORK/latency.txt")"
PROBE_PID=""
events=$(result_line "$WORK/wrk-events.txt")
latency=$(result_line "$WORK/latency.txt")
entries_ps=$(awk -v n=$((size1 - size0)) -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')
stop_pid "$SERVER_PID"
SERVER_PID=""

log "c) filling the log to $LOG_ENTRIES entries"
fill=""
missing=$((LOG_ENTRIES - size1))
if [[ $missing -gt 0 ]]; then
    "$FILL" "$DB" "$missing" >"$WORK/fill.txt" || die "log_fill failed"
    fill=$(result_line "$WORK/fill.txt")
fi
start_server
for _ in $(seq 600); do
    [[ "$(signed_size)" -ge "$LOG_ENTRIES" ]] 2>/dev/null && break
    sleep 0.5
done
size=$(signed_size)
[[ "$size" -ge "$LOG_ENTRIES" ]] || die "no checkpoint covers $LOG_ENTRIES entries"
log "c) inclusion proofs at $size entries, ${SECONDS_PER_RUN}s"
wrk -t"$WRK_THREADS" -c"$PROOF_CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
    -s "$BENCH/proof.lua" "$BASE" -- "$size" >"$WORK/wrk-proof.txt" 2>&1 ||
    die "wrk failed: $(cat "$WORK/wrk-proof.txt")"
proof=$(result_line "$WORK/wrk-proof.txt")
db_mib=$(du -m "$DB" | cut -f1)
stop_pid "$SERVER_PID"
SERVER_PID=""

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
    echo "opencase public log benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $rev"
    echo "machine: $(nproc) CPUs (${cpu:-unknown}), $(uname -sr); SQLite; server: $THREADS threads"
    echo
    row "a) log entries appended/s under API load" "$entries_ps"
    row "   durable stage changes/s ($EVENT_CONNECTIONS connections)" "$(field "$events" created_ps)"
    row "   their latency p50 / p99, ms" "$(field "$events" p50_ms) / $(field "$events" p99_ms)"
    row "b) commit to signed checkpoint p50, ms" "$(field "$latency" p50_ms)"
    row "   p99, ms ($(field "$latency" samples) samples; max $(field "$latency" max_ms))" \
        "$(field "$latency" p99_ms)"
    row "c) inclusion proofs/s at $size entries ($PROOF_CONNECTIONS conn.)" "$(field "$proof" ok_ps)"
    row "   latency p50 / p99, ms" "$(field "$proof" p50_ms) / $(field "$proof" p99_ms)"
    row "   other than 200" "$(field "$proof" other)"
    if [[ -n "$fill" ]]; then
        row "   bulk append of $(field "$fill" appended) entries, entries/s" "$(field "$fill" per_second)"
    fi
    row "   database size, MiB" "$db_mib"
    echo
    echo "a) entries counted on /log/entries before and after the wrk run of bench/events.lua;"
    echo "   each stage change appends one entry (its answer shows no person: no access)."
    echo "b) bench/log_latency.py: a note added, then /log/checkpoint polled every 5 ms; the"
    echo "   signer looks for new entries every second, so the figure is up to a second."
    echo "c) bench/proof.lua: a random index, the signed size; the proof is read from the"
    echo "   stored hashes in one pass (a few dozen primary-key reads)."
} | tee "$BENCH/out/log.txt"
