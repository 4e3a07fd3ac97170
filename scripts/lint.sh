#!/usr/bin/env bash
# Style and static analysis: clang-format must have nothing to change, and
# clang-tidy (.clang-tidy) and cppcheck must find nothing in src/. Needs a
# configured build directory for the compilation database (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}

mapfile -t sources < <(git ls-files '*.c' '*.h')
clang-format --dry-run --Werror "${sources[@]}"

mapfile -t units < <(git ls-files 'src/*.c')
out=$(clang-tidy --quiet -p "$builddir" "${units[@]}" 2>/dev/null | grep -E 'warning:|error:' || true)
if [ -n "$out" ]; then
    echo "$out"
    exit 1
fi

cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
    --suppress=missingIncludeSystem -Isrc -I"$builddir" src
echo "lint: clean"
