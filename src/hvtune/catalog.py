"""The catalog: every Hyper-V property QEMU knows, loaded once from
``data/enlightenments.toml`` into frozen records.

Nothing else in hvtune holds a feature list; formats, checks and reports ask
the catalog.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Literal

from hvtune.cpuid_table import CpuidTable, CpuidTableError, check_cpuid_table, read_cpuid_table
from hvtune.forms.libvirt import CpuFeatureForm, HypervChildForm, HypervGrandchildForm, LibvirtForm, libvirt_form
from hvtune.impact_table import ImpactTable, read_impact_table
from hvtune.linux_guest import LinuxFacts, read_linux_facts
from hvtune.releases import Release, parse_release
from hvtune.valuetypes import VALUE_TYPES, Value

Kind = Literal["feature", "setting", "compat"]
Migration = Literal["safe", "blocks", "needs-tsc-frequency", "host-dependent"]
Advice = Literal["recommended", "situational", "nested", "discouraged", "development"]

KINDS = ("feature", "setting", "compat")
MIGRATIONS = ("safe", "blocks", "needs-tsc-frequency", "host-dependent")
ADVICE = ("recommended", "situational", "nested", "discouraged", "development")


@dataclass(frozen=True)
class CpuidBit:
    """One bit QEMU sets in a guest CPUID leaf for a feature."""

    leaf: int
    reg: str
    bit: int
    name: str

    def __str__(self) -> str:
        return f"0x{self.leaf:08X}.{self.reg.upper()}[{self.bit}] {self.name}"


@dataclass(frozen=True)
class CpuidNote:
    """Bits QEMU sets besides the feature's own, under a condition."""

    leaf: int
    reg: str
    bits: str
    name: str
    when: str
    unless: str | None = None  # a property that, on, keeps QEMU from setting them
    value: int | None = None  # what a field of several bits holds
    sets: bool = True  # False: a note about bits set elsewhere
    since: str | None = None  # the QEMU release that began setting them

    def __str__(self) -> str:
        return f"0x{self.leaf:08X}.{self.reg.upper()}[{self.bits}] {self.name} ({self.when})"

    @property
    def mask(self) -> int:
        """The register bits it covers: one bit, or a range "low-high"."""
        low, _, high = self.bits.partition("-")
        return ((1 << (int(high or low) - int(low) + 1)) - 1) << int(low)


@dataclass(frozen=True)
class Since:
    """First releases that support a property ("" where none applies), and
    the QEMU release that removed it, if any."""

    qemu: str
    libvirt: str
    kernel: str
    note: str
    removed: str = ""


@dataclass(frozen=True)
class LegacyProbe:
    """How QEMU detects support on kernels without KVM_CAP_HYPERV_CPUID."""

    capability: str | None = None
    msr: int | None = None
    msr_name: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.msr is not None:
            parts.append(f"MSR {self.msr_name} (0x{self.msr:08X}) in KVM_GET_MSR_INDEX_LIST")
        if self.capability:
            parts.append(self.capability)
        return " and ".join(parts)


# The goals a plan can be given (hvtune.plan.Goals), as the catalog names them.
PLAN_GOALS = ("migratable", "nested", "gpu-passthrough", "overcommit", "tsc-frequency")
PLAN_BASES = ("advice", "os", "host", "version", "goal", "dependency")


@dataclass(frozen=True)
class PlanRule:
    """How `hvtune plan` decides a property or neighbour beyond the advice
    (the catalog's field guide says what each field means)."""

    goal: str | None = None
    host: str | None = None
    with_: str | None = None
    value: Value | None = None
    basis: str = "goal"
    reason: str = ""
    basis_off: str | None = None
    reason_off: str | None = None
    never: bool = False
    host_accepts: str | None = None
    reason_refused: str | None = None


def _plan_rule(raw: dict[str, Any] | None) -> PlanRule | None:
    if raw is None:
        return None
    fields = dict(raw)
    if "with" in fields:
        fields["with_"] = fields.pop("with")
    return PlanRule(**fields)


