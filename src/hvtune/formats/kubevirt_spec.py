"""A KubeVirt VirtualMachine or VirtualMachineInstance, as the libvirt domain
virt-launcher defines for it.

The manifest goes through what KubeVirt does before libvirt sees it, in
KubeVirt's order: a referenced preference fills what the VM leaves unset
(pkg/instancetype/preference/apply), the mutating webhook enables the
requirements of enabled features and adds the vmx CPU feature for evmcs
(pkg/defaults/hyperv.go), and the converter writes the domain
(pkg/virt-launcher/virtwrap/converter/compute). The facts are data
(hvtune.kubevirt_facts); the result is a KubevirtVm, which libvirt's rules
and -cpu builder read like any domain.

It reads plain mappings, so a webhook can pass the object of an
AdmissionReview as parsed from JSON; with ``yaml11`` a plain (unquoted)
``yes``/``on``/``no``/``off`` counts as a boolean, as Kubernetes' YAML reader
takes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from types import MappingProxyType
from typing import Any

from hvtune.catalog import load_catalog
from hvtune.documents.kubevirt import KubevirtVm
from hvtune.documents.libvirt import Cpu, HypervChild, Timer
from hvtune.errors import InputError
from hvtune.formats.yamltext import line_of
from hvtune.kubevirt_facts import kubevirt_facts
from hvtune.valuetypes import Value

VM_KINDS = ("VirtualMachine", "VirtualMachineInstance")
PREFERENCE_KINDS = ("VirtualMachinePreference", "VirtualMachineClusterPreference")
VM_GROUP = "kubevirt.io/"
PREFERENCE_GROUP = "instancetype.kubevirt.io/"
# YAML 1.1 booleans, as Kubernetes' YAML reader (go-yaml v2) resolves them.
_YAML11_BOOLEANS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"), False),
}
_UINT32 = 2**32 - 1


@dataclass
class Reader:
    """Typed access to one manifest's fields: a wrong type is an InputError
    naming the field's path (and its line, in YAML)."""

    source: str
    yaml11: bool = False
    lines: dict[str, int] = field(default_factory=dict)

    def _fail(self, path: str, problem: str) -> InputError:
        line = self.lines.get(path)
        return InputError(self.source, f"line {line}, {path}" if line else path, problem)

    def child(self, node: Mapping[str, Any], key: str, path: str) -> tuple[Any, str]:
        """The value of `key` (None when absent or null) and its path, noting its line."""
        here = f"{path}.{key}" if path else key
        if key in node:
            line = line_of(node, key)
            if line is not None:
                self.lines[here] = line
        return node.get(key), here

    def mapping(self, node: Mapping[str, Any], key: str, path: str) -> tuple[Mapping[str, Any] | None, str]:
        value, here = self.child(node, key, path)
        if value is None or isinstance(value, Mapping):
            return value, here
        raise self._fail(here, f"expects a mapping, not {_kind(value)}")

    def sequence(self, node: Mapping[str, Any], key: str, path: str) -> tuple[Sequence[Any], str]:
        value, here = self.child(node, key, path)
        if value is None:
            return (), here
        if isinstance(value, list | tuple):
            return value, here
        raise self._fail(here, f"expects a list, not {_kind(value)}")

    def boolean(self, node: Mapping[str, Any], key: str, path: str) -> bool | None:
        value, here = self.child(node, key, path)
        if value is None or isinstance(value, bool):
            return value
        if self.yaml11 and type(value) is str and value in _YAML11_BOOLEANS:
            return _YAML11_BOOLEANS[value]
        raise self._fail(here, f"expects true or false, not {_shown(value)}")

    def uint32(self, node: Mapping[str, Any], key: str, path: str) -> int | None:
        value, here = self.child(node, key, path)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _UINT32:
            return int(value)
        raise self._fail(here, f"expects an integer from 0 to {_UINT32}, not {_shown(value)}")

    def string(self, node: Mapping[str, Any], key: str, path: str) -> str | None:
        value, here = self.child(node, key, path)
        if value is None or isinstance(value, str):
            return None if value is None else str(value)
        raise self._fail(here, f"expects a string, not {_shown(value)}")

    def item(self, items: Sequence[Any], index: int, path: str) -> tuple[Mapping[str, Any], str]:
        here = f"{path}[{index}]"
        line = line_of(items, index)
        if line is not None:
            self.lines[here] = line
        value = items[index]
        if isinstance(value, Mapping):
            return value, here
        raise self._fail(here, f"expects a mapping, not {_kind(value)}")


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return _shown(value)


