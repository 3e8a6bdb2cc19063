"""libvirt's own rules, release by release, with libvirt's messages.

The parser's (src/conf/domain_conf.c, domain_postparse.c) apply to a domain
hvtune read from XML; the define-time dependency validation
(src/qemu/qemu_validate.c, from 11.9) applies to any config that libvirt
will read. libvirt stops at the first problem; hvtune reports all of them, in
libvirt's order.
"""

from __future__ import annotations

from packaging.version import Version

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.checks.dependencies import enable
from hvtune.config import HypervConfig
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.formats.libvirt import LibvirtDomain


def _release(context: CheckContext) -> Version:
    return Version(context.libvirt_version or load_catalog().libvirt.newest)


def libvirt_refusal(
    code: str, feature: str | None, message: str, context: CheckContext, fix: ConfigChange | None = None
) -> Finding:
    """An error libvirt reports with `message` (its own text, as virsh prints
    it): it will not define or translate the domain."""
    return Finding(
        code=code,
        severity=Severity.ERROR,
        feature=feature,
        message=f"libvirt {_release(context)} refuses the domain: {message}",
        fix=fix,
        refused_by="libvirt",
    )


def _domain(context: CheckContext) -> LibvirtDomain | None:
    return context.domain if context.target == "libvirt" else None


