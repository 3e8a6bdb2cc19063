"""What a Windows guest loses: every enlightenment its plan (same host,
same goals) has and its configuration lacks, as a warning of its own with
its cost. Judged after the other checks, whose fixes already cover some of
it, and only for a VM that starts (the first thing to fix is that)."""

from __future__ import annotations

from collections.abc import Sequence

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.config import HypervConfig
from hvtune.findings import Finding, Severity
from hvtune.plan import Goals, make_plan, missing_benefits


def windows_guest(config: HypervConfig, guest_os: str | None) -> tuple[str | None, bool]:
    """The Windows guest a configuration is for, and whether that was
    inferred: the named guest when it is Windows; with no guest named, the
    catalog's inferred Windows when the configuration turns Hyper-V on (only
    Windows uses it while it sees KVM); else None."""
    catalog = load_catalog()
    if guest_os is not None:
        guest = catalog.guest(guest_os)
        return (guest.name if guest is not None and guest.family == "windows" else None), False
    if config.hyperv_enabled:
        return catalog.inferred_windows, True
    return None, False


def check_performance(
    config: HypervConfig, context: CheckContext, earlier: Sequence[Finding], goals: Goals | None = None
) -> list[Finding]:
    """The missing-benefit warnings for `config` on the context's host (none
    without a host, for a guest that is not Windows, or when an earlier
    finding stops the VM; a host without usable KVM runs no enlightenment),
    after a note when the guest was inferred."""
    host = context.kvm_host
    guest, inferred = windows_guest(config, context.guest_os)
    if host is None or guest is None or any(f.severity is Severity.ERROR for f in earlier):
        return []
    covered = {name for finding in earlier if finding.fix for name in finding.fix.values}
    plan = make_plan(guest, host, goals)
    missing = missing_benefits(config, plan, covered=covered)
    if not missing or not inferred:
        return missing
    note = Finding(
        code="guest-os-inferred",
        severity=Severity.INFO,
        feature=None,
        message=(
            f"judged as {plan.guest.title}: it sets Hyper-V enlightenments, which only Windows uses while it "
            "sees KVM (--os names the guest)"
        ),
    )
    return [*missing, note]
