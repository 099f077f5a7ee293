#!/bin/sh
# deploy/install-deps.sh -- installs every build, run and test dependency of
# Coffer from Debian 12 packages. Idempotent: packages already present are
# left alone, and apt-get update runs only when something is missing.
set -eu

PKGS="build-essential cmake pkg-config clang-format clang libclang-rt-14-dev
libh2o-evloop-dev libssl-dev libxml2-dev librocksdb-dev libisal-dev
libjansson-dev libcmocka-dev zlib1g-dev libcurl4-openssl-dev
awscli s3cmd python3 python3-boto3 python3-pytest rclone restic
nginx-light curl ca-certificates nodejs"
# Some nodejs builds bundle npm and conflict with Debian's npm package.
if ! command -v npm >/dev/null 2>&1; then
    PKGS="$PKGS npm"
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
else
    echo "install-deps: all packages present"
fi
