"""The KubeVirt format: a VirtualMachine or VirtualMachineInstance manifest
(YAML, several documents allowed, or JSON), with the
VirtualMachinePreference or VirtualMachineClusterPreference it references
when that is among the documents.

A manifest is read as KubeVirt runs it (hvtune.formats.kubevirt_spec): the
reading's document is the libvirt domain virt-launcher would define
(KubevirtVm, a LibvirtDomain), so libvirt's rules judge it and libvirt's
-cpu builder gives ``builds_cpu``; the KubeVirt fields it keeps feed
KubeVirt's own rules (hvtune.checks.kubevirt). One VirtualMachine or
VirtualMachineInstance per file: other kinds (DataVolumes, Secrets...) are
passed over.

``fix`` edits the manifest's text (hvtune.formats.yamledit): comments,
order and quoting stay, and nothing outside the edited fields changes. A
feature is written as KubeVirt's own templates write it (``vapic: {}``) and
turned off with ``enabled: false``. ``convert --to kubevirt`` and ``plan --to
kubevirt`` write the fragment that goes under ``spec.template.spec.domain``
(``features``, ``clock``, ``cpu``), not a whole VM: names, disks and memory
are the user's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hvtune.config import HypervConfig
from hvtune.documents.kubevirt import KubevirtVm
from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats import format_named
from hvtune.formats.base import Format
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.formats.kubevirt_spec import (
    PREFERENCE_GROUP,
    PREFERENCE_KINDS,
    VM_GROUP,
    VM_KINDS,
    Reader,
    apply_preference,
    mutate,
    read_domain,
    to_vm,
)
from hvtune.formats.libvirt import domain_config
from hvtune.formats.reading import Reading
from hvtune.formats.yamledit import EMPTY, Edit, Item, Set, assign, edit_document, render_block
from hvtune.formats.yamltext import load_documents
from hvtune.kubevirt_facts import kubevirt_facts
from hvtune.valuetypes import Value

# The API groups of VirtualMachines and of preferences (not cdi.kubevirt.io's
# DataVolumes, which a VM file may also hold).
_SNIFF = re.compile(r"""["']?apiVersion["']?[ \t]*:[ \t]*["']?(?:instancetype\.)?kubevirt\.io/""")
_KIND = re.compile(r"""["']?kind["']?[ \t]*:""")
_CPU_MODELS = {"host": "host-passthrough"}


def _group(document: Mapping[str, Any]) -> str:
    version = document.get("apiVersion")
    if not isinstance(version, str):
        return ""
    if version.startswith(PREFERENCE_GROUP):
        return PREFERENCE_GROUP
    return VM_GROUP if version.startswith(VM_GROUP) else ""


def _name(document: Mapping[str, Any]) -> str:
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) else ""


def _text_of(node: Any, *keys: str) -> str | None:
    """A string found under `keys`, or None (looked up without judging types)."""
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, str) else None


