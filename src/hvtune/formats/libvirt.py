"""The libvirt format: domain XML.

Reading keeps two things. ``LibvirtDomain`` records, as plain data, every part
of the domain that libvirt reads when it builds QEMU's ``-cpu`` (the
``<hyperv>`` children as written, including ones hvtune does not know, the
clock timers, panic devices, ``<kvm>``, ``<cpu>``); checks judge it and the
libvirt renderer turns it into the ``-cpu`` libvirt would build. The
HypervConfig is what the domain asks QEMU for, in hvtune's neutral form.

Like libvirt, a later duplicate child overrides an earlier one, ``<direct>``
under ``<stimer>`` (and ``<direct>``/``<extended>`` under ``<tlbflush>``) count
only when their parent is on, and ``retries``/``value`` count only when
``state='on'``. What libvirt would refuse but hvtune can still read (a value
out of libvirt's range, an element a release does not know) is read, and
left to the checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree

from hvtune.catalog import Property, load_catalog
from hvtune.config import ConfigValueError, HypervConfig
from hvtune.errors import InputError, Refusal
from hvtune.formats.libvirt_numbers import LibvirtNumberError, read_number
from hvtune.formats.reading import Reading
from hvtune.formats.xmlsafe import parse_xml
from hvtune.valuetypes import VALUE_TYPES, Value

LIBOSINFO = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
_STATES = ("on", "off")
_CPU_POLICIES = ("force", "require", "optional", "disable", "forbid")


class HypervChild(NamedTuple):
    """One child of ``<hyperv>`` (or of ``<stimer>``/``<tlbflush>``) as written.
    (Records read per element are named tuples: a domain has dozens, and a
    frozen dataclass costs several times as much to build.)"""

    name: str
    state: str
    attributes: Mapping[str, str]
    children: tuple[HypervChild, ...]
    line: int  # where it is written; kept (non-zero) for children with value attributes
    # The value attribute (retries, value) as libvirt reads it: only when on.
    value: Value | None = None


class Timer(NamedTuple):
    name: str
    present: str | None
    tickpolicy: str | None
    frequency: int | None


class Cpu(NamedTuple):
    """``<cpu>`` as libvirt's -cpu builder reads it."""

    mode: str
    model: str | None
    vendor_id: str | None
    features: tuple[tuple[str, str], ...]  # (policy, name)
    migratable: str | None
    cache_mode: str | None
    maxphysaddr: tuple[str, int | None] | None


@dataclass(frozen=True)
class LibvirtDomain:
    """The parts of a domain that decide its Hyper-V setup."""

    name: str
    domain_type: str
    arch: str
    machine: str | None
    hyperv_mode: str | None  # None when there is no <hyperv>
    hyperv: tuple[HypervChild, ...]
    timers: tuple[Timer, ...]
    hyperv_panics: int
    hyperv_panic_has_address: bool
    kvm: Mapping[str, str]  # <kvm> child -> state; present only with <kvm>
    has_kvm_element: bool
    apic_eoi: str | None
    pvspinlock: str | None
    pmu: str | None
    cpu: Cpu | None
    os_id: str | None
    emulator: str | None = None
    unknown: tuple[str, ...] = field(default=())  # <hyperv> children hvtune does not know

    def child(self, name: str) -> HypervChild | None:
        """The effective (last) <hyperv> child of that name."""
        found = [child for child in self.hyperv if child.name == name]
        return found[-1] if found else None

    def timer(self, name: str) -> Timer | None:
        found = [timer for timer in self.timers if timer.name == name]
        return found[-1] if found else None


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _first_children(parent: etree._Element | None, *tags: str) -> dict[str, etree._Element]:
    """Each tag's first element child (what parent.find(tag) would return),
    for all `tags` (default: every tag) in one pass."""
    found: dict[str, etree._Element] = {}
    if parent is not None:
        for child in parent.iterchildren(*tags) if tags else parent:
            tag = child.tag
            if isinstance(tag, str) and tag not in found:
                found[tag] = child
    return found


def _state(element: etree._Element, source: str) -> str:
    """libvirt's virXMLPropTristateSwitch with VIR_XML_PROP_REQUIRED."""
    state: str | None = element.get("state")
    if state in _STATES:
        return state
    if state is None:
        raise Refusal(
            "libvirt",
            source,
            f"line {element.sourceline}",
            f"Missing required attribute 'state' in element '{element.tag}'",
        )
    raise Refusal(
        "libvirt",
        source,
        f"line {element.sourceline}",
        f"Invalid value for attribute 'state' in element '{element.tag}': '{state}'.",
    )


