#!/bin/sh
# Windows 10 from an old Vagrant/packer template: synthetic timers were
# switched on, but the template could not express hv-time (libvirt's
# hypervclock timer), so QEMU refuses to start the VM.
exec qemu-system-x86_64 \
  -name win10-vagrant \
  -machine pc-q35-6.2,accel=kvm \
  -cpu Skylake-Client-v4,hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_vpindex,hv_runtime,hv_synic,hv_stimer \
  -smp 2 \
  -m 4096 \
  -drive file=/var/lib/libvirt/images/win10-vagrant.qcow2,if=none,id=disk0,format=qcow2 \
  -device ahci,id=ahci -device ide-hd,drive=disk0,bus=ahci.0 \
  -netdev user,id=net0,hostfwd=tcp::5985-:5985 \
  -device e1000e,netdev=net0 \
  -display none
