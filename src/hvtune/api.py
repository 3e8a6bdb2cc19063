"""The public operations behind every command. The CLI only wires these."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion

from hvtune.checks import run_checks
from hvtune.checks.context import CheckContext, Target
from hvtune.checks.values import check_spinlocks, check_vendor_id
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.files import load_stdin, load_text
from hvtune.findings import CheckResult, Finding
from hvtune.formats import Reading, libvirt, qemu, read_file, read_text
from hvtune.formats import json as json_format
from hvtune.formats.domcaps import HypervCapabilities, parse_domcaps
from hvtune.formats.libvirt_cpu import libvirt_cpu
from hvtune.formats.libvirt_patch import fragments, into_domain
from hvtune.host.versions import local_libvirt_version
from hvtune.releases import parse_release
from hvtune.writing import read_to_change, write_file

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile

OUTPUT_FORMATS = ("qemu", "json", "libvirt")


def check(
    config: HypervConfig,
    *,
    target: Target = "qemu",
    guest_os: str | None = None,
    host: HostProfile | None = None,
) -> list[Finding]:
    """Every finding for one config, most important first."""
    return run_checks(config, CheckContext(target=target, guest_os=guest_os, host=host))


def check_reading(
    reading: Reading,
    *,
    target: Target | None = None,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
) -> CheckResult:
    """Check a config read from a source, using what the source revealed,
    on `host` when one is given."""
    default_target: Target = "libvirt" if reading.format == "libvirt" else "qemu"
    context = CheckContext(
        target=target or default_target,
        guest_os=guest_os or reading.guest_os,
        ambiguous=reading.ambiguous,
        libvirt_version=libvirt_version,
        domain=reading.libvirt,
        host=host,
    )
    findings = tuple(run_checks(reading.config, context))
    return CheckResult(reading.source, reading.config, findings, format=reading.format)


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
                loaded = load_stdin()
                readings.append(read_text(loaded.text, source=loaded.source))
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
    """The config written in an output format (``qemu``, ``json`` or ``libvirt``)."""
    if to == "qemu":
        return qemu.render_cpu(config, source=source) + "\n"
    if to == "json":
        return json_format.render(config)
    if to == "libvirt":
        return fragments(config, source=source)
    raise ValueError(f"unknown output format {to!r}; expected one of {', '.join(OUTPUT_FORMATS)}")


def libvirt_refusal(result: CheckResult) -> Finding | None:
    """The first finding for which libvirt refuses a domain, if any."""
    return next((f for f in result.findings if f.refused_by == "libvirt"), None)


def refuse_libvirt_values(config: HypervConfig, source: str, libvirt_version: str | None) -> None:
    """Raise InputError, naming libvirt's limit, when libvirt would refuse
    one of `config`'s values: hvtune writes no XML libvirt cannot read."""
    context = CheckContext(target="libvirt", libvirt_version=libvirt_version)
    for found in (*check_spinlocks(config, context), *check_vendor_id(config, context)):
        if found.refused_by == "libvirt":
            raise InputError(source, found.feature, found.message)


def translate(
    reading: Reading,
    to: str,
    *,
    libvirt_version: str | None = None,
    capabilities: HypervCapabilities | None = None,
) -> str:
    """A reading in another format. A libvirt domain becomes the -cpu value
    that libvirt `libvirt_version` builds for it; a domain that libvirt
    would refuse is an InputError naming libvirt's reason."""
    if reading.libvirt is not None and to == "qemu":
        refusal = libvirt_refusal(check_reading(reading, libvirt_version=libvirt_version))
        if refusal is not None:
            raise InputError(reading.source, refusal.feature, refusal.message)
        cpu = libvirt_cpu(reading.libvirt, version=libvirt_version, capabilities=capabilities, source=reading.source)
        return cpu + "\n"
    if to == "libvirt":
        refuse_libvirt_values(reading.config, reading.source, libvirt_version)
    return render(reading.config, to, source=reading.source)


def resolve_libvirt_version(option: str | None, connected: str | None = None) -> str | None:
    """The libvirt release to judge by: the one given, else the one
    connected to (or the host profile's), else the one installed here; None
    means the newest."""
    if option:
        try:
            parse_release(option)
        except InvalidVersion:
            raise InputError("--libvirt-version", None, f"{option!r} is not a version such as 9.0.0") from None
        return option
    return connected or local_libvirt_version()


def check_live(
    uri: str,
    names: tuple[str, ...] = (),
    *,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
) -> list[CheckResult]:
    """Check the persistent definitions of a libvirt daemon's domains (the
    named ones, or all), judged by that daemon's libvirt release."""
    from hvtune.live import Connection

    with Connection(uri) as connection:
        version = resolve_libvirt_version(libvirt_version, connection.version)
        domains = connection.domains(names)
    return [
        check_reading(read_text(d.xml, source=d.name), guest_os=guest_os, libvirt_version=version, host=host)
        for d in domains
    ]


def host_profile(spec: str | None) -> HostProfile | None:
    """The host to judge against: a bundled profile by name, a saved profile
    file, ``this`` (probe this machine; libvirt's domcapabilities, which no
    check needs, is not asked), or None for no host."""
    if spec is None:
        return None
    if spec == "this":
        from hvtune.host.profile import probe_host

        return probe_host(libvirt_uri=None)
    from hvtune.host.profile_json import load_profile

    return load_profile(spec)


def libvirt_version_for(option: str | None, uri: str | None) -> str | None:
    """The libvirt release to translate for: --libvirt-version, else the
    daemon's at --connect, else the one installed here."""
    if uri is not None and not option:
        from hvtune.live import Connection

        with Connection(uri) as connection:
            return connection.version
    return resolve_libvirt_version(option)


def host_capabilities(domcaps: str | None, uri: str | None) -> HypervCapabilities | None:
    """A host's Hyper-V capabilities, from a saved domcapabilities file or
    from the daemon at `uri`."""
    if domcaps is not None:
        return parse_domcaps(load_text(domcaps), source=domcaps)
    if uri is not None:
        from hvtune.live import Connection

        with Connection(uri) as connection:
            return connection.hyperv_capabilities()
    return None


def write_into(config: HypervConfig, path: str, *, source: str, libvirt_version: str | None = None) -> str:
    """Make a domain XML file's Hyper-V setup `config`'s (read from
    `source`), keeping the original as PATH.bak (see hvtune.writing).
    Returns what was done."""
    refuse_libvirt_values(config, source, libvirt_version)
    with read_to_change(path) as original:
        libvirt.parse_text(original.text, source=path)  # it must be a domain
        patched = into_domain(original.text, config, source=path)
        if patched == original.text:
            return f"{path} already has this Hyper-V configuration; nothing written"
        written = write_file(path, patched, original=original)
    return f"wrote {written.path} (original kept as {written.backup})"
