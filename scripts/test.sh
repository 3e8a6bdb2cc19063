#!/bin/sh
# Install everything the tests need and run the whole suite:
# QEMU (qemu-system-x86) from Debian when it is missing, then hvtune with
# its [test] extra into ./.venv, then pytest. Arguments go to pytest.
# Under CI=true a test whose program is missing fails instead of skipping.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh

command -v qemu-system-x86_64 >/dev/null 2>&1 || apt_install qemu-system-x86
scripts/install.sh test
exec .venv/bin/python -m pytest "$@"
