#!/bin/sh
# Windows Server 2022 database host, 16 vCPUs on a busy, overcommitted
# hypervisor: PV TLB flush and IPIs matter most here; a fixed TSC frequency
# keeps the invariant TSC migratable.
exec qemu-system-x86_64 \
  -name sql01 \
  -machine q35,accel=kvm \
  -cpu Icelake-Server-v6,+invtsc,tsc-frequency=2600000000,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-stimer-direct,hv-time,hv-frequencies,hv-tlbflush,hv-tlbflush-ext,hv-ipi,hv-avic,hv-xmm-input \
  -smp 16,sockets=2,cores=8,threads=1 \
  -m 64G \
  -object memory-backend-memfd,id=mem0,size=64G,hugetlb=on \
  -machine memory-backend=mem0 \
  -drive file=/dev/vg_vms/sql01-os,if=none,id=os,format=raw,cache=none,aio=native \
  -device virtio-blk-pci,drive=os,num-queues=8 \
  -netdev tap,id=net0,ifname=tap-sql01,vhost=on,queues=8,script=no,downscript=no \
  -device virtio-net-pci,netdev=net0,mq=on,vectors=18 \
  -rtc base=utc,driftfix=slew \
  -no-hpet \
  -display none -daemonize
