"""The public operations behind every command. The CLI only wires these."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hvtune.checks import run_checks
from hvtune.checks.context import CheckContext, Target
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import CheckResult, Finding
from hvtune.formats import Reading, qemu, read_file, read_text
from hvtune.formats import json as json_format

OUTPUT_FORMATS = ("qemu", "json")


def check(
    config: HypervConfig,
    *,
    target: Target = "qemu",
    guest_os: str | None = None,
) -> list[Finding]:
    """Every finding for one config, most important first."""
    return run_checks(config, CheckContext(target=target, guest_os=guest_os))


def check_reading(
    reading: Reading,
    *,
    target: Target | None = None,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
) -> CheckResult:
    """Check a config read from a source, using what the source revealed."""
    default_target: Target = "libvirt" if reading.format == "libvirt" else "qemu"
    context = CheckContext(
        target=target or default_target,
        guest_os=guest_os or reading.guest_os,
        ambiguous=reading.ambiguous,
        libvirt_version=libvirt_version,
        domain=reading.libvirt,
    )
    return CheckResult(reading.source, reading.config, tuple(run_checks(reading.config, context)))


def read_cpu_option(value: str, *, source: str = "--cpu") -> Reading:
    """A -cpu value such as ``host,hv-relaxed,hv-stimer``."""
    parsed = qemu.parse_cpu(value, source=source)
    return Reading(source, "qemu", parsed.config, ambiguous=parsed.ambiguous)


def read_inputs(paths: Iterable[str | Path], cpu: str | None = None) -> list[Reading | InputError]:
    """Read every named file (``-`` is standard input) and the --cpu value;
    each unusable one becomes its InputError instead of stopping the rest."""
    readings: list[Reading | InputError] = []
    for path in paths:
        try:
            if str(path) == "-":
                import sys

                readings.append(read_text(sys.stdin.read(), source="<stdin>"))
            else:
                readings.append(read_file(path))
        except InputError as error:
            readings.append(error)
    if cpu is not None:
        try:
            readings.append(read_cpu_option(cpu))
        except InputError as error:
            readings.append(error)
    return readings


def render(config: HypervConfig, to: str, *, source: str = "config") -> str:
    """The config written in an output format (``qemu`` or ``json``)."""
    if to == "qemu":
        return qemu.render_cpu(config, source=source) + "\n"
    if to == "json":
        return json_format.render(config)
    raise ValueError(f"unknown output format {to!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
