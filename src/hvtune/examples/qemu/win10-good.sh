#!/bin/sh
# Windows 10 22H2 desktop on a q35 machine: a complete, dependency-correct
# set of enlightenments with synthetic timers and the reference TSC page.
exec qemu-system-x86_64 \
  -name win10,process=win10 \
  -machine q35,accel=kvm \
  -cpu host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-stimer-direct,hv-time,hv-frequencies,hv-tlbflush,hv-ipi,hv-avic \
  -smp 4,sockets=1,cores=4,threads=1 \
  -m 8G \
  -rtc base=localtime,clock=host,driftfix=slew \
  -global kvm-pit.lost_tick_policy=delay \
  -no-hpet \
  -drive file=/var/lib/vms/win10.qcow2,if=virtio,cache=none,aio=native,discard=unmap \
  -netdev tap,id=net0,ifname=tap-win10,script=no,downscript=no \
  -device virtio-net-pci,netdev=net0,mac=52:54:00:1a:10:01 \
  -device qxl-vga,vgamem_mb=64 \
  -vnc 127.0.0.1:1 \
  -monitor unix:/run/vms/win10.monitor,server,nowait
