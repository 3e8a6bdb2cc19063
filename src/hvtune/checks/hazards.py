"""Risks that need no knowledge of the host: settings QEMU accepts that do
nothing, do harm, or are meant only for development."""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.checks.dependencies import enable
from hvtune.checks.rule import about, needs, only_for
from hvtune.config import HypervConfig
from hvtune.documents.libvirt import LibvirtDomain
from hvtune.documents.qemu import QemuCommand
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.releases import parse_release

RESET_DISCOURAGED = Finding(
    code="reset-discouraged",
    severity=Severity.INFO,
    feature="hv-reset",
    message=(
        "hv-reset is discouraged: modern Hyper-V does not expose the reset MSR and QEMU's "
        "documentation recommends leaving it out; Windows resets fine without it"
    ),
    fix=ConfigChange({"hv-reset": None}),
)

EVMCS_INTEL_ONLY = Finding(
    code="evmcs-intel-only",
    severity=Severity.WARNING,
    feature="hv-evmcs",
    message=(
        "hv-evmcs works only on Intel hosts with nested virtualization: the same guest does "
        "not start on an AMD host, and KVM disables posted interrupts for it. Keep it only "
        "for guests that run Hyper-V, WSL2 or VBS on Intel hosts"
    ),
)

EVMCS_WITHOUT_VMX = Finding(
    code="evmcs-without-vmx",
    severity=Severity.INFO,
    feature="hv-evmcs",
    message=("hv-evmcs is on but vmx is off: the guest cannot run a hypervisor, so it never uses the enlightened VMCS"),
    fix=ConfigChange({"vmx": True}),
)

CRASH_STOPS_DUMP = Finding(
    code="crash-stops-dump",
    severity=Severity.INFO,
    feature="hv-crash",
    message=(
        "hv-crash: with QEMU's default -action panic=shutdown a Windows bugcheck ends the "
        "guest at once, before Windows writes its crash dump; keep it only when something "
        "reads the GUEST_PANICKED event"
    ),
)

CORESHARING_NEEDS_PINNING = Finding(
    code="coresharing-needs-pinning",
    severity=Severity.INFO,
    feature="hv-no-nonarch-coresharing",
    message=(
        "hv-no-nonarch-coresharing=on promises Windows that no other VM shares its "
        "physical cores; keep it only with SMT off or vCPUs pinned to whole cores, or "
        "Windows drops side-channel protections it needs"
    ),
)

# Development features other than hv-passthrough, which migration.py covers.
DEVELOPMENT = tuple(
    p.name for p in load_catalog().properties if p.advice == "development" and p.name != "hv-passthrough"
)


def _vpindex_under_tcg(context: CheckContext) -> Finding | None:
    """QEMU before the fix refuses hv-vpindex under TCG; later ones ignore it."""
    fixed = load_catalog().qemu.tcg_vpindex_fixed
    qemu = context.host.qemu_version if context.host else None
    if qemu is not None and parse_release(qemu) >= parse_release(fixed):
        return None
    refused = qemu is not None
    return Finding(
        code="vpindex-under-tcg",
        severity=Severity.ERROR if refused else Severity.WARNING,
        feature="hv-vpindex",
        message=(
            f"hv-vpindex under TCG: QEMU before {fixed} (Debian 12's 7.2 among them) refuses to start the guest "
            f"(kernel doesn't allow setting HyperV VP_INDEX){f'; this host has QEMU {qemu}' if refused else ''}. "
            "Use type='kvm', or remove <vpindex> (and what needs it) while the guest runs emulated"
        ),
        refused_by="qemu" if refused else None,
    )


