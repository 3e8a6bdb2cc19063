"""Kubernetes nodes as KubeVirt labels them: what ``kubectl get nodes -o
json`` prints (a List of Nodes, or one Node), read into the labels that
decide where a VM can run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hvtune.errors import InputError
from hvtune.files import load_text
from hvtune.formats.jsontext import load_json


@dataclass(frozen=True)
class KubeNode:
    """One node: its name and labels."""

    name: str
    labels: Mapping[str, str]

    def has(self, label: str) -> bool:
        """Whether the node carries `label` set to "true"."""
        return self.labels.get(label) == "true"

    def carries_prefix(self, prefix: str) -> bool:
        return any(label.startswith(prefix) for label in self.labels)


def _node(item: object, source: str, place: str) -> KubeNode:
    if not isinstance(item, dict) or item.get("kind", "Node") != "Node":
        raise InputError(source, place, "expects a Node object")
    metadata = item.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise InputError(source, f"{place}.metadata.name", "a Node needs a name")
    labels: Any = metadata.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise InputError(source, f"{place}.metadata.labels", "expects a mapping of strings")
    return KubeNode(metadata["name"], MappingProxyType(labels))


def read_nodes(text: str, *, source: str) -> tuple[KubeNode, ...]:
    """The nodes of ``kubectl get nodes -o json`` output."""
    document = load_json(text, source=source)
    if isinstance(document, dict) and ("items" in document or document.get("kind") == "List"):
        items = document.get("items")
        if not isinstance(items, list):
            raise InputError(source, "items", "expects a list of Nodes")
        return tuple(_node(item, source, f"items[{index}]") for index, item in enumerate(items))
    return (_node(document, source, "the document"),)


def load_nodes(path: str) -> tuple[KubeNode, ...]:
    return read_nodes(load_text(path), source=path)
