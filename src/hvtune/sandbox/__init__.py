"""The sandbox: a real KVM with Hyper-V emulation, booted as a TCG guest on
any machine, and what runs on it to show what QEMU, libvirt and a guest make
of a configuration."""
