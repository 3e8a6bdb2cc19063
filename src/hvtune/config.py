"""HypervConfig: one guest's Hyper-V setup, independent of any format.

A config holds the CPU model token, the values of the Hyper-V properties and
neighbours that are *set* (keyed by QEMU's canonical names, so an unset
property is simply absent), the machine type when known, and every other
``-cpu`` token verbatim. It is immutable; changes make new configs.
"""

from __future__ import annotations

import re
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, lru_cache
from typing import Generic, TypeVar

from hvtune.catalog import Catalog, Property, load_catalog
from hvtune.errors import CONTROL_CHARACTERS, has_control_characters
from hvtune.releases import parse_release
from hvtune.valuetypes import VALUE_TYPES, Value


class ConfigValueError(ValueError):
    """A value that QEMU itself would refuse for that property (``name`` is
    the property, or ``model`` or ``token`` with the text in ``text``)."""

    def __init__(self, name: str, problem: str, text: str | None = None):
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem
        self.text = text

    @property
    def place(self) -> str:
        """Where the problem is, for a message: the property, or the model
        or token quoted."""
        return f"{self.name} {self.text!r}" if self.text is not None else self.name


V = TypeVar("V")


class FrozenValues(Mapping[str, V], Generic[V]):
    """An immutable, hashable mapping kept in the catalog's canonical order
    (so two with the same content are equal item by item)."""

    __slots__ = ("_index",)

    def __init__(self, values: Mapping[str, V] | None = None):
        values = values or {}
        order = load_catalog().order.__getitem__  # names are canonical
        self._index: dict[str, V] = {name: values[name] for name in sorted(values, key=order)}

    def __getitem__(self, key: str) -> V:
        return self._index[key]

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        return self._index.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def keys(self) -> KeysView[str]:
        return self._index.keys()

    def values(self) -> ValuesView[V]:
        return self._index.values()

    def items(self) -> ItemsView[str, V]:
        return self._index.items()

    def __len__(self) -> int:
        return len(self._index)

    def __hash__(self) -> int:
        return hash(tuple(self._index.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenValues):
            return self._index == other._index
        return isinstance(other, Mapping) and self._index == dict(other)

    def __repr__(self) -> str:
        return f"FrozenValues({self._index!r})"


CLOCKS = ("utc", "localtime")  # the clock bases libvirt's offset and QEMU's -rtc base= share
DEFAULT_MODEL = "qemu64"  # QEMU's x86_64 default, and libvirt's
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PROPERTY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@lru_cache(maxsize=4096)
def model_problem(model: str) -> str | None:
    """Why `model` cannot be a QEMU CPU model name, or None. (QEMU's x86
    models are named with letters, digits, '-', '_' and '.'.)"""
    if _MODEL.fullmatch(model):
        return None
    return "not a CPU model name QEMU could have (letters, digits, '-', '_' and '.')"


@lru_cache(maxsize=4096)
def token_problem(token: str) -> str | None:
    """Why `token` cannot be one non-Hyper-V piece of a -cpu value
    (``+feat``, ``-feat``, ``name`` or ``name=value``), or None."""
    name, _, value = (token[1:] if token[:1] in ("+", "-") else token).partition("=")
    if "," in token:
        return "contains a comma, which would split it into several -cpu tokens"
    if not _PROPERTY_NAME.fullmatch(name):
        return "not a CPU property name QEMU could have (letters, digits, '-', '_' and '.')"
    if has_control_characters(value):
        return "contains control characters, which no command line or domain file carries intact"
    if load_catalog().entry(name.replace("_", "-")) is not None:
        return f"sets {name}, which hvtune reads as a property: give it as one"
    return None


# Tokens token_problem passes, joined by commas: one C-level match checks a
# domain's thousands of <cpu> features at once.
_PLAIN_TOKEN = rf"[+-]?{_PROPERTY_NAME.pattern}(?:=[^,{CONTROL_CHARACTERS}]*)?"
_PLAIN_TOKENS = re.compile(rf"{_PLAIN_TOKEN}(?:,{_PLAIN_TOKEN})*")
_TOKEN_NAMES = re.compile(r"(?:^|,)[+-]?([A-Za-z0-9_.-]+)")
# Names alone, joined by commas (what is left of tokens all written name,
# name=on or name=off, as libvirt writes each <cpu><feature>)
_NAMES = re.compile(rf"{_PROPERTY_NAME.pattern}(?:,{_PROPERTY_NAME.pattern})*")


def _plainly_valid(tokens: tuple[str, ...]) -> bool:
    """Whether every token passes token_problem, decided in a few C-level
    passes; False means: look at each (token_problem says which and why).
    (Not cached: a read pays it, and tokens libvirt writes cost a few
    searches of their text.)"""
    joined = ",".join(tokens)
    if joined.count(",") != len(tokens) - 1:
        return False
    names = (joined + ",").replace("=on,", ",").replace("=off,", ",")[:-1]
    if not _NAMES.fullmatch(names):  # other values, or signs: each token matched
        if not _PLAIN_TOKENS.fullmatch(joined):
            return False
        names = ",".join(_TOKEN_NAMES.findall(joined))
    return load_catalog().names.isdisjoint(names.replace("_", "-").split(","))


def _check_model_and_tokens(config: HypervConfig) -> None:
    """The one validation every format's config passes, besides each
    value's type: a CPU model name QEMU could have, -cpu tokens QEMU could
    read, and neighbours that exist for the model."""
    if config.model is not None and (problem := model_problem(config.model)):
        raise ConfigValueError("model", problem, config.model)
    if config.extra and not _plainly_valid(config.extra):
        for token in config.extra:
            if problem := token_problem(token):
                raise ConfigValueError("token", problem, token)
    model = config.model or DEFAULT_MODEL
    for neighbour in load_catalog().model_bound:
        if neighbour.name in config.values and model not in neighbour.models:
            models = " and ".join(neighbour.models)
            raise ConfigValueError(neighbour.name, f"exists only for the {models} CPU models, not {model}")


def _canonical(catalog: Catalog, values: Mapping[str, Value]) -> dict[str, Value]:
    """Resolve aliases and check every value against its type."""
    canonical: dict[str, Value] = {}
    for name, value in values.items():
        entry = catalog.entry(name)
        if entry is None:
            raise ConfigValueError(name, "not a Hyper-V property or neighbour hvtune knows")
        problem = VALUE_TYPES[entry.type].problem(value)
        if problem:
            raise ConfigValueError(entry.name, problem)
        canonical[entry.name] = value
    return canonical


@dataclass(frozen=True)
class HypervConfig:
    """The Hyper-V part of one guest's CPU configuration.

    ``values`` maps QEMU property names (``hv-stimer``, ``hv-spinlocks``,
    ``kvm``, ``tsc-frequency``, ...) to the values set; aliases such as
    ``hv-apicv`` are stored under their canonical name. ``model`` is the
    -cpu model token (None when the source names none).
    """

    model: str | None = None
    values: Mapping[str, Value] = field(default_factory=dict)
    machine: str | None = None
    extra: tuple[str, ...] = ()
    # libvirt's <hyperv mode='host-model'>: at start libvirt switches on every
    # enlightenment the host supports that `values` leaves unset.
    host_model: bool = False
    # The base of the guest's real-time clock when the source says (one of
    # CLOCKS): libvirt's <clock offset>, QEMU's -rtc base=. Windows expects
    # localtime; it is not part of -cpu, but a translation keeps it.
    clock: str | None = None
    # The features switched on, as QEMU's bit mask (its hyperv_features).
    feature_mask: int = field(init=False, repr=False, compare=False)
    # The values as a plain dict, and the catalog's aliases, for lookups
    # checks make by the thousand.
    _lookup: dict[str, Value] = field(init=False, repr=False, compare=False)
    _aliases: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        catalog = load_catalog()
        values = self.values
        if not isinstance(values, FrozenValues):
            values = FrozenValues(_canonical(catalog, values))
            object.__setattr__(self, "values", values)
        bits = catalog.feature_bits
        mask = 0
        for name, value in values.items():
            if value is True and name in bits:
                mask |= 1 << bits[name]
        object.__setattr__(self, "feature_mask", mask)
        object.__setattr__(self, "_lookup", values._index)
        object.__setattr__(self, "_aliases", catalog.aliases)
        if type(self.extra) is not tuple:
            object.__setattr__(self, "extra", tuple(self.extra))
        _check_model_and_tokens(self)

    # --- reading ---------------------------------------------------------

    def get(self, name: str) -> Value | None:
        """The value set for a property or neighbour (by any QEMU name or
        alias), or None when unset."""
        value = self._lookup.get(name)
        if value is None and name in self._aliases:
            value = self._lookup.get(self._aliases[name])
        return value

    def effective(self, name: str) -> Value:
        """The value QEMU would use: the set value, else the machine type's
        compatibility default, else the property's default."""
        entry = load_catalog().entry(name)
        if entry is None:
            raise KeyError(name)
        if entry.name in self.values:
            return self.values[entry.name]
        if isinstance(entry, Property) and entry.machine_default and self.machine_at_most(entry.machine_default.until):
            return entry.machine_default.value
        return entry.default

    def reported(self, name: str, qemu_version: str | None = None) -> Value:
        """The value QEMU `qemu_version` reports for `name` (qom-get): the
        effective one, except for a property an older release reports
        otherwise while unset (the catalog's reads_unset)."""
        entry = load_catalog().entry(name)
        unset = entry.reads_unset if isinstance(entry, Property) else None
        if (
            unset is not None
            and qemu_version
            and self.get(name) is None
            and parse_release(qemu_version) < parse_release(unset.before)
        ):
            return unset.value
        return self.effective(name)

    def enabled(self, name: str) -> bool:
        """Whether a boolean property is explicitly on."""
        return self._lookup.get(name) is True or (
            name in self._aliases and self._lookup.get(self._aliases[name]) is True
        )

    @property
    def passthrough(self) -> bool:
        return self._lookup.get("hv-passthrough") is True

    @property
    def kvm_hidden(self) -> bool:
        return self.get("kvm") is False

    @property
    def enabled_features(self) -> tuple[Property, ...]:
        """Features switched on, in QEMU's bit order."""
        mask = self.feature_mask
        return tuple(p for p in load_catalog().features if mask >> (p.bit or 0) & 1)

    @cached_property
    def hyperv_enabled(self) -> bool:
        """Whether QEMU would expose Hyper-V CPUID leaves at all (QEMU's
        hyperv_enabled(), given a host with KVM_CAP_HYPERV)."""
        catalog = load_catalog()
        for name, value in self.values.items():
            entry = catalog.entry(name)
            if isinstance(entry, Property) and entry.activates_hyperv and value != entry.default:
                return True
        return False

    def machine_at_most(self, version: str) -> bool:
        """Whether the machine type is a versioned x86 type no newer than
        `version` (e.g. pc-q35-3.0 <= 3.0). Unversioned types are the newest."""
        found = _machine_version(self.machine)
        if found is None:
            return False
        return found <= _numbers(version)

    # --- changing --------------------------------------------------------

    def with_values(self, changes: Mapping[str, Value | None]) -> HypervConfig:
        """A copy with some values set (None removes a value)."""
        merged: dict[str, Value] = dict(self.values)
        catalog = load_catalog()
        for name, value in changes.items():
            entry = catalog.entry(name)
            key = entry.name if entry else name
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return replace(self, values=merged)


_MACHINE_VERSION = re.compile(r"^(?:pc-(?:i440fx-|q35-)?)(\d+)\.(\d+)(?:[.+].*)?$")


@cache
def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@cache
def _machine_version(machine: str | None) -> tuple[int, ...] | None:
    if not machine:
        return None
    match = _MACHINE_VERSION.match(machine)
    return (int(match.group(1)), int(match.group(2))) if match else None
