"""The facts of a libvirt domain that decide its Hyper-V setup, as plain
data: what hvtune.formats.libvirt reads from domain XML, what libvirt's own
rules (hvtune.checks.libvirt) judge and what the libvirt -cpu builder
(hvtune.formats.libvirt_cpu) turns into QEMU's -cpu. Checks import these
records, never the parser.

It holds what libvirt reads, duplicates included (seen with libvirt 9.0,
11.3 and 12.8): the children of every ``<hyperv>`` in turn, every ``<timer>``
of every ``<clock>``, each ``<kvm>``'s children, the panic devices of every
``<devices>``, and only the first ``<cpu>``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from hvtune.valuetypes import Value


class HypervChild(NamedTuple):
    """One child of ``<hyperv>`` (or of ``<stimer>``/``<tlbflush>``) as written:
    its state and the value attribute libvirt reads (``retries``, ``value``).
    (Records read per element are named tuples: a domain has dozens, and a
    frozen dataclass costs several times as much to build.)"""

    name: str
    state: str
    # The value attribute (retries, value) as libvirt reads it, when the child
    # is on and has one (libvirt reads it only then; a number is parsed).
    value: Value | None
    children: tuple[HypervChild, ...]
    line: int  # where it is written; kept (non-zero) for children with value attributes
    passthrough: bool = False  # written under <hyperv mode='passthrough'>


class UnknownChild(NamedTuple):
    """A <hyperv> child hvtune does not know (libvirt refuses it by its
    name, whatever it holds): the first copy of each name, and where it
    stands among the known children (how many of ``LibvirtDomain.hyperv``
    come before it)."""

    name: str
    passthrough: bool  # written under <hyperv mode='passthrough'>
    position: int
    # the known child it surely means (Catalog.hyperv_child_correction), when
    # every copy, read under that name, is read without a refusal
    meant: str | None = None


# The unknown names of each kind (outside and under passthrough) a domain
# keeps records of: libvirt refuses the first, and a finding names a few
# more (a domain may have thousands).
UNKNOWN_KEPT = 6


class HypervSettings(NamedTuple):
    """What libvirt keeps of the <hyperv> children, read in turn: each
    name's last state, the value attribute of its last copy that is on, and
    the nested children (``stimer.direct``) of copies that are on, the last
    one read winning."""

    states: Mapping[str, str]
    values: Mapping[str, Value | None]
    nested: Mapping[str, str]


def hyperv_settings(
    children: tuple[HypervChild, ...] | list[HypervChild], *, nested_of_off: bool = False
) -> HypervSettings:
    """The settings; with `nested_of_off` the nested children of copies that
    are off count too (as old libvirt releases read them: see the catalog's
    libvirt.nested_of_off_until)."""
    states: dict[str, str] = {}
    values: dict[str, Value | None] = {}
    nested: dict[str, str] = {}
    for child in children:
        states[child.name] = child.state
        if child.state == "on":
            values[child.name] = child.value
        if child.state == "on" or nested_of_off:
            for grandchild in child.children:
                nested[f"{child.name}.{grandchild.name}"] = grandchild.state
    return HypervSettings(states, values, nested)


class Timer(NamedTuple):
    """A ``<timer>`` that reaches QEMU's -cpu (kvmclock, hypervclock, tsc),
    and how many times it is written in a row: libvirt passes each one on."""

    name: str
    present: str | None
    tickpolicy: str | None
    frequency: int | None
    repeat: int = 1


class Cpu(NamedTuple):
    """``<cpu>`` as libvirt's -cpu builder reads it."""

    mode: str
    model: str | None
    vendor_id: str | None
    # each <feature>'s policy and name, in order (two tuples, not a pair
    # each: a <cpu> may list thousands, and the reads below take them whole)
    feature_policies: tuple[str, ...]
    feature_names: tuple[str, ...]
    migratable: str | None
    cache_mode: str | None
    maxphysaddr: tuple[str, int | None] | None

    @property
    def features(self) -> Iterator[tuple[str, str]]:
        """Each <feature>'s (policy, name), in order."""
        return zip(self.feature_policies, self.feature_names, strict=True)


@dataclass(frozen=True)
class LibvirtDomain:
    """The parts of a domain that decide its Hyper-V setup."""

    name: str
    domain_type: str
    arch: str
    machine: str | None
    hyperv_mode: str | None  # None when there is no <hyperv>
    hyperv: tuple[HypervChild, ...]  # the known children (see _Copies)
    timers: tuple[Timer, ...]
    hyperv_panics: int
    hyperv_panic_has_address: bool
    kvm: tuple[Mapping[str, str], ...]  # each <kvm>'s children: name -> state
    apic_eoi: str | None
    pvspinlock: str | None
    pmu: str | None
    cpu: Cpu | None
    os_id: str | None
    emulator: str | None = None
    # <hyperv> children hvtune does not know: the first UNKNOWN_KEPT names
    # outside and under passthrough, and how many names there are of each
    unknown: tuple[UnknownChild, ...] = field(default=())
    unknown_names: tuple[int, int] = (0, 0)
    clock_offset: str | None = None  # the first <clock>'s offset, as libvirt reads it
    # What libvirt keeps of the <hyperv> children, and each <cpu><feature>'s
    # policy by name (the last one written that is not optional): computed
    # once, as every catalog form reads them.
    settings: HypervSettings = field(init=False, repr=False, compare=False)
    cpu_policies: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cpu = self.cpu
        if cpu is None:
            policies = {}
        elif "optional" in cpu.feature_policies:
            policies = {name: policy for policy, name in cpu.features if policy != "optional"}
        else:
            policies = dict(zip(cpu.feature_names, cpu.feature_policies, strict=True))
        object.__setattr__(self, "settings", hyperv_settings(self.hyperv))
        object.__setattr__(self, "cpu_policies", policies)

    def timers_named(self, name: str) -> tuple[Timer, ...]:
        return tuple(timer for timer in self.timers if timer.name == name)

    def kvm_hints(self, *, merged: bool) -> Mapping[str, str] | None:
        """The <kvm> children libvirt takes: those of every <kvm> (`merged`,
        later ones overriding) or of the last one; None without <kvm>."""
        if not self.kvm:
            return None
        if not merged:
            return self.kvm[-1]
        hints: dict[str, str] = {}
        for element in self.kvm:
            hints.update(element)
        return hints
