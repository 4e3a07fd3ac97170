#!/usr/bin/env bash
# Installs what opencase needs on Debian 12, builds it, and starts it on an
# embedded SQLite database with demonstration data at http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential meson ninja-build pkg-config python3
          libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libpq-dev libxml2-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node builds the stylesheet and brings GOV.UK Frontend and Leaflet, which
# the binary embeds; it may come from another Debian source that bundles npm.
# No package needs an install script (the Sass compiler's optional file
# watcher would build one).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --ignore-scripts --no-audit --no-fund
fi

[ -d build-release ] || meson setup build-release --buildtype=release -Dtests=disabled
ninja -C build-release

db=${OPENCASE_DB:-data/opencase.db}
mkdir -p "$(dirname "$db")"
if [ ! -f "$db" ]; then
    build-release/opencase --db "$db" init
    build-release/opencase --db "$db" demo
fi
echo "opencase is starting on http://${OPENCASE_LISTEN:-127.0.0.1:8080} (Ctrl-C stops it)"
exec build-release/opencase --db "$db" serve
