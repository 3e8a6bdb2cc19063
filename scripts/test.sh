#!/bin/sh
# Install everything the tests need and run the whole suite: from Debian,
# when missing, QEMU (qemu-system-x86), libvirt's daemon and client
# (libvirt-daemon-system, libvirt-clients: libvirtd, virsh, virt-xml-validate),
# xmllint (libxml2-utils), strace (the witness that hostile XML opens no
# other file), a C compiler with a static C library (gcc,
# libc6-dev), a static busybox (busybox-static) for the lab's guests and the
# sandbox, mmdebstrap and mkfs.ext4 (e2fsprogs) for the sandbox's stacks, and
# groff and man (groff-base, man-db) that render hvtune's manual page,
# openssl (the webhook's test certificates) and git (the pre-commit hook's
# test); then
# hvtune with its [test] and [plot] extras (and, libvirt now being here,
# [libvirt]) into ./.venv; then pytest. The tests start their own libvirtd
# when none is running, and fetch Debian's cloud kernel for the guests they
# boot. Arguments go to pytest.
# Under CI=true a test whose program is missing fails instead of skipping.
set -eu
cd "$(dirname "$0")/.."
. scripts/common.sh

missing=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
command -v libvirtd >/dev/null 2>&1 || missing="$missing libvirt-daemon-system"
command -v virt-xml-validate >/dev/null 2>&1 || missing="$missing libvirt-clients"
command -v xmllint >/dev/null 2>&1 || missing="$missing libxml2-utils"
command -v strace >/dev/null 2>&1 || missing="$missing strace"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc"
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing="$missing libc6-dev"
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing="$missing busybox-static"
command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"
command -v mkfs.ext4 >/dev/null 2>&1 || missing="$missing e2fsprogs"
command -v groff >/dev/null 2>&1 || missing="$missing groff-base"
command -v man >/dev/null 2>&1 || missing="$missing man-db"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v git >/dev/null 2>&1 || missing="$missing git"
# shellcheck disable=SC2086 # one word per package
[ -z "$missing" ] || apt_install $missing
scripts/install.sh test,plot
exec .venv/bin/python -m pytest "$@"
