#!/bin/sh
# Install hvtune into ./.venv, creating it, on a fresh Debian machine or any
# machine with Python >= 3.11.
#
#   scripts/install.sh            hvtune
#   scripts/install.sh test       hvtune with what its tests need
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh

command -v python3 >/dev/null 2>&1 || apt_install python3
# Debian's python3 needs python3-venv to create virtual environments.
python3 -c 'import ensurepip' >/dev/null 2>&1 || apt_install python3-venv
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet ".${1:+[$1]}"
echo "hvtune installed: $(.venv/bin/hvtune --version)"
