"""What KubeVirt does with a VirtualMachine's Hyper-V fields, as data: the
``[kubevirt]`` table of data/stacks.toml (its sources are named there),
loaded once into one frozen record. The format reads it to convert a
manifest as virt-launcher does; the checks to judge it as KubeVirt's
webhooks and scheduler do."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from hvtune.catalog import load_catalog


@dataclass(frozen=True)
class KubevirtFacts:
    libvirt: str
    default_cpu_mode: str
    default_cpu_policy: str
    default_preference_kind: str
    requires: tuple[tuple[str, str], ...]  # (feature, requirement) in the webhook's order
    requires_message: str
    requires_field: str
    passthrough_message: str
    passthrough_field: str
    evmcs_cpu_feature: str
    evmcs_cpu_policy: str
    node_label_prefix: str
    node_vendor_label_prefix: str
    node_tsc_frequency_label: str
    node_tsc_scalable_label: str
    selected_labels: tuple[str, ...]
    evmcs_vendor: str
    node_labels: Mapping[str, str]  # catalog property -> node label name
    reenlightenment_migration_message: str
    neighbour_fields: Mapping[str, str]
    guests: Mapping[str, str]

    def field_of(self, name: str) -> str | None:
        """Where a catalog property or neighbour lives under spec.domain."""
        entry = load_catalog().entry(name)
        return self.neighbour_fields.get(name) or (getattr(entry, "kubevirt", None) if entry else None)

    @property
    def properties_by_field(self) -> Mapping[str, str]:
        """Catalog property by its field under spec.domain (features.hyperv.relaxed, ...)."""
        return _by_field()


@cache
def _by_field() -> Mapping[str, str]:
    return MappingProxyType({prop.kubevirt: prop.name for prop in load_catalog().properties if prop.kubevirt})


@cache
def kubevirt_facts() -> KubevirtFacts:
    raw = tomllib.loads(files("hvtune").joinpath("data/stacks.toml").read_text("utf-8"))["kubevirt"]
    return KubevirtFacts(
        **{
            **raw,
            "requires": tuple((rule["feature"], rule["requires"]) for rule in raw["requires"]),
            "selected_labels": tuple(raw["selected_labels"]),
            "node_labels": MappingProxyType(raw["node_labels"]),
            "neighbour_fields": MappingProxyType(raw["neighbour_fields"]),
            "guests": MappingProxyType(raw["guests"]),
        }
    )
