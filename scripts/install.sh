#!/bin/sh
# Install hvtune into ./.venv, creating it, on a fresh Debian machine or any
# machine with Python >= 3.11.
#
#   scripts/install.sh            hvtune
#   scripts/install.sh test       hvtune with what its tests need
#
# On a host with libvirt, the [libvirt] extra (libvirt-python) comes too, so
# that `hvtune doctor` can read the daemon's domains; it is built against
# libvirt-dev, installed with apt-get when missing. `hvtune` is then linked
# onto PATH (link_command in common.sh), so that a new shell finds it.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh

command -v python3 >/dev/null 2>&1 || apt_install python3
# Debian's python3 needs python3-venv to create virtual environments.
python3 -c 'import ensurepip' >/dev/null 2>&1 || apt_install python3-venv
extras="${1:-}"
if command -v virsh >/dev/null 2>&1 || command -v libvirtd >/dev/null 2>&1; then
    { pkg-config --exists libvirt && command -v gcc; } >/dev/null 2>&1 ||
        apt_install libvirt-dev pkg-config gcc python3-dev
    extras="${extras:+$extras,}libvirt"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet ".${extras:+[$extras]}"
echo "hvtune installed: $(.venv/bin/hvtune --version)"
link_command "$PWD/.venv/bin/hvtune"
