"""Run hvtune's command line, pausing inside its write, so that a test can
send a signal at a known moment of it.

    python paused_write.py N ARGS...

runs `hvtune ARGS...`; at the N-th fsync (a write flushes its temporary, the
backup's temporary, then the folder after the renames) it prints "paused" on
standard error and sleeps before flushing, long enough for the test's
signal to arrive. Nothing else in hvtune changes.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_SECONDS = 30.0


def main() -> int:
    at = int(sys.argv[1])
    flush = os.fsync
    seen = 0

    def paused(descriptor: int) -> None:
        nonlocal seen
        seen += 1
        if seen == at:
            sys.stderr.write("paused\n")
            sys.stderr.flush()
            time.sleep(PAUSE_SECONDS)
        flush(descriptor)

    os.fsync = paused
    from hvtune.cli import main as hvtune

    return hvtune(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
