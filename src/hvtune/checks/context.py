"""What a check may know besides the config itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from hvtune.documents.libvirt import LibvirtDomain
from hvtune.documents.qemu import QemuCommand

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile
    from hvtune.kubenodes import KubeNode

K = TypeVar("K")


@dataclass(frozen=True)
class CheckContext:
    """The circumstances of one check.

    ``target`` is the program that will read the configuration (a format's
    ``target``: ``qemu`` or ``libvirt``): limits that only libvirt enforces
    are errors for ``libvirt`` and warnings for ``qemu``. ``guest_os`` is
    ``linux``, a Windows name such as ``win11``, or None when unknown.
    ``libvirt_version`` is the libvirt release that will read the
    configuration (None: the newest the catalog describes). ``document`` is
    what the source's format kept of it (hvtune.documents: a libvirt
    domain's facts, a QEMU command line's ambiguous names); checks ask for
    the kind they judge with ``document_of``. ``host`` is the host the guest
    will run on (None: judged without one). ``qemu_version`` is the QEMU
    release that will run it (None: the host's, when there is one).
    ``nodes`` are the Kubernetes nodes a KubeVirt VM may run on (None: not known).
    """

    target: str = "qemu"
    guest_os: str | None = None
    libvirt_version: str | None = None
    document: object | None = None
    host: HostProfile | None = None
    qemu_version: str | None = None
    nodes: tuple[KubeNode, ...] | None = None

    def document_of(self, kind: type[K]) -> K | None:
        """The document when it is a `kind`, else None."""
        return self.document if isinstance(self.document, kind) else None

    @cached_property
    def facts(self) -> frozenset[str]:
        """Which of the facts checks may need (rule.needs) this context has."""
        command = self.document_of(QemuCommand)
        ambiguous = command is not None and bool(command.ambiguous)
        present = {
            "host": self.host is not None,
            "linux": self.linux_guest,
            "ambiguous": ambiguous,
            "nodes": self.nodes is not None,
        }
        return frozenset(name for name, ok in present.items() if ok)

    @property
    def kvm_host(self) -> HostProfile | None:
        """The host, when the guest runs there under KVM with a usable /dev/kvm."""
        host = self.host
        if host is None or self.emulator_only or host.kvm.device != "present":
            return None
        return host

    @property
    def emulator_only(self) -> bool:
        """A libvirt domain of a type other than kvm: QEMU runs it under TCG,
        which implements no Hyper-V enlightenment and checks none of their
        dependencies."""
        domain = self.document_of(LibvirtDomain)
        return domain is not None and domain.domain_type != "kvm"

    @property
    def linux_guest(self) -> bool:
        return self.guest_os == "linux"
