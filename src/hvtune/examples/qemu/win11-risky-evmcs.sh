#!/bin/sh
# Windows 11 with WSL2 and virtualization-based security, which run
# Hyper-V inside the guest: nested VMX plus enlightened VMCS. Fine on an
# Intel host with nested virtualization; the same VM does not start on AMD.
exec qemu-system-x86_64 \
  -name win11-wsl \
  -machine q35,accel=kvm,smm=on \
  -drive if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd,readonly=on \
  -drive if=pflash,format=raw,unit=1,file=/var/lib/vms/win11-wsl_VARS.fd \
  -cpu host,+vmx,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-stimer-direct,hv-time,hv-frequencies,hv-reenlightenment,hv-tlbflush,hv-ipi,hv-evmcs,hv-emsr-bitmap,hv-tlbflush-direct,hv-avic \
  -smp 8,sockets=1,cores=8 \
  -m 24G \
  -drive file=/var/lib/vms/win11-wsl.qcow2,if=virtio,cache=none \
  -netdev tap,id=net0,ifname=tap-wsl,script=no,downscript=no \
  -device virtio-net-pci,netdev=net0 \
  -rtc base=localtime