def _shown(value: object) -> str:
    text = repr(str(value)) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Feature:
    """One features.hyperv field as written: its ``enabled``, its value
    (spinlocks.spinlocks, vendorid.vendorid) and its nested fields'
    ``enabled`` (synictimer.direct, tlbflush.direct/extended)."""

    enabled: bool | None
    value: Value | None = None
    nested: Mapping[str, bool | None] = field(default_factory=lambda: MappingProxyType({}))


@dataclass
class Domain:
    """What KubeVirt reads of spec.domain (the VM's, then with a
    preference's additions)."""

    hyperv: dict[str, Feature] | None = None
    passthrough_written: bool = False
    passthrough: bool | None = None
    kvm_hidden: bool | None = None  # None: no features.kvm
    timers: dict[str, bool | None] | None = None  # clock.timer.<name>.present; None: no clock.timer
    clock_offset: str | None = None
    cpu_model: str | None = None
    cpu_features: list[tuple[str, str]] = field(default_factory=list)  # (name, policy)
    hyperv_panics: int = 0
    machine: str | None = None
    unknown: list[str] = field(default_factory=list)  # features.hyperv fields KubeVirt does not know


@cache
def _hyperv_fields() -> tuple[dict[str, str], dict[str, tuple[str, ...]], dict[str, str]]:
    """KubeVirt's features.hyperv fields, from the catalog: each with the
    type of its value (spinlocks.spinlocks, vendorid.vendorid; "bool" for
    none), its nested fields, and its libvirt <hyperv> element."""
    values: dict[str, str] = {}
    nested: dict[str, tuple[str, ...]] = {}
    elements: dict[str, str] = {}
    catalog = load_catalog()
    for prop in catalog.properties:
        path = (prop.kubevirt or "").removeprefix("features.hyperv.")
        if not prop.kubevirt or path == prop.kubevirt:
            continue
        name, _, child = path.partition(".")
        if child:
            nested[name] = (*nested.get(name, ()), child)
            continue
        values[name] = prop.type
        form = prop.libvirt
        elements[name] = getattr(form, "element", name)
    return values, nested, elements


def read_hyperv(reader: Reader, node: Mapping[str, Any], path: str) -> tuple[dict[str, Feature], list[str]]:
    """A features.hyperv (or a preference's preferredHyperv) mapping."""
    values, nested, _ = _hyperv_fields()
    features: dict[str, Feature] = {}
    unknown: list[str] = []
    for key in node:
        if not isinstance(key, str) or key not in values:
            unknown.append(str(key))
            continue
        entry, here = reader.mapping(node, key, path)
        if entry is None:
            entry = {}
        value: Value | None = None
        if values[key] == "uint32":
            value = reader.uint32(entry, key, here)
        elif values[key] == "string":
            value = reader.string(entry, key, here)
        children: dict[str, bool | None] = {}
        for child in nested.get(key, ()):
            inner, inner_path = reader.mapping(entry, child, here)
            if inner is not None or child in entry:
                children[child] = reader.boolean(inner or {}, "enabled", inner_path)
        features[key] = Feature(reader.boolean(entry, "enabled", here), value, MappingProxyType(children))
    return features, unknown


def read_timers(reader: Reader, node: Mapping[str, Any], path: str) -> dict[str, bool | None]:
    """clock.timer (or preferredTimer): the present of each timer written."""
    timers: dict[str, bool | None] = {}
    for name in ("hyperv", "kvm", "hpet", "pit", "rtc"):
        timer, here = reader.mapping(node, name, path)
        if timer is not None or name in node:
            timers[name] = reader.boolean(timer or {}, "present", here)
    return timers


def read_cpu_features(reader: Reader, node: Mapping[str, Any], key: str, path: str) -> list[tuple[str, str]]:
    items, here = reader.sequence(node, key, path)
    features = []
    for index in range(len(items)):
        item, item_path = reader.item(items, index, here)
        name = reader.string(item, "name", item_path)
        if not name:
            raise reader._fail(f"{item_path}.name", "a CPU feature needs a name")
        features.append((name, reader.string(item, "policy", item_path) or ""))
    return features