def _guest_os(document: Mapping[str, Any], preference: tuple[str, str] | None) -> str | None:
    """The guest OS KubeVirt's templates and preferences name: the
    vm.kubevirt.io/os annotation, an os.template.kubevirt.io/<id> label, or
    a windows.* preference name."""
    guests = kubevirt_facts().guests
    annotated = (
        _text_of(document, "spec", "template", "metadata", "annotations", "vm.kubevirt.io/os"),
        _text_of(document, "metadata", "annotations", "vm.kubevirt.io/os"),
    )
    names = [name for name in annotated if name]
    labels = document.get("metadata", {}).get("labels") if isinstance(document.get("metadata"), Mapping) else None
    if isinstance(labels, Mapping):
        names += [key.removeprefix("os.template.kubevirt.io/") for key in labels if isinstance(key, str)]
    if preference is not None:
        parts = preference[1].split(".")
        names += [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
    return next((guests[name] for name in names if name in guests), None)


Preferences = dict[tuple[str, str], Mapping[str, Any]]


def _sorted(documents: Sequence[Any]) -> tuple[list[tuple[int, Mapping[str, Any]]], Preferences]:
    """The VirtualMachines and VMIs among `documents` (with their index),
    and the preferences by (kind, name)."""
    vms = []
    preferences: Preferences = {}
    for index, document in enumerate(documents):
        if not isinstance(document, Mapping):
            continue
        kind, group = document.get("kind"), _group(document)
        if group == VM_GROUP and kind in VM_KINDS:
            vms.append((index, document))
        elif group == PREFERENCE_GROUP and kind in PREFERENCE_KINDS:
            preferences[(str(kind), _name(document))] = document
    return vms, preferences


def _one_vm(
    vms: list[tuple[int, Mapping[str, Any]]], preferences: Preferences, *, source: str, yaml11: bool
) -> Reading[KubevirtVm]:
    if not vms:
        raise InputError(source, None, "holds no KubeVirt VirtualMachine or VirtualMachineInstance")
    if len(vms) > 1:
        raise InputError(source, f"document {vms[1][0] + 1}", "a second VirtualMachine: give one VM per file")
    index, document = vms[0]
    return read_vm(document, source=source, yaml11=yaml11, preferences=preferences, document_index=index)


def read_documents(documents: Sequence[Any], *, source: str, yaml11: bool = False) -> Reading[KubevirtVm]:
    """The one VirtualMachine or VirtualMachineInstance among `documents`
    (parsed objects: round-trip YAML, or plain JSON as a webhook receives
    it), with the preference it references when one of them is it."""
    vms, preferences = _sorted(documents)
    return _one_vm(vms, preferences, source=source, yaml11=yaml11)


def read_manifests(texts: Sequence[tuple[str, str]]) -> list[Reading[KubevirtVm] | InputError | None]:
    """Several manifests (text, source), a VM's preference found in any of
    them; a file holding only preferences gives None."""
    parsed: list[tuple[str, list[tuple[int, Mapping[str, Any]]], Preferences] | InputError] = []
    pooled: Preferences = {}
    for text, source in texts:
        try:
            vms, preferences = _sorted(load_documents(text, source=source))
        except InputError as error:
            parsed.append(error)
            continue
        pooled.update(preferences)
        parsed.append((source, vms, preferences))
    results: list[Reading[KubevirtVm] | InputError | None] = []
    for entry in parsed:
        if isinstance(entry, InputError):
            results.append(entry)
            continue
        source, vms, own = entry
        if not vms and own:
            results.append(None)
            continue
        try:
            results.append(_one_vm(vms, {**pooled, **own}, source=source, yaml11=True))
        except InputError as error:
            results.append(error)
    return results


def read_vm(
    document: Mapping[str, Any],
    *,
    source: str,
    yaml11: bool = False,
    preferences: Preferences | None = None,
    document_index: int = 0,
) -> Reading[KubevirtVm]:
    """One VirtualMachine or VirtualMachineInstance object (a webhook
    passes the object of an AdmissionReview, parsed from JSON), with the
    preferences at hand by (kind, name)."""
    reader = Reader(source, yaml11)
    kind = str(document.get("kind"))
    spec, spec_path = reader.mapping(document, "spec", "")
    if spec is None:
        raise InputError(source, "spec", f"a {kind} needs a spec")
    base = spec_path
    vmi_spec: Mapping[str, Any] | None = spec
    if kind == "VirtualMachine":
        template, template_path = reader.mapping(spec, "template", spec_path)
        vmi_spec, base = reader.mapping(template or {}, "spec", template_path)
        if vmi_spec is None:
            raise InputError(source, base, "a VirtualMachine needs spec.template.spec")
    assert vmi_spec is not None
    domain_node, domain_path = reader.mapping(vmi_spec, "domain", base)
    if domain_node is None:
        raise InputError(source, domain_path, f"a {kind} needs a domain")
    domain = read_domain(reader, domain_node, domain_path)
    preference = _preference(reader, spec, spec_path) if kind == "VirtualMachine" else None
    found = (preferences or {}).get(preference) if preference else None
    if found is not None:
        apply_preference(reader, domain, found, f"{preference[0]} {preference[1]}" if preference else "")
    mutated = mutate(domain)
    vm = to_vm(
        domain,
        kind=kind,
        name=_name(document),
        base=base,
        mutated=mutated,
        preference=preference,
        preference_found=found is not None,
        document_index=document_index,
        lines=reader.lines,
    )
    return Reading(source, "kubevirt", domain_config(vm, source=source), vm, _guest_os(document, preference))


def _preference(reader: Reader, spec: Mapping[str, Any], path: str) -> tuple[str, str] | None:
    matcher, matcher_path = reader.mapping(spec, "preference", path)
    if matcher is None:
        return None
    name = reader.string(matcher, "name", matcher_path)
    kind = reader.string(matcher, "kind", matcher_path) or kubevirt_facts().default_preference_kind
    return (kind, name) if name else None


def read_manifest(text: str, *, source: str) -> Reading[KubevirtVm]:
    """A manifest's text, YAML or JSON."""
    return read_documents(load_documents(text, source=source), source=source, yaml11=True)


def _field_edits(name: str, value: Value | None, base: tuple[str, ...]) -> list[Edit]:
    """The edits that give property or neighbour `name` the value `value`
    (None: unset) in a manifest whose spec.domain sits under `base`."""
    facts = kubevirt_facts()
    field = facts.field_of(name)
    if field is None:
        return []
    path = (*base, *field.split("."))
    if name in facts.neighbour_fields:
        if field.endswith(".hidden"):
            return [Set(path, value is False, only_if_present=value is not False)]
        if value is None:
            return []
        policy = facts.evmcs_cpu_policy if value else "disable"
        return [Item(path, "name", name, {"policy": policy})]
    switch = "present" if field.startswith("clock.") else "enabled"
    if field == facts.field_of("hv-passthrough"):
        # read without a default by KubeVirt: always written
        return [Set((*path, switch), bool(value), create_parents=bool(value))]
    if value is None or value is False:
        nested = field.count(".") > 2
        return [Set((*path, switch), False, create_parents=not nested)]
    written: list[Edit] = [Set(path, EMPTY)]
    if not isinstance(value, bool):
        written.append(Set((*path, path[-1]), value))
    return [*written, Set((*path, switch), True, only_if_present=True)]


def _base(vm: KubevirtVm) -> tuple[str, ...]:
    return (*vm.base.split("."), "domain")


def render_fragment(config: HypervConfig) -> str:
    """The spec.domain fields that give a VM `config`."""
    tree: dict[str, Any] = {}
    lacking = []
    for name, value in config.values.items():
        edits = _field_edits(name, value, ())
        if not edits:
            lacking.append(name)
        for edit in edits:
            assign(tree, edit)
    if config.model:
        assign(tree, Set(("cpu", "model"), _CPU_MODELS.get(config.model, config.model)))
    header = "# KubeVirt: under spec.template.spec.domain of a VirtualMachine (spec.domain of a VMI)\n"
    if lacking:
        header += f"# KubeVirt has no field for: {', '.join(lacking)}\n"
    return header + render_block(tree)


def _describe_edit(edit: Edit) -> str:
    path = ".".join(edit.path)
    if isinstance(edit, Item):
        fields = ", ".join(f"{key}: {value}" for key, value in edit.fields.items())
        return f"{path}: item {edit.key}={edit.name} with {fields}"
    shown = "{}" if edit.value == EMPTY else str(edit.value).lower() if isinstance(edit.value, bool) else edit.value
    return f"{path}: {shown}"


def _field_line(vm: KubevirtVm, name: str | None) -> int | None:
    """The line of the field that gives property `name`, else of its
    nearest parent written (features.hyperv for the VM as a whole)."""
    path = vm.path((kubevirt_facts().field_of(name) if name else None) or "features.hyperv")
    while path:
        if path in vm.lines:
            return vm.lines[path]
        path = path.rpartition(".")[0]
    return None


class KubevirtFormat(Format):
    """KubeVirt VirtualMachine / VirtualMachineInstance manifests, judged as
    the libvirt domain KubeVirt defines for them."""

    name = "kubevirt"
    title = "KubeVirt VirtualMachine or VirtualMachineInstance (YAML or JSON)"
    target = "libvirt"

    def __init__(self) -> None:
        self.libvirt_version = kubevirt_facts().libvirt

    def sniff(self, text: str) -> bool:
        head = text.lstrip("\ufeff \t\r\n")
        return not head.startswith("<") and bool(_SNIFF.search(text)) and bool(_KIND.search(text))

    def read(self, text: str, *, source: str, qemu_version: str | None = None) -> Reading[KubevirtVm]:
        return read_manifest(text, source=source)

    def read_all(
        self, texts: Sequence[tuple[str, str]], *, qemu_version: str | None = None
    ) -> list[Reading[Any] | InputError | None]:
        return list(read_manifests(texts))

    def render(self, config: HypervConfig, *, source: str) -> str:
        return render_fragment(config)

    def patch(self, reading: Reading[Any], text: str, change: ConfigChange) -> str:
        vm = reading.document_of(KubevirtVm)
        assert vm is not None, "a KubeVirt reading keeps its VM"
        edits = [edit for name, value in change.values.items() for edit in _field_edits(name, value, _base(vm))]
        if not edits:
            return text
        return edit_document(
            text, index=vm.document_index, edits=edits, source=reading.source, place=vm.path("features")
        )

    def describe(self, change: ConfigChange) -> str:
        parts = []
        for name, value in change.values.items():
            edits = _field_edits(name, value, ("domain",))
            shown = [_describe_edit(edit) for edit in edits if not (isinstance(edit, Set) and edit.only_if_present)]
            parts.append("write " + ", ".join(shown) if shown else f"KubeVirt has no field for {name}")
        return "; ".join(parts)

    def lines(self, reading: Reading[Any], features: Sequence[str | None]) -> list[int | None]:
        vm = reading.document_of(KubevirtVm)
        assert vm is not None, "a KubeVirt reading keeps its VM"
        return [_field_line(vm, feature) for feature in features]

    def builds_cpu(
        self,
        reading: Reading[Any],
        *,
        libvirt_version: str | None,
        capabilities: HypervCapabilities | None,
    ) -> str | None:
        libvirt = format_named("libvirt")
        return libvirt.builds_cpu(reading, libvirt_version=self.libvirt_version, capabilities=capabilities)


FORMAT = KubevirtFormat()

__all__ = ["FORMAT", "KubevirtFormat", "read_documents", "read_manifest", "read_vm", "render_fragment"]