@dataclass(frozen=True)
class HostNeeds:
    """What the host must offer for the property to work as intended."""

    vendor: str | None = None
    nested: bool = False
    stable_tsc: bool = False
    tsc_scaling: bool = False
    apicv: bool = False
    smt_off: bool = False

    def describe(self) -> list[str]:
        needs = []
        if self.vendor:
            needs.append(f"an {self.vendor.capitalize()} CPU")
        if self.nested:
            needs.append("nested virtualization enabled in KVM")
        if self.stable_tsc:
            needs.append("a stable, TSC-based host clocksource")
        if self.tsc_scaling:
            needs.append("TSC scaling, or no migration")
        if self.apicv:
            needs.append("APICv (Intel) or AVIC (AMD) enabled in KVM")
        if self.smt_off:
            needs.append("SMT off, or vCPUs pinned to whole cores")
        return needs


@dataclass(frozen=True)
class ValueRange:
    """Limits beyond the QEMU type range that other tools or advice impose."""

    libvirt_min: int | None = None
    advised_min: int | None = None
    advised: Value | None = None  # the value hvtune advises and plans
    max_length: int | None = None


@dataclass(frozen=True)
class MachineDefault:
    """A different default that machine types up to `until` set."""

    until: str
    value: Value


@dataclass(frozen=True)
class UnsetReading:
    """What QEMU releases before `before` report for a property nobody set
    (where that is not the value they use)."""

    before: str
    value: Value


@dataclass(frozen=True)
class Property:
    """One Hyper-V property of QEMU's x86 CPU."""

    name: str
    kind: Kind
    bit: int | None
    type: str
    notation: str
    default: Value
    title: str
    desc: str
    aliases: tuple[str, ...]
    spellings: tuple[str, ...]
    cpuid: tuple[CpuidBit, ...]
    cpuid_also: tuple[CpuidNote, ...]
    requires: tuple[str, ...]
    requires_after_loop: tuple[str, ...]
    docs_require: tuple[str, ...]
    recommends: tuple[str, ...]
    skip_passthrough: bool
    # QEMU turns the KVM capability on before expanding hv-passthrough, so an
    # explicit request the host lacks is refused even with passthrough.
    checked_with_passthrough: bool
    legacy: LegacyProbe | None
    kvm_capability: str | None
    libvirt: LibvirtForm | None
    kubevirt: str | None
    since: Since
    host: HostNeeds
    windows: int | None  # the oldest Windows generation that uses it (None: not planned for Windows)
    activates_hyperv: bool
    machine_default: MachineDefault | None
    migration: Migration
    advice: Advice
    benefit: str
    caveats: tuple[str, ...]
    range: ValueRange
    plan: PlanRule | None = None
    reads_unset: UnsetReading | None = None

    @property
    def is_feature(self) -> bool:
        return self.kind == "feature"


@dataclass(frozen=True)
class Neighbour:
    """A non-Hyper-V CPU property that changes what Hyper-V settings mean."""

    name: str
    type: str
    default: Value
    aliases: tuple[str, ...]
    title: str
    libvirt: LibvirtForm | None
    meaning: str
    models: tuple[str, ...]
    plan: PlanRule | None = None
    kind: Literal["neighbour"] = "neighbour"  # beside Property.kind, for readers of both


@dataclass(frozen=True)
class Guest:
    """A guest operating system hvtune knows by name (``--os``)."""

    name: str
    family: str
    title: str
    libosinfo: tuple[str, ...] = ()
    windows: int | None = None  # the Windows generation (Proxmox's winversion), for Windows guests

    def matches_libosinfo(self, os_id: str) -> bool:
        """Whether a libosinfo OS id means this guest: ids are listed whole,
        or as prefixes ending in '/' (one per Linux distribution)."""
        return any(os_id == known or (known.endswith("/") and os_id.startswith(known)) for known in self.libosinfo)


