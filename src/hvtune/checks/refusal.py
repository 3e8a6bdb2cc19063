"""Findings for configurations libvirt refuses."""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.releases import Release, parse_release


def libvirt_release(context: CheckContext) -> Release:
    """The libvirt release judged by: the context's, else the newest known;
    one newer than the newest known is judged as that one."""
    newest = parse_release(load_catalog().libvirt.newest)
    return min(parse_release(context.libvirt_version), newest) if context.libvirt_version else newest


def libvirt_refusal(
    code: str,
    feature: str | None,
    message: str,
    context: CheckContext,
    fix: ConfigChange | None = None,
    *,
    note: str | None = None,
) -> Finding:
    """An error libvirt reports with `message` (its own text, as virsh prints
    it, kept as the finding's `said`): it will not define or translate the
    domain. `note` is hvtune's word on it, in parentheses after libvirt's."""
    return Finding(
        code=code,
        severity=Severity.ERROR,
        feature=feature,
        message=f"libvirt {libvirt_release(context)} refuses the domain: {message}" + (f" ({note})" if note else ""),
        fix=fix,
        refused_by="libvirt",
        said=message,
    )
