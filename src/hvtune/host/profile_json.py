"""Host profiles as JSON: what `hvtune host --save` writes and `--host FILE`
reads, and the bundled example hosts (``data/hosts/NAME.json``).

The document keeps the raw facts; a ``derived`` section repeats what hvtune
concludes from them for people reading the file, and is ignored on loading
(the conclusions are always recomputed). Its records below are the saved
form; msgspec reads them (`hvtune.jsonrecords.decode`) and the published
schema ``hvtune/host/1`` describes them. A key may be left out or null
wherever the record has a default; a document without the ``schema`` key
(the bundled ones, profiles saved before it) reads the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, ClassVar, Literal, cast

from hvtune.errors import InputError
from hvtune.files import load_text
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.formats.jsontext import load_json
from hvtune.host.kvm import KvmFacts
from hvtune.host.profile import HostProfile
from hvtune.host.profile_values import (
    Answer,
    CpuidSource,
    Device,
    ModuleParameter,
    Register,
    Registers,
    Release,
    Text,
)
from hvtune.host.sysfs import CpuFacts, SystemFacts
from hvtune.jsonrecords import builtins, check_schema, decode

FORMAT_KEY = "hvtune_host_profile"
FORMAT_VERSION: Literal[1] = 1


@dataclass(frozen=True, kw_only=True)
class CpuSection:
    vendor: Text | None = None
    model_name: Text | None = None
    family: int | None = None
    model: int | None = None
    flags: tuple[Text, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ClocksourceSection:
    current: Text | None = None
    available: tuple[Text, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class HvCpuidSection:
    """KVM_GET_SUPPORTED_HV_CPUID: asked as a ``system`` or ``vcpu`` ioctl
    (null: neither was possible, ``problem`` says why), and the leaves."""

    source: CpuidSource | None = None
    problem: Text | None = None
    leaves: dict[Register, Registers] | None = None


@dataclass(frozen=True, kw_only=True)
class KvmSection:
    device: Device
    problem: Text | None = None
    api_version: int | None = None
    capabilities: dict[str, Answer] | None = None
    hv_cpuid: HvCpuidSection | None = None
    hyperv_msrs: tuple[Register, ...] | None = None
    tsc_khz: int | None = None


@dataclass(frozen=True, kw_only=True)
class QemuSection:
    version: Release | None = None


@dataclass(frozen=True, kw_only=True)
class LibvirtHypervSection:
    """The Hyper-V part of ``virsh domcapabilities``."""

    features: tuple[Text, ...] | None = None
    spinlocks: int | None = None
    stimer_direct: bool | None = None
    tlbflush_direct: bool | None = None
    tlbflush_extended: bool | None = None
    vendor_id: Text | None = None


@dataclass(frozen=True, kw_only=True)
class LibvirtSection:
    version: Release | None = None
    hyperv: LibvirtHypervSection | None = None


@dataclass(frozen=True)
class DerivedSection:
    """What hvtune concludes about the host (written for people; never read)."""

    status: str
    hyperv_emulation: bool
    supported: tuple[str, ...]
    unsupported: tuple[str, ...]
    vp_index_settable: bool
    kvm_module: str | None
    nested: bool | None
    apicv: bool | None
    stable_clocksource: bool | None
    invariant_tsc: bool
    smt_active: bool | None


@dataclass(frozen=True, kw_only=True)
class ProfileFacts:
    """The facts of a saved profile: what is read back."""

    hvtune_host_profile: Literal[1]
    name: Text
    description: Text | None = None
    probed: Text | None = None
    kernel: Text | None = None
    cpu: CpuSection | None = None
    modules: dict[str, dict[str, ModuleParameter] | None] | None = None
    clocksource: ClocksourceSection | None = None
    smt: Text | None = None
    kvm: KvmSection
    qemu: QemuSection | None = None
    libvirt: LibvirtSection | None = None

    def profile(self) -> HostProfile:
        cpu = self.cpu or CpuSection()
        clock = self.clocksource or ClocksourceSection()
        libvirt = self.libvirt or LibvirtSection()
        return HostProfile(
            name=self.name,
            description=self.description or "",
            system=SystemFacts(
                kernel=self.kernel,
                cpu=CpuFacts(cpu.vendor, cpu.model_name, cpu.family, cpu.model, frozenset(cpu.flags or ())),
                modules={module: dict(values or {}) for module, values in (self.modules or {}).items()},
                clocksource=clock.current,
                clocksources=tuple(clock.available or ()),
                smt=self.smt,
            ),
            kvm=_kvm_facts(self.kvm),
            qemu_version=(self.qemu or QemuSection()).version,
            libvirt_version=libvirt.version,
            libvirt_hyperv=None if libvirt.hyperv is None else _capabilities(libvirt.hyperv),
            probed=self.probed,
        )


@dataclass(frozen=True, kw_only=True)
class ProfileDocument(ProfileFacts):
    """A saved profile: its facts, then what hvtune concludes from them."""

    SCHEMA: ClassVar[str] = "hvtune/host/1"

    derived: DerivedSection

    @classmethod
    def of(cls, profile: HostProfile) -> ProfileDocument:
        system, kvm = profile.system, profile.kvm
        cpu = system.cpu
        return cls(
            hvtune_host_profile=FORMAT_VERSION,
            name=profile.name,
            description=profile.description,
            probed=profile.probed,
            kernel=system.kernel,
            cpu=CpuSection(
                vendor=cpu.vendor,
                model_name=cpu.model_name,
                family=cpu.family,
                model=cpu.model,
                flags=tuple(sorted(cpu.flags)),
            ),
            modules={
                module: {k: ModuleParameter(v) for k, v in values.items()} for module, values in system.modules.items()
            },
            clocksource=ClocksourceSection(current=system.clocksource, available=system.clocksources),
            smt=system.smt,
            kvm=KvmSection(
                device=cast(Device, kvm.device),
                problem=kvm.problem,
                api_version=kvm.api_version,
                capabilities={name: Answer(value) for name, value in kvm.capabilities.items()},
                hv_cpuid=HvCpuidSection(
                    source=cast(CpuidSource | None, kvm.hv_cpuid_source),
                    problem=kvm.hv_cpuid_problem,
                    leaves=None
                    if kvm.hv_cpuid is None
                    else {Register(leaf): _registers(registers) for leaf, registers in sorted(kvm.hv_cpuid.items())},
                ),
                hyperv_msrs=None if kvm.hyperv_msrs is None else tuple(Register(m) for m in kvm.hyperv_msrs),
                tsc_khz=kvm.tsc_khz,
            ),
            qemu=QemuSection(version=Release(profile.qemu_version)) if profile.qemu_version else None,
            libvirt=_libvirt_section(profile),
            derived=DerivedSection(
                status=profile.status,
                hyperv_emulation=profile.hyperv_emulation,
                supported=profile.supported,
                unsupported=tuple(name for name, ok in profile.support.items() if not ok),
                vp_index_settable=profile.vp_index_settable,
                kvm_module=profile.kvm_module,
                nested=profile.nested,
                apicv=profile.apicv,
                stable_clocksource=profile.stable_clocksource,
                invariant_tsc=profile.invariant_tsc,
                smt_active=profile.smt_active,
            ),
        )


def _registers(values: tuple[int, int, int, int]) -> tuple[Register, Register, Register, Register]:
    eax, ebx, ecx, edx = values
    return Register(eax), Register(ebx), Register(ecx), Register(edx)


def _kvm_facts(kvm: KvmSection) -> KvmFacts:
    cpuid = kvm.hv_cpuid or HvCpuidSection()
    return KvmFacts(
        device=kvm.device,
        problem=kvm.problem,
        api_version=kvm.api_version,
        capabilities=dict(kvm.capabilities or {}),
        hv_cpuid=None if cpuid.leaves is None else {int(leaf): registers for leaf, registers in cpuid.leaves.items()},
        hv_cpuid_source=cpuid.source,
        hv_cpuid_problem=cpuid.problem,
        hyperv_msrs=kvm.hyperv_msrs,
        tsc_khz=kvm.tsc_khz,
    )


def _capabilities(hyperv: LibvirtHypervSection) -> HypervCapabilities:
    return HypervCapabilities(
        features=frozenset(hyperv.features or ()),
        spinlocks=hyperv.spinlocks,
        stimer_direct=bool(hyperv.stimer_direct),
        tlbflush_direct=bool(hyperv.tlbflush_direct),
        tlbflush_extended=bool(hyperv.tlbflush_extended),
        vendor_id=hyperv.vendor_id,
    )


def _libvirt_section(profile: HostProfile) -> LibvirtSection | None:
    if profile.libvirt_version is None:
        return None
    capabilities = profile.libvirt_hyperv
    hyperv = None
    if capabilities is not None:
        hyperv = LibvirtHypervSection(
            features=tuple(sorted(capabilities.features)),
            spinlocks=capabilities.spinlocks,
            stimer_direct=capabilities.stimer_direct,
            tlbflush_direct=capabilities.tlbflush_direct,
            tlbflush_extended=capabilities.tlbflush_extended,
            vendor_id=capabilities.vendor_id,
        )
    return LibvirtSection(version=Release(profile.libvirt_version), hyperv=hyperv)


def profile_json(profile: HostProfile) -> dict[str, Any]:
    """The saved form of a profile, as JSON's types."""
    return builtins(ProfileDocument.of(profile))


