#!/bin/sh
# deploy/run-tests.sh -- installs dependencies, builds, and runs the whole test
# suite: formatting check, unit tests (ctest) and the real-client compat suite,
# first on the normal build, then again on an AddressSanitizer +
# UndefinedBehaviorSanitizer build, where the fuzz targets also run over their
# seeds (tests/fuzz). Exits non-zero on the first failure.
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
jobs="$(nproc)"

sh deploy/install-deps.sh

echo "== format check"
clang-format --dry-run -Werror server/*.[ch] storage/*.[ch] auth/*.[ch] tests/unit/*.[ch] tests/bench/*.c tests/fuzz/*.[ch]

echo "== build (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

echo "== unit tests (release)"
(cd build && ctest --output-on-failure)

echo "== JS SDK for the compat suite"
# npm ci installs exactly what compat/package-lock.json pins (no install scripts run);
# it runs again only when node_modules is missing or older than the manifest or lock.
stamp=compat/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ compat/package-lock.json -nt "$stamp" ] || [ compat/package.json -nt "$stamp" ]; then
    (cd compat && npm ci --ignore-scripts --no-audit --no-fund)
else
    echo "compat/node_modules is up to date"
fi

echo "== compat tests (release)"
COFFER_BIN="$repo/build/coffer" sh compat/run.sh

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCOFFER_SANITIZE=ON -DCOFFER_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"

echo "== unit tests (ASan + UBSan)"
(cd build-asan && ctest --output-on-failure)

echo "== fuzz targets over their seeds"
sh tests/fuzz/run.sh --seeds-only

echo "== compat tests (ASan + UBSan)"
# Leak checking stays on for the unit tests; for the server it is off because
# h2o keeps per-thread allocations until process exit by design.
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    COFFER_BIN="$repo/build-asan/coffer" sh compat/run.sh

echo "== all tests passed"
