"""The -cpu value qemu-server builds for a VM (PVE::QemuServer::CPUConfig
get_cpu_options), and the machine version it decides by (Machine.pm
get_vm_machine, extract_version): the logic here, the facts in the catalog
(data/stacks.toml, the proxmox stack and its [stack.builds])."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

from hvtune.catalog import Property, load_catalog
from hvtune.documents.proxmox import CpuSetting, Node
from hvtune.valuetypes import Value, display

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\+pve(\d+))?")
_MACHINE_PARTS = re.compile(r"^(?:pc(?:-i440fx|-q35)?|virt)-(\d+)\.(\d+)(?:\.(\d+))?(?:\+pve(\d+))?(?:\.pxe)?")
_HAS_REVISION = re.compile(r"\+pve\d+?(?:\.pxe)?$")
VENDORS = {"intel": "GenuineIntel", "amd": "AuthenticAMD"}  # a host profile's vendor -> /proc/cpuinfo's


@cache
def _stack() -> tuple[Mapping[str, Any], tuple[Mapping[str, Any], ...]]:
    from hvtune.compare import stack_named  # the stacks' facts, read where compare reads them

    stack = stack_named("proxmox")
    return stack.builds, stack.settings


def facts() -> Mapping[str, Any]:
    """qemu-server's facts ([stack.builds] of the proxmox stack)."""
    return _stack()[0]


def version_parts(version: str) -> tuple[int, int, int]:
    """(major, minor, pve revision) of a version such as 11.0.2 or 9.2+pve1,
    as qemu-server's min_version reads it (the micro part does not count)."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"not a version: {version!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(4) or 0)


def comparable_release(version: str) -> bool:
    """Whether `version` is a release qemu-server can compare (MAJOR.MINOR...)."""
    return _VERSION.match(version) is not None


def windows_version(ostype: str | None) -> int:
    """The Windows generation of an ostype (Helpers.pm windows_version)."""
    if not ostype:
        return 0
    known: Mapping[str, int] = facts()["windows"]
    if ostype in known:
        return known[ostype]
    match = re.fullmatch(r"win(\d+)", ostype)
    return int(match.group(1)) if match else 0


def node_qemu(node: Node) -> str:
    """The node's pve-qemu-kvm release: the one named, else the catalog's."""
    return node.qemu or str(facts()["qemu"])


def pve_revision(version: str) -> int:
    """The highest +pveN of a machine version's major.minor (get_pve_version)."""
    major, minor, _ = version_parts(version)
    return int(facts()["pve_revisions"].get(f"{major}.{minor}", 0))


def _can_run(version: str, qemu: str) -> bool:
    """can_run_pve_machine_version: QEMU at least the machine version, and
    its +pveN one this qemu-server knows."""
    major, minor, revision = version_parts(version)
    if version_parts(qemu)[:2] < (major, minor):
        return False
    return revision == 0 or pve_revision(version) >= revision


def _latest(qemu: str) -> str:
    """latest_installed_machine_version: QEMU's major.minor and its highest +pveN."""
    major, minor, _ = version_parts(qemu)
    revision = pve_revision(qemu)
    return f"{major}.{minor}" + (f"+pve{revision}" if revision > 0 else "")


def vm_machine(machine: str | None, windows: int, creation_qemu: str | None, qemu: str) -> str:
    """The machine type qemu-server starts the VM with (get_vm_machine): a
    Windows VM naming no version is pinned (to 5.1, or to the QEMU that
    created it from 9.1 on); another takes QEMU's newest with its +pveN;
    a version without +pveN gets +pve0."""
    if not machine or machine in ("pc", "q35"):
        machine = machine or "pc"
        if windows:
            pinned = str(facts()["pinned"])
            created = version_parts(creation_qemu) if creation_qemu and comparable_release(creation_qemu) else None
            if created and created >= version_parts(str(facts()["pinned_from"])):
                pinned = "{}.{}".format(*created[:2])
            if not _can_run(pinned, qemu):
                pinned = _latest(qemu)
            machine = ("pc-i440fx-" if machine == "pc" else "pc-q35-") + pinned
        else:
            machine += f"+pve{pve_revision(qemu)}"
    if not _HAS_REVISION.search(machine):
        base, pxe, _ = machine.partition(".pxe") if machine.endswith(".pxe") else (machine, "", "")
        machine = base + "+pve0" + pxe
    return machine


