#!/bin/sh
# Windows 11 23H2 with Secure Boot and a TPM: the full set, including
# direct-mode synthetic timers and extended TLB flush ranges.
exec qemu-system-x86_64 \
  -name win11 \
  -machine q35,accel=kvm,smm=on \
  -global driver=cfi.pflash01,property=secure,value=on \
  -drive if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd,readonly=on \
  -drive if=pflash,format=raw,unit=1,file=/var/lib/vms/win11_VARS.fd \
  -cpu host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-stimer-direct,hv-time,hv-frequencies,hv-tlbflush,hv-tlbflush-ext,hv-ipi,hv-avic,hv-xmm-input \
  -smp 8,sockets=1,cores=4,threads=2 \
  -m 16G \
  -chardev socket,id=chrtpm,path=/run/vms/win11-tpm.sock \
  -tpmdev emulator,id=tpm0,chardev=chrtpm \
  -device tpm-tis,tpmdev=tpm0 \
  -drive file=/var/lib/vms/win11.qcow2,if=virtio,cache=none,aio=native \
  -netdev bridge,id=net0,br=br0 \
  -device virtio-net-pci,netdev=net0 \
  -rtc base=localtime \
  -device qxl-vga \
  -vnc 127.0.0.1:2