def profile_from_json(text: str, *, source: str) -> HostProfile:
    """A profile from its saved form; InputError names the file and key."""
    data = load_json(text, source=source, what="host profile JSON")
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise InputError(source, None, f'not an hvtune host profile (no "{FORMAT_KEY}": {FORMAT_VERSION})')
    check_schema(data, ProfileDocument.SCHEMA, source=source)
    return decode(data, ProfileFacts, source=source).profile()


def bundled_profile_names() -> list[str]:
    """The example hosts that ship with hvtune."""
    folder = files("hvtune").joinpath("data/hosts")
    return sorted(entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_profile(name_or_path: str) -> HostProfile:
    """A bundled profile by name, else a saved profile file."""
    if name_or_path in bundled_profile_names():
        text = files("hvtune").joinpath(f"data/hosts/{name_or_path}.json").read_text("utf-8")
        return profile_from_json(text, source=f"host profile {name_or_path}")
    try:
        os.stat(name_or_path)
    except FileNotFoundError:
        known = ", ".join(bundled_profile_names())
        raise InputError(
            name_or_path, None, f"no such host profile file, and no bundled profile of that name ({known})"
        ) from None
    except (OSError, ValueError):
        pass  # reading it says what is wrong (a name too long, a NUL in it, ...)
    return profile_from_json(load_text(name_or_path), source=name_or_path)
