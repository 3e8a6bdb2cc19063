"""Host profiles as JSON: what `hvtune host --save` writes and `--host FILE`
reads, and the bundled example hosts (``data/hosts/NAME.json``).

The document keeps the raw facts; a ``derived`` section repeats what hvtune
concludes from them for people reading the file, and is ignored on loading
(the conclusions are always recomputed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any, TypeVar

from hvtune.cpuid import Registers
from hvtune.errors import InputError, has_control_characters
from hvtune.files import load_text
from hvtune.formats.cnumbers import c_integer
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.formats.jsontext import load_json
from hvtune.host.kvm import KvmFacts
from hvtune.host.profile import HostProfile
from hvtune.host.sysfs import CpuFacts, SystemFacts
from hvtune.releases import parse_release

FORMAT_KEY = "hvtune_host_profile"
FORMAT_VERSION = 1
T = TypeVar("T")


def _hex(value: int) -> str:
    return f"0x{value:08X}"


def _kvm_json(kvm: KvmFacts) -> dict[str, Any]:
    leaves = None
    if kvm.hv_cpuid is not None:
        leaves = {_hex(leaf): [_hex(r) for r in registers] for leaf, registers in sorted(kvm.hv_cpuid.items())}
    return {
        "device": kvm.device,
        "problem": kvm.problem,
        "api_version": kvm.api_version,
        "capabilities": dict(kvm.capabilities),
        "hv_cpuid": {"source": kvm.hv_cpuid_source, "problem": kvm.hv_cpuid_problem, "leaves": leaves},
        "hyperv_msrs": None if kvm.hyperv_msrs is None else [_hex(m) for m in kvm.hyperv_msrs],
    }


def _libvirt_json(profile: HostProfile) -> dict[str, Any] | None:
    if profile.libvirt_version is None:
        return None
    capabilities = profile.libvirt_hyperv
    hyperv = None
    if capabilities is not None:
        hyperv = {
            "features": sorted(capabilities.features),
            "spinlocks": capabilities.spinlocks,
            "stimer_direct": capabilities.stimer_direct,
            "tlbflush_direct": capabilities.tlbflush_direct,
            "tlbflush_extended": capabilities.tlbflush_extended,
            "vendor_id": capabilities.vendor_id,
        }
    return {"version": profile.libvirt_version, "hyperv": hyperv}


def derived_json(profile: HostProfile) -> dict[str, Any]:
    """What hvtune concludes about a host, with stable keys."""
    return {
        "status": profile.status,
        "hyperv_emulation": profile.hyperv_emulation,
        "supported": list(profile.supported),
        "unsupported": [name for name, ok in profile.support.items() if not ok],
        "vp_index_settable": profile.vp_index_settable,
        "kvm_module": profile.kvm_module,
        "nested": profile.nested,
        "apicv": profile.apicv,
        "stable_clocksource": profile.stable_clocksource,
        "invariant_tsc": profile.invariant_tsc,
        "smt_active": profile.smt_active,
    }


def profile_json(profile: HostProfile) -> dict[str, Any]:
    """The saved form of a profile."""
    system = profile.system
    cpu = system.cpu
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "name": profile.name,
        "description": profile.description,
        "probed": profile.probed,
        "kernel": system.kernel,
        "cpu": {
            "vendor": cpu.vendor,
            "model_name": cpu.model_name,
            "family": cpu.family,
            "model": cpu.model,
            "flags": sorted(cpu.flags),
        },
        "modules": {module: dict(parameters) for module, parameters in system.modules.items()},
        "clocksource": {"current": system.clocksource, "available": list(system.clocksources)},
        "smt": system.smt,
        "kvm": _kvm_json(profile.kvm),
        "qemu": {"version": profile.qemu_version} if profile.qemu_version else None,
        "libvirt": _libvirt_json(profile),
        "derived": derived_json(profile),
    }


class _Reader:
    """Typed access to a parsed document; every mistake is an InputError
    naming the file and the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(self.source, key, problem)

    def get(
        self, data: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], path: str, *, optional: bool = True
    ) -> Any:
        value = data.get(key)
        if value is None:
            if optional:
                return None
            raise self.fail(f"{path}{key}", "missing")
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{path}{key}", f"must be {_article(names)}, not {_shown(value)}")
        if isinstance(value, str) and has_control_characters(value):
            raise self.fail(f"{path}{key}", "must not hold control characters")
        return value

    def section(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        return self.get(data, key, dict, "") or {}

    def number(self, value: Any, path: str, *, signed: bool = False) -> int:
        """A 32-bit integer (a register, MSR index or ioctl answer) written
        as a number or a C-style string ("0x0000AAFF")."""
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and (parsed := c_integer(value)) is not None:
            number = -parsed.magnitude if parsed.negative else parsed.magnitude
        if number is None:
            raise self.fail(path, f"must be a number or a hex string, not {_shown(value)}")
        low, high = (-(2**31), 2**31 - 1) if signed else (0, 2**32 - 1)
        if not low <= number <= high:
            raise self.fail(path, f"must be within {low}..{high} (32 bits), not {_shown(value)}")
        return number

    def release(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        """A release number ("9.0.0", "7.2.22")."""
        text: str | None = self.get(data, key, str, path)
        if text is not None:
            try:
                parse_release(text)
            except ValueError:
                raise self.fail(f"{path}{key}", f"must be a release number such as 9.0.0, not {_shown(text)}") from None
        return text

    def strings(self, data: Mapping[str, Any], key: str, path: str) -> list[str]:
        items = self.get(data, key, list, path) or []
        for position, item in enumerate(items):
            if not isinstance(item, str) or has_control_characters(item):
                raise self.fail(
                    f"{path}{key}[{position}]", f"must be a string without control characters, not {_shown(item)}"
                )
        return items


def _shown(value: Any, limit: int = 60) -> str:
    """A value as JSON, shortened for a one-line message."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _article(names: str) -> str:
    return ("an " if names[0] in "aeiou" else "a ") + names.replace("dict", "object").replace("str", "string")


def _registers(reader: _Reader, value: Any, path: str) -> Registers:
    if not isinstance(value, list) or len(value) != 4:
        raise reader.fail(path, "must list the four registers EAX, EBX, ECX, EDX")
    eax, ebx, ecx, edx = (reader.number(item, f"{path}[{i}]") for i, item in enumerate(value))
    return eax, ebx, ecx, edx


def _kvm(reader: _Reader, data: Mapping[str, Any]) -> KvmFacts:
    kvm = reader.section(data, "kvm")
    device = reader.get(kvm, "device", str, "kvm.", optional=False)
    if device not in ("present", "absent", "denied", "error"):
        raise reader.fail("kvm.device", f"must be present, absent, denied or error, not {_shown(device)}")
    capabilities = reader.get(kvm, "capabilities", dict, "kvm.") or {}
    caps = {name: reader.number(value, f"kvm.capabilities.{name}", signed=True) for name, value in capabilities.items()}
    cpuid = reader.get(kvm, "hv_cpuid", dict, "kvm.") or {}
    leaves_data = reader.get(cpuid, "leaves", dict, "kvm.hv_cpuid.")
    leaves = None
    if leaves_data is not None:
        leaves = {
            reader.number(leaf, f"kvm.hv_cpuid.leaves.{leaf}"): _registers(reader, value, f"kvm.hv_cpuid.leaves.{leaf}")
            for leaf, value in leaves_data.items()
        }
    source = reader.get(cpuid, "source", str, "kvm.hv_cpuid.")
    if source not in (None, "system", "vcpu"):
        raise reader.fail("kvm.hv_cpuid.source", f"must be system, vcpu or null, not {_shown(source)}")
    msrs = reader.get(kvm, "hyperv_msrs", list, "kvm.")
    return KvmFacts(
        device=device,
        problem=reader.get(kvm, "problem", str, "kvm."),
        api_version=reader.get(kvm, "api_version", int, "kvm."),
        capabilities=caps,
        hv_cpuid=leaves,
        hv_cpuid_source=source,
        hv_cpuid_problem=reader.get(cpuid, "problem", str, "kvm.hv_cpuid."),
        hyperv_msrs=None
        if msrs is None
        else tuple(reader.number(m, f"kvm.hyperv_msrs[{i}]") for i, m in enumerate(msrs)),
    )


def _system(reader: _Reader, data: Mapping[str, Any]) -> SystemFacts:
    cpu = reader.section(data, "cpu")
    modules = reader.section(data, "modules")
    clock = reader.section(data, "clocksource")
    parsed_modules = {}
    for module in modules:
        values = reader.get(modules, module, dict, "modules.") or {}
        parsed_modules[module] = {
            name: str(reader.get(values, name, (str, int), f"modules.{module}.")) for name in values
        }
    return SystemFacts(
        kernel=reader.get(data, "kernel", str, ""),
        cpu=CpuFacts(
            vendor=reader.get(cpu, "vendor", str, "cpu."),
            model_name=reader.get(cpu, "model_name", str, "cpu."),
            family=reader.get(cpu, "family", int, "cpu."),
            model=reader.get(cpu, "model", int, "cpu."),
            flags=frozenset(reader.strings(cpu, "flags", "cpu.")),
        ),
        modules=parsed_modules,
        clocksource=reader.get(clock, "current", str, "clocksource."),
        clocksources=tuple(reader.strings(clock, "available", "clocksource.")),
        smt=reader.get(data, "smt", str, ""),
    )


def _libvirt(reader: _Reader, data: Mapping[str, Any]) -> tuple[str | None, HypervCapabilities | None]:
    libvirt = reader.section(data, "libvirt")
    hyperv = reader.get(libvirt, "hyperv", dict, "libvirt.")
    capabilities = None
    if hyperv is not None:
        flag: Callable[[str], bool] = lambda key: bool(reader.get(hyperv, key, bool, "libvirt.hyperv."))  # noqa: E731
        capabilities = HypervCapabilities(
            features=frozenset(reader.strings(hyperv, "features", "libvirt.hyperv.")),
            spinlocks=reader.get(hyperv, "spinlocks", int, "libvirt.hyperv."),
            stimer_direct=flag("stimer_direct"),
            tlbflush_direct=flag("tlbflush_direct"),
            tlbflush_extended=flag("tlbflush_extended"),
            vendor_id=reader.get(hyperv, "vendor_id", str, "libvirt.hyperv."),
        )
    return reader.release(libvirt, "version", "libvirt."), capabilities


def profile_from_json(text: str, *, source: str) -> HostProfile:
    """A profile from its saved form; InputError names the file and key."""
    reader = _Reader(source)
    data = load_json(text, source=source, what="host profile JSON")
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise InputError(source, None, f'not an hvtune host profile (no "{FORMAT_KEY}": {FORMAT_VERSION})')
    libvirt_version, libvirt_hyperv = _libvirt(reader, data)
    qemu = reader.section(data, "qemu")
    return HostProfile(
        name=reader.get(data, "name", str, "", optional=False),
        description=reader.get(data, "description", str, "") or "",
        system=_system(reader, data),
        kvm=_kvm(reader, data),
        qemu_version=reader.release(qemu, "version", "qemu."),
        libvirt_version=libvirt_version,
        libvirt_hyperv=libvirt_hyperv,
        probed=reader.get(data, "probed", str, ""),
    )


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
