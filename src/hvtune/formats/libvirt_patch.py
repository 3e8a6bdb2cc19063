"""Apply a config change to domain XML text, touching only what it must.

Each changed value becomes the smallest edit libvirt would read that way: a
``state`` or value attribute on an existing ``<hyperv>`` child, a new child in
libvirt's element order, the ``hypervclock`` timer, the ``hyperv`` panic
device, ``<kvm><hidden>``, the ``tsc`` timer's frequency, a ``<cpu><feature>``
policy. Missing parents (``<features>``, ``<hyperv>``, ``<clock>``,
``<devices>``) are created where libvirt itself writes them. Removing a value
removes its element. A misspelt ``<hyperv>`` child (ConfigChange.renames) is
renamed in its start and end tags, every copy, before the values are
written. A ``<stimer>`` or ``<tlbflush>`` copy that is off and gets switched
on loses the children libvirt does not know: libvirt passed over them while
it was off, and would refuse them once it is on. Everything else in the text
stays byte-identical.

The edits go where libvirt reads (see formats/libvirt.py): libvirt reads
every ``<hyperv>`` child of every ``<features>`` in turn, each ``<timer>`` of
every ``<clock>``, each panic of every ``<devices>``, and only the first
``<cpu>``. So a value is written into every copy of its element (none keeps
a value libvirt refuses or one that disagrees), a new child goes into the
last ``<hyperv>`` or ``<kvm>`` (whose mode, or whose whole content, some
releases take), a new timer into the first ``<clock>`` (whose offset libvirt
reads), a new panic device into the first ``<devices>``. A ``<cpu>`` feature
libvirt refuses to see twice is left once.

The text is cut into pieces once (xmltext.Document); every edit changes
pieces and the result is joined once, so the cost stays linear in the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hvtune.catalog import load_catalog
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats.xmltext import Document, Element, Part, escape
from hvtune.forms.libvirt import (
    CpuAttributeForm,
    CpuFeatureForm,
    HypervChildForm,
    HypervGrandchildForm,
    LibvirtForm,
)
from hvtune.valuetypes import Value, display


def _ranked_after(order: Sequence[str], tags: Iterable[str]) -> frozenset[str]:
    """The tags `order` puts after the first of `tags`: those a new one of
    `tags` may have to go before."""
    ranks = [order.index(tag) for tag in tags if tag in order]
    return frozenset(order[min(ranks) + 1 :]) if ranks else frozenset()


class _Planner:
    """What a change's forms edit (hvtune.forms.libvirt.PartPlanner), made
    into the Part the document is taken apart by."""

    def __init__(self) -> None:
        self.top: set[str] = set()
        self.features: set[str] = set()
        self.hyperv_children: set[str] = set()
        self.kvm_hints: set[str] = set()
        self.timers: set[str] = set()
        self.panics: set[str] = set()
        self.cpu_features: set[str] = set()

    def hyperv(self, element: str | None = None) -> None:
        self.features.add("hyperv")
        if element is not None:
            self.hyperv_children.add(element)

    def kvm(self, hint: str) -> None:
        self.features.add("kvm")
        self.kvm_hints.add(hint)

    def timer(self, name: str) -> None:
        self.timers.add(name)

    def panic(self, model: str) -> None:
        self.panics.add(model)

    def cpu(self, feature: str | None = None) -> None:
        self.top.add("cpu")
        if feature is not None:
            self.cpu_features.add(feature)

    def part(self) -> Part:
        """The elements edited (every copy: <features>, <hyperv> and <kvm>,
        <hyperv> children and theirs, <clock> and its timers named, <devices>
        and its panics named, <cpu> and its features named) and the first of
        each element a new one may have to go before, and no more."""
        facts = load_catalog().libvirt
        inside_top: dict[str, Part] = {}
        if self.timers:
            inside_top["clock"] = Part(kept=frozenset(f"timer name={timer}" for timer in self.timers))
        if self.panics:
            inside_top["devices"] = Part(kept=frozenset(f"panic model={model}" for model in self.panics))
        if self.cpu_features:
            inside_top["cpu"] = Part(kept=frozenset(f"feature name={feature}" for feature in self.cpu_features))
        if self.features:
            hyperv = self.hyperv_children
            # each copy of an edited child taken apart: switched on, its
            # unknown children are dropped (_Editor.hyperv_child)
            inside_hyperv = {element: Part(every=True) for element in hyperv}
            inside_features = {
                "hyperv": Part(
                    kept=frozenset(hyperv), firsts=_ranked_after(facts.hyperv_elements, hyperv), inside=inside_hyperv
                )
            }
            if self.kvm_hints:
                inside_features["kvm"] = Part(kept=frozenset(self.kvm_hints))
            # of thousands of <hyperv> or <kvm>, those holding an edited
            # child, and the last (which takes new children and the mode)
            holding = {"hyperv": frozenset(hyperv), "kvm": frozenset(self.kvm_hints)}
            inside_top["features"] = Part(
                kept=frozenset(self.features - holding.keys()),
                firsts=_ranked_after(facts.features_order, self.features),
                inside=inside_features,
                holding={tag: holding[tag] for tag in self.features & holding.keys()},
            )
        top = self.top | inside_top.keys()
        # of thousands of <clock> or <devices>, those that may hold a timer
        # or panic device edited, and the first (which takes new ones)
        holding = {tag: inside_top[tag].kept for tag in ("clock", "devices") if tag in inside_top.keys() - self.top}
        return Part(
            kept=frozenset(top - holding.keys()),
            firsts=_ranked_after(facts.domain_order, top & {"features", "clock", "devices"}) | frozenset(holding),
            inside=inside_top,
            holding=holding,
        )


def _part(change: ConfigChange, *, clock: bool) -> Part:
    """What making `change` (and with `clock`, changing the clock's offset)
    needs taken apart (see _Planner.part)."""
    planner = _Planner()
    for form in _forms(change.values):
        form.plan(planner)
    for rename in change.renames:
        planner.hyperv(rename.written)
    if clock:
        planner.top.add("clock")
    return planner.part()


def _forms(names: Iterable[str]) -> list[LibvirtForm]:
    catalog = load_catalog()
    return [form for name in names if (entry := catalog.entry(name)) and (form := entry.libvirt)]


def _in_order(parent: Element, tag: str, order: Sequence[str]) -> Element | None:
    """The child to insert `tag` before, so that known tags keep `order`."""
    if tag not in order:
        return None
    rank = order.index(tag)
    ranks = {name: index for index, name in enumerate(order) if index > rank}
    return next((child for child in parent.children if child.tag in ranks), None)


class _Domain:
    """Domain text as pieces, with the places libvirt reads."""

    def __init__(self, text: str, change: ConfigChange, *, clock: bool = False):
        self.document = Document(text, _part(change, clock=clock))
        self.root = self.document.root
        self.facts = load_catalog().libvirt

    def render(self) -> str:
        return self.document.render()

    def add(self, parent: Element, tag: str, attributes: dict[str, str], order: Sequence[str] = ()) -> Element:
        """A new element in `parent`, before the first that `order` puts after it."""
        element = self.document.element(tag, attributes)
        self.document.insert(parent, element, _in_order(parent, tag, order))
        return element

    def set(self, element: Element, name: str, value: str) -> None:
        self.document.set_attribute(element, name, value)

    def remove(self, elements: Iterable[Element]) -> None:
        self.document.remove(elements)

    # --- where libvirt reads (an element not yet taken apart whose text
    # lacks a name holds no such child, and is passed over) ----------------

    def top(self, tag: str) -> list[Element]:
        return self.root.named(tag)

    def in_features(self, tag: str, holding: str = "") -> list[Element]:
        """Every <features>' `tag` children (those whose text may hold
        `holding`), in document order."""
        features = [each for each in self.top("features") if each.holds(holding)]
        return [child for child in _named(features, tag) if child.holds(holding)]

    def last_in_features(self, tag: str) -> Element | None:
        """The last <features> child `tag`, the only one taken apart."""
        for features in reversed(self.top("features")):
            found = features.named(tag) if features.holds("<" + tag) else []
            if found:
                return found[-1]
        return None

    def hyperv_copies(self, tag: str) -> list[Element]:
        """Every copy of a <hyperv> child, in every <hyperv>; a domain may
        have thousands of <features> and <hyperv>: only those holding the
        name are taken apart."""
        return _named(self.in_features("hyperv", "<" + tag), tag)

    def timers(self, name: str) -> list[Element]:
        clocks = [clock for clock in self.top("clock") if clock.holds(name)]
        return [timer for timer in _named(clocks, "timer") if timer.get("name") == name]

    def panics(self, model: str) -> list[Element]:
        devices = [each for each in self.top("devices") if each.holds(model)]
        return [panic for panic in _named(devices, "panic") if panic.get("model") == model]

    def cpu(self) -> Element | None:
        return next(iter(self.top("cpu")), None)

    # --- parents, created where libvirt writes them -------------------------

    def _top(self, tag: str, *, last: bool) -> Element:
        found = self.top(tag)
        if found:
            return found[-1] if last else found[0]
        return self.add(self.root, tag, {}, self.facts.domain_order)

    def _in_features(self, tag: str) -> Element:
        found = self.last_in_features(tag)
        if found is not None:
            return found
        return self.add(self._top("features", last=True), tag, {}, self.facts.features_order)

    def hyperv(self) -> Element:
        return self._in_features("hyperv")

    def kvm(self) -> Element:
        return self._in_features("kvm")

    def clock(self) -> Element:
        """The first <clock> (libvirt reads its offset), made when missing."""
        if not self.top("clock"):
            self.set(self._top("clock", last=False), "offset", "utc")
        return self._top("clock", last=False)

    def devices(self) -> Element:
        return self._top("devices", last=False)


def _named(parents: list[Element], tag: str) -> list[Element]:
    """The `tag` children of `parents`, in document order."""
    return [child for parent in parents if parent.holds("<" + tag) for child in parent.named(tag)]


class _Editor:
    """The edits the forms ask for (hvtune.forms.libvirt.DomainEditor), on
    one domain read from `source`."""

    def __init__(self, domain: _Domain, source: str):
        self.domain = domain
        self.source = source

    def hyperv_child(self, element: str, value: Value | None, attribute: str | None) -> None:
        domain = self.domain
        if value is None:
            domain.remove(domain.hyperv_copies(element))
            return
        attributes = {"state": "off" if value is False else "on"}
        if attribute and value is not False:
            attributes[attribute] = display(value)
        hyperv = domain.hyperv()
        copies = domain.hyperv_copies(element)
        if not copies:
            domain.add(hyperv, element, attributes, domain.facts.hyperv_elements)
        if value is not False:
            domain.remove(self._unknown_in_off(element, copies))
        for copy in copies:
            for name, written in attributes.items():
                domain.set(copy, name, written)

    def _unknown_in_off(self, element: str, copies: list[Element]) -> list[Element]:
        """The children libvirt does not know in the copies of `element`
        that are off: libvirt passes over them (it reads the children of a
        <stimer> or <tlbflush> that is on), but refuses them once the copy
        is switched on, so switching it on drops them."""
        known = load_catalog().by_libvirt()
        off = [copy for copy in copies if copy.get("state") != "on"]
        return [child for copy in off for child in copy.children if f"{element}.{child.tag}" not in known]

    def rename_hyperv_child(self, written: str, meant: str) -> None:
        """Every copy of a <hyperv> child libvirt does not know, renamed to
        the one it means (its attributes and children kept)."""
        for copy in self.domain.hyperv_copies(written):
            self.domain.document.rename(copy, meant)

    def hyperv_grandchild(self, element: str, child: str, value: bool | None) -> None:
        domain = self.domain
        if value is None:
            domain.remove(_named(domain.hyperv_copies(element), child))
            return
        if value:
            self.hyperv_child(element, True, None)
        parents = domain.hyperv_copies(element)
        if not parents:
            return
        state = "on" if value else "off"
        for nested in _named(parents, child):
            domain.set(nested, "state", state)
        if not parents[-1].named(child):
            domain.add(parents[-1], child, {"state": state})

    def hyperv_mode(self, mode: str | None, *, leaving: str | None = None) -> None:
        """Set <hyperv mode=...> (on the last <hyperv>, whose mode libvirt
        takes); None goes back to the default (custom) when the mode was
        `leaving` (or any mode when `leaving` is None)."""
        domain = self.domain
        if mode is not None:
            domain.set(domain.hyperv(), "mode", mode)
            return
        hyperv = domain.last_in_features("hyperv")
        written = hyperv.get("mode") if hyperv is not None else None
        if hyperv is not None and written is not None and (leaving is None or written == leaving):
            domain.document.remove_attribute(hyperv, "mode")

    def timer(self, name: str, attribute: str, written: str | None) -> None:
        domain = self.domain
        timers = domain.timers(name)
        if written is None:
            domain.remove(timers)
        elif timers:
            for timer in timers:
                domain.set(timer, attribute, written)
        else:
            domain.add(domain.clock(), "timer", {"name": name, attribute: written})

    def panic(self, model: str, on: bool) -> None:
        domain = self.domain
        panics = domain.panics(model)
        if not on:
            domain.remove(panics)
        elif not panics:
            domain.add(domain.devices(), "panic", {"model": model})

    def kvm_hint(self, hint: str, state: str | None) -> None:
        """In every <kvm>'s copy, and in the last <kvm> (some releases read
        only the last <kvm>, later ones all of them)."""
        domain = self.domain
        copies = _named(domain.in_features("kvm", "<" + hint), hint)
        if state is None:
            domain.remove(copies)
            return
        for copy in copies:
            domain.set(copy, "state", state)
        kvm = domain.kvm()
        if not kvm.named(hint):
            domain.add(kvm, hint, {"state": state})

    def _cpu(self, name: str, needed: bool) -> Element | None:
        cpu = self.domain.cpu()
        if cpu is None and needed:
            raise InputError(self.source, "<cpu>", f"cannot set {name}: the domain has no <cpu> element to set it in")
        return cpu

    def cpu_feature(self, name: str, on: bool | None) -> None:
        domain = self.domain
        cpu = self._cpu(name, on is not None)
        if cpu is None:
            return
        features = [feature for feature in cpu.named("feature") if feature.get("name") == name]
        if on is None:
            domain.remove(features)
            return
        policy = "require" if on else "disable"
        if not features:
            domain.add(cpu, "feature", {"policy": policy, "name": name})
            return
        domain.set(features[0], "policy", policy)
        domain.remove(features[1:])  # libvirt refuses a feature named twice

    def cpu_attribute(self, name: str, written: str | None) -> None:
        cpu = self._cpu(name, written is not None)
        if cpu is None:
            return
        if written is None:
            self.domain.document.remove_attribute(cpu, name)
        else:
            self.domain.set(cpu, name, written)


def _patched(text: str, change: ConfigChange, source: str, *, clock: bool = False) -> _Editor:
    editor = _Editor(_Domain(text, change, clock=clock), source)
    for rename in change.renames:
        editor.rename_hyperv_child(rename.written, rename.meant)
    catalog = load_catalog()
    for name, value in change.values.items():
        entry = catalog.entry(name)
        if entry is None or entry.libvirt is None:
            raise InputError(source, name, f"libvirt domain XML has no place for {name}")
        entry.libvirt.write(editor, value)
    return editor


def patch_domain(text: str, change: ConfigChange, *, source: str) -> str:
    """The domain text with `change` applied."""
    return _patched(text, change, source).domain.render()


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
        child = isinstance(prop.libvirt, HypervChildForm | HypervGrandchildForm)
        values[prop.name] = None if config.passthrough and child else config.get(prop.name)
    for neighbour in catalog.neighbours:
        if config.get(neighbour.name) is not None:
            values[neighbour.name] = config.get(neighbour.name)
    return ConfigChange(values)


def _cpu_skeleton(config: HypervConfig) -> str:
    """A <cpu> for the fragments: the model the config names (host is
    host-passthrough, max maximum, any other a custom model), or qemu64 when
    it names none but sets a CPU neighbour."""
    catalog = load_catalog()
    in_cpu = (CpuFeatureForm, CpuAttributeForm)
    needed = any(isinstance(entry.libvirt, in_cpu) for name in config.values if (entry := catalog.entry(name)))
    if config.model is None and not needed:
        return ""
    if config.model in ("host", "max"):
        return f"  <cpu mode='{'host-passthrough' if config.model == 'host' else 'maximum'}'/>\n"
    # check='none': libvirt passes the model on as QEMU's -cpu does, without
    # refusing a host that lacks some of its features (libvirt 9.0 refused
    # Skylake-Server on an EPYC host: "Host CPU does not provide required features")
    model = escape(config.model or "qemu64", "'")
    return f"  <cpu mode='custom' match='exact' check='none'>\n    <model fallback='forbid'>{model}</model>\n  </cpu>\n"


def _into(text: str, config: HypervConfig, source: str) -> _Domain:
    """The domain whose Hyper-V setup becomes `config`'s, with its clock's
    offset when config says one."""
    editor = _patched(text, replacement(config), source, clock=config.clock is not None)
    editor.hyperv_mode("host-model" if config.host_model else None, leaving="host-model")
    if config.clock is not None:
        editor.domain.set(editor.domain.clock(), "offset", config.clock)
    return editor.domain


def fragments(config: HypervConfig, *, source: str = "config") -> str:
    """The domain XML for `config`: <features> (<hyperv>, <kvm>), <cpu> when
    needed, <clock> with its timers and <devices> with the panic device."""
    skeleton = "<domain type='kvm'>\n" + _cpu_skeleton(config) + "</domain>\n"
    domain = _into(skeleton, config, source)
    unit = domain.document.indent_unit()
    parts = [child.text() for child in domain.root.children]
    return "\n".join(part.replace("\n" + unit, "\n") for part in parts) + "\n"


def into_domain(text: str, config: HypervConfig, *, source: str) -> str:
    """Domain text whose Hyper-V setup becomes `config`'s."""
    return _into(text, config, source).render()