@dataclass(frozen=True)
class ReleaseMessage:
    """A program's message from release `since` on."""

    since: str
    message: str


def said_by(messages: tuple[ReleaseMessage, ...], release: Release) -> str:
    """Which of `messages` (oldest first) `release` says."""
    return [each for each in messages if parse_release(each.since) <= release][-1].message


@dataclass(frozen=True)
class LibvirtRule:
    """A dependency libvirt checks when a domain is defined."""

    feature: str
    requires: str
    message: str
    since: str
    until: str = ""


# libvirt's readers of numeric attributes (src/util/virxml.c), by hvtune's names.
LIBVIRT_NUMBER_READERS = ("uint", "ulonglong", "int-nonnegative")


@dataclass(frozen=True)
class LibvirtNumber:
    """How libvirt reads one numeric attribute: with which of its readers
    (uint, ulonglong, int-nonnegative) and in which base."""

    element: str
    attribute: str
    reader: str
    base: int


@dataclass(frozen=True)
class LibvirtFacts:
    """How libvirt releases treat <hyperv>, beyond each element's since."""

    newest: str
    hyperv_order: tuple[str, ...]
    renders_on_values: str
    passthrough_children_ignored: str
    kvm_elements_merged: str
    spinlocks_retries_optional: str
    host_model: str
    host_model_children: str
    crash_renders_on: str
    cpu_mode_maximum: str
    cpu_mode_refused: str
    kvm_hints: Mapping[str, str]
    spinlocks_retries_missing: tuple[ReleaseMessage, ...]
    nested_pass_until: str  # before it the nested <hyperv> children are read after all the others
    nested_of_off_until: str  # before it they are read even when their parent is off
    tsc_checked: str
    tsc_tolerance_ppm: int
    tsc_refused: str
    cpu_feature_names: Mapping[str, str]
    domain_order: tuple[str, ...]
    features_order: tuple[str, ...]
    rules: tuple[LibvirtRule, ...]
    numbers: tuple[LibvirtNumber, ...]

    @cached_property
    def hyperv_elements(self) -> tuple[str, ...]:
        """The <hyperv> children libvirt knows (any release), in its order."""
        return tuple(key for key in self.hyperv_order if "." not in key)

    @cached_property
    def known_hyperv(self) -> frozenset[str]:
        return frozenset(self.hyperv_elements)

    def number(self, element: str, attribute: str) -> LibvirtNumber:
        """How libvirt reads `attribute` of `element`."""
        return next(n for n in self.numbers if (n.element, n.attribute) == (element, attribute))


@dataclass(frozen=True)
class MsrWithoutHyperv:
    """A feature whose MSR QEMU writes even when KVM has no Hyper-V emulation."""

    property: str
    msr: int


@dataclass(frozen=True)
class MachineTypes:
    """The oldest versioned machine types a QEMU release keeps, per family."""

    qemu: str
    q35: str
    i440fx: str


@dataclass(frozen=True)
class QemuFacts:
    """What QEMU does with Hyper-V properties on particular hosts and
    releases: the newest release described, when its wording of refused
    values changed, and the machine types its releases offer."""

    newest: str
    enum_error_names_parameter: str
    range_error_says_at_most: str
    metric_size_fixed_point: str
    tcg_vpindex_fixed: str
    passthrough_skips: str  # from this release hv-passthrough leaves out the skip_passthrough features
    msr_without_hyperv: tuple[MsrWithoutHyperv, ...]
    machine_types: tuple[MachineTypes, ...] = ()
    machine_refused: tuple[ReleaseMessage, ...] = ()
    libvirt_machine_refused: str = ""


Entry = Property | Neighbour


def in_qemu(entry: Entry, release: Release | None) -> bool:
    """Whether QEMU `release` has the property (None: an unknown release,
    which may have any). Neighbours are in every release hvtune judges."""
    if release is None or isinstance(entry, Neighbour):
        return True
    since = entry.since
    if since.qemu and release < parse_release(since.qemu):
        return False
    return not (since.removed and release >= parse_release(since.removed))


