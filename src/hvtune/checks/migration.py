"""Settings that block or break live migration."""

from __future__ import annotations

from hvtune.checks.context import CheckContext
from hvtune.checks.rule import about
from hvtune.config import HypervConfig
from hvtune.findings import ConfigChange, Finding, Severity

# QEMU keeps the TSC frequency in kHz, so less than 1 kHz is no fixed frequency.
_MIN_PINNED_HZ = 1000

PASSTHROUGH_NOT_MIGRATABLE = Finding(
    code="passthrough-not-migratable",
    severity=Severity.WARNING,
    feature="hv-passthrough",
    message=(
        "hv-passthrough exposes whatever this host's KVM supports: QEMU blocks migration "
        "('hv-passthrough' CPU flag prevents migration, use explicit set of hv-* flags "
        "instead), the guest sees other CPUID on another host, and QEMU's documentation "
        "calls it a debugging aid. List the enlightenments explicitly instead (see `hvtune list`)"
    ),
)

REENLIGHTENMENT_NEEDS_TSC_FREQUENCY = Finding(
    code="reenlightenment-needs-tsc-frequency",
    severity=Severity.WARNING,
    feature="hv-reenlightenment",
    message=(
        "hv-reenlightenment without a fixed tsc-frequency: once the guest enables "
        "re-enlightenment, migration fails on the destination (Guest enabled "
        "re-enlightenment notifications, 'tsc-frequency=' has to be specified). Set "
        "tsc-frequency to a frequency every destination host has or can scale to, or drop "
        "hv-reenlightenment if the guest runs no hypervisor"
    ),
)

INVTSC_NOT_MIGRATABLE = Finding(
    code="invtsc-not-migratable",
    severity=Severity.WARNING,
    feature="invtsc",
    message=(
        "invtsc without a fixed tsc-frequency blocks migration (State blocked by "
        "non-migratable CPU device (invtsc flag)); set tsc-frequency to make it migratable"
    ),
)

CORESHARING_AUTO_NOT_MIGRATABLE = Finding(
    code="coresharing-auto-not-migratable",
    severity=Severity.WARNING,
    feature="hv-no-nonarch-coresharing",
    message=(
        "hv-no-nonarch-coresharing=auto copies the host's SMT state and blocks migration; "
        "QEMU advises an explicit 'on' with SMT off or vCPUs pinned to whole cores"
    ),
    fix=ConfigChange({"hv-no-nonarch-coresharing": "on"}),
)


def tsc_frequency_pinned(config: HypervConfig) -> bool:
    frequency = config.get("tsc-frequency")
    return isinstance(frequency, int) and frequency >= _MIN_PINNED_HZ


@about("hv-passthrough")
def check_passthrough(config: HypervConfig, context: CheckContext) -> list[Finding]:
    return [PASSTHROUGH_NOT_MIGRATABLE] if config.passthrough else []


@about("hv-reenlightenment")
def check_reenlightenment(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if config.enabled("hv-reenlightenment") and not tsc_frequency_pinned(config):
        return [REENLIGHTENMENT_NEEDS_TSC_FREQUENCY]
    return []


@about("invtsc")
def check_invtsc(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if config.enabled("invtsc") and not tsc_frequency_pinned(config):
        return [INVTSC_NOT_MIGRATABLE]
    return []


@about("hv-no-nonarch-coresharing")
def check_coresharing_auto(config: HypervConfig, context: CheckContext) -> list[Finding]:
    return [CORESHARING_AUTO_NOT_MIGRATABLE] if config.get("hv-no-nonarch-coresharing") == "auto" else []
