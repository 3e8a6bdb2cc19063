"""The Proxmox VE format: qm configuration files (/etc/pve/qemu-server/ID.conf).

Reading (hvtune.formats.proxmox_read) takes what qemu-server takes at the
VM's next start; the config is the -cpu QEMU then gets, read by QEMU's
rules: the one qemu-server builds for the ostype, machine version, ``cpu:``
and GPU passthrough (hvtune.formats.proxmox_build), or the last ``-cpu`` in
``args:``, which replaces it (qemu-server appends ``args`` to its command
line, and QEMU takes the last -cpu). What qemu-server builds also depends on
the node (its CPU vendor, its pve-qemu-kvm): read alone, a file is judged
for an Intel node with the catalog's pve-qemu-kvm, as qemu-server's own
tests are; judged on a host, for that host (``on_host``).

A change is written where qemu-server lets a VM say it: the per-VM flags
(``hv-tlbflush``, ``hv-evmcs``) in ``cpu: flags=``, the vendor id in
``cpu: hv-vendor-id=``, a hidden KVM as ``cpu: hidden=1``. Anything else
cannot be said in ``cpu:``; then ``args:`` gets a ``-cpu`` with the whole
value (what qemu-server builds, changed), since a second -cpu replaces the
first whole; from then on ostype and machine changes no longer reach it.
Only the lines changed change; comments, order and sections stay.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from hvtune.config import HypervConfig
from hvtune.documents.proxmox import Ignored, Node, ProxmoxVM, Setting
from hvtune.errors import InputError, Refusal
from hvtune.findings import ConfigChange
from hvtune.formats.base import Format
from hvtune.formats.lines import line_ending
from hvtune.formats.proxmox_build import (
    VENDORS,
    Start,
    build_cpu,
    comparable_release,
    facts,
    kvm_hidden,
    machine_version,
    node_qemu,
    pve_revision,
    start_refusal,
    version_parts,
    vm_flags,
    vm_machine,
    windows_version,
)
from hvtune.formats.proxmox_read import (
    Scanned,
    Skipped,
    boolean,
    cpu_setting,
    creation_qemu,
    enumerated,
    machine_type,
    ostype,
    scan,
    x_vga,
)
from hvtune.formats.qemu import parse_cpu, patch_cpu
from hvtune.formats.reading import Reading
from hvtune.formats.shell import ShellSyntaxError, split_words

if TYPE_CHECKING:
    from hvtune.formats.domcaps import HypervCapabilities
    from hvtune.host.profile import HostProfile

_KEY_LINE = re.compile(r"[a-z][a-z_\-]*\d*:(\s|$)")
_HOSTPCI = re.compile(r"hostpci(\d+)")
_CHECKED: dict[str, Callable[[str], object]] = {
    "ostype": ostype,
    "machine": machine_type,
    "bios": lambda value: enumerated(value, ("seabios", "ovmf")),
    "kvm": boolean,
    "template": boolean,
    "arch": lambda value: enumerated(value, ("x86_64", "aarch64")),
}
_CPU_SAYS = frozenset(("hv-vendor-id", "kvm"))  # what cpu: says besides its flags


def _validated(section: Mapping[str, Setting], ignored: list[Ignored], source: str) -> dict[str, Setting]:
    """The settings qemu-server keeps: each value its schema accepts."""
    kept: dict[str, Setting] = {}
    for key, setting in section.items():
        try:
            if key == "cpu":
                cpu_setting(setting.value, source=source, line=setting.line)
            elif key in _CHECKED:
                _CHECKED[key](setting.value)
        except Skipped as skipped:
            problem = f"unable to parse value of '{key}' - {skipped}"
            ignored.append(Ignored(key, setting.line, problem, skipped.flags, setting))
            continue
        kept[key] = setting
    return kept


def _args_cpu(args: Setting | None, ignored: list[Ignored]) -> tuple[str, tuple[int, int]] | None:
    """The last -cpu of ``args:`` and where its value stands in the text."""
    if args is None:
        return None
    try:
        words = split_words(args.value)
    except ShellSyntaxError as error:
        ignored.append(Ignored("args", args.line, f"cannot split args into words ({error}): qemu-server passes none"))
        return None
    found = None
    for word, following in pairwise(words):
        if word.text in ("-cpu", "--cpu"):
            found = following
    if found is None:
        return None
    return found.text, (args.span[0] + found.start, args.span[0] + found.end)


def _start(settings: Mapping[str, Setting], node: Node, source: str) -> tuple[Start, str, str | None]:
    """What the -cpu depends on besides cpu:, the machine type qemu-server
    passes, and why it refuses to start the VM (None: it starts it)."""
    value = {key: setting.value for key, setting in settings.items()}
    if value.get("arch") == "aarch64":
        raise InputError(source, f"line {settings['arch'].line}", "arch: aarch64 guests have no Hyper-V enlightenments")
    os_name = value.get("ostype")
    windows = windows_version(os_name)
    qemu = node_qemu(node)
    machine = vm_machine(
        machine_type(value["machine"]) if "machine" in value else None,
        windows,
        creation_qemu(value["meta"]) if "meta" in value else None,
        qemu,
    )
    version = machine_version(machine, qemu)
    gpu = any(
        x_vga(text) for key, text in value.items() if (match := _HOSTPCI.fullmatch(key)) and int(match.group(1)) < 16
    )
    kvm = "template" not in value and (boolean(value["kvm"]) if "kvm" in value else True)
    start = Start(kvm, gpu, windows, os_name, value.get("bios"), version_parts(version), node)
    return start, machine, start_refusal(machine, version, qemu)


def read_vm(scanned: Scanned, *, source: str, node: Node) -> ProxmoxVM:
    """The VM a scanned file describes, as qemu-server starts it on `node`."""
    ignored = list(scanned.ignored)
    current = _validated(scanned.current, ignored, source)
    settings = {key: setting for key, setting in current.items() if key not in scanned.pending_deletes}
    settings.update(_validated(scanned.pending, ignored, source))
    if "template" in settings and boolean(settings["template"].value):
        # a template starts only for a backup, without KVM, from its disks and bios alone
        settings = {key: settings[key] for key in ("template", "bios") if key in settings}
    cpu = settings.get("cpu")
    args_cpu = _args_cpu(settings.get("args"), ignored)
    vm = ProxmoxVM(
        settings=settings,
        end=scanned.end,
        sections=scanned.sections,
        pending_deletes=scanned.pending_deletes,
        ignored=tuple(sorted(ignored, key=lambda each: each.line)),
        cpu=cpu_setting(cpu.value, source=source, line=cpu.line) if cpu else None,
        node=node,
        ostype=None,
        windows=0,
        machine="",
        built="",
        args_cpu=args_cpu,
    )
    return on_node(vm, node, source=source)


def on_node(vm: ProxmoxVM, node: Node, *, source: str) -> ProxmoxVM:
    """`vm` as qemu-server starts it on `node`."""
    start, machine, refused = _start(vm.settings, node, source)
    built = build_cpu(vm.cpu, start)
    return replace(
        vm, node=node, ostype=start.ostype, windows=start.windows, machine=machine, built=built, refused=refused
    )


def _config(vm: ProxmoxVM, text: str, *, source: str, qemu_version: str | None) -> HypervConfig:
    """The effective -cpu as QEMU reads it; a refusal of the one in args
    carries its correction made in the whole text."""
    try:
        return parse_cpu(vm.effective_cpu, source=source, machine=vm.machine, qemu_version=qemu_version).config
    except Refusal as refused:
        if vm.args_cpu is None:  # what qemu-server builds: nothing in the file to correct
            raise Refusal(
                refused.by, source, "the -cpu qemu-server builds", refused.problem, said=refused.said
            ) from None
        moved = refused.within(source, f"line {vm.settings['args'].line}")
        if refused.correction is not None:
            moved = moved.corrected_in(_with_args_cpu(text, vm, refused.correction.text))
        raise moved from None
    except InputError as error:
        place = f"line {vm.settings['args'].line}" if vm.args_cpu else "the -cpu qemu-server builds"
        raise error.within(source, place) from None


def _with_args_cpu(text: str, vm: ProxmoxVM, value: str) -> str:
    """`text` with the -cpu value in args now `value`."""
    assert vm.args_cpu is not None
    start, end = vm.args_cpu[1]
    return text[:start] + shlex.quote(value) + text[end:]


def guest_of(ostype_name: str | None) -> str | None:
    """The catalog's guest for an ostype (None: unknown)."""
    guests: Mapping[str, str] = facts()["guests"]
    return guests.get(ostype_name or "")