class CatalogError(Exception):
    """The bundled catalog data is inconsistent (a bug in hvtune)."""


class Catalog:
    """All properties and neighbours, with lookups by every accepted name."""

    def __init__(
        self,
        properties: tuple[Property, ...],
        neighbours: tuple[Neighbour, ...],
        guests: tuple[Guest, ...],
        libvirt: LibvirtFacts,
        qemu: QemuFacts,
        cpuid: CpuidTable,
        impacts: ImpactTable,
        inferred_windows: str,
        linux: LinuxFacts,
    ):
        self.properties = properties
        self.neighbours = neighbours
        self.guests = guests
        self.libvirt = libvirt
        self.qemu = qemu
        self.cpuid = cpuid  # the hypervisor CPUID leaves, every bit named
        self.impacts = impacts  # what findings cost: verdicts, losses
        self.inferred_windows = inferred_windows  # the guest assumed when hv-* says Windows
        self.linux = linux  # what Linux guests make of Hyper-V
        self.entries: tuple[Entry, ...] = (*neighbours, *properties)
        self.features = tuple(sorted((p for p in properties if p.is_feature), key=lambda p: p.bit or 0))
        self.feature_bits = {p.name: p.bit or 0 for p in self.features}
        self._by_qemu_name: dict[str, Entry] = {
            name: entry for entry in self.entries for name in (entry.name, *entry.aliases)
        }
        self.names = frozenset(self._by_qemu_name)  # every QEMU name and alias
        self.model_bound = tuple(n for n in neighbours if n.models)  # neighbours only some CPU models have
        # the <cpu><feature> names that are catalog forms (vmx, invtsc)
        self.cpu_feature_forms = frozenset(
            entry.libvirt.cpu_feature for entry in self.entries if isinstance(entry.libvirt, CpuFeatureForm)
        )
        self._by_spelling: dict[str, Entry] = {}
        hyperv_first: tuple[Entry, ...] = (*properties, *neighbours)  # Hyper-V properties win spellings
        for entry in hyperv_first:
            for spelling in _spellings(entry):
                self._by_spelling.setdefault(_fold(spelling), entry)
        # Canonical order: neighbours, then features in QEMU's bit order, then the rest.
        ordered: tuple[Entry, ...] = (*neighbours, *self.features, *(p for p in properties if not p.is_feature))
        self.order = {entry.name: i for i, entry in enumerate(ordered)}
        self.aliases = {alias: entry.name for entry in self.entries for alias in entry.aliases}
        # every spelling lookup() knows, as people write them (for shell completion)
        self.spellings = tuple(dict.fromkeys(s for entry in hyperv_first for s in _spellings(entry)))
        _validate(self)

    def entry(self, qemu_name: str) -> Entry | None:
        """The property or neighbour QEMU knows by exactly this name (or alias)."""
        return self._by_qemu_name.get(qemu_name)

    def property(self, name: str) -> Property:
        """The Hyper-V property with this canonical name or alias."""
        entry = self._by_qemu_name.get(name)
        if not isinstance(entry, Property):
            raise KeyError(name)
        return entry

    def lookup(self, spelling: str) -> Entry | None:
        """Find an entry by any spelling people use: QEMU, underscore, libvirt,
        KubeVirt, without the hv- prefix; case-insensitive."""
        return self._by_spelling.get(_fold(spelling))

    def suggest(self, name: str) -> str | None:
        """The catalog name closest to a misspelt one, if any is close."""
        close = self.suggestions(name)
        return close[0] if close else None

    def suggestions(self, name: str) -> tuple[str, ...]:
        """The catalog names close to a misspelt one, closest first: the one
        it spells in another case or with underscores alone, else those
        difflib finds close, by edit distance."""
        word = _fold(name)
        exact = self._by_spelling.get(word)
        if exact is not None:
            return (exact.name,)
        return self._qemu_names.close(word)

    @cached_property
    def _qemu_names(self) -> _Names:
        return _Names(self._by_qemu_name)

    @cached_property
    def _hyperv_child_names(self) -> _Names:
        return _Names(self.libvirt.hyperv_elements)

    def correction(self, name: str) -> str | None:
        """The one name a misspelt one surely means: the only close name
        at the smallest edit distance (None: none is close, or several are
        as close)."""
        return _surely_meant(name, self.suggestions(name))

    @lru_cache(maxsize=4096)  # noqa: B019 - the catalog lives as long as the process
    def hyperv_child_suggestions(self, name: str) -> tuple[str, ...]:
        """The <hyperv> children libvirt knows that an unknown one may
        mean, closest first: the one it names in any other spelling
        (another case, vendor-id, hv-stimer), else those close to it; none
        when it spells what libvirt writes elsewhere (time: a <timer>,
        tlbflush-ext: <tlbflush><extended>)."""
        word = _fold(name)
        exact = self._by_spelling.get(word)
        if exact is not None:
            return (exact.libvirt.element,) if isinstance(exact.libvirt, HypervChildForm) else ()
        return self._hyperv_child_names.close(word)

    def hyperv_child_correction(self, name: str) -> str | None:
        """The one <hyperv> child an unknown one surely means (as
        `correction` decides)."""
        return _surely_meant(name, self.hyperv_child_suggestions(name))

    @cache  # noqa: B019 - the catalog lives as long as the process
    def requirements(self, names: tuple[str, ...], *, synic_kvm_only: bool = False) -> tuple[Property, ...]:
        """The features `names` need, transitively, as QEMU enforces them
        (including the SynIC -> VP_INDEX check unless SynIC is KVM-only),
        in bit order. The named features themselves are included."""
        needed: dict[str, Property] = {}
        pending = list(names)
        while pending:
            prop = self.property(pending.pop())
            if prop.name in needed:
                continue
            needed[prop.name] = prop
            pending += prop.requires
            if not synic_kvm_only:
                pending += prop.requires_after_loop
        return tuple(sorted(needed.values(), key=lambda p: (p.bit is None, p.bit or 0)))

    def guest(self, name: str) -> Guest | None:
        """The guest OS with this name (case-insensitive)."""
        return next((g for g in self.guests if g.name == name.lower()), None)

    @cache  # noqa: B019 - the catalog lives as long as the process
    def guest_for_libosinfo(self, os_id: str) -> Guest | None:
        """The guest OS a libosinfo id (from domain metadata) stands for."""
        return next((g for g in self.guests if g.matches_libosinfo(os_id)), None)

    @cache  # noqa: B019 - the catalog lives as long as the process
    def by_libvirt(self) -> Mapping[str, Property]:
        """Hyper-V properties by their libvirt spelling: the <hyperv> child
        name, or child.grandchild for <stimer><direct> and the like."""
        table = {}
        for prop in self.properties:
            form = prop.libvirt
            if isinstance(form, HypervChildForm | HypervGrandchildForm):
                table[form.key] = prop
        return MappingProxyType(table)

    def sort_key(self, name: str) -> int:
        """Canonical order: neighbours, then features by QEMU bit, then settings."""
        return self.order.get(name, len(self.order))


