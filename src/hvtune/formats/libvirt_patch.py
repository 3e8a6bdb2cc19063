"""Apply a config change to domain XML text, touching only what it must.

Each changed value becomes the smallest edit libvirt would read that way: a
``state`` or value attribute on an existing ``<hyperv>`` child, a new child in
libvirt's element order, the ``hypervclock`` timer, the ``hyperv`` panic
device, ``<kvm><hidden>``, the ``tsc`` timer's frequency, a ``<cpu><feature>``
policy. Missing parents (``<features>``, ``<hyperv>``, ``<clock>``,
``<devices>``) are created where libvirt itself writes them. Removing a value
removes its element. Everything else in the text stays byte-identical.
"""

from __future__ import annotations

from collections.abc import Sequence

from hvtune.catalog import Property, load_catalog
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats.xmltext import (
    Node,
    escape,
    indent_unit,
    insert_element,
    quote_style,
    remove_attribute,
    remove_element,
    scan,
    set_attribute,
)
from hvtune.valuetypes import Value, display


class _Document:
    """Domain text with its scanned structure, rebuilt after every edit."""

    def __init__(self, text: str):
        self.text = text
        self.root = scan(text)
        self.quote = quote_style(self.root)
        self.unit = indent_unit(text, self.root)

    def element(self, open_tag: str, attributes: dict[str, str], children: Sequence[str] = ()) -> str:
        """A new element as text, in the document's quote style."""
        q = self.quote
        written = "".join(f" {name}={q}{escape(value, q)}{q}" for name, value in attributes.items())
        if not children:
            return f"<{open_tag}{written}/>"
        inner = "\n".join(self.unit + line for child in children for line in child.split("\n"))
        return f"<{open_tag}{written}>\n{inner}\n</{open_tag}>"


def _in_order(parent: Node, tag: str, order: Sequence[str]) -> Node | None:
    """The child to insert `tag` before, so that known tags keep `order`."""
    if tag not in order:
        return None
    rank = order.index(tag)
    return next((child for child in parent.children if child.tag in order and order.index(child.tag) > rank), None)


def _insert(text: str, parent: Node, fragment: str, tag: str, order: Sequence[str] = ()) -> str:
    document_unit = indent_unit(text, scan(text))
    return insert_element(text, parent, fragment, _in_order(parent, tag, order), document_unit)


def _ensure(text: str, path: Sequence[str]) -> str:
    """The text with every element of `path` (below <domain>) present."""
    facts = load_catalog().libvirt
    orders = {"features": facts.features_order}
    parent = scan(text)
    for depth, tag in enumerate(path):
        node = parent.child(tag)
        if node is None:
            order = facts.domain_order if depth == 0 else orders.get(parent.tag, ())
            document = _Document(text)
            return _ensure(_insert(text, parent, document.element(tag, {}), tag, order), path)
        parent = node
    return text


def _find(text: str, path: Sequence[str]) -> Node | None:
    node: Node | None = scan(text)
    for tag in path:
        node = node.child(tag) if node else None
    return node


def _set_hyperv_child(text: str, prop: Property, value: Value | None) -> str:
    assert prop.libvirt and prop.libvirt.element
    form = prop.libvirt
    element = form.element
    assert element is not None
    path = ["features", "hyperv"]
    if form.child:
        if value is None:
            parent = _find(text, [*path, element])
            nested = parent.child(form.child) if parent else None
            return remove_element(text, nested) if nested else text
        text = _set_hyperv_child(text, _by_element(element), True) if value else text
        parent = _find(text, [*path, element])
        if parent is None:
            return text
        nested = parent.child(form.child)
        state = "on" if value else "off"
        if nested is not None:
            return set_attribute(text, nested, "state", state, _Document(text).quote)
        return _insert(text, parent, _Document(text).element(form.child, {"state": state}), form.child)
    if value is None:
        while (node := _find(text, [*path, element])) is not None:
            text = remove_element(text, node)
        return text
    text = _ensure(text, path)
    document = _Document(text)
    hyperv = _find(text, path)
    assert hyperv is not None
    attributes = {"state": "off" if value is False else "on"}
    if form.attribute and value is not False:
        attributes[form.attribute] = display(value)
    node = hyperv.child(element)
    if node is None:
        order = load_catalog().libvirt.hyperv_elements
        return _insert(text, hyperv, document.element(element, attributes), element, order)
    for name, written in attributes.items():
        node = _find(text, [*path, element])
        assert node is not None
        text = set_attribute(text, node, name, written, document.quote)
    return text


