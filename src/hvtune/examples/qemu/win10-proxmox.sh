#!/bin/sh
# Windows 10 as Proxmox VE starts it (ostype win10, machine pinned to 5.1):
# underscore spellings, the reset MSR that QEMU's documentation advises
# against, and no hv-frequencies or hv-tlbflush.
exec /usr/bin/kvm \
  -id 104 \
  -name 'win10-office,debug-threads=on' \
  -machine 'type=pc-q35-5.1+pve0' \
  -cpu 'kvm64,enforce,hv_ipi,hv_relaxed,hv_reset,hv_runtime,hv_spinlocks=0x1fff,hv_stimer,hv_synic,hv_time,hv_vapic,hv_vpindex,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,+sep' \
  -smp '4,sockets=1,cores=4,maxcpus=4' \
  -m 8192 \
  -rtc 'driftfix=slew,base=localtime' \
  -global 'kvm-pit.lost_tick_policy=discard' \
  -drive 'file=/dev/pve/vm-104-disk-0,if=none,id=drive-scsi0,format=raw,cache=none,aio=io_uring,detect-zeroes=on' \
  -device 'virtio-scsi-pci,id=scsihw0,bus=pci.0,addr=0x5' \
  -device 'scsi-hd,bus=scsihw0.0,channel=0,scsi-id=0,lun=0,drive=drive-scsi0,id=scsi0,bootindex=100' \
  -netdev 'type=tap,id=net0,ifname=tap104i0,script=/var/lib/qemu-server/pve-bridge,downscript=/var/lib/qemu-server/pve-bridgedown,vhost=on' \
  -device 'virtio-net-pci,mac=BC:24:11:5E:2A:01,netdev=net0,bus=pci.0,addr=0x12,id=net0'
