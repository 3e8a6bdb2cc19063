"""How QEMU names a -cpu property in its messages: the CPU's QOM type
(``host-x86_64-cpu``) and the global property each -cpu token becomes."""

from __future__ import annotations


def cpu_type(model: str) -> str:
    """The QOM type of the x86 CPU `model` (host -> host-x86_64-cpu)."""
    return f"{model}-x86_64-cpu"


def not_found(model: str, name: str) -> str:
    """QEMU's reason when its CPU has no property `name`."""
    return f"Property '{cpu_type(model)}.{name}' not found"


def cannot_apply(model: str, name: str, text: str, reason: str) -> str:
    """QEMU's line when it cannot set the token ``name=text`` (a -cpu token
    is applied as a global property of the CPU's type)."""
    return f"can't apply global {cpu_type(model)}.{name}={text}: {reason}"
