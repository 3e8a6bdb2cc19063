"""Checking configurations: every finding for a config, or for a config read
from a source (judged as the program that reads that source will judge it,
with what the source revealed besides the config)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hvtune.checks import run_checks
from hvtune.checks.context import CheckContext
from hvtune.checks.performance import check_performance
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import CheckResult, Finding
from hvtune.formats import format_named
from hvtune.formats.reading import Reading
from hvtune.verdict import in_telling_order

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile
    from hvtune.kubenodes import KubeNode
    from hvtune.plan import Goals


def check(
    config: HypervConfig,
    *,
    target: str = "qemu",
    guest_os: str | None = None,
    host: HostProfile | None = None,
) -> list[Finding]:
    """Every finding for one config read by `target` (``qemu`` or
    ``libvirt``), most important first."""
    return run_checks(config, CheckContext(target=target, guest_os=guest_os, host=host))


def check_reading(
    reading: Reading[Any],
    *,
    target: str | None = None,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
    qemu_version: str | None = None,
    goals: Goals | None = None,
    nodes: tuple[KubeNode, ...] | None = None,
) -> CheckResult:
    """Check a config read from a source, using what the source revealed,
    judged for `target` (default: the program that reads its format), the
    libvirt release `libvirt_version` (None: the newest hvtune knows), on
    `host` when one is given, and for the QEMU release `qemu_version` (None:
    the host's, when known), on the Kubernetes `nodes` given (KubeVirt VMs)."""
    read_as = format_named(reading.format)
    context = CheckContext(
        target=target or read_as.target,
        guest_os=guest_os or reading.guest_os,
        libvirt_version=read_as.libvirt_version or libvirt_version,
        document=reading.document,
        host=host,
        qemu_version=qemu_version,
        nodes=nodes,
    )
    found = run_checks(reading.config, context)
    found += check_performance(reading.config, context, found, goals)
    findings = tuple(in_telling_order(found))
    return CheckResult(reading.source, reading.config, findings, format=reading.format, reading=reading)


def refusal(result: CheckResult, program: str) -> Finding | None:
    """The first finding for which `program` (``qemu``, ``libvirt``)
    refuses the configuration outright, if any."""
    return next((finding for finding in result.findings if finding.refused_by == program), None)


def refuse_refused(reading: Reading[Any], program: str, *, libvirt_version: str | None = None) -> None:
    """Raise InputError, naming the reading's source and `program`'s
    reason, when `program` refuses the reading outright."""
    refused = refusal(check_reading(reading, libvirt_version=libvirt_version), program)
    if refused is not None:
        raise InputError(reading.source, refused.feature, refused.message)
