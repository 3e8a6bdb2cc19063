"""Dependencies exactly as QEMU enforces them (kvm.c kvm_hyperv_expand_features).

QEMU walks the features in bit order; for each requested one it reports the
first missing dependency, lowest bit first, and stops. After the loop it
checks SynIC -> VP_INDEX (unless SynIC is KVM-only, as on machine types 3.0
and older). With hv-passthrough it skips the loop. hvtune reports every
violation in that same order, so the first error is the one QEMU prints.
"""

from __future__ import annotations

from functools import lru_cache

from hvtune.catalog import Property, load_catalog
from hvtune.checks.context import CheckContext
from hvtune.config import HypervConfig
from hvtune.findings import ConfigChange, Finding, Severity


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


@lru_cache(maxsize=4096)
def violations(features: int, synic_kvm_only: bool) -> tuple[tuple[Property, Property], ...]:
    """(feature, missing dependency) pairs, in the order QEMU checks them,
    for the set of features given as a mask of QEMU bits. A pure function of
    a small integer: fleets share a few masks, so it is cached."""
    catalog = load_catalog()
    pairs = []
    for feature in catalog.features:
        if features >> (feature.bit or 0) & 1:
            needed = map(catalog.property, feature.requires)
            pairs += [(feature, dep) for dep in needed if not features >> (dep.bit or 0) & 1]
    if not synic_kvm_only:
        for feature in catalog.features:
            if features >> (feature.bit or 0) & 1:
                late = map(catalog.property, feature.requires_after_loop)
                pairs += [(feature, dep) for dep in late if not features >> (dep.bit or 0) & 1]
    return tuple(pairs)


def check_dependencies(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if config.passthrough or context.emulator_only:  # QEMU checks them only under KVM
        return []
    found = violations(config.feature_mask, synic_kvm_only(config))
    return [_missing(config, feature, dependency) for feature, dependency in found]
