"""The libvirt format: domain XML.

Reading keeps two things. ``LibvirtDomain`` records, as plain data, every part
of the domain that libvirt reads when it builds QEMU's ``-cpu`` (the
``<hyperv>`` children as written, including ones hvtune does not know, the
clock timers, panic devices, ``<kvm>``, ``<cpu>``); checks judge it and the
libvirt renderer turns it into the ``-cpu`` libvirt would build. The
HypervConfig is what the domain asks QEMU for, in hvtune's neutral form.

It reads what libvirt reads, duplicates included (seen with libvirt 9.0,
11.3 and 12.8): the children of every ``<features>`` in document order, so
the ``<hyperv>`` children of every ``<hyperv>`` in turn, the mode of the last
``<hyperv>``, the last ``<apic>``, ``<pmu>``, ``<pvspinlock>``; the ``<kvm>``
children of every ``<kvm>`` (libvirt 9.0 keeps only the last ``<kvm>``, later
releases all: see ``kvm_hints``); every ``<timer>`` of every ``<clock>``; the
panic devices of every ``<devices>``; and only the first ``<cpu>``, the first
``<os><type>`` and the first ``<devices><emulator>``. Of a ``<hyperv>`` child
written twice the later copy wins; ``<direct>`` under ``<stimer>`` (and
``<direct>``/``<extended>`` under ``<tlbflush>``) count only when their
parent copy is on, and then stay until a later one says otherwise;
``retries``/``value`` count only when ``state='on'``. What libvirt would
refuse but hvtune can still read (a value out of libvirt's range, an element
a release does not know) is read, and left to the checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from itertools import compress, repeat
from operator import add
from typing import Any

from lxml import etree

from hvtune.catalog import load_catalog
from hvtune.config import CLOCKS, ConfigValueError, HypervConfig
from hvtune.documents.libvirt import (
    UNKNOWN_KEPT,
    Cpu,
    HypervChild,
    LibvirtDomain,
    Timer,
    UnknownChild,
)
from hvtune.errors import InputError, Refusal
from hvtune.findings import ConfigChange
from hvtune.formats.base import Format
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.formats.libvirt_cpu import FEATURE_SWITCHES, libvirt_cpu
from hvtune.formats.libvirt_numbers import LibvirtNumberError, read_number
from hvtune.formats.libvirt_patch import fragments, patch_domain
from hvtune.formats.reading import Reading
from hvtune.formats.siblings import MANY, children_to_read, drop_copies
from hvtune.formats.xmlsafe import parse_xml
from hvtune.forms.libvirt import LibvirtForm, value_attribute
from hvtune.valuetypes import VALUE_TYPES, Value

LIBOSINFO = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
_STATES = ("on", "off")
_CPU_POLICIES = ("force", "require", "optional", "disable", "forbid")


def _first_children(parent: etree._Element, *tags: str) -> dict[str, etree._Element]:
    """Each tag's first element child (what parent.find(tag) returns), in
    one pass over the children of those tags."""
    found: dict[str, etree._Element] = {}
    for child in parent.iterchildren(*tags):
        found.setdefault(child.tag, child)
    return found


def _first_grandchild(root: etree._Element, tag: str, child: str) -> etree._Element | None:
    """The first `child` of any `tag` child of `root` (what root.find("tag/child") returns)."""
    return next((found for parent in root.iterchildren(tag) for found in parent.iterchildren(child)), None)


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


def _number(element: etree._Element, attribute: str, source: str, name: str | None = None) -> int | None:
    """A numeric attribute as libvirt reads it (None when absent), of the
    element read as `name` (its own by default)."""
    text: str | None = element.get(attribute)
    if text is None:
        return None
    try:
        return read_number(name or str(element.tag), attribute, text)
    except LibvirtNumberError as refused:
        raise Refusal("libvirt", source, f"line {element.sourceline}", str(refused)) from None


def _hyperv_child(
    element: etree._Element,
    name: str,
    source: str,
    value_attribute: str,
    passthrough: bool,
    children: tuple[HypervChild, ...],
) -> HypervChild:
    """A known child as written (under `name`), with the one value
    attribute libvirt reads (a child may carry thousands), read only when
    the child is on."""
    state = _state(element, source)
    value: Value | None = None
    if value_attribute and state == "on":
        prop = load_catalog().by_libvirt()[name]
        numeric = VALUE_TYPES[prop.type].python is int
        value = _number(element, value_attribute, source, name) if numeric else element.get(value_attribute)
    # only children with values need their line, for those values' errors
    line = element.sourceline or 0 if value is not None else 0
    return HypervChild(name, state, value, children, line, passthrough)


def _timers(root: etree._Element, source: str) -> tuple[Timer, ...]:
    """The timers of every <clock> that reach -cpu (the frequency only of
    tsc's, the one passed on), a run of equal ones as one; every timer's
    frequency is checked, as libvirt does."""
    timers: list[tuple[str, str | None, str | None, int | None]] = []
    repeats: list[int] = []
    for element in _timer_elements(root):
        frequency = None if element.get("frequency") is None else _number(element, "frequency", source)
        name = element.get("name") or ""
        if name not in _CPU_TIMERS:
            continue
        frequency = frequency if name == "tsc" else None
        timer = (name, element.get("present"), element.get("tickpolicy"), frequency)
        if timers and timers[-1] == timer:
            repeats[-1] += 1
        else:
            timers.append(timer)
            repeats.append(1)
    return tuple(Timer(*timer, repeat) for timer, repeat in zip(timers, repeats, strict=True))


def _cpu(element: etree._Element | None, source: str) -> Cpu | None:
    if element is None:
        return None
    parts = _first_children(element, "model", "cache", "maxphysaddr")
    model = parts.get("model")
    mode = element.get("mode") or "custom"
    policies, names = _features(element)
    cache = parts.get("cache")
    address = parts.get("maxphysaddr")
    maxphysaddr = None
    if address is not None:
        maxphysaddr = (address.get("mode") or "", _number(address, "bits", source))
    return Cpu(
        mode=mode,
        model=(model.text or "").strip() or None if model is not None else None,
        vendor_id=model.get("vendor_id") if model is not None else None,
        feature_policies=policies,
        feature_names=names,
        migratable=element.get("migratable"),
        cache_mode=cache.get("mode") if cache is not None else None,
        maxphysaddr=maxphysaddr,
    )


def _features(cpu: etree._Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each <feature>'s policy (require when it has none, as libvirt reads
    it) and name (empty when it has none)."""
    policies: list[str] = []
    names: list[str] = []
    policy, name = policies.append, names.append
    for feature in cpu.iterchildren("feature"):
        policy(feature.get("policy") or "require")
        name(feature.get("name") or "")
    return tuple(policies), tuple(names)


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


def _correction(name: str) -> str | None:
    """The known <hyperv> child an unknown one surely means (a namespaced
    name none)."""
    return load_catalog().hyperv_child_correction(name) if "{" not in name else None


# What reading a copy depends on: its state, its value attribute, and its
# children's names and states; of a copy with many children, how libxml2
# writes it out (as exact, and cheaper than a look at each child).
_Content = tuple[str | None, str | None, tuple[tuple[str, str | None], ...]] | bytes
_FEW_CHILDREN = 16


def _content(element: etree._Element, attribute: str) -> _Content:
    """(Every child counts here, even a comment: a finer content only reads
    copies alike less often.)"""
    if len(element) > _FEW_CHILDREN:
        written: bytes = etree.tostring(element, with_tail=False)
        return written
    children = tuple([(child.tag, child.get("state")) for child in element])
    return element.get("state"), element.get(attribute) if attribute else None, children


class _Copies:
    """The copies of <hyperv> children (or of one child's children) worth
    keeping, in document order. A copy without children of its own is kept
    the first time its name, state and value attribute are seen: a later
    equal one meets the same checks, so it only matters when it is the last
    of its name, and then it is kept again at the end (libvirt keeps the
    last state and value of a name; of a name whose last copy is off, the
    value kept may then be an earlier copy's than the last that is on,
    which nothing reads: libvirt passes on no value of a name that is off).
    A copy with children is kept unless the previous copy of its name read
    the same (libvirt keeps what the nested children of each copy that is
    on say; the same copy again says nothing new). An unknown child is
    noted once, by name: libvirt refuses it by its name (and only the first
    few names are kept, with how many there are), with the known name it
    surely means while each copy reads as that one (so that renaming every
    copy leaves a domain hvtune and libvirt read). What a copy reads as
    depends only on its content (_content), so copies written alike are
    read once: a <hyperv> written with thousands of repeats, of any kind,
    is cheap to read and judge."""

    def __init__(self, source: str, value_attribute: Mapping[str, str]):
        self.source = source
        self.value_attribute = value_attribute  # known name -> value attribute libvirt reads ("": none)
        self.kept: list[HypervChild] = []
        # the (name, state, value attribute) of copies without children seen
        # outside and under passthrough -> the record kept, so that a later
        # copy costs one look-up
        self.seen: tuple[dict[tuple[str, str | None, str | None], HypervChild], ...] = ({}, {})
        # (name, passthrough, content, line) of copies with children -> their
        # record (which holds its line when it has a value)
        self.whole: dict[tuple[str, bool, _Content, int], HypervChild] = {}
        # (meant, passthrough, content) of unknown copies -> what they read as
        self.reads_as: dict[tuple[str, bool, _Content], str | None] = {}
        self.last: dict[str, HypervChild] = {}  # each name's last copy
        self.tail: dict[str, HypervChild] = {}  # each name's last copy kept
        self.unknown: list[UnknownChild] = []  # the first UNKNOWN_KEPT of each kind
        self.unknown_seen: tuple[set[str], set[str]] = (set(), set())  # names seen outside, under passthrough
        # unknown copies without children seen outside, under passthrough (_alike)
        self.unknown_copies: tuple[set[tuple[str, str | None, str | None] | None], ...] = (set(), set())
        self.meant: dict[str, str | None] = {}  # each unknown name -> the known one every copy reads as

    def read(self, elements: Iterable[etree._Element], passthrough: bool, nested: bool) -> None:
        """Read children in turn; `nested` ones (under <stimer>) are all
        read as known, their parent's checks judge their names. The loop
        runs once per element written, so a copy seen costs a tag, a state
        (and a value attribute when its name has one), a count of its
        children and a look-up."""
        known, seen, last = self.value_attribute, self.seen[passthrough], self.last
        meant, unknown, copies = self.meant, self.unknown_seen[passthrough], self.unknown_copies[passthrough]
        for element in elements:
            name = element.tag
            attribute = "" if nested else known.get(name)
            if attribute is None:
                # a name not kept, or kept and read as none, is noted once; a
                # name read as a known one so far learns nothing from a copy
                # written alike before, without children
                reads_as = meant.get(name)
                if reads_as is None:
                    if name not in unknown:
                        self._read_unknown(element, name, passthrough)
                    continue
                alike = None if len(element) else self._alike(element, name, reads_as)
                if alike is None or alike not in copies:
                    copies.add(alike)
                    self._read_unknown(element, name, passthrough)
                continue
            copy = (name, element.get("state"), element.get(attribute) if attribute else None)
            found = seen.get(copy)
            if found is None or (not nested and len(element)):
                self._read_new(element, copy, passthrough, attribute, nested)
            else:
                last[name] = found

    def _alike(self, element: etree._Element, name: str, meant: str) -> tuple[str, str | None, str | None]:
        """What an unknown copy without children, of a name read as the
        known one `meant` so far, is read as that one by: its state and the
        value attribute of the known one."""
        attribute = self.value_attribute[meant]
        return name, element.get("state"), element.get(attribute) if attribute else None

    def _read_unknown(self, element: etree._Element, name: str, passthrough: bool) -> None:
        unknown = self.unknown_seen[passthrough]
        if name in self.meant or (name not in unknown and len(unknown) < UNKNOWN_KEPT):  # a name kept
            meant = self.meant.get(name, "")  # "": not looked up yet
            if meant is not None:
                self.meant[name] = self._read_as(element, meant or _correction(name), passthrough)
        if name not in unknown:
            unknown.add(name)
            if len(unknown) <= UNKNOWN_KEPT:
                self.unknown.append(UnknownChild(name, passthrough, len(self.kept)))

    def _read_new(
        self,
        element: etree._Element,
        copy: tuple[str, str | None, str | None],
        passthrough: bool,
        attribute: str,
        nested: bool,
    ) -> None:
        """A known copy not seen, or that has children."""
        name = copy[0]
        if not nested and len(element):
            content = _content(element, attribute)
            line = element.sourceline or 0 if copy[2] is not None else 0
            key = (name, passthrough, content, line)
            record = self.whole.get(key)
            if record is None:
                written = content if isinstance(content, bytes) else None
                record = self.whole[key] = self._whole(element, name, attribute, passthrough, written)
            elif self.last.get(name) is record:
                return
        else:
            record = self.seen[passthrough][copy] = _hyperv_child(
                element, name, self.source, attribute, passthrough, ()
            )
        self.kept.append(record)
        self.last[name] = self.tail[name] = record

    def _whole(
        self, element: etree._Element, name: str, attribute: str, passthrough: bool, written: bytes | None = None
    ) -> HypervChild:
        """A child read under `name` with its own children (`written`: the
        child as libxml2 writes it, when known)."""
        children = _Copies(self.source, {})
        children.read(children_to_read(element, written), False, True)
        return _hyperv_child(element, name, self.source, attribute, passthrough, children.records())

    def _read_as(self, element: etree._Element, meant: str | None, passthrough: bool) -> str | None:
        """`meant`, the known name an unknown child surely means, when the
        child reads as that one without a refusal (a state, a value libvirt
        takes, a text value when it is on: libvirt refuses <vendor_id
        state='on'> without one; and of one that holds known children, such
        as <stimer>, only those)."""
        if meant is None:
            return None
        attribute = self.value_attribute[meant]
        key = (meant, passthrough, _content(element, attribute))
        if key not in self.reads_as:
            self.reads_as[key] = self._reads_as(element, meant, attribute, passthrough)
        return self.reads_as[key]

    def _reads_as(self, element: etree._Element, meant: str, attribute: str, passthrough: bool) -> str | None:
        by_libvirt = load_catalog().by_libvirt()
        nested = {key.partition(".")[2] for key in by_libvirt if key.startswith(meant + ".")}
        if nested and any(child.tag not in nested for child in element.iterchildren(etree.Element)):
            return None
        try:
            record = self._whole(element, meant, attribute, passthrough)
        except Refusal:
            return None
        text_value = attribute and VALUE_TYPES[by_libvirt[meant].type].python is not int
        return None if text_value and record.state == "on" and record.value is None else meant

    def records(self) -> tuple[HypervChild, ...]:
        """The copies kept, and the last copy of each name when it is not
        the last kept of its name."""
        return (*self.kept, *(record for name, record in self.last.items() if record is not self.tail[name]))

    def unknown_children(self) -> tuple[UnknownChild, ...]:
        """The unknown children, each with the name it surely means."""
        meant = self.meant
        return tuple(
            child if meant[child.name] is None else child._replace(meant=meant[child.name]) for child in self.unknown
        )


# What libvirt reads, picked by XPath, which passes over the rest (thousands
# of <features> or <devices>) without a Python object for each: of the
# <features> children libvirt takes the last of, only that one; every
# <devices>' hyperv panics; every <kvm>; every <hyperv>'s children (one
# pick, without an object for each of thousands of <hyperv>), and the last
# <hyperv>; the timers of many <clock> (see _timer_elements).
_LAST_FEATURE = {tag: etree.XPath(f"(features/{tag})[last()]") for tag in ("apic", "pvspinlock", "pmu")}
_HYPERV_PANICS = etree.XPath("devices/panic[@model='hyperv']")
_KVM = etree.XPath("features/kvm")
_HYPERVS = etree.XPath("features/hyperv")
_HYPERV_CHILDREN = etree.XPath("features/hyperv/*")
_TIMERS = etree.XPath("clock/timer")
# The modes written on <hyperv> elements (a test on every <hyperv> costs more).
_HYPERV_MODES = etree.XPath("features/hyperv/@mode", smart_strings=False)
# Whether there are many <features>, <clock> (or <hyperv> elements), asked
# without counting them all: libxml2 stops at the 17th.
_MANY_FEATURES = etree.XPath("boolean(features[17])")
_MANY_CLOCKS = etree.XPath("boolean(clock[17])")
# The <features> with many children (whose copies may be dropped).
_FEATURES_OF_MANY = etree.XPath(f"features[*[{MANY}]]")
_MANY_HYPERV = etree.XPath("boolean(features[17]/hyperv or features/hyperv[17])")
# The timers libvirt passes on to -cpu.
_CPU_TIMERS = frozenset(("kvmclock", "hypervclock", "tsc"))


def _timer_elements(root: etree._Element) -> Iterable[etree._Element]:
    """The timers of every <clock>, in document order: picked by XPath from
    many <clock> (an iterator for each clock would cost more than its
    timers), walked over in a few (an XPath's list holds an object for each
    of thousands of timers at once)."""
    if _MANY_CLOCKS(root):
        timers: list[etree._Element] = _TIMERS(root)
        return timers
    return (timer for clock in root.iterchildren("clock") for timer in clock.iterchildren("timer"))


def _last_children(root: etree._Element, tags: Iterable[str]) -> dict[str, etree._Element]:
    """The last child of each tag of every <features> (those there are),
    found walking from the end, which libxml2 does without an object for
    each child passed over; the walk stops once each tag is found."""
    wanted = set(tags)
    last: dict[str, etree._Element] = {}
    for features in root.iterchildren("features", reversed=True):
        for tag in wanted - last.keys():
            found = next(features.iterchildren(tag, reversed=True), None)
            if found is not None:
                last[tag] = found
        if len(last) == len(wanted):
            break
    return last


def _last_features(root: etree._Element) -> dict[str, etree._Element]:
    """The last <apic>, <pvspinlock> and <pmu> of every <features> (those
    there are): walked to from the end of a few <features>; picked by XPath
    from many (a walk would visit each that lacks one)."""
    if _MANY_FEATURES(root):
        return {tag: found[0] for tag, pick in _LAST_FEATURE.items() if (found := pick(root))}
    return _last_children(root, _LAST_FEATURE)


def _last_hyperv(root: etree._Element) -> etree._Element | None:
    """The last <hyperv> of every <features>, walked to from the end (an
    XPath would list every <hyperv> first)."""
    return _last_children(root, ("hyperv",)).get("hyperv")


@cache
def _value_attributes() -> Mapping[str, str]:
    """Each known <hyperv> child -> the value attribute libvirt reads ("": none)."""
    catalog = load_catalog()
    by_libvirt = catalog.by_libvirt()
    return {name: value_attribute(by_libvirt[name].libvirt) or "" for name in catalog.libvirt.known_hyperv}


def _hyperv(root: etree._Element, source: str) -> tuple[str | None, _Copies]:
    """The mode libvirt takes (the last <hyperv>'s) and the children of
    every <hyperv>, in turn."""
    copies = _Copies(source, _value_attributes())
    hypervs = _hypervs_to_read(root)
    if hypervs is None:
        copies.read(_HYPERV_CHILDREN(root), False, False)
    else:
        for hyperv in hypervs:
            copies.read(children_to_read(hyperv), hyperv.get("mode") == "passthrough", False)
    last = _last_hyperv(root)
    return (last.get("mode") or "custom") if last is not None else None, copies


def _hypervs_to_read(root: etree._Element) -> Sequence[etree._Element] | None:
    """The <hyperv> elements whose children are read in turn, each as
    siblings (thousands of copies cost about what they are long): every
    <hyperv>, unless there are many and none is in passthrough mode (None:
    then their children are picked at once, without an object for each
    <hyperv>)."""
    if _MANY_HYPERV(root) and "passthrough" not in _HYPERV_MODES(root):
        return None
    found: list[etree._Element] = _HYPERVS(root)
    return found


def _drop_copies(root: etree._Element) -> None:
    """Drop the <features> and <hyperv> elements written alike between the
    first and the last of their spelling (siblings.drop_copies): what libvirt
    reads of them is read in turn, a later copy overriding an earlier one."""
    drop_copies(root, "features")
    for features in _FEATURES_OF_MANY(root):
        drop_copies(features, "hyperv")


def read_domain(root: etree._Element, *, source: str) -> LibvirtDomain:
    """The facts of a parsed <domain> element (whose <features> and
    <hyperv> written alike are dropped from it: see _drop_copies)."""
    if root.tag != "domain":
        raise InputError(source, f"line {root.sourceline}", f"the root element is <{root.tag}>, not a libvirt <domain>")
    _drop_copies(root)
    top = _first_children(root, "name", "metadata", "cpu")
    cpu = _cpu(top.get("cpu"), source)
    hyperv_mode, hyperv = _hyperv(root, source)
    kvm = tuple({hint.tag: hint.get("state") or "" for hint in children_to_read(each)} for each in _KVM(root))
    last = _last_features(root)
    apic = last.get("apic")
    timers = _timers(root, source)
    panics: list[etree._Element] = _HYPERV_PANICS(root)
    os_type = _first_grandchild(root, "os", "type")  # the first, as libvirt's ./os/type[1]
    return LibvirtDomain(
        name=_text(top.get("name")) or "",
        domain_type=root.get("type") or "",
        arch=(os_type.get("arch") if os_type is not None else None) or "x86_64",
        machine=os_type.get("machine") if os_type is not None else None,
        hyperv_mode=hyperv_mode,
        hyperv=hyperv.records(),
        timers=timers,
        hyperv_panics=len(panics),
        hyperv_panic_has_address=any(panic.find("address") is not None for panic in panics),
        kvm=kvm,
        apic_eoi=apic.get("eoi") if apic is not None else None,
        pvspinlock=_feature_state(last.get("pvspinlock")),
        pmu=_feature_state(last.get("pmu")),
        cpu=cpu,
        os_id=_os_id(top.get("metadata")),
        emulator=_text(_first_grandchild(root, "devices", "emulator")),
        unknown=hyperv.unknown_children(),
        unknown_names=(len(hyperv.unknown_seen[False]), len(hyperv.unknown_seen[True])),
        clock_offset=_clock_offset(root),
    )


def _clock_offset(root: etree._Element) -> str | None:
    clock = root.find("clock")  # libvirt reads the first
    return clock.get("offset") if clock is not None else None


def _cpu_model_and_tokens(cpu: Cpu | None) -> tuple[str | None, tuple[str, ...]]:
    """The QEMU model token of <cpu>, and its features that are no catalog
    form (as -cpu tokens)."""
    if cpu is None:
        return None, ()
    model = {"host-passthrough": "host", "maximum": "max", "custom": cpu.model}.get(cpu.mode)
    catalog = load_catalog()
    spelt, formed = catalog.libvirt.cpu_feature_names, catalog.cpu_feature_forms
    policies = cpu.feature_policies
    qemu_names = tuple(map(spelt.get, cpu.feature_names, cpu.feature_names))
    tokens = map(add, qemu_names, map(FEATURE_SWITCHES.get, policies, repeat("=off")))  # any other policy: off
    if "optional" not in policies and formed.isdisjoint(qemu_names):
        return model, tuple(tokens)  # every feature is a token: built in C, thousands at once
    wanted = [policy != "optional" and name not in formed for policy, name in zip(policies, qemu_names, strict=True)]
    return model, tuple(compress(tokens, wanted))


@cache
def _forms() -> tuple[tuple[str, LibvirtForm, Value], ...]:
    """Every catalog entry libvirt can express: its name, form and default."""
    return tuple((e.name, e.libvirt, e.default) for e in load_catalog().entries if e.libvirt is not None)


def domain_config(domain: LibvirtDomain, *, source: str) -> HypervConfig:
    """What the domain asks QEMU for: what each catalog form reads, the
    <cpu> model and its other features."""
    model, extra = _cpu_model_and_tokens(domain.cpu)
    values: dict[str, Value] = {}
    for name, form, default in _forms():
        if (value := form.read(domain, default)) is not None:
            values[name] = value
    try:
        return HypervConfig(
            model=model,
            values=values,
            machine=domain.machine,
            extra=extra,
            host_model=domain.hyperv_mode == "host-model",
            clock=domain.clock_offset if domain.clock_offset in CLOCKS else None,
        )
    except ConfigValueError as error:
        where = {"model": "<cpu><model> ", "token": "<cpu><feature> "}.get(error.name, "")
        raise InputError(source, where + error.place, error.problem) from None


def guest_os(domain: LibvirtDomain) -> str | None:
    if domain.os_id is None:
        return None
    guest = load_catalog().guest_for_libosinfo(domain.os_id)
    return guest.name if guest else None


def parse_text(text: str, *, source: str) -> Reading[LibvirtDomain]:
    domain = read_domain(parse_xml(text, source=source), source=source)
    return Reading(source, "libvirt", domain_config(domain, source=source), domain, guest_os(domain))


def _form(name: str | None) -> LibvirtForm | None:
    """Where property `name` lives in domain XML (None: nowhere libvirt
    writes, or no property)."""
    entry = load_catalog().entry(name) if name else None
    return entry.libvirt if entry else None


def _change_part(name: str, change: ConfigChange) -> str:
    """One changed value as the element to write or remove."""
    value = change.values[name]
    form = _form(name)
    if form is None:
        return ConfigChange({name: value}).describe()
    if value is None:
        return f"remove {form.snippet(True)}"
    return f"write {form.snippet(value)}"


_HYPERV_PATH = "features/hyperv"


def _line_of(root: etree._Element, path: str) -> int | None:
    """The line of the first element at `path`, else of its nearest
    ancestor that is there (the domain element at worst)."""
    steps = path.split("/")
    for length in range(len(steps), 0, -1):
        found = root.xpath("/".join(steps[:length]))
        if found:
            return int(found[0].sourceline)
    return int(root.sourceline)


class LibvirtFormat(Format):
    """libvirt domain XML: read as libvirt reads it, edited in its text
    (everything outside the touched elements stays byte-identical), and
    turned into the -cpu value libvirt builds for it."""

    name = "libvirt"
    title = "libvirt domain XML"
    target = "libvirt"

    def sniff(self, text: str) -> bool:
        return text.lstrip("\ufeff \t\r\n").startswith("<")

    def read(self, text: str, *, source: str, qemu_version: str | None = None) -> Reading[LibvirtDomain]:
        return parse_text(text, source=source)

    def render(self, config: HypervConfig, *, source: str) -> str:
        return fragments(config, source=source)

    def patch(self, reading: Reading[Any], text: str, change: ConfigChange) -> str:
        return patch_domain(text, change, source=reading.source)

    def describe(self, change: ConfigChange) -> str:
        renames = [f"rename <{rename.written}> to <{rename.meant}>" for rename in change.renames]
        return "; ".join(renames + [_change_part(name, change) for name in change.values])

    def lines(self, reading: Reading[Any], features: Sequence[str | None]) -> list[int | None]:
        """The element that gives each property, else where it would go:
        its nearest parent in the domain (``<hyperv>`` for the config as a
        whole or what libvirt cannot express)."""
        if reading.text is None:
            return super().lines(reading, features)
        root = parse_xml(reading.text, source=reading.source)
        paths = [form.path if (form := _form(feature)) else _HYPERV_PATH for feature in features]
        return [_line_of(root, path) for path in paths]

    def builds_cpu(
        self,
        reading: Reading[Any],
        *,
        libvirt_version: str | None,
        capabilities: HypervCapabilities | None,
    ) -> str | None:
        domain = reading.document_of(LibvirtDomain)
        assert domain is not None, "a libvirt reading keeps its domain"
        return libvirt_cpu(domain, version=libvirt_version, capabilities=capabilities, source=reading.source) + "\n"


FORMAT = LibvirtFormat()