@about("hv-passthrough")
def check_passthrough_overrides(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if not config.passthrough:
        return []
    return [
        Finding(
            code="passthrough-overrides",
            severity=Severity.WARNING,
            feature=feature.name,
            message=(
                f"{feature.name}=off has no effect: hv-passthrough enables every enlightenment the "
                "host supports and overrides other hv-* settings"
            ),
            fix=ConfigChange({feature.name: None}),
        )
        for feature in load_catalog().features
        if config.get(feature.name) is False
    ]


@about("hv-vendor-id")
def check_vendor_id_alone(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if config.get("hv-vendor-id") is None or config.hyperv_enabled:
        return []
    return [
        Finding(
            code="vendor-id-alone",
            severity=Severity.INFO,
            feature="hv-vendor-id",
            message=(
                "hv-vendor-id alone enables nothing: QEMU builds the Hyper-V CPUID leaves (and so "
                "shows the vendor id) only when an enlightenment is on; add at least hv-relaxed"
            ),
            fix=enable(config, "hv-relaxed"),
        )
    ]


@about("hv-reset")
def check_reset(config: HypervConfig, context: CheckContext) -> list[Finding]:
    return [RESET_DISCOURAGED] if config.enabled("hv-reset") else []


@about("hv-evmcs")
def check_evmcs(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if not config.enabled("hv-evmcs"):
        return []
    host = context.kvm_host
    # on a host without eVMCS the host checks say so, as QEMU will
    general = [EVMCS_INTEL_ONLY] if host is None or host.support.get("hv-evmcs") else []
    return general + ([EVMCS_WITHOUT_VMX] if config.get("vmx") is False else [])


@about(*DEVELOPMENT)
def check_development_features(config: HypervConfig, context: CheckContext) -> list[Finding]:
    return [
        Finding(
            code="development-feature",
            severity=Severity.WARNING,
            feature=prop.name,
            message=(
                f"{prop.name} is a debugging/development feature; QEMU's documentation says it "
                "should not be enabled in production"
            ),
            fix=ConfigChange({prop.name: None}),
        )
        for prop in map(load_catalog().property, DEVELOPMENT)
        if config.enabled(prop.name)
    ]


@about("hv-synic")
def check_synic_without_stimer(config: HypervConfig, context: CheckContext) -> list[Finding]:
    # under TCG nothing Hyper-V reaches the guest (hyperv-without-kvm says so),
    # and adding hv-stimer's dependencies would add hv-vpindex, which QEMU
    # before 8.2 refuses there
    if context.emulator_only or config.passthrough or not config.enabled("hv-synic") or config.enabled("hv-stimer"):
        return []
    return [
        Finding(
            code="synic-without-stimer",
            severity=Severity.WARNING,
            feature="hv-synic",
            message=(
                "hv-synic without hv-stimer gives no timer benefit: Windows keeps polling the "
                "emulated HPET/RTC, and idle guests load the host (30-40% host CPU reported for an "
                "idle Server 2016/2019, 1-3% with synthetic timers)"
            ),
            fix=enable(config, "hv-stimer"),
        )
    ]


@about("hv-crash")
def check_crash(config: HypervConfig, context: CheckContext) -> list[Finding]:
    return [CRASH_STOPS_DUMP] if config.enabled("hv-crash") else []


@needs("ambiguous")
def check_ambiguous(config: HypervConfig, context: CheckContext) -> list[Finding]:
    command = context.document_of(QemuCommand)
    return [
        Finding(
            code="ambiguous-cpu-string",
            severity=Severity.WARNING,
            feature=name,
            message=(
                f"{name} is both switched with +{name}/-{name} and set with {name}=...: QEMU warns "
                "'Ambiguous CPU model string' and will not keep this compatible; the +/- form wins "
                "today. `hvtune convert` prints an unambiguous string"
            ),
        )
        for name in (command.ambiguous if command else ())
    ]


@only_for("libvirt")
def check_emulator_only(config: HypervConfig, context: CheckContext) -> list[Finding]:
    domain = context.document_of(LibvirtDomain)
    if domain is None or not context.emulator_only or not config.hyperv_enabled:
        return []
    findings = [
        Finding(
            code="hyperv-without-kvm",
            severity=Severity.WARNING,
            feature=None,
            message=(
                f"<domain type='{domain.domain_type}'> runs under QEMU's emulator (TCG), which "
                "implements no Hyper-V enlightenment: the guest gets none of them, and QEMU does not check "
                "their dependencies. They take effect with type='kvm', where hvtune checks them as QEMU will"
            ),
        )
    ]
    vpindex = _vpindex_under_tcg(context) if config.enabled("hv-vpindex") else None
    return findings + ([vpindex] if vpindex else [])


def _uses(config: HypervConfig) -> str:
    """What Linux does with the enlightenments `config` has on, as a list."""
    linux = load_catalog().linux
    uses = linux.uses_of({prop.name for prop in load_catalog().features if config.enabled(prop.name)})
    return "; ".join(f"{use.property}: {use.use}" for use in uses) or "none of these"


@needs("linux")
def check_linux_kvm_signature(config: HypervConfig, context: CheckContext) -> list[Finding]:
    if not context.linux_guest or not config.hyperv_enabled:
        return []
    linux = load_catalog().linux
    if not config.kvm_hidden:
        return [
            Finding(
                code="linux-ignores-hyperv",
                severity=Severity.INFO,
                feature="kvm",
                message=(
                    "a Linux guest ignores these Hyper-V enlightenments while it can see KVM, and keeps "
                    f"{linux.loses}. {linux.detection} ({linux.detection_source}). With kvm=off and "
                    f"hv-vpindex it would use Hyper-V's instead ({_uses(config)}) and lose KVM's"
                ),
                fix=ConfigChange({"kvm": False, **enable(config, "hv-vpindex").values}),
            )
        ]
    if not config.enabled("hv-vpindex"):
        message = (
            "this Linux guest sees no hypervisor at all: kvm=off hides KVM, and Linux takes Hyper-V only with "
            f"hv-vpindex. {linux.detection} ({linux.detection_source})"
        )
    else:
        message = (
            f"this Linux guest runs on Hyper-V's interfaces (kvm=off hides KVM): {_uses(config)}. It loses "
            f"{linux.loses} ({linux.loses_source})"
        )
    return [Finding(code="linux-uses-hyperv", severity=Severity.INFO, feature="kvm", message=message)]


@needs("linux")
def check_linux_detect_virt(config: HypervConfig, context: CheckContext) -> list[Finding]:
    facts = load_catalog().linux.detect_virt
    hyperv_signed = config.hyperv_enabled and not config.passthrough
    if not context.linux_guest or not hyperv_signed or config.effective("hv-vendor-id") != facts.signature:
        return []
    return [
        Finding(
            code="linux-detect-virt-microsoft",
            severity=Severity.WARNING,
            feature="hv-vendor-id",
            message=(
                f"{facts.program} before systemd {facts.fixed_in} answers '{facts.answer}' in this Linux guest, "
                f"which reads '{facts.signature}' at 0x40000000: {facts.effect}. Fix: {facts.fix} "
                f"({', '.join(facts.sources)})"
            ),
        )
    ]


@about("hv-no-nonarch-coresharing")
def check_coresharing_on(config: HypervConfig, context: CheckContext) -> list[Finding]:
    return [CORESHARING_NEEDS_PINNING] if config.get("hv-no-nonarch-coresharing") == "on" else []