def _number(element: etree._Element, attribute: str, source: str) -> int | None:
    """A numeric attribute as libvirt reads it (None when absent)."""
    text: str | None = element.get(attribute)
    if text is None:
        return None
    try:
        return read_number(str(element.tag), attribute, text)
    except LibvirtNumberError as refused:
        raise Refusal("libvirt", source, f"line {element.sourceline}", str(refused)) from None


def _value(element: etree._Element, prop: Property | None, source: str) -> Value | None:
    """The value attribute of a <hyperv> child that is on (libvirt reads it
    only then): a number as libvirt reads it, or the text."""
    if prop is None or prop.libvirt is None or prop.libvirt.attribute is None:
        return None
    attribute = prop.libvirt.attribute
    if VALUE_TYPES[prop.type].python is int:
        return _number(element, attribute, source)
    text: str | None = element.get(attribute)
    return text


def _hyperv_child(element: etree._Element, source: str, known: bool = True) -> HypervChild:
    """A child as written; libvirt refuses an unknown child by its name
    before it looks at its state, so only known ones must have one."""
    grandchildren = tuple(_hyperv_child(child, source, known) for child in _elements(element)) if len(element) else ()
    attributes = dict(element.items())
    state = _state(element, source) if known else attributes.get("state") or ""
    attributes.pop("state", None)
    value = _value(element, load_catalog().by_libvirt().get(element.tag), source) if state == "on" else None
    # only children with value attributes need their line, for those values' errors
    line = element.sourceline or 0 if attributes else 0
    return HypervChild(element.tag, state, attributes, grandchildren, line, value)


def _timers(clock: etree._Element | None, source: str) -> tuple[Timer, ...]:
    return tuple(
        Timer(
            name=element.get("name") or "",
            present=element.get("present"),
            tickpolicy=element.get("tickpolicy"),
            frequency=_number(element, "frequency", source),
        )
        for element in (clock if clock is not None else ())
        if element.tag == "timer"
    )


def _cpu(element: etree._Element | None, source: str) -> Cpu | None:
    if element is None:
        return None
    parts = _first_children(element)
    model = parts.get("model")
    mode = element.get("mode") or "custom"
    features = tuple(
        (feature.get("policy") or "require", feature.get("name") or "")
        for feature in element
        if feature.tag == "feature"
    )
    cache = parts.get("cache")
    address = parts.get("maxphysaddr")
    maxphysaddr = None
    if address is not None:
        maxphysaddr = (address.get("mode") or "", _number(address, "bits", source))
    return Cpu(
        mode=mode,
        model=(model.text or "").strip() or None if model is not None else None,
        vendor_id=model.get("vendor_id") if model is not None else None,
        features=features,
        migratable=element.get("migratable"),
        cache_mode=cache.get("mode") if cache is not None else None,
        maxphysaddr=maxphysaddr,
    )


