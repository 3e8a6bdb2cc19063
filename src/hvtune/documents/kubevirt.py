"""What hvtune keeps of a KubeVirt VirtualMachine or VirtualMachineInstance:
the libvirt domain virt-launcher would define for it (so every libvirt rule
and libvirt's -cpu builder judge it as they judge domain XML), and the
KubeVirt fields its own webhooks and scheduler look at, once a referenced
preference and KubeVirt's mutating webhook have had their say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hvtune.documents.libvirt import LibvirtDomain


@dataclass(frozen=True)
class KubevirtVm(LibvirtDomain):
    """A VM as KubeVirt runs it.

    ``kind`` and ``vm_name`` name the object; ``base`` is where its
    VirtualMachineInstanceSpec sits (``spec.template.spec`` in a
    VirtualMachine, ``spec`` in a VirtualMachineInstance). ``states`` holds
    each written ``features.hyperv`` field (KubeVirt's names: ``synictimer``,
    ``tlbflush``...) with its ``enabled`` (None: written without it, which
    the converter takes as on but the webhooks as unset). ``mutated`` lists
    the requirements KubeVirt's mutating webhook enabled. ``passthrough`` is
    ``features.hypervPassthrough.enabled`` when written (``passthrough_written``). ``preference`` is
    the referenced preference (kind, name) and ``preference_found`` whether
    it was among the documents read. ``lines`` gives the line of each field
    path that was written (YAML input only)."""

    kind: str = "VirtualMachine"
    vm_name: str = ""
    base: str = "spec.template.spec"
    states: Mapping[str, bool | None] = field(default_factory=lambda: MappingProxyType({}))
    mutated: tuple[str, ...] = ()
    hyperv_written: bool = False
    passthrough: bool | None = None
    passthrough_written: bool = False
    unknown_fields: tuple[str, ...] = ()  # features.hyperv fields KubeVirt does not know (it drops them)
    preference: tuple[str, str] | None = None
    preference_found: bool = False
    document_index: int = 0
    lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    def enabled(self, name: str) -> bool:
        """Whether KubeVirt's webhooks take `name` as enabled (``enabled: true``)."""
        return self.states.get(name) is True

    def converted_on(self, name: str) -> bool:
        """Whether the converter writes `name` on (written, enabled not false)."""
        return name in self.states and self.states[name] is not False

    def path(self, relative: str) -> str:
        """A field path under spec.domain, from the manifest's root."""
        return f"{self.base}.domain.{relative}"

    def where(self, relative: str) -> str:
        """A field path under spec.domain with its line, when known."""
        path = self.path(relative)
        line = self.lines.get(path)
        return f"line {line}, {path}" if line else path