class _Names:
    """Names to find a misspelt one among: by their folded spelling (case,
    and underscores against dashes, count for nothing), with the letters
    they use (in a pattern that finds the others)."""

    CUTOFF = 0.75  # how close difflib's ratio must be

    def __init__(self, names: Iterable[str]):
        self.by_fold = {_fold(name): name for name in names}
        self.foreign = re.compile(f"[^{re.escape(''.join(set(''.join(self.by_fold))))}]")  # a letter none uses

    def close(self, word: str) -> tuple[str, ...]:
        """The names close to a folded `word`, by difflib, closest first by
        edit distance. A word with too few of their letters to reach the
        cutoff with any of them is passed over without difflib (a domain
        may hold thousands of unknown names)."""
        shared = len(word) - len(self.foreign.findall(word))  # bounds the matches with any name
        if 2 * shared < self.CUTOFF * (len(word) + shared):  # difflib's ratio: 2 * matches / both lengths
            return ()
        from difflib import get_close_matches

        close = get_close_matches(word, list(self.by_fold), n=5, cutoff=self.CUTOFF)
        return tuple(self.by_fold[each] for each in sorted(close, key=lambda found: _edit_distance(word, found)))


def _surely_meant(name: str, close: tuple[str, ...]) -> str | None:
    """The first of `close` when no other is as close to `name`."""
    if len(close) > 1 and _edit_distance(_fold(name), _fold(close[0])) == _edit_distance(_fold(name), _fold(close[1])):
        return None
    return close[0] if close else None


