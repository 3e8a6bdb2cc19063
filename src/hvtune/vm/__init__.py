"""Running a Linux guest under QEMU, straight from a kernel and an
initramfs: what to boot and how (spec), which accelerator boots it here
(accel), starting QEMU and waiting for it within a timeout (run), and
reading what the guest printed on its serial console (console).

The lab and the sandbox each bring their own initramfs and read their own
payload from the console; this package knows nothing of either."""
