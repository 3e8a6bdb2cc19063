"""What a guest really got, seen from inside it (hvtune guest): one module
per source (CPUID, the kernel's log, the clocksource, systemd-detect-virt),
the judgement of what differs from a configuration (drift), and the
observation that gathers them."""
