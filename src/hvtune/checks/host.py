"""What a guest's enlightenments meet on the host it will run on
(context.host): KVM without Hyper-V emulation, a VP_INDEX KVM cannot set, a
Hyper-V CPUID KVM will not report, the host clocksource, APICv/AVIC, SMT, and
a QEMU too old for a property. Features the host's KVM lacks are reported by
checks.dependencies, in QEMU's order among the dependency errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hvtune.catalog import Property, load_catalog
from hvtune.checks.context import CheckContext
from hvtune.checks.refusal import libvirt_refusal
from hvtune.checks.rule import about, needs, only_for
from hvtune.config import DEFAULT_MODEL, HypervConfig
from hvtune.documents.qemu import QemuCommand
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.forms.qemu import cannot_apply, not_found
from hvtune.releases import parse_release
from hvtune.valuetypes import display

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile


@needs("host")
def check_host_kvm(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A host without usable KVM runs no KVM guest at all."""
    host = context.host
    if host is None or context.emulator_only or host.kvm.device == "present" or not config.hyperv_enabled:
        return []
    return [
        Finding(
            code="host-no-kvm",
            severity=Severity.WARNING,
            feature=None,
            message=(
                f"{host.name} has no usable KVM ({host.kvm.problem}): the guest cannot run there under KVM, "
                "and its enlightenments were judged without the host"
            ),
            host=f"no usable KVM ({host.kvm.problem}): no guest runs there under KVM",
        )
    ]


def _without_hyperv(host: HostProfile) -> str:
    """What a KVM without Hyper-V emulation does to every guest on it."""
    aborting = ", ".join(entry.property for entry in load_catalog().qemu.msr_without_hyperv)
    return (
        f"{host.status}. QEMU refuses hv-vpindex there and aborts at start on the MSRs of "
        f"{aborting}, and drops every other enlightenment without a word: no guest on it is enlightened. Run "
        "Windows guests on a host whose KVM emulates Hyper-V (kernels built with CONFIG_KVM_HYPERV)"
    )


@about("hv-vpindex")
@needs("host")
def check_host_vp_index(config: HypervConfig, context: CheckContext) -> list[Finding]:
    host = context.kvm_host
    if host is None or host.vp_index_settable or not config.enabled("hv-vpindex"):
        return []
    why = "has no Hyper-V emulation at all" if not host.hyperv_emulation else "lacks KVM_CAP_HYPERV_VP_INDEX"
    return [
        Finding(
            code="host-vpindex",
            severity=Severity.ERROR,
            feature="hv-vpindex",
            message=f"kernel doesn't allow setting HyperV VP_INDEX (QEMU refuses to start: this host's KVM {why})",
            refused_by="qemu",
            host=_without_hyperv(host) if not host.hyperv_emulation else f"its KVM {why}",
        )
    ]