def either(names: Sequence[str]) -> str:
    """Names as a choice: "a", "a or b", "a, b or c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _edit_distance(one: str, other: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from one
    string to the other: optimal string alignment distance."""
    before: list[int] = []
    row = list(range(len(other) + 1))
    for i, a in enumerate(one, start=1):
        previous, before, row = before, row, [i] + [0] * len(other)
        for j, b in enumerate(other, start=1):
            row[j] = min(before[j] + 1, row[j - 1] + 1, before[j - 1] + (a != b))
            if i > 1 and j > 1 and a == other[j - 2] and one[i - 2] == b:
                row[j] = min(row[j], previous[j - 2] + 1)
    return row[-1]


def _fold(spelling: str) -> str:
    folded = spelling.strip().lower().replace("_", "-")
    return folded


def _spellings(entry: Entry) -> list[str]:
    names = [entry.name, *entry.aliases]
    if isinstance(entry, Property):
        names += list(entry.spellings)
        if entry.libvirt:
            names += list(entry.libvirt.spellings())
        if entry.kubevirt:
            names += [entry.kubevirt, entry.kubevirt.removeprefix("features.hyperv.")]
    return names + [n.removeprefix("hv-") for n in names if n.startswith("hv-")]


def _validate_cpuid(catalog: Catalog) -> None:
    """The table must hold together, and name each bit a property sets (or
    sets besides, when a note names one bit) by the property's own name."""
    try:
        check_cpuid_table(catalog.cpuid)
    except CpuidTableError as error:
        raise CatalogError(str(error)) from None
    for prop in catalog.properties:
        bits = [(bit.leaf, bit.reg, bit.bit, bit.name) for bit in prop.cpuid]
        bits += [(note.leaf, note.reg, int(note.bits), note.name) for note in prop.cpuid_also if note.bits.isdigit()]
        for leaf, reg, number, name in bits:
            field = catalog.cpuid.field_at(leaf, reg, number)
            if field is None or field.format != "flag" or field.constant != name:
                raise CatalogError(
                    f"{prop.name}: the cpuid table does not name 0x{leaf:08X}.{reg.upper()}[{number}] {name}"
                )


