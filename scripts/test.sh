#!/usr/bin/env bash
# The test command: installs what the tests need, then builds and runs the
# unit tests, the black-box API suite and the browser tests (Chromium,
# headless) on a normal build, the unit tests and the API suite again
# under AddressSanitizer and UndefinedBehaviorSanitizer, runs the API suite
# and the PostgreSQL store's tests once more against a throwaway PostgreSQL
# cluster, and finally gives each fuzz target a short run. Stops at the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

packages=(build-essential meson ninja-build pkg-config python3
          libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev libcmocka-dev libxml2-dev
          clang libclang-rt-14-dev clang-format clang-tidy cppcheck sqlite3 postgresql chromium
          golang-go golang-golang-x-mod-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node may come from another Debian source that bundles npm, so the commands
# are what counts, not the package names.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
    echo "node 18 or newer is needed (found $(node --version))" >&2
    exit 1
fi
# The build embeds GOV.UK Frontend and Leaflet from node_modules/, so it is
# brought up to date with the lock file first. No package needs an install
# script (the Sass compiler's optional file watcher would build one).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "npm ci"
    npm ci --ignore-scripts --no-audit --no-fund
fi

api_suite() {
    OPENCASE_BIN="$1" node --test tests/api/*.test.mjs
}

step "build"
[ -f build/build.ninja ] || meson setup build
ninja -C build

step "lint (clang-format, clang-tidy, cppcheck)"
./scripts/lint.sh build

step "unit tests"
meson test -C build --print-errorlogs

step "API tests"
api_suite build/opencase

step "browser tests (Chromium, headless)"
OPENCASE_BIN=build/opencase node --test tests/browser/*.test.mjs

step "sanitizer build (address, undefined)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan

step "unit tests under sanitizers"
meson test -C build-asan --print-errorlogs

step "API tests under sanitizers"
api_suite build-asan/opencase

step "PostgreSQL cluster"
pg_dir=$(mktemp -d)
# The cluster goes however the script ends: a failed test, an error, ^C.
stop_pg() {
    ./scripts/pg.sh stop "$pg_dir" || echo "the PostgreSQL cluster in $pg_dir was not removed" >&2
}
trap stop_pg EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pg_base=$(./scripts/pg.sh start "$pg_dir")
pg_createdb() {
    /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -d "$pg_base/postgres" -c "CREATE DATABASE $1"
}

step "API tests on PostgreSQL"
OPENCASE_TEST_PG="$pg_base" api_suite build/opencase

# The store's own tests get a database each, made here.
for build in build build-asan; do
    if [ -x "$build/test_store_pg" ]; then
        step "PostgreSQL store tests ($build)"
        db="store_${build//-/_}"
        pg_createdb "$db"
        OPENCASE_TEST_PG="$pg_base/$db" "$build/test_store_pg"
    fi
done

step "stopping the PostgreSQL cluster"
trap - EXIT INT TERM
./scripts/pg.sh stop "$pg_dir"

if command -v clang >/dev/null 2>&1; then
    step "fuzz build"
    [ -f build-fuzz/build.ninja ] ||
        CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=disabled \
            -Db_sanitize=address,undefined -Db_lundef=false
    ninja -C build-fuzz
    for target in build-fuzz/fuzz_*; do
        if [ ! -f "$target" ] || [ ! -x "$target" ]; then
            continue
        fi
        name=$(basename "$target")
        # A scratch corpus, seeded from the committed one, keeps the tree clean;
        # a crashing input is written into build-fuzz/ to be looked at.
        corpus=$(mktemp -d)
        seeds="fuzz/corpus/${name#fuzz_}"
        if [ -d "$seeds" ]; then
            cp -r "$seeds"/. "$corpus"/
        fi
        step "fuzz $name (15 s)"
        "$target" -max_total_time=15 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix=build-fuzz/"$name"- "$corpus"
        rm -rf "$corpus"
    done
else
    step "clang not found: fuzz run skipped"
fi

step "all tests passed"
