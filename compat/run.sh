#!/bin/sh
# Runs the black-box compatibility suite against build/coffer (or $COFFER_BIN)
# with the system interpreter and the Debian clients. Extra args go to pytest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 2
/usr/bin/python3 -m pytest -q compat "$@"
exit $?
