"""A stack's programs on this host without booting it (sandbox.userland):
the release's libvirtd translates domains and its QEMU reads -cpu values,
in private namespaces, leaving the host as it was."""

from __future__ import annotations

import os
from pathlib import Path

import hvtune
from hvtune.catalog import load_catalog
from hvtune.sandbox.userland import run_userland

from support.sandbox import sandbox_stack

EXAMPLES = Path(hvtune.__file__).parent / "examples" / "libvirt"


def test_the_stacks_libvirt_translates_and_its_qemu_reads_back() -> None:
    stack = sandbox_stack("bookworm")
    before = os.stat("/dev/kvm"), os.stat("/dev/ptmx")
    good = (EXAMPLES / "win2019-proxmox-like.xml").read_text()
    broken = (EXAMPLES / "win10-broken-vendor-id.xml").read_text()
    cases = [
        {"id": "good", "native": good},
        {"id": "broken", "native": broken},
        {"id": "read", "cpu": "max,hv-relaxed,hv-spinlocks=0x1fff", "machine": "pc", "accel": "tcg", "cpuid": False},
        {"id": "unknown", "cpu": "max,hv-bogus", "machine": "pc", "accel": "tcg", "cpuid": False},
    ]
    outcome = run_userland(stack, {"cases": cases, "properties": [prop.name for prop in load_catalog().properties]})
    results = outcome.results()
    assert results["good"]["translated"] and " -cpu kvm64,lahf-lm=on,sep=on,hv-time=on," in results["good"]["argv"]
    assert not results["broken"]["translated"]
    assert "HyperV vendor_id value must not be more than 12 characters." in results["broken"]["stderr"]
    assert results["read"]["started"] and results["read"]["properties"]["hv-spinlocks"] == 0x1FFF
    assert "Property 'max-x86_64-cpu.hv-bogus' not found" in results["unknown"]["stderr"]
    after = os.stat("/dev/kvm"), os.stat("/dev/ptmx")
    assert [(s.st_mode, s.st_gid, s.st_rdev) for s in after] == [(s.st_mode, s.st_gid, s.st_rdev) for s in before]