def read_text(
    text: str, *, source: str, qemu_version: str | None = None, node: Node | None = None
) -> Reading[ProxmoxVM]:
    """A qm configuration as qemu-server starts it on `node` (default: an
    Intel node with pve-qemu-kvm `qemu_version`, else the catalog's)."""
    node = node or Node(qemu=qemu_version)
    if node.qemu is not None and not comparable_release(node.qemu):
        raise InputError(source, None, f"qemu-server reads QEMU releases as MAJOR.MINOR, not {node.qemu!r}")
    vm = read_vm(scan(text), source=source, node=node)
    config = _config(vm, text, source=source, qemu_version=qemu_version)
    return Reading(source, "proxmox", config, vm, guest_of(vm.ostype))


# --- writing ---------------------------------------------------------------


def _same(one: HypervConfig, other: HypervConfig) -> bool:
    """Whether two configs give QEMU the same Hyper-V setup (a property
    unset and one set to its default are the same)."""
    return all(one.effective(name) == other.effective(name) for name in {*one.values, *other.values})


def _parts(value: str) -> list[tuple[str, str]]:
    """A property string's parts as (key, text), the default key as ""."""
    parts = []
    for part in value.split(","):
        key, has_value, text = part.partition("=")
        parts.append((key, text) if has_value else ("", part))
    return parts


