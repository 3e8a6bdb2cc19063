"""What a check may know besides the config itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hvtune.formats.libvirt import LibvirtDomain
    from hvtune.host.profile import HostProfile

Target = Literal["qemu", "libvirt"]


@dataclass(frozen=True)
class CheckContext:
    """The circumstances of one check.

    ``target`` is the program that will read the configuration: limits that
    only libvirt enforces are errors for ``libvirt`` and warnings for
    ``qemu``. ``guest_os`` is ``linux``, a Windows name such as ``win11``, or
    None when unknown. ``ambiguous`` lists property names the source text
    both switched with ``+x``/``-x`` and set with ``x=...``, which QEMU warns
    about. ``libvirt_version`` is the libvirt release that will read the
    configuration (None: the newest the catalog describes), and ``domain``
    holds the facts of a libvirt domain when the config came from one.
    ``host`` is the host the guest will run on (None: judged without one).
    """

    target: Target = "qemu"
    guest_os: str | None = None
    ambiguous: tuple[str, ...] = ()
    libvirt_version: str | None = None
    domain: LibvirtDomain | None = None
    host: HostProfile | None = None

    @property
    def facts(self) -> frozenset[str]:
        """Which of the facts checks may need (rule.needs) this context has."""
        present = {"host": self.host is not None, "linux": self.linux_guest, "ambiguous": bool(self.ambiguous)}
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
        return self.domain is not None and self.domain.domain_type != "kvm"

    @property
    def linux_guest(self) -> bool:
        return self.guest_os == "linux"
