#!/bin/sh
# Windows Server 2022 the quick way: pass through every enlightenment the
# host has and every host CPU feature. It starts, but it can never move to
# another host, and its CPUID changes with the host's kernel.
exec qemu-system-x86_64 \
  -name win2022-lab \
  -machine q35,accel=kvm \
  -cpu host,+hypervisor,+invtsc,l3-cache=on,migratable=no,hv_passthrough \
  -smp 4 \
  -m 8G \
  -drive file=/srv/lab/win2022.qcow2,if=virtio \
  -nic user,model=virtio-net-pci \
  -rtc base=localtime \
  -display none