def _joined(parts: list[tuple[str, str]]) -> str:
    return ",".join(f"{key}={text}" if key else text for key, text in parts)


def _with_part(value: str, key: str, text: str | None) -> str:
    """A property string with `key` set to `text` (None: removed), in place."""
    parts = [(k, t) for k, t in _parts(value) if k != key or text is not None]
    if text is not None:
        found = [index for index, (k, _) in enumerate(parts) if k == key]
        if found:
            parts[found[0]] = (key, text)
        else:
            parts.append((key, text))
    return _joined(parts)


def _with_flag(value: str, name: str, op: str | None) -> str:
    """A cpu: value whose flags no longer name `name`, then with `op`+`name` (if any)."""
    flags = [flag for flag in dict(_parts(value)).get("flags", "").split(";") if flag and flag[1:] != name]
    if op:
        flags.append(op + name)
    return _with_part(value, "flags", ";".join(flags) or None)


class _Writer:
    """How a change is said in one VM's file."""

    def __init__(self, reading: Reading[Any]):
        vm = reading.document_of(ProxmoxVM)
        assert vm is not None, "a proxmox reading keeps its VM"
        self.reading, self.vm = reading, vm
        # a cpu: line qemu-server skips for flags it does not allow a VM is
        # written again without them (a change says what they asked for)
        refused = refused_cpu(vm)
        skipped = next((each.setting for each in vm.ignored if each.key == "cpu"), None)
        self.cpu_setting = vm.settings.get("cpu") or skipped  # where cpu: is written
        self.cpu_line = vm.settings["cpu"].value if "cpu" in vm.settings else None
        if refused is not None and refused.setting is not None:
            self.cpu_line = refused.setting.value
        for flag in refused.flags if refused else ():
            assert self.cpu_line is not None
            self.cpu_line = _with_flag(self.cpu_line, flag[1:], None)

    def _built(self, cpu_line: str | None) -> str:
        """The -cpu qemu-server builds with `cpu_line` as the cpu: line."""
        settings = dict(self.vm.settings)
        settings.pop("cpu", None)
        start, _, _ = _start(settings, self.vm.node, self.reading.source)
        cpu = cpu_setting(cpu_line, source=self.reading.source, line=0) if cpu_line else None
        return build_cpu(cpu, start)

    def _config(self, cpu: str) -> HypervConfig:
        return parse_cpu(cpu, source=self.reading.source, machine=self.vm.machine).config

    def edits(self, change: ConfigChange) -> dict[str, str]:
        """The keys to write (key -> new value)."""
        vm = self.vm
        if vm.args_cpu is not None:
            args = vm.settings["args"]
            start, end = (offset - args.span[0] for offset in vm.args_cpu[1])
            value = shlex.quote(patch_cpu(vm.args_cpu[0], change.values))
            return {"args": args.value[:start] + value + args.value[end:]}
        wanted = change.apply(self.reading.config)
        line = self._in_cpu_line(change, wanted)
        if line is not None and _same(self._config(self._built(line)), wanted):
            return {"cpu": line} if line != _value(vm, "cpu") else {}
        base = self._built(self.cpu_line)
        edits = {"cpu": self.cpu_line} if self.cpu_line is not None and self.cpu_line != _value(vm, "cpu") else {}
        value = "-cpu " + shlex.quote(patch_cpu(base, change.values))
        written = _value(vm, "args")
        edits["args"] = f"{written} {value}" if written else value
        return edits

    def _in_cpu_line(self, change: ConfigChange, wanted: HypervConfig) -> str | None:
        """The cpu: line that says `change`, or None when cpu: cannot say it."""
        line = self.cpu_line or str(facts()["default_model"])
        allowed = vm_flags()
        for name in change.values:
            if name in allowed:
                built = self._config(self._built(_with_flag(line, name, None)))
                on, was = wanted.effective(name) is True, built.effective(name) is True
                line = _with_flag(line, name, None if on == was else "+" if on else "-")
            elif name == "hv-vendor-id":
                vendor_id = wanted.get(name)
                line = _with_part(line, "hv-vendor-id", str(vendor_id) if vendor_id is not None else None)
            elif name == "kvm":
                settings = {key: value for key, value in self.vm.settings.items() if key != "cpu"}
                hidden_anyway = kvm_hidden(_start(settings, self.vm.node, self.reading.source)[0])
                hide = wanted.kvm_hidden
                line = _with_part(line, "hidden", None if hide == hidden_anyway else "1" if hide else "0")
            else:
                return None
        try:
            cpu_setting(line, source=self.reading.source, line=0)
        except Skipped:
            return None  # a vendor id qemu-server does not take, say
        return line


