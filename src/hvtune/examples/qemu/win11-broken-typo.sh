#!/bin/sh
# Windows 11 on a workstation: one misspelt flag, and QEMU refuses the
# whole -cpu option before the VM starts.
exec qemu-system-x86_64 \
  -name win11-dev \
  -machine q35,accel=kvm,smm=on \
  -drive if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd,readonly=on \
  -drive if=pflash,format=raw,unit=1,file=/home/alex/vms/win11-dev_VARS.fd \
  -cpu host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimmer,hv-time,hv-frequencies,hv-tlbflush,hv-ipi \
  -smp 6 \
  -m 12G \
  -drive file=/home/alex/vms/win11-dev.qcow2,if=virtio \
  -nic user,model=virtio-net-pci \
  -rtc base=localtime
