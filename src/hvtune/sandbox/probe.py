"""hvtune's host probe as the L1 agent runs it, on hvtune's own Python
(sandbox.runtime): the profile of the stack's KVM, QEMU and libvirt,
printed as JSON.

    python3 -m hvtune.sandbox.probe [--no-libvirt]
"""

from __future__ import annotations

import sys

from hvtune.host.profile import probe_host
from hvtune.report.host import host_json


def main(arguments: list[str]) -> int:
    libvirt_uri = None if "--no-libvirt" in arguments else "qemu:///system"
    sys.stdout.write(host_json(probe_host(libvirt_uri=libvirt_uri)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
