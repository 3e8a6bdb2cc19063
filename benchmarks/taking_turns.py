"""Timing several operations fairly on a busy, noisy machine.

The operations take turns (a, b, c, a, b, c, ...) so that whatever slows
the machine slows them alike, and each is timed in CPU time (what this
process spent, not what others did meanwhile), best of a few turns (and
of as many more as fit in a given time: the best of more turns is nearer
what the operation costs on a quiet machine). Each
turn includes what freeing the operation's memory costs: glibc
consolidates a large tree's freed chunks at the next allocation, which
would otherwise be timed with the operation that follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping


def best_cpu_seconds(
    operations: Mapping[str, Callable[[], object]], repeat: int, at_least: float = 0.0
) -> dict[str, float]:
    """The best CPU time of each operation, taking turns `repeat` times,
    and more until the turns have taken `at_least` seconds of CPU time."""
    best = dict.fromkeys(operations, float("inf"))
    started = time.process_time()
    turns = 0
    while turns < repeat or time.process_time() - started < at_least:
        turns += 1
        for name, run in operations.items():
            start = time.process_time()
            run()
            bytearray(1 << 20)  # the deferred cost of what `run` freed
            best[name] = min(best[name], time.process_time() - start)
    return best
