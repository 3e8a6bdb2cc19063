"""Dependencies exactly as QEMU enforces them (kvm.c kvm_hyperv_expand_features).

QEMU walks the features in bit order; for each requested one it checks
first that the host's KVM supports it, then reports the first missing
dependency, lowest bit first, and stops. After the loop it checks SynIC ->
VP_INDEX (unless SynIC is KVM-only, as on machine types 3.0 and older).
With hv-passthrough it skips the loop (but an explicit request for a
feature whose capability it enables first, hv-evmcs, is still refused when
the host lacks it), and without Hyper-V emulation in KVM
(or under TCG) it checks nothing. hvtune reports every violation in that
same order, so the first error is the one QEMU prints.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from hvtune.catalog import Property, load_catalog
from hvtune.checks.context import CheckContext
from hvtune.config import HypervConfig
from hvtune.findings import ConfigChange, Finding, Severity

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile


def synic_kvm_only(config: HypervConfig) -> bool:
    return config.effective("x-hv-synic-kvm-only") is True


def enable(config: HypervConfig, *names: str) -> ConfigChange:
    """The change that switches on `names` and everything QEMU requires for
    them, leaving what is already on alone."""
    needed = load_catalog().requirements(names, synic_kvm_only=synic_kvm_only(config))
    return ConfigChange({p.name: True for p in needed if not config.enabled(p.name)})


def _missing(config: HypervConfig, feature: Property, dependency: Property) -> Finding:
    return Finding(
        code="missing-dependency",
        severity=Severity.ERROR,
        feature=feature.name,
        message=f"Hyper-V {feature.desc} requires Hyper-V {dependency.desc}",
        fix=enable(config, dependency.name),
        refused_by="qemu",
    )


def _unsupported(feature: Property, host: HostProfile) -> Finding:
    said = f"Hyper-V {feature.desc} is not supported by kernel"
    return Finding(
        code="host-unsupported",
        severity=Severity.ERROR,
        feature=feature.name,
        message=f"{said} ({host.why_unsupported(feature)})",
        fix=ConfigChange({feature.name: None}),
        refused_by="qemu",
        said=said,
    )


@lru_cache(maxsize=4096)
def violations(
    features: int, synic_kvm_only: bool, supported: int = -1
) -> tuple[tuple[Property, Property | None], ...]:
    """(feature, missing dependency) pairs, in the order QEMU checks them,
    for the set of features given as a mask of QEMU bits; a dependency of
    None means the host does not support the feature (`supported` is the
    mask of those it does; -1: all). A pure function of small integers:
    fleets share a few masks, so it is cached."""
    catalog = load_catalog()
    pairs: list[tuple[Property, Property | None]] = []
    for feature in catalog.features:
        if features >> (feature.bit or 0) & 1:
            if not supported >> (feature.bit or 0) & 1:
                pairs.append((feature, None))
            needed = map(catalog.property, feature.requires)
            pairs += [(feature, dep) for dep in needed if not features >> (dep.bit or 0) & 1]
    if not synic_kvm_only:
        for feature in catalog.features:
            if features >> (feature.bit or 0) & 1:
                late = map(catalog.property, feature.requires_after_loop)
                pairs += [(feature, dep) for dep in late if not features >> (dep.bit or 0) & 1]
    return tuple(pairs)


def check_dependencies(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if context.emulator_only:  # QEMU checks them only under KVM
        return []
    host = context.kvm_host
    if host is not None and not host.hyperv_emulation:
        return []  # without KVM_CAP_HYPERV QEMU checks nothing (checks.host says what happens instead)
    if config.passthrough:
        if host is None:
            return []
        return [
            _unsupported(feature, host)
            for feature in load_catalog().features
            if feature.checked_with_passthrough and config.enabled(feature.name) and not host.support.get(feature.name)
        ]
    found = violations(config.feature_mask, synic_kvm_only(config), host.support_mask if host else -1)
    findings = []
    for feature, dependency in found:
        if dependency is not None:
            findings.append(_missing(config, feature, dependency))
        else:
            assert host is not None  # only a host leaves a feature unsupported
            findings.append(_unsupported(feature, host))
    return findings
