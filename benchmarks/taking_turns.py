"""Timing several operations fairly on a busy, noisy machine.

The operations take turns (a, b, c, a, b, c, ...) so that whatever slows
the machine slows them alike, and each is timed in CPU time (what this
process spent, not what others did meanwhile), best of a few turns. Each
turn includes what freeing the operation's memory costs: glibc
consolidates a large tree's freed chunks at the next allocation, which
would otherwise be timed with the operation that follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping


def best_cpu_seconds(operations: Mapping[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The best CPU time of each operation, taking turns `repeat` times."""
    best = dict.fromkeys(operations, float("inf"))
    for _ in range(repeat):
        for name, run in operations.items():
            start = time.process_time()
            run()
            bytearray(1 << 20)  # the deferred cost of what `run` freed
            best[name] = min(best[name], time.process_time() - start)
    return best
