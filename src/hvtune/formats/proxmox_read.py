"""Reading a qm configuration file (/etc/pve/qemu-server/ID.conf) as
qemu-server reads it at a VM's next start (PVE::QemuServer parse_vm_config,
check_type, vm_start_nolock).

* Lines are split on ``\\n`` only; blank lines are skipped; ``#`` lines are
  the description; ``key: value`` lines (key ``[a-z][a-z_-]*\\d*``) set a
  key, the last one of a key wins.
* ``[PENDING]``, ``[special:...]`` and ``[name]`` (a snapshot) start
  sections; the current configuration is the part before the first. A
  cold start applies ``[PENDING]`` first (its keys, its ``delete:``), so
  hvtune judges the current configuration with it applied. Snapshot and
  special sections are kept as they are and never judged.
* A line that is no setting, and a value the schema refuses, qemu-server
  skips with a warning: hvtune skips it too and says so (``Ignored``). Of
  the keys hvtune reads, that is an ``ostype`` outside the list, a
  ``machine``, ``bios``, ``kvm`` or ``arch`` of the wrong form, and a ``cpu``
  its schema or its per-VM flag list refuses — qemu-server then starts the
  VM with its default CPU.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hvtune.documents.proxmox import CpuSetting, Ignored, Setting
from hvtune.errors import InputError
from hvtune.formats.proxmox_build import facts, known_model, vm_flags

_KEY = re.compile(r"([a-z][a-z_\-]*\d*):\s*(.+?)\s*$", re.DOTALL)
_PENDING = re.compile(r"\[PENDING\]\s*$", re.IGNORECASE)
_SPECIAL = re.compile(r"\[special:(cloudinit|fleecing)\]\s*$", re.IGNORECASE)
_SNAPSHOT = re.compile(r"\[([a-z][a-z0-9_\-]+)\]\s*$", re.IGNORECASE)
_UNKNOWN_SECTION = re.compile(r"\[([^\]]*)\]\s*$")
_BLANK = re.compile(r"\s*$")
_TRUE = re.compile(r"(1|on|yes|true)$", re.IGNORECASE)
_FALSE = re.compile(r"(0|off|no|false)$", re.IGNORECASE)
_MACHINE_TYPE = re.compile(
    r"(pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|q35|pc-q35-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?"
    r"|virt(?:-\d+(\.\d+)+)?(\+pve\d+)?)"
)
_FLAG = r"[+-][a-zA-Z0-9\-_.]+"
_FLAGS = re.compile(rf"{_FLAG}(;{_FLAG})*")
_VENDOR_ID = re.compile(r"[a-zA-Z0-9]{1,12}")
_CPU_KEYS = ("cputype", "reported-model", "hidden", "hv-vendor-id", "flags", "guest-phys-bits", "phys-bits", "level")


class Skipped(ValueError):
    """A value qemu-server's schema refuses (it skips the key with a
    warning); `flags` are the per-VM flags it refused, when that is why."""

    def __init__(self, problem: str, flags: tuple[str, ...] = ()):
        super().__init__(problem)
        self.flags = flags


class Scanned(NamedTuple):
    """The settings of the current configuration and of [PENDING], where
    new keys go, the sections, what [PENDING] deletes and the lines
    qemu-server skips."""

    current: dict[str, Setting]
    pending: dict[str, Setting]
    end: int
    sections: tuple[str, ...]
    pending_deletes: frozenset[str]
    ignored: tuple[Ignored, ...]


def scan(text: str) -> Scanned:
    """Split a qm configuration into its sections and settings."""
    current: dict[str, Setting] = {}
    pending: dict[str, Setting] = {}
    deletes: set[str] = set()
    sections: list[str] = []
    ignored: list[Ignored] = []
    section: str | None = ""  # "": the current configuration; None: an unknown section
    end = offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        start, offset = offset, offset + len(line) + 1
        if _BLANK.match(line):
            continue
        header = _PENDING.match(line) or _SPECIAL.match(line) or _SNAPSHOT.match(line)
        if header or _UNKNOWN_SECTION.match(line):
            section = ("pending" if _PENDING.match(line) else line.strip()) if header else None
            sections.append(line.strip())
            if not header:
                ignored.append(Ignored(None, number, f"skipping unknown section: '{line.strip()[1:-1]}'"))
            continue
        stop = min(offset, len(text))  # where a line after this one is inserted: the next line's start
        if section is None or line.startswith("#"):
            end = stop if section == "" else end
            continue
        if section not in ("", "pending"):
            continue
        match = _KEY.match(line)
        if match is None:
            ignored.append(Ignored(None, number, f"unable to parse config: {line}"))
            continue
        key, value = match.groups()
        setting = Setting(key, value, number, (start + match.start(2), start + match.end(2)))
        if section == "":
            current[key] = setting
            end = stop
        elif key == "delete":
            deletes.update(name.lstrip("!") for name in re.split(r"[,;\s]+", value) if name)
        else:
            pending[key] = setting
    return Scanned(current, pending, end, tuple(sections), frozenset(deletes), tuple(ignored))


def boolean(text: str) -> bool:
    """A PVE boolean (1/on/yes/true, 0/off/no/false); Skipped otherwise."""
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    raise Skipped(f"type check ('boolean') failed - got '{text}'")


def property_string(value: str, keys: tuple[str, ...]) -> dict[str, str]:
    """A PVE property string (``default,key=value,...``; the first of `keys`
    is the default key), as parse_property_string splits it."""
    found: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        key, has_value, text = part.partition("=")
        if not has_value:
            key, text = keys[0], part
        elif not key or not text:
            raise Skipped("missing key in comma-separated list property")
        if key in found:
            raise Skipped(f"duplicate key in comma-separated list property: {key}")
        if key not in keys:
            raise Skipped(
                f"{key}: property is not defined in schema and the schema does not allow additional properties"
            )
        found[key] = text
    return found


def _integer(key: str, text: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d+", text):
        raise Skipped(f"{key}: type check ('integer') failed - got '{text}'")
    number = int(text)
    if not low <= number <= high:
        raise Skipped(f"{key}: value must be between {low} and {high}")
    return number


def cpu_setting(value: str, *, source: str, line: int) -> CpuSetting:
    """A ``cpu:`` value as pve-vm-cpu-conf reads it; Skipped when qemu-server
    refuses it, InputError for a custom model (defined in
    /etc/pve/virtual-guest/cpu-models.conf, which one VM's file does not hold)."""
    parts = property_string(value, _CPU_KEYS)
    flags = parts.get("flags")
    if flags is not None and not _FLAGS.fullmatch(flags):
        raise Skipped(f"flags: value does not match the regex pattern ('{flags}')")
    vendor_id = parts.get("hv-vendor-id")
    if vendor_id is not None and not _VENDOR_ID.fullmatch(vendor_id):
        raise Skipped(f"hv-vendor-id: value does not match the regex pattern ('{vendor_id}')")
    phys_bits = parts.get("phys-bits")
    if phys_bits is not None and (
        not re.fullmatch(r"host|\d{1,2}", phys_bits) or (phys_bits != "host" and not 8 <= int(phys_bits) <= 64)
    ):
        raise Skipped("phys-bits: value must be an integer between 8 and 64 or 'host'")
    hidden = parts.get("hidden")
    level, guest_bits = parts.get("level"), parts.get("guest-phys-bits")
    setting = CpuSetting(
        model=parts.get("cputype", ""),
        flags=tuple(flags.split(";")) if flags else (),
        hidden=boolean(hidden) if hidden is not None else None,
        vendor_id=vendor_id,
        level=_integer("level", level, 0, 4294967295) if level is not None else None,
        phys_bits=phys_bits,
        guest_phys_bits=_integer("guest-phys-bits", guest_bits, 32, 64) if guest_bits is not None else None,
    )
    if not setting.model:
        raise Skipped("CPU is missing cputype")
    if setting.model.startswith("custom-"):
        raise InputError(
            source,
            f"line {line}",
            f"cpu: {setting.model} is a custom CPU model, defined in /etc/pve/virtual-guest/cpu-models.conf, "
            "not in this file: its -cpu cannot be known from the VM's configuration alone",
        )
    if not known_model(setting.model):
        raise Skipped(f"Built-in cputype '{setting.model}' is not defined (missing 'custom-' prefix?)")
    refused = tuple(flag for flag in setting.flags if flag[1:] not in vm_flags())
    if refused:
        names = ", ".join(sorted(vm_flags()))
        raise Skipped(f"VM-specific CPU flags must be a subset of: {names}", refused)
    if "reported-model" in parts:
        raise Skipped("Property 'reported-model' not allowed in VM-specific CPU config.")
    return setting


def ostype(value: str) -> str:
    if value not in facts()["ostypes"]:
        raise Skipped(f"value '{value}' does not have a value in the enumeration '{', '.join(facts()['ostypes'])}'")
    return value


def machine_type(value: str) -> str:
    """The type of a ``machine:`` value (None when it names none)."""
    parts = property_string(value, ("type", "viommu", "aw-bits", "enable-s3", "enable-s4"))
    found = parts.get("type", "")
    if found and (len(found) > 40 or not _MACHINE_TYPE.fullmatch(found)):
        raise Skipped(f"type: value does not match the regex pattern ('{found}')")
    return found


def enumerated(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Skipped(f"value '{value}' does not have a value in the enumeration '{', '.join(allowed)}'")
    return value


def x_vga(value: str) -> bool:
    """Whether a ``hostpciN:`` value passes a GPU through as the primary VGA."""
    parts = dict(part.partition("=")[::2] for part in value.split(",") if "=" in part)
    return "x-vga" in parts and bool(_TRUE.match(parts["x-vga"]))


def creation_qemu(value: str) -> str | None:
    """The QEMU release a ``meta:`` value says created the VM."""
    parts = dict(part.partition("=")[::2] for part in value.split(",") if "=" in part)
    return parts.get("creation-qemu")