@needs("host")
def check_host_hv_cpuid(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """KVM offered KVM_GET_SUPPORTED_HV_CPUID but it failed: QEMU exits."""
    host = context.kvm_host
    kvm = host.kvm if host else None
    if kvm is None or kvm.hv_cpuid is not None or kvm.hv_cpuid_source is None or not config.hyperv_enabled:
        return []
    return [
        Finding(
            code="host-hv-cpuid-failed",
            severity=Severity.ERROR,
            feature=None,
            message=f"QEMU exits at start because {kvm.hv_cpuid_problem}",
            refused_by="qemu",
            host=f"QEMU exits at start for every guest with Hyper-V enlightenments: {kvm.hv_cpuid_problem}",
        )
    ]


@needs("host")
def check_host_without_hyperv(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """KVM_CAP_HYPERV is 0: QEMU silently drops every enlightenment, but still
    writes a few features' MSRs, which KVM rejects."""
    host = context.kvm_host
    if host is None or host.hyperv_emulation or not config.hyperv_enabled:
        return []
    aborting = [entry for entry in load_catalog().qemu.msr_without_hyperv if config.enabled(entry.property)]
    said = _without_hyperv(host)
    findings = [
        Finding(
            code="host-msr-abort",
            severity=Severity.ERROR,
            feature=entry.property,
            message=(
                f"{entry.property} on a KVM without Hyper-V emulation: QEMU still writes its MSR and aborts "
                f"at start (failed to set MSR 0x{entry.msr:x})"
            ),
            refused_by="qemu",
            host=said,
        )
        for entry in aborting
    ]
    failing = {entry.property for entry in aborting} | {"hv-vpindex"}  # hv-vpindex: check_host_vp_index
    ignored = [
        name
        for name in config.values
        if isinstance(prop := load_catalog().entry(name), Property) and prop.activates_hyperv and name not in failing
    ]
    findings.append(
        Finding(
            code="host-no-hyperv",
            severity=Severity.WARNING,
            feature=None,
            message=(
                f"{host.name}: {host.status}. QEMU drops {', '.join(ignored) or 'the enlightenments'} without a "
                "word and the guest runs unenlightened; run it on a host whose KVM emulates Hyper-V (kernels "
                "built with CONFIG_KVM_HYPERV)"
            ),
            host=said,
        )
    )
    return findings


@needs("host")
def check_host_clocksource(config: HypervConfig, context: CheckContext) -> list[Finding]:
    host = context.kvm_host
    if host is None or not host.hyperv_emulation or host.stable_clocksource is not False:
        return []
    needing = [p.name for p in load_catalog().features if p.host.stable_tsc and config.enabled(p.name)]
    if not needing:
        return []
    return [
        Finding(
            code="host-unstable-clock",
            severity=Severity.WARNING,
            feature=needing[0],
            message=(
                f"{', '.join(needing)} on a host whose clocksource is {host.system.clocksource}, not TSC-based: "
                "KVM cannot keep a stable kvmclock, so the reference TSC page stays invalid and the guest "
                "reads the time through a trapping MSR (clock_gettime measured at 17600 cycles instead of "
                "430). Fix the host's TSC, or expect slow timekeeping"
            ),
            host=(
                f"the clocksource is {host.system.clocksource}, not TSC-based: the reference TSC page "
                "stays invalid for every guest, and clock reads trap"
            ),
        )
    ]


@needs("host")
def check_host_apicv(config: HypervConfig, context: CheckContext) -> list[Finding]:
    host = context.kvm_host
    if host is None or not host.hyperv_emulation:
        return []
    if host.apicv and config.enabled("hv-synic") and not config.enabled("hv-avic") and host.support.get("hv-avic"):
        return [
            Finding(
                code="synic-inhibits-apicv",
                severity=Severity.WARNING,
                feature="hv-avic",
                message=(
                    "hv-synic without hv-avic on a host with APICv/AVIC on: once Windows uses SynIC's "
                    "AutoEOI, KVM turns APICv/AVIC off for the whole VM; hv-avic tells Windows to avoid "
                    "AutoEOI and keeps hardware interrupt virtualization"
                ),
                fix=ConfigChange({"hv-avic": True}),
            )
        ]
    if host.apicv is False and config.enabled("hv-avic"):
        return [
            Finding(
                code="avic-without-apicv",
                severity=Severity.WARNING,
                feature="hv-avic",
                message=(
                    "hv-avic on a host without APICv/AVIC enabled in KVM: it steers Windows away from "
                    "AutoEOI, which only pays off with APICv/AVIC, and QEMU's documentation warns it may "
                    "hurt without them"
                ),
                fix=ConfigChange({"hv-avic": None}),
            )
        ]
    return []


@about("hv-no-nonarch-coresharing")
@needs("host")
def check_host_smt(config: HypervConfig, context: CheckContext) -> list[Finding]:
    host = context.kvm_host
    if host is None or config.get("hv-no-nonarch-coresharing") != "on" or not host.smt_active:
        return []
    return [
        Finding(
            code="coresharing-with-smt",
            severity=Severity.WARNING,
            feature="hv-no-nonarch-coresharing",
            message=(
                "hv-no-nonarch-coresharing=on on a host with SMT on: Windows is told no other VM shares "
                "its cores and drops side-channel protections, which holds only if every vCPU is pinned "
                "to whole cores"
            ),
        )
    ]


@needs("host")
def check_host_qemu(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Properties the host's QEMU does not know (too old, or already removed),
    in the order it applies them."""
    host = context.host
    if host is None or host.qemu_version is None:
        return []
    release = parse_release(host.qemu_version)
    command = context.document_of(QemuCommand)
    typed = {name: index for index, name in enumerate(command.applied if command else ())}
    findings = []
    for name in sorted(config.values, key=lambda name: typed.get(name, len(typed))):  # QEMU's order
        prop = load_catalog().entry(name)
        if not isinstance(prop, Property) or not prop.since.qemu:
            continue
        if release < parse_release(prop.since.qemu):
            code, why = "qemu-too-old", f"it appeared in QEMU {prop.since.qemu}"
        elif prop.since.removed and release >= parse_release(prop.since.removed):
            code, why = "qemu-removed", f"it was removed in QEMU {prop.since.removed}"
        else:
            continue
        model = config.model or DEFAULT_MODEL
        reason = not_found(model, name)
        findings.append(
            Finding(
                code=code,
                severity=Severity.ERROR,
                feature=name,
                message=f"QEMU {host.qemu_version} on {host.name} does not know {name} ({why}): {reason}",
                fix=ConfigChange({name: None}),
                refused_by="qemu",
                said=cannot_apply(model, name, display(config.values[name]), reason),
            )
        )
    return findings


@about("invtsc")
@only_for("libvirt")
@needs("host")
def check_host_invtsc(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """libvirt reads back the CPU QEMU started with and stops the domain when
    it requires invtsc and the vCPU lacks it (qemu_process.c,
    qemuProcessVerifyCPUFeatures); KVM offers invtsc only on a host whose
    TSC is invariant (constant_tsc and nonstop_tsc)."""
    host = context.kvm_host
    if host is None or host.invariant_tsc or not config.enabled("invtsc"):
        return []
    return [
        libvirt_refusal(
            "host-no-invtsc",
            "invtsc",
            "unsupported configuration: host doesn't support invariant TSC",
            context,
            ConfigChange({"invtsc": None}),
            note=f"{host.name}'s TSC is not invariant: it lacks constant_tsc or nonstop_tsc",
        )
    ]


@about("tsc-frequency")
@needs("host")
def check_host_tsc_scaling(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A fixed TSC frequency on a KVM that cannot scale the TSC
    (KVM_CAP_TSC_CONTROL 0): QEMU's vCPU set-up fails unless the host's
    TSC runs at exactly that many kHz (target/i386/kvm/kvm.c,
    kvm_arch_set_tsc_khz; seen in the sandbox, whose TCG CPU has no TSC
    scaling). The host's frequency is KVM_GET_TSC_KHZ, when recorded."""
    host = context.kvm_host
    hertz = config.get("tsc-frequency")
    if host is None or not isinstance(hertz, int) or hertz <= 0 or host.kvm.capability("KVM_CAP_TSC_CONTROL"):
        return []
    wanted, running = hertz // 1000, host.kvm.tsc_khz
    if running is not None and host.runs_tsc_at(hertz):
        return []
    cannot = f"{host.name}'s KVM cannot scale the TSC (no KVM_CAP_TSC_CONTROL)"
    if running is None:
        return [
            Finding(
                code="host-tsc-scaling",
                severity=Severity.WARNING,
                feature="tsc-frequency",
                message=(
                    f"{cannot}: QEMU refuses tsc-frequency={hertz} unless the host's TSC runs at exactly {wanted} kHz "
                    "(its profile does not record the host's TSC frequency)"
                ),
            )
        ]
    return [
        Finding(
            code="host-tsc-scaling",
            severity=Severity.ERROR,
            feature="tsc-frequency",
            message=(
                f"{cannot} and its TSC runs at {running} kHz: QEMU refuses tsc-frequency={hertz} (TSC frequency "
                f"mismatch between VM ({wanted} kHz) and host ({running} kHz), and TSC scaling unavailable; "
                "kvm_init_vcpu: kvm_arch_init_vcpu failed (0): Operation not supported)"
            ),
            refused_by="qemu",
            said="kvm_init_vcpu: kvm_arch_init_vcpu failed (0): Operation not supported",
        )
    ]
