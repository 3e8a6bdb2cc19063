"""Reports of hvtune host: one host profile, or the bundled ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from hvtune.catalog import load_catalog
from hvtune.host.kvm import KvmFacts
from hvtune.host.profile import HostProfile
from hvtune.host.profile_json import profile_json
from hvtune.jsonrecords import dumps, encode
from hvtune.report.text import wrap

_LABEL = 14


def _known(value: bool | None, yes: str, no: str) -> str:
    return "unknown" if value is None else yes if value else no


def _line(label: str, text: str) -> str:
    return wrap(text, " " * (_LABEL + 2), first=f"  {label:<{_LABEL}}")


def _kvm(profile: HostProfile) -> str:
    kvm: KvmFacts = profile.kvm
    if kvm.device != "present":
        return kvm.problem or kvm.device
    hyperv = {name.removeprefix("KVM_CAP_"): value for name, value in kvm.capabilities.items() if "HYPERV" in name}
    missing = [name for name, value in hyperv.items() if value <= 0]
    if not missing:
        caps = f"all {len(hyperv)} Hyper-V capabilities"
    elif len(missing) == len(hyperv):
        caps = "no Hyper-V capability"
    else:
        caps = f"{len(hyperv) - len(missing)} of {len(hyperv)} Hyper-V capabilities (not {', '.join(missing)})"
    problem = f"; {kvm.problem}" if kvm.problem else ""
    return f"/dev/kvm API {kvm.api_version}, module {profile.kvm_module or 'unknown'}; {caps}{problem}"


def _hv_cpuid(kvm: KvmFacts) -> str:
    if kvm.hv_cpuid is not None:
        return f"{len(kvm.hv_cpuid)} leaves from the {kvm.hv_cpuid_source} ioctl"
    if kvm.hv_cpuid_source is None and kvm.hv_cpuid_problem:
        msrs = "an unknown number of" if kvm.hyperv_msrs is None else len(kvm.hyperv_msrs)
        return f"none: {kvm.hv_cpuid_problem}; QEMU falls back to capabilities and KVM's MSR list ({msrs} Hyper-V MSRs)"
    return kvm.hv_cpuid_problem or "not asked"


def _cpu(profile: HostProfile) -> str:
    cpu = profile.system.cpu
    model = f"family {cpu.family}, model {cpu.model}" if cpu.family is not None else "family unknown"
    virtualization = cpu.virtualization or "no vmx/svm flag visible"
    return f"{cpu.model_name or 'unknown'} ({cpu.vendor_name}, {model}); {virtualization}"


def _clock(profile: HostProfile) -> str:
    system = profile.system
    stable = _known(profile.stable_clocksource, "TSC-based: KVM can keep the TSC page stable", "not TSC-based")
    tsc = "invariant TSC" if profile.invariant_tsc else "TSC not invariant"
    return f"{system.clocksource or 'unknown'} ({stable}); {tsc}"


def _libvirt(profile: HostProfile) -> str:
    if profile.libvirt_version is None:
        return "not installed"
    capabilities = profile.libvirt_hyperv
    offered = ", ".join(sorted(capabilities.features)) if capabilities else "no Hyper-V part reported"
    return f"{profile.libvirt_version}; domcapabilities: {offered}"


def _support(profile: HostProfile) -> list[str]:
    if not profile.supported:
        return ["  none"]
    lines = [wrap("supported: " + ", ".join(profile.supported), " " * 4, first="  ")]
    catalog = load_catalog()
    for name, ok in profile.support.items():
        if not ok:
            lines.append(wrap(f"{name}: {profile.why_unsupported(catalog.property(name))}", " " * 6, first="  not "))
    return lines


# The kernel's words in /sys/devices/system/cpu/smt/control, as a reader says them.
_SMT_WORDS = {"forceoff": "forced off", "notsupported": "not supported", "notimplemented": "not implemented"}


def _smt(control: str | None) -> str:
    return "unknown" if control is None else _SMT_WORDS.get(control, control)


def host_text(profile: HostProfile) -> str:
    when = f"probed {profile.probed}" if profile.probed else profile.description
    lines = [
        wrap(f"Host {profile.name} ({when})", "  ", first=""),
        wrap(profile.status, "  ", first="  "),
        "",
        _line("CPU", _cpu(profile)),
        _line("Kernel", profile.system.kernel or "unknown"),
        _line("KVM", _kvm(profile)),
    ]
    if profile.kvm.device == "present":
        lines.append(_line("Hyper-V CPUID", _hv_cpuid(profile.kvm)))
    lines += [
        _line("Nested", _known(profile.nested, "on", "off")),
        _line("APICv/AVIC", _known(profile.apicv, "on", "off")),
        _line("Clocksource", _clock(profile)),
        _line("SMT", _smt(profile.system.smt)),
        _line("QEMU", profile.qemu_version or "not installed"),
        _line("libvirt", _libvirt(profile)),
    ]
    lines += ["", "Enlightenments QEMU can enable here:", *_support(profile)]
    return "\n".join(lines) + "\n"


def host_json(profile: HostProfile) -> str:
    """The profile's saved form (schema hvtune/host/1)."""
    return dumps(profile_json(profile))


def profiles_text(profiles: Sequence[HostProfile]) -> str:
    width = max(len(p.name) for p in profiles)
    blocks = ["\n".join([f"{p.name:<{width}}  {p.status}", wrap(p.description, " " * (width + 2))]) for p in profiles]
    return "\n\n".join(blocks) + "\n"


@dataclass(frozen=True)
class ProfileLine:
    """A bundled host profile: its name (for ``--host``), what host it
    stands for, and what it offers in one line."""

    name: str
    description: str
    status: str


@dataclass(frozen=True)
class ProfilesDocument:
    """``hvtune host --list --format json``: the bundled host profiles."""

    SCHEMA: ClassVar[str] = "hvtune/host-list/1"

    profiles: tuple[ProfileLine, ...]


def profiles_json(profiles: Sequence[HostProfile]) -> str:
    return encode(ProfilesDocument(tuple(ProfileLine(p.name, p.description, p.status) for p in profiles)))