def _by_element(element: str) -> Property:
    return load_catalog().by_libvirt()[element]


def _set_timer(text: str, name: str, attribute: str, written: str | None) -> str:
    clock = _find(text, ["clock"])
    timers = [t for t in (clock.children if clock else []) if t.tag == "timer" and t.get("name") == name]
    if written is None:
        for timer in reversed(timers):
            text = remove_element(text, timer)
        return text
    if timers:
        return set_attribute(text, timers[-1], attribute, written, _Document(text).quote)
    if clock is None:
        text = _ensure(text, ["clock"])
        clock = _find(text, ["clock"])
        assert clock is not None
        text = set_attribute(text, clock, "offset", "utc", _Document(text).quote)
        clock = _find(text, ["clock"])
        assert clock is not None
    return _insert(text, clock, _Document(text).element("timer", {"name": name, attribute: written}), "timer")


def _set_panic(text: str, on: bool) -> str:
    devices = _find(text, ["devices"])
    panics = [p for p in (devices.children if devices else []) if p.tag == "panic" and p.get("model") == "hyperv"]
    if not on:
        for panic in reversed(panics):
            text = remove_element(text, panic)
        return text
    if panics:
        return text
    text = _ensure(text, ["devices"])
    devices = _find(text, ["devices"])
    assert devices is not None
    return _insert(text, devices, _Document(text).element("panic", {"model": "hyperv"}), "panic")


def set_hyperv_mode(text: str, mode: str | None, *, leaving: str | None = None) -> str:
    """Set <hyperv mode=...>; None goes back to the default (custom) when
    the mode was `leaving` (or any mode when `leaving` is None)."""
    if mode is not None:
        text = _ensure(text, ["features", "hyperv"])
        hyperv = _find(text, ["features", "hyperv"])
        assert hyperv is not None
        return set_attribute(text, hyperv, "mode", mode, _Document(text).quote)
    hyperv = _find(text, ["features", "hyperv"])
    if hyperv is None or hyperv.get("mode") is None or (leaving and hyperv.get("mode") != leaving):
        return text
    return remove_attribute(text, hyperv, "mode")


def _set_kvm_hidden(text: str, kvm_visible: bool | None) -> str:
    path = ["features", "kvm", "hidden"]
    if kvm_visible is None:
        node = _find(text, path)
        return remove_element(text, node) if node else text
    state = "off" if kvm_visible else "on"
    node = _find(text, path)
    if node is not None:
        return set_attribute(text, node, "state", state, _Document(text).quote)
    text = _ensure(text, ["features", "kvm"])
    kvm = _find(text, ["features", "kvm"])
    assert kvm is not None
    return _insert(text, kvm, _Document(text).element("hidden", {"state": state}), "hidden")


def _set_cpu_feature(text: str, name: str, on: bool | None, source: str) -> str:
    cpu = _find(text, ["cpu"])
    if cpu is None:
        if on is None:
            return text
        raise InputError(source, "<cpu>", f"cannot set {name}: the domain has no <cpu> element to add it to")
    features = [f for f in cpu.children if f.tag == "feature" and f.get("name") == name]
    if on is None:
        for feature in reversed(features):
            text = remove_element(text, feature)
        return text
    policy = "require" if on else "disable"
    if features:
        return set_attribute(text, features[-1], "policy", policy, _Document(text).quote)
    return _insert(text, cpu, _Document(text).element("feature", {"policy": policy, "name": name}), "feature")


