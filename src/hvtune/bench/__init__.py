"""hvtune bench: the three measurements behind enlightenments (clock_gettime,
cpuid, TLB shootdown), by a small C core compiled on demand."""
