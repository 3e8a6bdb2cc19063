"""libvirt's own rules, release by release, with libvirt's messages.

In libvirt's own phases: the ``<cpu>`` (parsed before ``<features>``), the
``mode`` attribute, then the ``<hyperv>`` children in document order exactly
as virDomainFeaturesHyperVDefParse meets them (src/conf/domain_conf.c), then
post-parse checks (domain_postparse.c), then define-time validation
(src/qemu/qemu_validate.c). libvirt stops at the
first problem; hvtune reports all of them, in that order, so the first error
is libvirt's. The dependency validation applies to any config libvirt will
read; the rest to a domain hvtune read from XML.
"""

from __future__ import annotations

from collections import Counter

from hvtune.catalog import Property, either, load_catalog, said_by
from hvtune.checks.context import CheckContext
from hvtune.checks.dependencies import enable
from hvtune.checks.machine import lacks_machine, qemu_release
from hvtune.checks.refusal import libvirt_refusal, libvirt_release
from hvtune.checks.rule import only_for
from hvtune.checks.values import spinlocks_finding, vendor_id_finding
from hvtune.config import HypervConfig
from hvtune.documents.libvirt import UNKNOWN_KEPT, HypervChild, LibvirtDomain, UnknownChild
from hvtune.findings import ConfigChange, Finding, Rename, Severity
from hvtune.formats.libvirt_cpu import beyond_known
from hvtune.forms.libvirt import HypervGrandchildForm, value_attribute
from hvtune.releases import parse_release


def _domain(context: CheckContext) -> LibvirtDomain | None:
    """The domain the config was read from, when libvirt reads it."""
    return context.document_of(LibvirtDomain) if context.target == "libvirt" else None


