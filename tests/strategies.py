"""Hypothesis strategies for configs hvtune must handle."""

from __future__ import annotations

from hypothesis import strategies as st

from hvtune.catalog import Neighbour, load_catalog
from hvtune.config import HypervConfig
from hvtune.valuetypes import VALUE_TYPES

# Tokens QEMU accepts for qemu64/max under TCG, to stand for "everything else".
OTHER_TOKENS = ("l3-cache=on", "+lahf_lm", "-sep", "pmu=off", "+kvm_pv_eoi", "check")


def value_for(type_name: str) -> st.SearchStrategy:
    kind = VALUE_TYPES[type_name]
    if kind.python is bool:
        return st.booleans()
    if kind.python is int:
        return st.integers(kind.minimum, kind.maximum)
    if kind.choices:
        return st.sampled_from(kind.choices)
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=","), max_size=16)


@st.composite
def configs(
    draw: st.DrawFn, models: tuple[str, ...] = ("qemu64", "max", "host", "Skylake-Server-v4", "EPYC")
) -> HypervConfig:
    catalog = load_catalog()
    model = draw(st.sampled_from(models))
    entries = [
        entry
        for entry in catalog.entries
        if not (isinstance(entry, Neighbour) and entry.models and model not in entry.models)
    ]
    chosen = draw(st.lists(st.sampled_from(entries), unique_by=lambda e: e.name, max_size=12))
    values = {entry.name: draw(value_for(entry.type)) for entry in chosen}
    extra = draw(st.lists(st.sampled_from(OTHER_TOKENS), unique=True, max_size=3))
    return HypervConfig(model=model, values=values, extra=tuple(extra))


@st.composite
def feature_sets(draw: st.DrawFn) -> HypervConfig:
    """Configs that switch on a random set of features (and maybe off others)."""
    catalog = load_catalog()
    chosen = draw(st.lists(st.sampled_from(catalog.features), unique_by=lambda p: p.name, max_size=10))
    return HypervConfig(model="host", values={p.name: draw(st.booleans()) for p in chosen})