def read_domain(reader: Reader, domain: Mapping[str, Any], path: str) -> Domain:
    read = Domain()
    features, features_path = reader.mapping(domain, "features", path)
    if features is not None:
        hyperv, hyperv_path = reader.mapping(features, "hyperv", features_path)
        if hyperv is not None or "hyperv" in features:
            read.hyperv, read.unknown = read_hyperv(reader, hyperv or {}, hyperv_path)
        passthrough, passthrough_path = reader.mapping(features, "hypervPassthrough", features_path)
        if passthrough is not None or "hypervPassthrough" in features:
            read.passthrough_written = True
            read.passthrough = reader.boolean(passthrough or {}, "enabled", passthrough_path)
        kvm, kvm_path = reader.mapping(features, "kvm", features_path)
        if kvm is not None or "kvm" in features:
            read.kvm_hidden = bool(reader.boolean(kvm or {}, "hidden", kvm_path))
    clock, clock_path = reader.mapping(domain, "clock", path)
    if clock is not None:
        utc, _ = reader.mapping(clock, "utc", clock_path)
        timezone = reader.string(clock, "timezone", clock_path)
        read.clock_offset = "utc" if utc is not None or "utc" in clock else "timezone" if timezone else None
        timer, timer_path = reader.mapping(clock, "timer", clock_path)
        if timer is not None or "timer" in clock:
            read.timers = read_timers(reader, timer or {}, timer_path)
    cpu, cpu_path = reader.mapping(domain, "cpu", path)
    if cpu is not None:
        read.cpu_model = reader.string(cpu, "model", cpu_path) or None
        read.cpu_features = read_cpu_features(reader, cpu, "features", cpu_path)
    devices, devices_path = reader.mapping(domain, "devices", path)
    if devices is not None:
        panics, panics_path = reader.sequence(devices, "panicDevices", devices_path)
        for index in range(len(panics)):
            panic, panic_path = reader.item(panics, index, panics_path)
            read.hyperv_panics += reader.string(panic, "model", panic_path) == "hyperv"
    machine, machine_path = reader.mapping(domain, "machine", path)
    if machine is not None:
        read.machine = reader.string(machine, "type", machine_path) or None
    return read


def apply_preference(reader: Reader, domain: Domain, preference: Mapping[str, Any], path: str) -> None:
    """What a preference adds to a VM: each preferred hyperv field the VM
    leaves unset, the timers when it has none, the clock offset when it sets
    none, the kvm feature when it has none, and CPU features by name."""
    spec, spec_path = reader.mapping(preference, "spec", path)
    if spec is None:
        return
    features, features_path = reader.mapping(spec, "features", spec_path)
    if features is not None:
        hyperv, hyperv_path = reader.mapping(features, "preferredHyperv", features_path)
        if hyperv is not None:
            preferred, _ = read_hyperv(reader, hyperv, hyperv_path)
            domain.hyperv = {**preferred, **(domain.hyperv or {})}
        kvm, kvm_path = reader.mapping(features, "preferredKvm", features_path)
        if kvm is not None and domain.kvm_hidden is None:
            domain.kvm_hidden = bool(reader.boolean(kvm, "hidden", kvm_path))
    clock, clock_path = reader.mapping(spec, "clock", spec_path)
    if clock is not None:
        timer, timer_path = reader.mapping(clock, "preferredTimer", clock_path)
        if timer is not None and domain.timers is None:
            domain.timers = read_timers(reader, timer, timer_path)
        offset, offset_path = reader.mapping(clock, "preferredClockOffset", clock_path)
        if offset is not None and domain.clock_offset is None:
            utc, _ = reader.mapping(offset, "utc", offset_path)
            timezone = reader.string(offset, "timezone", offset_path)
            domain.clock_offset = "utc" if utc is not None or "utc" in offset else "timezone" if timezone else None
    cpu, cpu_path = reader.mapping(spec, "cpu", spec_path)
    if cpu is not None:
        written = {name for name, _ in domain.cpu_features}
        preferred_features = read_cpu_features(reader, cpu, "preferredCPUFeatures", cpu_path)
        domain.cpu_features += [(name, policy) for name, policy in preferred_features if name not in written]


