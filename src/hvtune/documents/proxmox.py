"""What the Proxmox format keeps of a qm configuration file besides its
config: the settings qemu-server reads at the next start, where each is
written, what it ignores, and the -cpu it builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Setting(NamedTuple):
    """One ``key: value`` line: its value, its line number and where the
    value stands in the text (offsets), so that it can be replaced."""

    key: str
    value: str
    line: int
    span: tuple[int, int]


class Ignored(NamedTuple):
    """A line qemu-server skips with a warning (an unparsable line, a value
    its schema refuses): ``key`` (None for a line that is no setting),
    ``line``, qemu-server's reason, for a ``cpu:`` refused for its per-VM
    flags the flags it refused (``+hv-relaxed``, ...), and the setting."""

    key: str | None
    line: int
    problem: str
    flags: tuple[str, ...] = ()
    setting: Setting | None = None  # the setting skipped, where it stands


class CpuSetting(NamedTuple):
    """A ``cpu:`` value as qemu-server reads it (pve-vm-cpu-conf)."""

    model: str
    flags: tuple[str, ...] = ()  # "+name" / "-name", in the order written
    hidden: bool | None = None
    vendor_id: str | None = None
    level: int | None = None
    phys_bits: str | None = None
    guest_phys_bits: int | None = None


class Node(NamedTuple):
    """What qemu-server asks of the node it starts a VM on: its CPU vendor
    (/proc/cpuinfo) and its pve-qemu-kvm release (None: the catalog's)."""

    vendor: str = "GenuineIntel"
    qemu: str | None = None


@dataclass(frozen=True)
class ProxmoxVM:
    """A qm configuration as qemu-server starts it.

    ``settings`` are the keys of the current configuration (the part before
    the first section) with ``[PENDING]`` applied, as qemu-server applies it
    at a cold start; each is the line that holds its value. ``end`` is the
    offset where a new key is written (after the current
    configuration's last line). ``sections`` names the snapshot, pending and special
    sections, which hvtune neither judges nor edits (a snapshot's
    configuration counts only after a rollback). ``pending_deletes`` are the
    keys ``[PENDING]`` deletes. ``built`` is the -cpu qemu-server builds;
    ``args_cpu`` the last -cpu in ``args:`` (which replaces it, as QEMU takes
    the last) and where it stands; ``refused`` is why qemu-server refuses
    to start the VM at all.
    """

    settings: dict[str, Setting]
    end: int
    sections: tuple[str, ...]
    pending_deletes: frozenset[str]
    ignored: tuple[Ignored, ...]
    cpu: CpuSetting | None
    node: Node
    ostype: str | None
    windows: int
    machine: str
    built: str
    args_cpu: tuple[str, tuple[int, int]] | None = None
    refused: str | None = None

    @property
    def effective_cpu(self) -> str:
        """The -cpu value QEMU gets: args' own, else the one qemu-server builds."""
        return self.args_cpu[0] if self.args_cpu else self.built