@only_for("libvirt")
def check_libvirt_release(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A libvirt newer than the newest hvtune knows is judged as that one,
    and the findings say so once."""
    warning = beyond_known(context.libvirt_version)
    if warning is None:
        return []
    return [Finding(code="libvirt-newer-than-known", severity=Severity.WARNING, feature=None, message=warning)]


@only_for("libvirt")
def check_libvirt_cpu(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A <cpu> mode the release does not know yet, then a <cpu> feature
    named twice, which libvirt's CPU parser refuses whatever the policies
    say. The fix keeps one, with the value hvtune read (the last), where
    hvtune can write it."""
    domain = _domain(context)
    if domain is None or domain.cpu is None:
        return []
    catalog = load_catalog()
    if domain.cpu.mode == "maximum" and libvirt_release(context) < parse_release(catalog.libvirt.cpu_mode_maximum):
        message = catalog.libvirt.cpu_mode_refused.format(mode=domain.cpu.mode)
        return [
            libvirt_refusal(
                "libvirt-cpu-mode-unknown",
                None,
                message,
                context,
                note=f"<cpu mode='maximum'> needs libvirt {catalog.libvirt.cpu_mode_maximum}",
            )
        ]
    twice = [name for name, count in Counter(domain.cpu.feature_names).items() if count > 1]
    findings = []
    for name in twice:
        qemu_name = catalog.libvirt.cpu_feature_names.get(name, name)
        value = config.get(qemu_name) if catalog.entry(qemu_name) is not None else None
        findings.append(
            libvirt_refusal(
                "libvirt-duplicate-cpu-feature",
                None,
                f"XML error: CPU feature '{name}' specified more than once",
                context,
                ConfigChange({qemu_name: value}) if value is not None else None,
            )
        )
    return findings


@only_for("libvirt")
def check_libvirt_mode(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """What each release makes of <hyperv mode='passthrough|host-model'>."""
    domain = _domain(context)
    if domain is None:
        return []
    facts = load_catalog().libvirt
    release = libvirt_release(context)
    passthrough_since = load_catalog().property("hv-passthrough").since.libvirt
    if domain.hyperv_mode in ("passthrough", "host-model") and release < parse_release(passthrough_since):
        gets = "only the children listed" if domain.hyperv or domain.unknown else "no Hyper-V enlightenment at all"
        return [
            Finding(
                code="libvirt-mode-unknown",
                severity=Severity.WARNING,
                feature="hv-passthrough" if domain.hyperv_mode == "passthrough" else None,
                message=(
                    f"libvirt {release} does not know <hyperv mode='{domain.hyperv_mode}'> (the attribute came "
                    f"in {passthrough_since}) and ignores it: the guest gets {gets}"
                ),
            )
        ]
    if domain.hyperv_mode == "host-model":
        if release < parse_release(facts.host_model):
            return [
                libvirt_refusal(
                    "libvirt-host-model-unsupported",
                    None,
                    "XML error: Invalid value for attribute 'mode' in element 'hyperv': 'host-model'.",
                    context,
                    note=f"host-model needs libvirt {facts.host_model}",
                )
            ]
        if (domain.hyperv or domain.unknown) and release < parse_release(facts.host_model_children):
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
    under_passthrough = [child for child in domain.hyperv if child.passthrough]
    if under_passthrough or any(child.passthrough for child in domain.unknown):
        ignored = release >= parse_release(facts.passthrough_children_ignored)
        effect = (
            "ignores them"
            if ignored
            else f"passes them to QEMU as well (from {facts.passthrough_children_ignored} it ignores them)"
        )
        by_libvirt = load_catalog().by_libvirt()
        listed = list(dict.fromkeys(prop.name for child in under_passthrough if (prop := by_libvirt.get(child.name))))
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
    return []


def _misspelt(child: UnknownChild, context: CheckContext) -> Finding | None:
    """libvirt refuses an unknown child by its name, whatever it holds; the
    fix renames it (keeping its state, value and children) when one known
    name is surely meant, it reads as that one and the release knows that
    one (None otherwise: a person decides)."""
    if child.meant is None:
        return None
    meant = load_catalog().by_libvirt()[child.meant]
    if libvirt_release(context) < parse_release(meant.since.libvirt):
        return None
    message = f"{_UNSUPPORTED}: {child.name}"
    rename = ConfigChange(renames=(Rename(child.name, child.meant),))
    return libvirt_refusal(
        "libvirt-unknown-element", meant.name, message, context, rename, note=f"did you mean <{child.meant}>?"
    )


def _unknown(children: list[UnknownChild], count: int, context: CheckContext) -> list[Finding]:
    """The unknown children (`count` names, the first of them `children`),
    in document order (libvirt names the first): each one surely misspelt
    is a refusal of its own that renames it; the others are one refusal,
    where the first of them stands, in libvirt's words about it, with what
    it may mean and the next few named in the note, and how many more
    there are (a domain may have thousands)."""
    judged = [(child, _misspelt(child, context)) for child in children]
    rest = [child for child, finding in judged if finding is None]
    others = count - (len(judged) - len(rest))
    together = _the_others(rest, others, context) if others > 0 else None
    findings = []
    for child, finding in judged:
        if finding is not None:
            findings.append(finding)
        elif together is not None and child is rest[0]:
            findings.append(together)
    if together is not None and not rest:
        findings.append(together)
    return findings


def _the_others(rest: list[UnknownChild], others: int, context: CheckContext) -> Finding:
    """One refusal for the `others` unknown children no rename fixes, the
    first few of them `rest` (none: beyond those kept)."""
    notes = []
    if not rest:
        return libvirt_refusal(
            "libvirt-unknown-element", None, _UNSUPPORTED, context, note=f"{others} more unknown children after these"
        )
    first, named = rest[0], rest[1:UNKNOWN_KEPT]
    catalog = load_catalog()
    close = catalog.hyperv_child_suggestions(first.name)
    if close:
        notes.append(f"did you mean {either([f'<{name}>' for name in close])}?")
    if first.meant is not None:  # surely meant, but this release does not know it
        notes.append(f"<{first.meant}> needs libvirt {catalog.by_libvirt()[first.meant].since.libvirt}")
    more = others - 1 - len(named)
    if named:
        listed = ", ".join(f"<{child.name}>" for child in named)
        notes.append(f"unknown too: {listed}" + (f" and {more} more" if more else ""))
    elif more:
        notes.append(f"{more} more unknown")
    message = f"{_UNSUPPORTED}: {first.name}"
    return libvirt_refusal("libvirt-unknown-element", None, message, context, note=" ".join(notes) or None)


_UNSUPPORTED = "unsupported configuration: unsupported HyperV Enlightenment feature"


def _nested(child: HypervChild, prop: Property, context: CheckContext) -> list[Finding]:
    """Children of <stimer> and <tlbflush>, which libvirt reads only when
    their parent is on: unknown ones are refused, known ones a release
    predates are ignored (before 11.0 it did not look at <tlbflush>'s)."""
    release = libvirt_release(context)
    known = {
        key.partition(".")[2]: nested
        for key, nested in load_catalog().by_libvirt().items()
        if key.startswith(child.name + ".")
    }
    if not known or not any(release >= parse_release(nested.since.libvirt) for nested in known.values()):
        return [
            Finding(
                code="libvirt-ignored-child",
                severity=Severity.WARNING,
                feature=known[grandchild.name].name if grandchild.name in known else prop.name,
                message=f"libvirt {release} ignores <{child.name}><{grandchild.name}>: it reads no children there",
            )
            for grandchild in child.children
        ]
    findings = []
    for grandchild in child.children:
        nested_prop = known.get(grandchild.name)
        if nested_prop is None:
            findings.append(
                libvirt_refusal(
                    "libvirt-unsupported-child",
                    prop.name,
                    f"unsupported configuration: unsupported Hyper-V {child.name} feature: {grandchild.name}",
                    context,
                )
            )
        elif release < parse_release(nested_prop.since.libvirt):
            findings.append(
                Finding(
                    code="libvirt-ignored-child",
                    severity=Severity.WARNING,
                    feature=nested_prop.name,
                    message=(
                        f"libvirt {release} ignores <{child.name}><{grandchild.name}>, so QEMU never gets "
                        f"{nested_prop.name}; it needs libvirt {nested_prop.since.libvirt}"
                    ),
                )
            )
    return findings


def _values(child: HypervChild, prop: Property, context: CheckContext) -> list[Finding]:
    """retries and value, which libvirt reads only when state='on'."""
    if prop.name == "hv-spinlocks":
        retries = child.value
        facts = load_catalog().libvirt
        optional_since = parse_release(facts.spinlocks_retries_optional)
        if retries is None and libvirt_release(context) < optional_since:
            advised = prop.range.advised
            return [
                libvirt_refusal(
                    "libvirt-missing-retries",
                    prop.name,
                    said_by(facts.spinlocks_retries_missing, libvirt_release(context)),
                    context,
                    ConfigChange({prop.name: advised}) if advised else None,
                    note=f"optional from {optional_since}",
                )
            ]
        found = spinlocks_finding(retries, context) if isinstance(retries, int) else None
        return [found] if found else []
    if prop.name == "hv-vendor-id":
        value = child.value
        if not isinstance(value, str):
            message = "XML error: missing 'value' attribute for HyperV feature 'vendor_id'"
            return [libvirt_refusal("libvirt-missing-vendor-value", prop.name, message, context)]
        found = vendor_id_finding(value, context)
        return [found] if found else []
    return []


@only_for("libvirt")
def check_libvirt_hyperv(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """The <hyperv> children in document order, as libvirt's parser meets
    them; before nested_pass_until the nested children after them all, and
    before nested_of_off_until those of a parent that is off too."""
    domain = _domain(context)
    if domain is None or domain.hyperv_mode is None:
        return []
    facts = load_catalog().libvirt
    release = libvirt_release(context)
    skipped = release >= parse_release(facts.passthrough_children_ignored)  # those of a passthrough <hyperv>
    # unknown children, reported where the first stands among the known ones (kept in that order)
    unknown = [child for child in domain.unknown if not (skipped and child.passthrough)]
    count = domain.unknown_names[0] + (0 if skipped else domain.unknown_names[1])
    pending = unknown[0] if unknown else None
    by_libvirt = load_catalog().by_libvirt()
    own_pass = release < parse_release(facts.nested_pass_until)  # nested children read after all the others
    of_off = release < parse_release(facts.nested_of_off_until)  # and read whatever their parent's state
    findings: list[Finding] = []
    nested: list[Finding] = []
    for position, child in enumerate(domain.hyperv):
        if pending is not None and pending.position == position:
            findings += _unknown(unknown, count, context)
            pending = None
        if skipped and child.passthrough:
            continue
        prop = by_libvirt[child.name]
        if release < parse_release(prop.since.libvirt):
            findings.append(
                libvirt_refusal(
                    "libvirt-unsupported-element",
                    prop.name,
                    f"unsupported configuration: unsupported HyperV Enlightenment feature: {child.name}",
                    context,
                    ConfigChange({prop.name: None}),
                    note=f"<{child.name}> needs libvirt {prop.since.libvirt}",
                )
            )
            continue
        if child.children and (child.state == "on" or of_off):
            (nested if own_pass else findings).extend(_nested(child, prop, context))
        if child.state == "on" and value_attribute(prop.libvirt):  # retries, value
            findings += _values(child, prop, context)
    tail = _unknown(unknown, count, context) if pending else []
    return findings + tail + nested


@only_for("libvirt")
def check_libvirt_kvm(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """The first <kvm> child the release does not know yet, which its
    parser refuses after the <hyperv> children."""
    domain = _domain(context)
    if domain is None:
        return []
    known = load_catalog().libvirt.kvm_hints
    release = libvirt_release(context)
    for name in (name for hints in domain.kvm for name in hints):
        if name in known and release < parse_release(known[name]):
            return [
                libvirt_refusal(
                    "libvirt-unsupported-kvm-element",
                    None,
                    f"unsupported configuration: unsupported KVM feature: {name}",
                    context,
                    note=f"<kvm><{name}> needs libvirt {known[name]}",
                )
            ]
    return []


@only_for("libvirt")
def check_libvirt_post_parse(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Duplicate panic devices, then the hypervclock timers, in libvirt's
    post-parse order (virDomainDefPostParseCommon)."""
    domain = _domain(context)
    if domain is None:
        return []
    findings = []
    if domain.hyperv_panics > 1:
        message = "XML error: Multiple panic devices with model 'hyperv'"
        findings.append(libvirt_refusal("libvirt-duplicate-panic", "hv-crash", message, context))
    if any(timer.tickpolicy for timer in domain.timers_named("hypervclock")):
        findings.append(
            libvirt_refusal(
                "libvirt-timer-tickpolicy",
                "hv-time",
                "unsupported configuration: timer hypervclock doesn't support setting of timer tickpolicy",
                context,
            )
        )
    return findings


def _in_effect(config: HypervConfig, name: str) -> bool:
    """Whether libvirt's validation sees `name` on: a nested property
    (<tlbflush><direct>) only while its parent is on too (12.8 accepts an
    off <tlbflush> whose <direct> stays on without <vapic>, seen on sid)."""
    form = load_catalog().property(name).libvirt
    if isinstance(form, HypervGrandchildForm) and not config.enabled(load_catalog().by_libvirt()[form.element].name):
        return False
    return config.enabled(name)


@only_for("libvirt")
def check_libvirt_validation(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Define-time validation: the machine type (when the QEMU release is
    known), the architecture, the Hyper-V dependencies (from 11.9; any
    config libvirt reads) and the panic device's address."""
    if context.target != "libvirt":
        return []
    domain = _domain(context)
    release = libvirt_release(context)
    findings = []
    qemu = qemu_release(context)
    if domain is not None and qemu is not None and lacks_machine(domain.machine, qemu):
        emulator = domain.emulator or f"/usr/bin/qemu-system-{domain.arch}"  # Debian's, libvirt's default there
        message = load_catalog().qemu.libvirt_machine_refused.format(emulator=emulator, machine=domain.machine)
        findings.append(libvirt_refusal("libvirt-machine-type", None, message, context, note=f"QEMU {qemu} lacks it"))
    if domain is not None and domain.hyperv_mode is not None and domain.arch not in ("x86_64", "i686"):
        findings.append(
            libvirt_refusal(
                "libvirt-arch",
                None,
                f"unsupported configuration: Hyperv features are not supported for architecture "
                f"'{domain.arch}' or machine type '{domain.machine}'",
                context,
            )
        )
    if not config.passthrough:
        findings += [
            libvirt_refusal(
                "libvirt-dependency",
                rule.feature,
                f"unsupported configuration: {rule.message}",
                context,
                enable(config, rule.requires),
            )
            for rule in load_catalog().libvirt.rules
            if _in_effect(config, rule.feature)
            and not config.enabled(rule.requires)
            and parse_release(rule.since) <= release
            and (not rule.until or release < parse_release(rule.until))
        ]
    if domain is not None and domain.hyperv_panic_has_address:
        findings.append(
            libvirt_refusal(
                "libvirt-panic-address",
                "hv-crash",
                "unsupported configuration: setting the panic device address is not supported for model 'hyperv'",
                context,
            )
        )
    return findings


@only_for("libvirt")
def check_libvirt_tsc(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A kvm domain's fixed TSC frequency, which libvirt compares with the
    host's when preparing to start (catalog: tsc_checked): refused outside
    its tolerance on a KVM that cannot scale the TSC. Without the host's
    facts hvtune says that the answer is the host's."""
    domain = _domain(context)
    facts = load_catalog().libvirt
    if domain is None or context.emulator_only or libvirt_release(context) < parse_release(facts.tsc_checked):
        return []
    fixed = [timer.frequency for timer in domain.timers_named("tsc") if timer.frequency]
    if not fixed:
        return []
    host = context.kvm_host
    # libvirt knows the host's TSC frequency only where the TSC is invariant
    # (seen: libvirt 9.0 in the sandbox, whose CPU has no invtsc, left a
    # fixed frequency to QEMU; on this project's machine, with invtsc, it
    # refused it itself)
    if host is not None and (host.kvm.capability("KVM_CAP_TSC_CONTROL") or not host.invariant_tsc):
        return []
    if host is None or host.kvm.tsc_khz is None:
        return [
            Finding(
                code="libvirt-tsc-host-unknown",
                severity=Severity.INFO,
                feature="tsc-frequency",
                message=(
                    f"libvirt {libvirt_release(context)} refuses TSC frequency {fixed[0]} Hz on a host whose KVM "
                    f"cannot scale the TSC unless the host's TSC runs within {facts.tsc_tolerance_ppm} ppm of it; "
                    "whether it does is this host's fact: give its profile (--host) to know"
                ),
            )
        ]
    hertz = host.kvm.tsc_khz * 1000
    tolerance = hertz * facts.tsc_tolerance_ppm // 1_000_000
    low, high = hertz - tolerance, hertz + tolerance
    outside = next((frequency for frequency in fixed if not low <= frequency <= high), None)
    if outside is None:
        return []
    message = facts.tsc_refused.format(frequency=outside, low=low, high=high, host=hertz)
    return [libvirt_refusal("libvirt-tsc-frequency", "tsc-frequency", message, context)]