def _set_migratable(text: str, value: bool | None, source: str) -> str:
    cpu = _find(text, ["cpu"])
    if cpu is None:
        if value is None:
            return text
        raise InputError(source, "<cpu>", "cannot set migratable: the domain has no <cpu mode='host-passthrough'>")
    if value is None:
        return remove_attribute(text, cpu, "migratable")
    return set_attribute(text, cpu, "migratable", "on" if value else "off", _Document(text).quote)


def _apply(text: str, name: str, value: Value | None, source: str) -> str:
    catalog = load_catalog()
    entry = catalog.entry(name)
    if isinstance(entry, Property) and entry.libvirt is not None:
        form = entry.libvirt
        if form.element:
            return _set_hyperv_child(text, entry, value)
        if form.timer:
            return _set_timer(text, form.timer, "present", None if value is None else ("yes" if value else "no"))
        if form.panic:
            return _set_panic(text, value is True)
        if form.mode:
            return set_hyperv_mode(text, form.mode if value is True else None, leaving=form.mode)
    if name == "kvm":
        return _set_kvm_hidden(text, None if value is None else bool(value))
    if name == "tsc-frequency":
        return _set_timer(text, "tsc", "frequency", None if value is None else str(value))
    if name in ("vmx", "invtsc"):
        return _set_cpu_feature(text, name, None if value is None else bool(value), source)
    if name == "migratable":
        return _set_migratable(text, None if value is None else bool(value), source)
    raise InputError(source, name, f"libvirt domain XML has no place for {name}")


def patch_domain(text: str, change: ConfigChange, *, source: str) -> str:
    """The domain text with `change` applied."""
    for name, value in change.values.items():
        text = _apply(text, name, value, source)
    return text


def replacement(config: HypervConfig) -> ConfigChange:
    """The change that makes a domain's Hyper-V setup `config`'s: every
    Hyper-V property libvirt can express takes config's value (unset ones are
    removed), neighbours only when config sets them. Under passthrough no
    <hyperv> children are written: libvirt takes none."""
    catalog = load_catalog()
    values: dict[str, Value | None] = {}
    for prop in catalog.properties:
        if prop.libvirt is None:
            continue
        element_form = prop.libvirt.element is not None
        values[prop.name] = None if config.passthrough and element_form else config.get(prop.name)
    for neighbour in catalog.neighbours:
        if config.get(neighbour.name) is not None:
            values[neighbour.name] = config.get(neighbour.name)
    return ConfigChange(values)


def _cpu_skeleton(config: HypervConfig) -> str:
    """A <cpu> for the fragments when config sets a CPU neighbour."""
    if not any(config.get(name) is not None for name in ("vmx", "invtsc", "migratable")):
        return ""
    if config.model in ("host", "max"):
        return f"  <cpu mode='{'host-passthrough' if config.model == 'host' else 'maximum'}'/>\n"
    model = escape(config.model or "qemu64", "'")
    return f"  <cpu mode='custom' match='exact'>\n    <model fallback='forbid'>{model}</model>\n  </cpu>\n"


def fragments(config: HypervConfig, *, source: str = "config") -> str:
    """The domain XML for `config`: <features> (<hyperv>, <kvm>), <cpu> when
    needed, <clock> with its timers and <devices> with the panic device."""
    skeleton = "<domain type='kvm'>\n" + _cpu_skeleton(config) + "</domain>\n"
    text = patch_domain(skeleton, replacement(config), source=source)
    if config.host_model:
        text = set_hyperv_mode(text, "host-model")
    root = scan(text)
    unit = indent_unit(text, root)
    parts = [text[child.start : child.end] for child in root.children]
    return "\n".join(part.replace("\n" + unit, "\n") for part in parts) + "\n"


def into_domain(text: str, config: HypervConfig, *, source: str) -> str:
    """Domain text whose Hyper-V setup becomes `config`'s."""
    text = patch_domain(text, replacement(config), source=source)
    if config.host_model:
        return set_hyperv_mode(text, "host-model")
    return set_hyperv_mode(text, None, leaving="host-model")