def check_libvirt_elements(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """<hyperv> children (and their children) the release does not know."""
    domain = _domain(context)
    if domain is None or domain.hyperv_mode is None:
        return []
    release = _release(context)
    by_libvirt = load_catalog().by_libvirt()
    passthrough = domain.hyperv_mode == "passthrough"
    ignored = passthrough and release >= Version(load_catalog().libvirt.passthrough_children_ignored)
    findings = []
    for name in dict.fromkeys(child.name for child in domain.hyperv):
        prop = by_libvirt.get(name)
        if prop is None:
            findings.append(
                Finding(
                    code="libvirt-unknown-element",
                    severity=Severity.WARNING,
                    feature=None,
                    message=(
                        f"<hyperv><{name}> is not an element any libvirt up to {load_catalog().libvirt.newest} knows: "
                        f"such a libvirt refuses the domain (unsupported HyperV Enlightenment feature: {name}); "
                        "hvtune keeps it and leaves it alone"
                    ),
                )
            )
        elif not ignored and release < Version(prop.since.libvirt):
            findings.append(
                libvirt_refusal(
                    "libvirt-unsupported-element",
                    prop.name,
                    f"unsupported configuration: unsupported HyperV Enlightenment feature: {name} "
                    f"(<{name}> needs libvirt {prop.since.libvirt})",
                    context,
                    ConfigChange({prop.name: None}),
                )
            )
    if not ignored:
        findings += _nested_children(domain, release)
    return findings


def _nested_children(domain: LibvirtDomain, release: Version) -> list[Finding]:
    """Children of <stimer> and <tlbflush>: unknown ones are refused; known
    ones a release predates are ignored (before 11.0 libvirt did not even
    look at <tlbflush>'s children)."""
    by_libvirt = load_catalog().by_libvirt()
    findings = []
    for child in domain.hyperv:
        if child.state != "on" or not child.children:
            continue
        known = {key.partition(".")[2]: prop for key, prop in by_libvirt.items() if key.startswith(child.name + ".")}
        reads_children = any(release >= Version(prop.since.libvirt) for prop in known.values())
        for grandchild in child.children:
            prop = known.get(grandchild.name)
            if prop is None and reads_children:
                findings.append(
                    Finding(
                        code="libvirt-unsupported-child",
                        severity=Severity.ERROR,
                        feature=by_libvirt[child.name].name,
                        message=(
                            f"libvirt {release} refuses the domain: unsupported configuration: "
                            f"unsupported Hyper-V {child.name} feature: {grandchild.name}"
                        ),
                        refused_by="libvirt",
                    )
                )
            elif prop is not None and release < Version(prop.since.libvirt):
                findings.append(
                    Finding(
                        code="libvirt-ignored-child",
                        severity=Severity.WARNING,
                        feature=prop.name,
                        message=(
                            f"libvirt {release} ignores <{child.name}><{grandchild.name}>, so QEMU never gets "
                            f"{prop.name}; it needs libvirt {prop.since.libvirt}"
                        ),
                    )
                )
    return findings


def check_libvirt_attributes(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Attributes libvirt requires: retries (before 11.9) and vendor_id's value."""
    domain = _domain(context)
    if domain is None or domain.hyperv_mode in (None, "passthrough"):
        return []
    findings = []
    spinlocks = domain.child("spinlocks")
    optional_since = Version(load_catalog().libvirt.spinlocks_retries_optional)
    missing_retries = spinlocks and spinlocks.state == "on" and "retries" not in spinlocks.attributes
    if missing_retries and _release(context) < optional_since:
        findings.append(
            libvirt_refusal(
                "libvirt-missing-retries",
                "hv-spinlocks",
                f"XML error: Missing required attribute 'retries' in element 'spinlocks' "
                f"(optional from {optional_since})",
                context,
                ConfigChange({"hv-spinlocks": load_catalog().property("hv-spinlocks").range.advised}),
            )
        )
    vendor = domain.child("vendor_id")
    if vendor and vendor.state == "on" and "value" not in vendor.attributes:
        findings.append(
            libvirt_refusal(
                "libvirt-missing-vendor-value",
                "hv-vendor-id",
                "XML error: missing 'value' attribute for HyperV feature 'vendor_id'",
                context,
            )
        )
    return findings


def check_libvirt_mode(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """What each release makes of <hyperv mode='passthrough|host-model'>."""
    domain = _domain(context)
    if domain is None:
        return []
    facts = load_catalog().libvirt
    release = _release(context)
    if domain.hyperv_mode == "passthrough" and domain.hyperv:
        ignored = release >= Version(facts.passthrough_children_ignored)
        effect = (
            "ignores them"
            if ignored
            else f"passes them to QEMU as well (from {facts.passthrough_children_ignored} it ignores them)"
        )
        listed = [prop.name for child in domain.hyperv if (prop := load_catalog().by_libvirt().get(child.name))]
        return [
            Finding(
                code="libvirt-passthrough-children",
                severity=Severity.WARNING,
                feature="hv-passthrough",
                message=(
                    f"<hyperv mode='passthrough'> takes no children: libvirt's schema refuses them and libvirt "
                    f"{release} {effect}"
                ),
                fix=ConfigChange(dict.fromkeys(listed)) if listed else None,
            )
        ]
    if domain.hyperv_mode == "host-model":
        if release < Version(facts.host_model):
            return [
                libvirt_refusal(
                    "libvirt-host-model-unsupported",
                    None,
                    f"XML error: Invalid value for attribute 'mode' in element 'hyperv': 'host-model'. "
                    f"(host-model needs libvirt {facts.host_model})",
                    context,
                )
            ]
        if domain.hyperv and release < Version(facts.host_model_children):
            return [
                Finding(
                    code="libvirt-host-model-children-ignored",
                    severity=Severity.WARNING,
                    feature=None,
                    message=(
                        f"libvirt {release} does not honour features set under <hyperv mode='host-model'>: it "
                        f"expands everything from the host; choices there count from {facts.host_model_children}"
                    ),
                )
            ]
    return []


def check_libvirt_dependencies(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """The dependencies libvirt validates when a domain is defined."""
    if context.target != "libvirt" or config.passthrough:
        return []
    release = _release(context)
    return [
        libvirt_refusal(
            "libvirt-dependency",
            rule.feature,
            f"unsupported configuration: {rule.message}",
            context,
            enable(config, rule.requires),
        )
        for rule in load_catalog().libvirt.rules
        if Version(rule.since) <= release
        and (not rule.until or release < Version(rule.until))
        and config.enabled(rule.feature)
        and not config.enabled(rule.requires)
    ]


def check_libvirt_devices(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Panic devices, the hypervclock timer and the architecture."""
    domain = _domain(context)
    if domain is None:
        return []
    findings = []
    if domain.hyperv_panics > 1:
        findings.append(
            libvirt_refusal(
                "libvirt-duplicate-panic", "hv-crash", "XML error: Multiple panic devices with model 'hyperv'", context
            )
        )
    if domain.hyperv_panic_has_address:
        findings.append(
            libvirt_refusal(
                "libvirt-panic-address",
                "hv-crash",
                "unsupported configuration: setting the panic device address is not supported for model 'hyperv'",
                context,
            )
        )
    hypervclock = domain.timer("hypervclock")
    if hypervclock and hypervclock.tickpolicy:
        findings.append(
            libvirt_refusal(
                "libvirt-timer-tickpolicy",
                "hv-time",
                "unsupported configuration: timer hypervclock doesn't support setting of timer tickpolicy",
                context,
            )
        )
    if domain.hyperv_mode is not None and domain.arch not in ("x86_64", "i686"):
        findings.append(
            libvirt_refusal(
                "libvirt-arch",
                None,
                f"unsupported configuration: Hyperv features are not supported for architecture "
                f"'{domain.arch}' or machine type '{domain.machine}'",
                context,
            )
        )
    return findings
