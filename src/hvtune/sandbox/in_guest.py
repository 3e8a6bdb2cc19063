"""An hvtune command line run inside an L2 guest, as ``python -m hvtune``
runs it: the guest's init starts this module on the hvtune Python packed
into its initramfs (sandbox.guest_python), and the command line comes
from the guest kernel's own command line (``hvtune.run=``, written by
`kernel_parameter`), so one initramfs serves every guest of a batch.

Here, `python -m hvtune.sandbox.in_guest --record FILE ARGV_JSON` runs a
command line the same way and writes the files of every module it
imported to FILE: what the guest's Python must hold for it.

It imports little (what it imports is packed for every command)."""

from __future__ import annotations

import base64
import json
import runpy
import sys
from collections.abc import Sequence

PARAMETER = "hvtune.run"  # dotted: the kernel leaves it to a module "hvtune", never to init


def kernel_parameter(argv: Sequence[str]) -> str:
    """The kernel command line word that carries `argv` (hvtune's
    arguments, without ``hvtune``)."""
    return f"{PARAMETER}={base64.urlsafe_b64encode(json.dumps(list(argv)).encode()).decode()}"


def command_of(cmdline: str) -> list[str] | None:
    """The hvtune arguments a kernel command line carries, or None."""
    for word in cmdline.split():
        name, _, value = word.partition("=")
        if name == PARAMETER:
            return [str(each) for each in json.loads(base64.urlsafe_b64decode(value))]
    return None


def run_hvtune(argv: Sequence[str]) -> None:
    """``python -m hvtune ARGV``, in this process (its exit is SystemExit)."""
    sys.argv = ["hvtune", *argv]
    runpy.run_module("hvtune", run_name="__main__", alter_sys=True)


def _record(target: str, argv: Sequence[str]) -> None:
    """Run `argv` and write the files of the modules it imported."""
    try:
        run_hvtune(argv)
    except SystemExit:
        pass
    finally:
        files = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
        with open(target, "w") as handle:
            json.dump(sorted(str(each) for each in files if each), handle)


def main(arguments: list[str]) -> None:
    if arguments[:1] == ["--record"]:
        _record(arguments[1], json.loads(arguments[2]))
        return
    with open("/proc/cmdline") as handle:
        argv = command_of(handle.read())
    if argv is None:
        sys.exit(f"no {PARAMETER}= on the kernel command line")
    run_hvtune(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