def mutate(domain: Domain) -> tuple[str, ...]:
    """KubeVirt's mutating webhook: an enabled feature's unset requirement
    is enabled (leaves first, so that a chain is followed), and evmcs brings
    the vmx CPU feature with policy require. Returns what it enabled."""
    facts = kubevirt_facts()
    hyperv = domain.hyperv
    if hyperv is None:
        return ()
    enabled: list[str] = []
    for feature, requirement in facts.requires:
        if feature in hyperv and hyperv[feature].enabled is True:
            current = hyperv.get(requirement)
            if current is None or current.enabled is None:
                hyperv[requirement] = replace(current, enabled=True) if current else Feature(True)
                enabled.append(requirement)
    evmcs = hyperv.get("evmcs")
    if evmcs is not None and evmcs.enabled is not False:
        wanted = (facts.evmcs_cpu_feature, facts.evmcs_cpu_policy)
        names = [name for name, _ in domain.cpu_features]
        if facts.evmcs_cpu_feature in names:
            domain.cpu_features = [wanted if name == wanted[0] else (name, p) for name, p in domain.cpu_features]
        else:
            domain.cpu_features.append(wanted)
    return tuple(enabled)


def _on_off(enabled: bool | None) -> str:
    return "off" if enabled is False else "on"


def _hyperv_children(hyperv: Mapping[str, Feature]) -> tuple[HypervChild, ...]:
    """The <hyperv> children the converter writes, in its order."""
    _, _, elements = _hyperv_fields()
    children = []
    for name, element in elements.items():
        feature = hyperv.get(name)
        if feature is None:
            continue
        state = _on_off(feature.enabled)
        nested = tuple(HypervChild(child, _on_off(on), None, (), 0) for child, on in feature.nested.items())
        value = feature.value if state == "on" else None
        children.append(HypervChild(element, state, value, nested, 0))
    return tuple(children)


def _cpu(domain: Domain) -> Cpu:
    facts = kubevirt_facts()
    model = domain.cpu_model
    if model in (None, "host-model", "host-passthrough"):
        mode, model = model or facts.default_cpu_mode, None
    else:
        mode = "custom"
    policies = tuple(policy or facts.default_cpu_policy for _, policy in domain.cpu_features)
    names = tuple(name for name, _ in domain.cpu_features)
    return Cpu(mode, model, None, policies, names, None, None, None)


_TIMER_ELEMENTS = {"hyperv": "hypervclock", "kvm": "kvmclock"}


def to_vm(
    domain: Domain,
    *,
    kind: str,
    name: str,
    base: str,
    mutated: tuple[str, ...],
    preference: tuple[str, str] | None,
    preference_found: bool,
    document_index: int,
    lines: Mapping[str, int],
) -> KubevirtVm:
    """The domain virt-launcher defines, with the KubeVirt fields kept."""
    hyperv = domain.hyperv
    mode = "custom" if hyperv is not None else "passthrough" if domain.passthrough else None
    timers = tuple(
        Timer(element, "no" if present is False else "yes", None, None)
        for timer, element in _TIMER_ELEMENTS.items()
        if domain.timers is not None and timer in domain.timers
        for present in (domain.timers[timer],)
    )
    states = {key: feature.enabled for key, feature in (hyperv or {}).items()}
    return KubevirtVm(
        name=name,
        domain_type="kvm",
        arch="x86_64",
        machine=domain.machine,
        hyperv_mode=mode,
        hyperv=_hyperv_children(hyperv or {}),
        timers=timers,
        hyperv_panics=domain.hyperv_panics,
        hyperv_panic_has_address=False,
        kvm=({"hidden": _on_off(domain.kvm_hidden)},) if domain.kvm_hidden is not None else (),
        apic_eoi=None,
        pvspinlock=None,
        pmu=None,
        cpu=_cpu(domain),
        os_id=None,
        clock_offset=domain.clock_offset,
        kind=kind,
        vm_name=name,
        base=base,
        states=MappingProxyType(states),
        mutated=mutated,
        hyperv_written=hyperv is not None,
        passthrough=domain.passthrough if domain.passthrough_written else None,
        passthrough_written=domain.passthrough_written,
        unknown_fields=tuple(domain.unknown),
        preference=preference,
        preference_found=preference_found,
        document_index=document_index,
        lines=MappingProxyType(dict(lines)),
    )