def machine_version(machine: str, qemu: str) -> str:
    """The version a machine type stands for (extract_version): its own,
    else QEMU's with its highest +pveN."""
    match = _MACHINE_PARTS.match(machine)
    if match:
        revision = int(match.group(4) or 0)
        return f"{match.group(1)}.{match.group(2)}" + (f"+pve{revision}" if revision else "")
    major, minor, _ = version_parts(qemu)
    return f"{major}.{minor}+pve{pve_revision(qemu)}"


def start_refusal(machine: str, version: str, qemu: str) -> str | None:
    """Why qemu-server refuses to start the VM with QEMU `qemu` (its own
    words, without the node's name), or None."""
    major, minor, _ = version_parts(qemu)
    micro = _VERSION.match(qemu)
    if major < 6:
        return f"Detected old QEMU binary ('{qemu}', at least 6.0 is required)"
    if micro and micro.group(3) and int(micro.group(3)) >= 90:
        return None  # a release candidate: qemu-server skips the version checks
    wanted = version_parts(version)
    if (major, minor) < wanted[:2]:
        return f"Installed QEMU version '{qemu}' is too old to run machine type '{machine}'"
    if not _can_run(version, qemu):
        return (
            f"Installed qemu-server (max feature level for {wanted[0]}.{wanted[1]} is "
            f"pve{pve_revision(version)}) is too old to run machine type '{machine}'"
        )
    return None


def model_vendor(model: str) -> str | None:
    """The vendor=... qemu-server passes for a model ('default' models pass
    none), or None for a model it does not know."""
    known = facts()
    if model in known["generic_models"]:
        return "default"
    return next((vendor for vendor in VENDORS.values() if model in known[vendor]), None)


def known_model(model: str) -> bool:
    """Whether qemu-server accepts `model` as a VM's cputype."""
    return model_vendor(model) is not None or any(entry["name"] == model for entry in facts()["builtin"])


class Flag(NamedTuple):
    """One entry of qemu-server's flag hashes: ``+``/``-``/"" and a value."""

    op: str = ""
    value: str | None = None


def flag_list(text: str | None, allowed: frozenset[str] | None = None) -> dict[str, Flag]:
    """parse_cpuflag_list: ``+a;-b`` as flags, keeping only those of
    `allowed` (None: any)."""
    found: dict[str, Flag] = {}
    for flag in (text or "").split(";"):
        if re.fullmatch(r"[+-][a-zA-Z0-9\-_.]+", flag) and (allowed is None or flag[1:] in allowed):
            found[flag[1:]] = Flag(flag[0])
    return found


def vm_flags() -> frozenset[str]:
    """The flags a VM's own ``cpu: flags=`` may set (CPUFlags.pm)."""
    return frozenset(facts()["vm_flags"])


class Start(NamedTuple):
    """What a -cpu depends on besides the cpu: setting."""

    kvm: bool
    gpu: bool  # a hostpciN with x-vga
    windows: int
    ostype: str | None
    bios: str | None
    machine: tuple[int, ...]  # the machine version, as compare.machine_version
    node: Node


def _condition_holds(condition: Mapping[str, Any], start: Start, model: str) -> bool:
    from hvtune.compare import setting_applies

    if not setting_applies(condition, windows=start.windows, machine=start.machine, vendor=None, gpu=start.gpu):
        return False
    if "models" in condition and model not in condition["models"]:
        return False
    if "model_prefix" in condition and not model.startswith(condition["model_prefix"]):
        return False
    if "ostype" in condition and start.ostype != condition["ostype"]:
        return False
    if "qemu" in condition and version_parts(node_qemu(start.node)) < version_parts(condition["qemu"]):
        return False
    return start.kvm or not condition.get("kvm", False)


