#!/usr/bin/env bash
# notify.sh - notifications delivered per second, and the delay from an
# event's commit to its message's arrival (p50, p99), on each backend.
#
# bench/notify.mjs runs the server against a local SMTP server and an HTTP
# webhook receiver on 127.0.0.1 (both in node, on the same machine, so their
# cost is part of the figure): every case opened makes one email and one
# signed webhook. The drain run measures how fast a backlog of
# 2 x BENCH_NOTIFY_CASES notifications empties after a restart; the latency
# run opens BENCH_NOTIFY_LATENCY_CASES cases at BENCH_NOTIFY_RATE per second
# with delivery running and reports the delays per channel.
#
# Environment: BENCH_BACKENDS ("sqlite postgresql"), BENCH_NOTIFY_CASES
# (2000), BENCH_NOTIFY_LATENCY_CASES (500), BENCH_NOTIFY_RATE (50),
# BENCH_NOTIFY_WORKERS (4). The summary is printed and written to
# bench/out/notify.txt.
set -euo pipefail

BACKENDS=${BENCH_BACKENDS:-sqlite postgresql}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/bench/out"
BIN="$ROOT/build-bench/opencase"
PG_DIR=""

log() { printf '[bench] %s\n' "$*" >&2; }
cleanup() {
    if [ -n "$PG_DIR" ]; then
        "$ROOT/scripts/pg.sh" stop "$PG_DIR" || log "the PostgreSQL cluster in $PG_DIR was not removed"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$ROOT"
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=disabled >&2
ninja -C build-bench >&2
[ -d node_modules ] || npm ci --no-audit --no-fund >&2
mkdir -p "$OUT"

summary=""
for backend in $BACKENDS; do
    pg=""
    if [ "$backend" = postgresql ]; then
        PG_DIR=$(mktemp -d)
        pg=$("$ROOT/scripts/pg.sh" start "$PG_DIR")
    fi
    log "$backend: draining a backlog, then a steady stream"
    result=$(OPENCASE_BIN="$BIN" OPENCASE_TEST_PG="$pg" node bench/notify.mjs)
    line=$(node -e '
const r = JSON.parse(process.argv[1]);
const f = (x) => x.toFixed(1);
console.log(`${process.argv[2].padEnd(10)} drain ${f(r.drain.per_second)} notifications/s (${r.drain.notifications} in ${f(r.drain.seconds)} s, ${r.settings.workers} workers); ` +
  `commit to delivery at ${r.settings.rate_per_s} cases/s: email p50 ${f(r.email.p50_ms)} ms p99 ${f(r.email.p99_ms)} ms, webhook p50 ${f(r.webhook.p50_ms)} ms p99 ${f(r.webhook.p99_ms)} ms`);
' "$result" "$backend")
    summary+="$line"$'\n'
    if [ -n "$PG_DIR" ]; then
        "$ROOT/scripts/pg.sh" stop "$PG_DIR"
        PG_DIR=""
    fi
done
{
    echo "notifications ($(nproc) cores, $(date -u +%Y-%m-%d))"
    printf '%s' "$summary"
} | tee "$OUT/notify.txt"
