#!/bin/sh
# Install everything the tests need and run the whole suite: from Debian,
# when missing, QEMU (qemu-system-x86), libvirt's daemon and client
# (libvirt-daemon-system, libvirt-clients: libvirtd, virsh, virt-xml-validate)
# and xmllint (libxml2-utils); then hvtune with its [test] extra (and, libvirt
# now being here, [libvirt]) into ./.venv; then pytest. The tests start their
# own libvirtd when none is running. Arguments go to pytest.
# Under CI=true a test whose program is missing fails instead of skipping.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh

missing=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
command -v libvirtd >/dev/null 2>&1 || missing="$missing libvirt-daemon-system"
command -v virt-xml-validate >/dev/null 2>&1 || missing="$missing libvirt-clients"
command -v xmllint >/dev/null 2>&1 || missing="$missing libxml2-utils"
# shellcheck disable=SC2086 # one word per package
[ -z "$missing" ] || apt_install $missing
scripts/install.sh test
exec .venv/bin/python -m pytest "$@"