def _spelt(name: str, value: Value) -> tuple[str, Flag]:
    """A catalog property as qemu-server writes it: hv_name, value hex when
    the catalog writes it so, a switch on without a value."""
    entry = load_catalog().entry(name)
    if value is True:
        return name.replace("-", "_"), Flag()
    hex_notation = isinstance(entry, Property) and entry.notation == "hex" and isinstance(value, int)
    return name.replace("-", "_"), Flag(value=f"0x{value:x}" if hex_notation else display(value))


def hyperv_flags(start: Start, vendor_id: str | None) -> dict[str, Flag]:
    """get_hyperv_enlightenments: what qemu-server adds for the Windows
    generation and machine version (the proxmox stack's [[stack.set]])."""
    if start.windows < 6 or (start.bios == "ovmf" and start.windows < int(facts()["ovmf_windows"])):
        return {}
    host_vendor = next((short for short, long in VENDORS.items() if long == start.node.vendor), None)
    values: dict[str, Value] = {}
    for setting in _stack()[1]:
        name = setting["property"]
        if name.startswith("hv-") and _applies(setting, start, host_vendor):
            values[name] = setting.get("value", True)
    if vendor_id is not None:
        values["hv-vendor-id"] = vendor_id
    return dict(_spelt(name, value) for name, value in values.items())


def _applies(setting: Mapping[str, Any], start: Start, host_vendor: str | None) -> bool:
    from hvtune.compare import setting_applies

    return setting_applies(setting, windows=start.windows, machine=start.machine, vendor=host_vendor, gpu=start.gpu)


def kvm_hidden(start: Start) -> bool:
    """Whether qemu-server hides KVM without a ``hidden`` setting (GPU passthrough)."""
    return any(s["property"] == "kvm" and _applies(s, start, None) for s in _stack()[1])


def _resolved(hashes: list[dict[str, Flag]], vendor: str) -> dict[str, Flag]:
    """resolve_cpu_flags: later hashes win; nested-virt is the node's vmx or svm."""
    nested = "vmx" if vendor == "GenuineIntel" else "svm" if vendor == "AuthenticAMD" else None
    flags: dict[str, Flag] = {}
    for each in hashes:
        for name, flag in each.items():
            if name == "nested-virt":
                if nested is None:
                    continue
                name = nested
            flags[name] = flag
    return flags


def build_cpu(cpu: CpuSetting | None, start: Start) -> str:
    """The -cpu value qemu-server builds (get_cpu_options), for x86_64."""
    model = str(facts()["default_model"]) if start.kvm else "qemu64"
    builtin: str | None = None
    hidden = kvm_hidden(start)
    if cpu is not None:
        model = cpu.model
        found = next((entry for entry in facts()["builtin"] if entry["name"] == model), None)
        if found is not None:
            model, builtin = found["model"], found["flags"]
        model = facts()["renamed"].get(model, model)
        hidden = cpu.hidden if cpu.hidden is not None else hidden
    pve = {
        condition["name"]: Flag(condition["op"])
        for condition in facts()["flags"]
        if _condition_holds(condition, start, model)
    }
    hyperv = hyperv_flags(start, cpu.vendor_id if cpu else None) if start.kvm else {}
    forced: dict[str, Flag] = {}
    if model != "host" and start.kvm:
        forced["enforce"] = Flag()
    if hidden:
        forced["kvm"] = Flag(value="off")
    vendor = model_vendor(model)
    if vendor not in (None, "default"):
        forced["vendor"] = Flag(value=vendor)
    own = flag_list(";".join(cpu.flags), vm_flags()) if cpu else {}
    flags = _resolved([pve, hyperv, flag_list(builtin), own, forced], start.node.vendor)
    text = model + (f",level={cpu.level}" if cpu is not None and cpu.level is not None else "")
    for name in sorted(flags):
        flag = flags[name]
        text += f",{flag.op}{name}" + (f"={flag.value}" if flag.value else "")
    if cpu is not None and cpu.guest_phys_bits:
        text += f",guest-phys-bits={cpu.guest_phys_bits}"
    if cpu is not None and cpu.phys_bits:
        text += ",host-phys-bits=true" if cpu.phys_bits == "host" else f",phys-bits={cpu.phys_bits}"
    return text
