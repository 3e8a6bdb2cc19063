"""Live libvirt: read the persistent definitions of a daemon's domains and
redefine them (libvirt-python, the ``hvtune[libvirt]`` extra).

hvtune never touches a running domain's live state: it reads and writes the
persistent (inactive) definition, which takes effect at the next boot.
Before it redefines a domain it saves the definition it replaces to a file
(`backup_path`), and it redefines only if the definition is still the one
it read.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hvtune.checking import check_reading
from hvtune.errors import InputError
from hvtune.formats import read_text
from hvtune.formats.domcaps import HypervCapabilities, parse_domcaps

if TYPE_CHECKING:
    from hvtune.findings import CheckResult
    from hvtune.host.profile import HostProfile
    from hvtune.plan import Goals

DEFAULT_URI = "qemu:///system"


def default_uri() -> str:
    return os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI


def backup_path(name: str) -> Path:
    """Where the definition of domain `name` is saved before hvtune replaces
    it: $XDG_STATE_HOME/hvtune/backups (else ~/.local/state/hvtune/backups),
    named by the domain and the UTC time. The folder is made, private to the
    user, when missing."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    folder = base / "hvtune" / "backups"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(str(folder), None, f"cannot make the folder for saved definitions: {error.strerror}") from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return folder / f"{name.replace(os.sep, '_')}-{stamp}.xml"


def _without_binding() -> str:
    """Why there is no connection when libvirt-python is missing: on a host
    without libvirt that is simply the answer; with libvirt it is a missing extra."""
    if shutil.which("virsh") or shutil.which("libvirtd") or os.path.exists("/run/libvirt"):
        return "libvirt-python is not installed: pip install 'hvtune[libvirt]'"
    return "libvirt is not installed on this host"


def _not_answering(uri: str, said: str) -> str:
    """Why a daemon does not answer: for this machine's own, whether its
    libvirt daemon is installed and merely not running."""
    daemon = next((name for name in ("virtqemud", "libvirtd") if _installed(name)), None)
    if daemon and uri in ("qemu:///system", "qemu:///session"):
        return f"{daemon} is installed but not running ({said}); start it (systemctl start {daemon}) to check its VMs"
    return f"no libvirt daemon answers ({said})"


def _installed(program: str) -> bool:
    return bool(shutil.which(program)) or os.path.exists(f"/usr/sbin/{program}")


@dataclass(frozen=True)
class LiveDomain:
    """A domain's persistent definition and whether it is running."""

    name: str
    xml: str
    active: bool


def _binding() -> Any:
    try:
        import libvirt
    except ImportError:
        return None
    libvirt.registerErrorHandler(lambda context, error: None, None)  # errors become exceptions only
    return libvirt


class Connection:
    """An open connection to one libvirt daemon."""

    def __init__(self, uri: str):
        libvirt = _binding()
        if libvirt is None:
            raise InputError(uri, None, _without_binding())
        self._libvirt = libvirt
        self.uri = uri
        try:
            self._connection = libvirt.open(uri)
        except libvirt.libvirtError as error:
            raise InputError(uri, None, _not_answering(uri, error.get_error_message())) from None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._connection.close()

    @property
    def version(self) -> str:
        number = self._connection.getLibVersion()
        return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"

    def domains(self, names: tuple[str, ...] = ()) -> list[LiveDomain]:
        """The named domains (every persistent one when none are named). A
        transient domain has no persistent definition, so naming one is an error."""
        libvirt = self._libvirt
        if not names:
            found = sorted(self._connection.listAllDomains(), key=lambda domain: domain.name())
            found = [domain for domain in found if domain.isPersistent()]
        else:
            found = []
            for name in names:
                try:
                    domain = self._connection.lookupByName(name)
                except libvirt.libvirtError:
                    raise InputError(self.uri, None, f"no domain named {name!r}") from None
                if not domain.isPersistent():
                    raise InputError(self.uri, None, f"domain {name!r} is transient: it has no persistent definition")
                found.append(domain)
        return [
            LiveDomain(domain.name(), domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), bool(domain.isActive()))
            for domain in found
        ]

    def require_unchanged(self, domain: LiveDomain) -> None:
        """Raise InputError unless `domain`'s persistent definition is still the one read."""
        (current,) = self.domains((domain.name,))
        if current.xml != domain.xml:
            problem = (
                f"domain {domain.name!r} was redefined while hvtune was working; nothing changed (run hvtune again)"
            )
            raise InputError(self.uri, None, problem)

    def define(self, xml: str) -> None:
        """Replace a domain's persistent definition."""
        try:
            self._connection.defineXML(xml)
        except self._libvirt.libvirtError as error:
            problem = f"libvirt refused the new definition: {error.get_error_message()}"
            raise InputError(self.uri, None, problem) from None

    def hyperv_capabilities(self) -> HypervCapabilities | None:
        """What the daemon says the host supports for Hyper-V (domcapabilities)."""
        try:
            xml = self._connection.getDomainCapabilities(None, "x86_64", None, "kvm", 0)
        except self._libvirt.libvirtError:
            return None
        return parse_domcaps(xml, source=f"{self.uri} domcapabilities")


def check_live(
    uri: str,
    names: tuple[str, ...] = (),
    *,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
    goals: Goals | None = None,
) -> list[CheckResult]:
    """Check the persistent definitions of a libvirt daemon's domains (the
    named ones, or all), judged by `libvirt_version`, else by that daemon's
    libvirt release, for `goals`."""
    with Connection(uri) as connection:
        version = libvirt_version or connection.version
        domains = connection.domains(names)
    return [
        check_reading(
            read_text(d.xml, source=d.name), guest_os=guest_os, libvirt_version=version, host=host, goals=goals
        )
        for d in domains
    ]
