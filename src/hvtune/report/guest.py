"""hvtune guest: what this guest sees (its CPUID read with the catalog's
table, and on Linux its kernel's words, clocksource and
systemd-detect-virt's answer), and with a configuration the drift from it,
as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hvtune.cpuid import hypervisor_present, leaves_json, signature
from hvtune.errors import printable
from hvtune.guest.clocksource import Clocksource
from hvtune.guest.cpuid_reader import INSTRUCTION
from hvtune.guest.detect_virt import PROGRAM, DetectVirt
from hvtune.guest.drift import HYPERVISOR_FIRST, Drift, interfaces, received_features
from hvtune.guest.kernel_log import KernelLog
from hvtune.guest.notes import notes
from hvtune.guest.observe import Observation
from hvtune.jsonrecords import encode
from hvtune.report.cpuid import cpuid_text


@dataclass(frozen=True)
class Expected:
    """The configuration the guest was compared with: where it came from,
    the host it was predicted on (its name and QEMU release) and every
    difference, most telling first (none: the guest received what it asks
    for)."""

    source: str
    host: str
    qemu_version: str | None
    drift: tuple[Drift, ...]


@dataclass(frozen=True)
class GuestDocument:
    """``hvtune guest --format json``: how CPUID was read (`method`:
    ``instruction``, or the path of Linux's device, ``/dev/cpu/N/cpuid``;
    `refused`: why the instruction was not used), leaf 1's hypervisor-present bit, the interface each
    region of the hypervisor range holds (``"0x40000000": "Hyper-V"``), the
    vendor signature at 0x40000000, the features whose bits are all set, the
    leaves read (``{"0x40000003": [eax, ebx, ecx, edx]}``); on Linux the
    kernel's lines, the clocksource and systemd-detect-virt's answer (null
    elsewhere); advice; and the comparison with a configuration, if one was
    given."""

    SCHEMA: ClassVar[str] = "hvtune/guest/1"

    method: str
    refused: str | None
    hypervisor_present: bool | None
    interfaces: dict[str, str | None]
    vendor: str | None
    features: tuple[str, ...]
    leaves: dict[str, list[int]]
    kernel: KernelLog | None
    clocksource: Clocksource | None
    detect_virt: DetectVirt | None
    notes: tuple[str, ...]
    expected: Expected | None


def _vendor(observation: Observation) -> str | None:
    raw = signature(observation.cpuid.leaves, HYPERVISOR_FIRST, ("ebx", "ecx", "edx"))
    return None if raw is None else raw.rstrip(b"\0").decode("latin-1")


def guest_json(observation: Observation, expected: Expected | None) -> str:
    leaves = observation.cpuid.leaves
    return encode(
        GuestDocument(
            method=observation.cpuid.method,
            refused=observation.cpuid.refused,
            hypervisor_present=hypervisor_present(leaves),
            interfaces={f"0x{base:08X}": name for base, name in interfaces(leaves).items()},
            vendor=_vendor(observation),
            features=received_features(leaves),
            leaves=leaves_json(leaves),
            kernel=observation.kernel,
            clocksource=observation.clocksource,
            detect_virt=observation.detect_virt,
            notes=notes(observation),
            expected=expected,
        )
    )


def _linux_lines(observation: Observation) -> list[str]:
    kernel, clock, detect_virt = observation.kernel, observation.clocksource, observation.detect_virt
    if kernel is None or clock is None or detect_virt is None:
        return []
    if kernel.missing:
        lines = [f"kernel log: not read ({kernel.missing})"]
    else:
        said = kernel.hypervisor or "no 'Hypervisor detected' line (its boot messages may have left the log)"
        lines = [f"kernel ({kernel.source}): {said}", *(f"  {line}" for line in kernel.hyperv)]
    if clock.missing:
        lines.append(f"clocksource: not read ({clock.missing})")
    else:
        lines.append(f"clocksource: {clock.current} (available: {' '.join(clock.available) or 'none'})")
    lines.append(f"{PROGRAM} --vm: {detect_virt.answer or f'no answer ({detect_virt.missing})'}")
    return lines


def _drift_line(drift: Drift) -> str:
    if drift.expected is None:
        values = f"received {drift.received}, not configured"
    elif drift.received is None:
        values = f"configured {drift.expected}, not received"
    else:
        values = f"configured {drift.expected}, received {drift.received}"
    return f"  {drift.kind.value:<10}  {drift.subject}: {values}; likely {drift.cause.value}: {drift.why}"


def _expected_lines(expected: Expected) -> list[str]:
    qemu = f", QEMU {expected.qemu_version}" if expected.qemu_version else ""
    where = f"{expected.source} on {expected.host}{qemu}"
    if not expected.drift:
        return [f"compared with {where}: no drift, the guest received what it asks for"]
    count = len(expected.drift)
    return [f"compared with {where}: {count} difference{'s' if count != 1 else ''}"] + [
        _drift_line(drift) for drift in expected.drift
    ]


def guest_text(observation: Observation, expected: Expected | None) -> str:
    reading = observation.cpuid
    leaves = reading.leaves
    refused = f" (the instruction was refused: {reading.refused})" if reading.refused else ""
    way = "with the cpuid instruction" if reading.method == INSTRUCTION else f"from {reading.method}"
    present = hypervisor_present(leaves)
    regions = "; ".join(f"0x{base:08X}: {name or 'nothing'}" for base, name in interfaces(leaves).items())
    vendor = _vendor(observation)
    lines = [
        f"CPUID read {way}{refused}",
        f"hypervisor present (leaf 1 ECX[31]): {'unknown' if present is None else 'yes' if present else 'no'}",
        f"{regions}; vendor at 0x{HYPERVISOR_FIRST:08X}: {'none' if vendor is None else repr(vendor)}",
        f"features received: {', '.join(received_features(leaves)) or 'none'}",
        *(f"  {line}" for line in cpuid_text(leaves).splitlines()),
        *_linux_lines(observation),
        *(f"note: {note}" for note in notes(observation)),
        *(_expected_lines(expected) if expected else []),
    ]
    return "".join(printable(line) + "\n" for line in lines)