def refused_cpu(vm: ProxmoxVM) -> Ignored | None:
    """The cpu: line qemu-server skips for flags it does not allow a VM."""
    return next((each for each in vm.ignored if each.key == "cpu" and each.flags), None)


def _value(vm: ProxmoxVM, key: str) -> str | None:
    setting = vm.settings.get(key)
    return setting.value if setting else None


def patched(text: str, reading: Reading[Any], change: ConfigChange) -> str:
    """`text` with `change` said where qemu-server lets the VM say it."""
    writer = _Writer(reading)
    vm = writer.vm
    ending = line_ending(text)
    edits: list[tuple[int, int, str]] = []
    added: list[str] = []
    for key, value in writer.edits(change).items():
        setting = writer.cpu_setting if key == "cpu" else vm.settings.get(key)
        if setting is not None:
            edits.append((*setting.span, value))
        elif key in vm.pending_deletes:
            raise InputError(reading.source, "[PENDING]", f"deletes {key} at the next start: apply or revert it first")
        else:
            added.append(f"{key}: {value}")
    if added:
        lines = ending.join(added)
        unended = vm.end and text[vm.end - 1] != "\n"  # the last line, without a line break
        edits.append((vm.end, vm.end, ending + lines if unended else lines + ending))
    for start, end, value in sorted(edits, reverse=True):
        text = text[:start] + value + text[end:]
    return text


def _machine_line(machine: str | None) -> str:
    """A config's machine type as a machine: value (a new VM's when it has none qemu-server takes)."""
    if machine and machine_type_ok(machine) and machine not in ("pc", "q35"):
        return machine
    qemu = str(facts()["qemu"])
    major, minor, _ = version_parts(qemu)
    return f"pc-q35-{major}.{minor}+pve{pve_revision(qemu)}"


def machine_type_ok(machine: str) -> bool:
    try:
        return machine_type(machine) == machine
    except Skipped:
        return False


def render_vm(config: HypervConfig, *, source: str) -> str:
    """The lines of a qm configuration that give QEMU `config`'s Hyper-V
    setup: the ostype whose automatic enlightenments come closest, the
    machine type, cpu: when needed, and args: when cpu: cannot say it."""
    head = f"machine: {_machine_line(config.machine)}\n"
    if config.model is not None:
        head += f"cpu: {config.model}\n"
    windows = any(name.startswith("hv-") for name in config.values)
    fragments = []
    for os_name in facts()["render_ostypes"] if windows else ("l26",):
        text = f"ostype: {os_name}\n{head}"
        try:
            reading = read_text(text, source=source)
        except InputError:
            continue  # a model qemu-server does not know: said in args below
        if reading.document_of(ProxmoxVM) and "cpu" not in reading.document.settings and config.model:
            continue
        unset = {name: None for name in reading.config.values if name not in config.values}
        change = ConfigChange({**unset, **{n: v for n, v in config.values.items() if reading.config.get(n) != v}})
        fragment = patched(text, reading, change) if change.values else text
        if "\nargs:" not in fragment:
            return fragment
        # args: holds them all anyway; the ostype that needs it for the fewest comes first
        fragments.append((len(set(change.values) - vm_flags() - _CPU_SAYS), fragment))
    if not fragments:
        raise InputError(source, "model", f"qemu-server knows no CPU model {config.model!r}")
    return min(fragments, key=lambda each: each[0])[1]


