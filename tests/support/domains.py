"""Small libvirt domains for tests, built around the parts a test is about."""

from __future__ import annotations


def domain(
    features: str = "",
    clock: str = "",
    devices: str = "",
    cpu: str = "",
    metadata: str = "",
    *,
    arch: str = "x86_64",
    machine: str = "pc-q35-7.2",
    name: str = "t",
) -> str:
    """A minimal KVM domain with these pieces in their places."""
    return (
        f"<domain type='kvm'><name>{name}</name>{metadata}<memory>1048576</memory>"
        f"<os><type arch='{arch}' machine='{machine}'>hvm</type></os>"
        f"<features>{features}</features>{cpu}<clock offset='utc'>{clock}</clock><devices>{devices}</devices></domain>"
    )


def daemon_domain(name: str, features: str, clock: str = "", *, kind: str = "kvm") -> str:
    """A domain a real libvirtd defines (and, with kind qemu, starts under
    TCG): an emulator, 64 MiB, machine type pc."""
    xml = domain(features, clock, "<emulator>/usr/bin/qemu-system-x86_64</emulator>", name=name, machine="pc")
    return xml.replace("<domain type='kvm'>", f"<domain type='{kind}'>").replace(
        "<memory>1048576</memory>", "<memory unit='MiB'>64</memory>"
    )


def hyperv(*children: str, mode: str | None = None) -> str:
    """<hyperv> with these children, e.g. hyperv("relaxed", "spinlocks retries='8191'")."""
    opened = f"<hyperv mode='{mode}'>" if mode else "<hyperv>"
    return opened + "".join(c if c.startswith("<") else _child(c) for c in children) + "</hyperv>"


def _child(spec: str) -> str:
    name, _, attributes = spec.partition(" ")
    state = "" if "state=" in attributes else " state='on'"
    return f"<{name}{state}{' ' + attributes if attributes else ''}/>"


HYPERVCLOCK = "<timer name='hypervclock' present='yes'/>"