def _validate(catalog: Catalog) -> None:
    _validate_cpuid(catalog)
    bits = sorted(p.bit for p in catalog.features if p.bit is not None)
    if bits != list(range(len(bits))):
        raise CatalogError(f"feature bits are not 0..{len(bits) - 1}: {bits}")
    for prop in catalog.properties:
        if prop.type not in VALUE_TYPES:
            raise CatalogError(f"{prop.name}: unknown type {prop.type}")
        if prop.kind not in KINDS or prop.migration not in MIGRATIONS or prop.advice not in ADVICE:
            raise CatalogError(f"{prop.name}: unknown kind, migration or advice")
        for dep in (*prop.requires, *prop.requires_after_loop, *prop.docs_require, *prop.recommends):
            target = catalog.entry(dep)
            if not isinstance(target, Property) or not target.is_feature:
                raise CatalogError(f"{prop.name}: depends on unknown feature {dep}")
        bits = [catalog.property(dep).bit or 0 for dep in prop.requires]
        if bits != sorted(bits):
            raise CatalogError(f"{prop.name}: list requires in bit order, as QEMU checks them")
        if prop.is_feature != (prop.bit is not None):
            raise CatalogError(f"{prop.name}: only features have a bit")
    for use in catalog.linux.uses:
        if use.property not in catalog.feature_bits:
            raise CatalogError(f"[linux] uses: {use.property} is not a feature")
    _validate_costs(catalog)
    if set(catalog.libvirt.hyperv_order) != set(catalog.by_libvirt()):
        raise CatalogError("libvirt.hyperv_order must list every <hyperv> child the properties name")
    named = [name for rule in catalog.libvirt.rules for name in (rule.feature, rule.requires)]
    named += [entry.property for entry in catalog.qemu.msr_without_hyperv]
    for name in named:
        if not isinstance(catalog.entry(name), Property):
            raise CatalogError(f"libvirt rule or qemu fact names unknown property {name}")
    newest_qemu = parse_release(catalog.qemu.newest)
    for prop in catalog.properties:
        if any(release and parse_release(release) > newest_qemu for release in (prop.since.qemu, prop.since.removed)):
            raise CatalogError(f"{prop.name}: a QEMU release after qemu.newest ({catalog.qemu.newest})")
    for neighbour in catalog.neighbours:
        if neighbour.type not in VALUE_TYPES:
            raise CatalogError(f"{neighbour.name}: unknown type {neighbour.type}")
    for number in catalog.libvirt.numbers:
        if number.reader not in LIBVIRT_NUMBER_READERS or number.base not in (0, 8, 10, 16):
            raise CatalogError(f"libvirt number {number.element}/@{number.attribute}: unknown reader or base")
    for entry in catalog.entries:
        rule = entry.plan
        if rule is None:
            continue
        bases = {rule.basis, rule.basis_off or rule.basis}
        if rule.goal not in (None, *PLAN_GOALS) or not bases <= set(PLAN_BASES):
            raise CatalogError(f"{entry.name}: plan names an unknown goal or basis")
        if rule.with_ is not None and not isinstance(catalog.entry(rule.with_), Property):
            raise CatalogError(f"{entry.name}: plan goes with unknown property {rule.with_}")
    read = {(n.element, n.attribute) for n in catalog.libvirt.numbers}
    for prop in catalog.properties:
        form = prop.libvirt
        numeric = isinstance(form, HypervChildForm) and form.attribute and VALUE_TYPES[prop.type].python is int
        if numeric and isinstance(form, HypervChildForm) and (form.element, form.attribute) not in read:
            raise CatalogError(
                f"{prop.name}: libvirt.numbers must say how libvirt reads <{form.element} {form.attribute}>"
            )


def _validate_costs(catalog: Catalog) -> None:
    """Every property a Windows plan may choose says what its absence
    costs, and every cost is a property's."""
    costs = catalog.impacts.costs
    for name in costs:
        if not isinstance(catalog.entry(name), Property):
            raise CatalogError(f"cost of unknown property {name}")
    for prop in catalog.properties:
        plannable = prop.advice in ("recommended", "nested") or (prop.plan is not None and prop.plan.goal)
        if prop.windows is not None and plannable and prop.name not in costs:
            raise CatalogError(f"{prop.name}: a plan may choose it, so [[cost]] must say what its absence costs")
    if catalog.guest(catalog.inferred_windows) is None:
        raise CatalogError(f"inferred_windows names unknown guest {catalog.inferred_windows}")


