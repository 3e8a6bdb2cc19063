"""Dependencies exactly as QEMU enforces them (kvm.c kvm_hyperv_expand_features).

QEMU walks the features in bit order; for each requested one it reports the
first missing dependency, lowest bit first, and stops. After the loop it
checks SynIC -> VP_INDEX (unless SynIC is KVM-only, as on machine types 3.0
and older). With hv-passthrough it skips the loop. hvtune reports every
violation in that same order, so the first error is the one QEMU prints.
"""

from __future__ import annotations

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
    )


def check_dependencies(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if config.passthrough:
        return []
    catalog = load_catalog()
    findings = []
    for feature in config.enabled_features:
        for name in feature.requires:
            if not config.enabled(name):
                findings.append(_missing(config, feature, catalog.property(name)))
    if not synic_kvm_only(config):
        for feature in config.enabled_features:
            for name in feature.requires_after_loop:
                if not config.enabled(name):
                    findings.append(_missing(config, feature, catalog.property(name)))
    return findings
