#!/bin/sh
# deploy/run-server.sh -- installs dependencies, builds, and runs Coffer with its
# embedded defaults: data in ./coffer-data, listening on 127.0.0.1:9000, root
# credentials generated on first start and printed. Extra arguments go to
# `coffer serve` (see `build/coffer serve --help`).
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
sh "$repo/deploy/install-deps.sh"
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" -j"$(nproc)"
exec "$repo/build/coffer" serve "$@"