def _property(raw: dict[str, Any]) -> Property:
    since = raw["since"]
    legacy = raw.get("legacy")
    libvirt = raw.get("libvirt")
    machine_default = raw.get("machine_default")
    return Property(
        name=raw["name"],
        kind=raw["kind"],
        bit=raw.get("bit"),
        type=raw["type"],
        notation=raw.get("notation", "decimal"),
        default=raw["default"],
        title=raw["title"],
        desc=raw["desc"],
        aliases=tuple(raw.get("aliases", ())),
        spellings=tuple(raw.get("spellings", ())),
        cpuid=tuple(CpuidBit(**bit) for bit in raw.get("cpuid", ())),
        cpuid_also=tuple(CpuidNote(**note) for note in raw.get("cpuid_also", ())),
        requires=tuple(raw.get("requires", ())),
        requires_after_loop=tuple(raw.get("requires_after_loop", ())),
        docs_require=tuple(raw.get("docs_require", ())),
        recommends=tuple(raw.get("recommends", ())),
        skip_passthrough=raw.get("skip_passthrough", False),
        checked_with_passthrough=raw.get("checked_with_passthrough", False),
        legacy=LegacyProbe(**legacy) if legacy else None,
        kvm_capability=raw.get("kvm_capability"),
        libvirt=libvirt_form(libvirt) if libvirt else None,
        kubevirt=raw.get("kubevirt"),
        since=Since(**since),
        host=HostNeeds(**raw.get("host", {})),
        windows=raw.get("windows"),
        activates_hyperv=raw["activates_hyperv"],
        machine_default=MachineDefault(**machine_default) if machine_default else None,
        migration=raw["migration"],
        advice=raw["advice"],
        benefit=" ".join(raw["benefit"].split()),
        caveats=tuple(raw.get("caveats", ())),
        range=ValueRange(**raw.get("range", {})),
        plan=_plan_rule(raw.get("plan")),
        reads_unset=UnsetReading(**raw["reads_unset"]) if "reads_unset" in raw else None,
    )


def _neighbour(raw: dict[str, Any]) -> Neighbour:
    return Neighbour(
        name=raw["name"],
        type=raw["type"],
        default=raw["default"],
        aliases=tuple(raw.get("aliases", ())),
        title=raw["title"],
        libvirt=libvirt_form(raw["libvirt"]) if raw.get("libvirt") else None,
        meaning=" ".join(raw["meaning"].split()),
        models=tuple(raw.get("models", ())),
        plan=_plan_rule(raw.get("plan")),
    )


@cache
def load_catalog() -> Catalog:
    """The bundled catalog, parsed and validated once per process."""
    raw = tomllib.loads(files("hvtune").joinpath("data/enlightenments.toml").read_text("utf-8"))
    return Catalog(
        tuple(_property(p) for p in raw["property"]),
        tuple(_neighbour(n) for n in raw["neighbour"]),
        tuple(Guest(**{**g, "libosinfo": tuple(g.get("libosinfo", ()))}) for g in raw["guest"]),
        _libvirt(raw["libvirt"]),
        QemuFacts(
            **{
                **raw["qemu"],
                "msr_without_hyperv": tuple(MsrWithoutHyperv(**m) for m in raw["qemu"]["msr_without_hyperv"]),
                "machine_types": tuple(MachineTypes(**m) for m in raw["qemu"]["machine_types"]),
                "machine_refused": tuple(ReleaseMessage(**m) for m in raw["qemu"]["machine_refused"]),
            }
        ),
        read_cpuid_table(raw["cpuid"]),
        _impacts(raw),
        raw["inferred_windows"],
        read_linux_facts(raw["linux"]),
    )


def _impacts(raw: dict[str, Any]) -> ImpactTable:
    try:
        return read_impact_table(raw["cost"], raw["impact"])
    except (ValueError, TypeError, KeyError) as error:
        raise CatalogError(f"[[cost]] or [[impact]]: {error}") from None


def _libvirt(raw: dict[str, Any]) -> LibvirtFacts:
    rules = tuple(LibvirtRule(**rule) for rule in raw.pop("rule"))
    numbers = tuple(LibvirtNumber(**number) for number in raw.pop("numbers"))
    raw["spinlocks_retries_missing"] = tuple(ReleaseMessage(**each) for each in raw["spinlocks_retries_missing"])
    orders = {key: tuple(raw[key]) for key in ("hyperv_order", "domain_order", "features_order")}
    return LibvirtFacts(**{**raw, **orders}, rules=rules, numbers=numbers)