def _feature_state(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return element.get("state") or "on"


def _text(element: etree._Element | None) -> str | None:
    """An element's text, stripped; None when it is missing or empty."""
    return (element.text or "").strip() or None if element is not None else None


def _os_id(metadata: etree._Element | None) -> str | None:
    if metadata is None:
        return None
    for libosinfo in metadata.iterchildren(f"{{{LIBOSINFO}}}libosinfo"):
        for os_element in libosinfo.iterchildren(f"{{{LIBOSINFO}}}os"):
            found: str | None = os_element.get("id")
            return found
    return None


def read_domain(root: etree._Element, *, source: str) -> LibvirtDomain:
    """The facts of a parsed <domain> element."""
    if root.tag != "domain":
        raise InputError(source, f"line {root.sourceline}", f"the root element is <{root.tag}>, not a libvirt <domain>")
    top = _first_children(root, "name", "metadata", "os", "features", "cpu", "clock", "devices")
    features = _first_children(top.get("features"))
    hyperv, kvm, apic = features.get("hyperv"), features.get("kvm"), features.get("apic")
    os_type = _first_children(top.get("os")).get("type")
    devices = top.get("devices")
    # devices are many: let lxml pick the two kinds needed without building the rest
    panics = [p for p in devices.iterchildren("panic") if p.get("model") == "hyperv"] if devices is not None else []
    emulator = next(devices.iterchildren("emulator"), None) if devices is not None else None
    known = load_catalog().libvirt.known_hyperv
    children = tuple(
        _hyperv_child(child, source, child.tag in known) for child in (_elements(hyperv) if hyperv is not None else ())
    )
    return LibvirtDomain(
        name=_text(top.get("name")) or "",
        domain_type=root.get("type") or "",
        arch=(os_type.get("arch") if os_type is not None else None) or "x86_64",
        machine=os_type.get("machine") if os_type is not None else None,
        hyperv_mode=(hyperv.get("mode") or "custom") if hyperv is not None else None,
        hyperv=children,
        timers=_timers(top.get("clock"), source),
        hyperv_panics=len(panics),
        hyperv_panic_has_address=any(panic.find("address") is not None for panic in panics),
        kvm={child.tag: child.get("state") or "" for child in _elements(kvm)} if kvm is not None else {},
        has_kvm_element=kvm is not None,
        apic_eoi=apic.get("eoi") if apic is not None else None,
        pvspinlock=_feature_state(features.get("pvspinlock")),
        pmu=_feature_state(features.get("pmu")),
        cpu=_cpu(top.get("cpu"), source),
        os_id=_os_id(top.get("metadata")),
        emulator=_text(emulator),
        unknown=tuple(dict.fromkeys(child.name for child in children if child.name not in known)),
    )


def _attribute_value(child: HypervChild, prop: Property) -> Value | None:
    """The value of a child's value attribute (retries, value), or the
    property's default for a number libvirt lets one omit, or None."""
    if child.value is None and VALUE_TYPES[prop.type].python is int:
        return prop.default
    return child.value


def _hyperv_values(domain: LibvirtDomain, source: str) -> dict[str, Value]:
    """What the <hyperv> children ask QEMU for, in QEMU's names."""
    by_libvirt = load_catalog().by_libvirt()
    values: dict[str, Value] = {}
    if domain.hyperv_mode == "passthrough":
        values["hv-passthrough"] = True
    for child in domain.hyperv:
        prop = by_libvirt.get(child.name)
        if prop is None:
            continue
        value: Value | None = child.state == "on"
        if prop.libvirt and prop.libvirt.attribute:
            value = _attribute_value(child, prop) if value else None
        if value is None:
            values.pop(prop.name, None)
        else:
            values[prop.name] = value
        for grandchild in child.children if child.state == "on" else ():
            nested = by_libvirt.get(f"{child.name}.{grandchild.name}")
            if nested is not None:
                values[nested.name] = grandchild.state == "on"
    return values


def _cpu_values(cpu: Cpu | None) -> tuple[str | None, dict[str, Value], tuple[str, ...]]:
    """The QEMU model token, the neighbours and the other tokens of <cpu>."""
    if cpu is None:
        return None, {}, ()
    model = {"host-passthrough": "host", "maximum": "max", "custom": cpu.model}.get(cpu.mode)
    catalog = load_catalog()
    names = catalog.libvirt.cpu_feature_names
    values: dict[str, Value] = {}
    extra = []
    for policy, name in cpu.features:
        if policy == "optional":
            continue
        on = policy in ("force", "require")
        qemu_name = names.get(name, name)
        if catalog.entry(qemu_name) is not None:
            values[qemu_name] = on
        else:
            extra.append(f"{qemu_name}={'on' if on else 'off'}")
    if cpu.migratable in _STATES and cpu.mode in ("host-passthrough", "maximum"):
        values["migratable"] = cpu.migratable == "on"
    return model, values, tuple(extra)


def domain_config(domain: LibvirtDomain, *, source: str) -> HypervConfig:
    """What the domain asks QEMU for."""
    model, values, extra = _cpu_values(domain.cpu)
    values.update(_hyperv_values(domain, source))
    hypervclock = domain.timer("hypervclock")
    if hypervclock is not None and hypervclock.present in ("yes", "no"):
        values["hv-time"] = hypervclock.present == "yes"
    tsc = domain.timer("tsc")
    if tsc is not None and tsc.frequency:
        values["tsc-frequency"] = tsc.frequency
    if domain.hyperv_panics:
        values["hv-crash"] = True
    hidden = domain.kvm.get("hidden")
    if hidden in _STATES:
        values["kvm"] = hidden == "off"
    try:
        return HypervConfig(
            model=model,
            values=values,
            machine=domain.machine,
            extra=extra,
            host_model=domain.hyperv_mode == "host-model",
        )
    except ConfigValueError as error:
        where = {"model": "<cpu><model> ", "token": "<cpu><feature> "}.get(error.name, "")
        raise InputError(source, where + error.place, error.problem) from None


def guest_os(domain: LibvirtDomain) -> str | None:
    if domain.os_id is None:
        return None
    guest = load_catalog().guest_for_libosinfo(domain.os_id)
    return guest.name if guest else None


def parse_text(text: str, *, source: str) -> Reading:
    domain = read_domain(parse_xml(text, source=source), source=source)
    return Reading(source, "libvirt", domain_config(domain, source=source), guest_os=guest_os(domain), libvirt=domain)