def _host_node(vm: ProxmoxVM, host: HostProfile) -> Node:
    """The node a host profile describes (what it does not say stays)."""
    vendor = VENDORS.get(host.vendor or "", vm.node.vendor)
    qemu = host.qemu_version if host.qemu_version and comparable_release(host.qemu_version) else None
    return Node(vendor, vm.node.qemu or qemu)


def _setting_line(vm: ProxmoxVM, name: str | None) -> int | None:
    """The line that gives property `name` to the guest's -cpu: ``args:``
    when its -cpu replaces qemu-server's, ``cpu:`` when its flags name it
    or may name it (where fix writes it), else ``ostype:`` (what
    qemu-server derives the enlightenments from), else ``cpu:``."""
    settings = vm.settings
    if vm.args_cpu and "args" in settings:
        return settings["args"].line
    flagged = vm.cpu is not None and any(flag[1:] == name for flag in vm.cpu.flags)
    if name and "cpu" in settings and (flagged or name in vm_flags()):
        return settings["cpu"].line
    return next((settings[key].line for key in ("ostype", "cpu") if key in settings), None)


class ProxmoxFormat(Format):
    """Proxmox VE qm configuration files: read as qemu-server starts them,
    turned into the -cpu it builds, and edited where qemu-server lets a VM
    say a change (cpu: flags, then args:)."""

    name = "proxmox"
    title = "Proxmox VE qm configuration"
    target = "qemu"

    def sniff(self, text: str) -> bool:
        lines = [line for line in text.lstrip("\ufeff").split("\n") if line.strip()]
        first = next((line for line in lines if not line.startswith("#")), "")
        return bool(_KEY_LINE.match(first)) and not any(line[0].isspace() for line in lines)

    def read(self, text: str, *, source: str, qemu_version: str | None = None) -> Reading[ProxmoxVM]:
        return read_text(text, source=source, qemu_version=qemu_version)

    def render(self, config: HypervConfig, *, source: str) -> str:
        return render_vm(config, source=source)

    def patch(self, reading: Reading[Any], text: str, change: ConfigChange) -> str:
        return patched(text, reading, change)

    def describe(self, change: ConfigChange) -> str:
        names = set(change.values)
        if names <= vm_flags() | _CPU_SAYS:
            return "in cpu: " + change.describe()
        allowed = " and ".join(sorted(name for name in vm_flags() if name.startswith("hv-")))
        return (
            f"args: -cpu with {change.describe()} (of Hyper-V, cpu: flags= takes only {allowed}; "
            "a -cpu in args: replaces the whole one qemu-server builds)"
        )

    def lines(self, reading: Reading[Any], features: Sequence[str | None]) -> list[int | None]:
        vm = reading.document_of(ProxmoxVM)
        assert vm is not None, "a proxmox reading keeps its VM"
        return [_setting_line(vm, feature) for feature in features]

    def builds_cpu(
        self,
        reading: Reading[Any],
        *,
        libvirt_version: str | None,
        capabilities: HypervCapabilities | None,
    ) -> str | None:
        vm = reading.document_of(ProxmoxVM)
        assert vm is not None, "a proxmox reading keeps its VM"
        if vm.refused:
            raise InputError(reading.source, None, f"qemu-server refuses to start it: {vm.refused}")
        return vm.effective_cpu + "\n"

    def on_host(self, reading: Reading[Any], host: HostProfile) -> Reading[Any]:
        vm = reading.document_of(ProxmoxVM)
        assert vm is not None, "a proxmox reading keeps its VM"
        node = _host_node(vm, host)
        if node == vm.node:
            return reading
        moved = on_node(vm, node, source=reading.source)
        if moved.effective_cpu == vm.effective_cpu:
            return replace(reading, document=moved)
        config = parse_cpu(moved.effective_cpu, source=reading.source, machine=moved.machine).config
        return replace(reading, config=config, document=moved)


FORMAT = ProxmoxFormat()
