"""Compare what hvtune and the real QEMU make of one -cpu value."""

from __future__ import annotations

from hvtune.catalog import Neighbour, load_catalog
from hvtune.errors import InputError
from hvtune.formats.qemu import parse_cpu

from support.qemu import VPINDEX_REFUSED, QemuProbe

# Under TCG QEMU filters CPUID features it cannot emulate (vmx, invtsc), so
# their read-back says nothing about parsing.
_TCG_FILTERED = {"vmx", "invtsc"}


def readable_properties(model: str) -> list[str]:
    catalog = load_catalog()
    names = []
    for entry in catalog.entries:
        if entry.name in _TCG_FILTERED:
            continue
        if isinstance(entry, Neighbour) and entry.models and model not in entry.models:
            continue
        names += [entry.name, *entry.aliases]
    return [name for name in names if name != "tsc-freq"]


def expected_value(config, name: str, qemu_version: str | None = None):  # type: ignore[no-untyped-def]
    """What QEMU `qemu_version` reads back for `name` (or an alias of it)
    from `config`."""
    value = config.reported(load_catalog().aliases.get(name, name), qemu_version)
    if name == "tsc-frequency":
        return value // 1000 * 1000  # QEMU keeps kHz
    return value


def assert_agrees(qemu: QemuProbe, cpu: str) -> None:
    """hvtune and QEMU accept or refuse `cpu` alike, and agree on every
    Hyper-V property and neighbour value."""
    try:
        parsed = parse_cpu(cpu)
    except InputError as refusal:
        outcome = qemu.run(cpu, [])
        assert not outcome.accepted, f"hvtune refuses {cpu!r} ({refusal.problem}) but QEMU accepts it"
        assert outcome.error != VPINDEX_REFUSED, f"QEMU parsed {cpu!r} fully; hvtune refused: {refusal.problem}"
        return
    config = parsed.config
    properties = readable_properties(config.model or "qemu64")
    outcome = qemu.run(cpu, properties)
    skipped: set[str] = set()
    if outcome.error == VPINDEX_REFUSED:
        # TCG refuses hv-vpindex when it plugs the CPU, after parsing every
        # property; read the rest back with vpindex switched off.
        assert config.get("hv-vpindex") is not None, f"QEMU saw hv-vpindex in {cpu!r}, hvtune did not"
        outcome = qemu.run(cpu + ",hv-vpindex=off", properties)
        skipped = {"hv-vpindex"}
    assert outcome.accepted, f"hvtune accepts {cpu!r} but QEMU refuses it: {outcome.error}"
    catalog = load_catalog()
    for name in properties:
        entry = catalog.entry(name)
        if entry is None or entry.name in skipped:
            continue
        assert outcome.values[name] == expected_value(config, entry.name), (
            f"{cpu!r}: QEMU reads {name}={outcome.values[name]!r}, hvtune says {expected_value(config, entry.name)!r}"
        )
