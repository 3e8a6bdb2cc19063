"""What the options name, resolved for the core: the inputs to read
(standard input as ``-``), the host (``this`` probes the machine), the
libvirt release to judge by (the option, else the daemon's, else the host
profile's, else the one installed here) and a host's Hyper-V capabilities.
This is where the command line looks at the machine; the core never does."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion

from hvtune.errors import InputError
from hvtune.files import Loaded, load_file, load_stdin, load_text
from hvtune.formats import Reading, read_text, read_texts, sniffed_format
from hvtune.formats.qemu import read_cpu_option
from hvtune.releases import parse_release

if TYPE_CHECKING:
    from hvtune.doctor import Site
    from hvtune.formats.domcaps import HypervCapabilities
    from hvtune.host.profile import HostProfile
    from hvtune.sandbox.places import Place
    from hvtune.sandbox.verify import Configuration


def read_inputs(
    paths: Iterable[str | Path], cpu: str | None = None, qemu_version: str | None = None
) -> list[Reading[Any] | InputError]:
    """Read every named file (``-`` is standard input; a directory gives
    the files under it that hvtune recognises) and the --cpu value, QEMU's
    text as QEMU `qemu_version` reads it; the files are read together, so
    that a KubeVirt VM finds its preference in another; each unusable one
    becomes its InputError instead of stopping the rest."""
    loaded: list[tuple[str, str] | InputError] = []
    for path in paths:
        try:
            if str(path) != "-" and Path(path).is_dir():
                loaded += _directory(Path(path))
            else:
                found = load_input(path)
                loaded.append((found.text, found.source))
        except InputError as error:
            loaded.append(error)
    texts = [entry for entry in loaded if not isinstance(entry, InputError)]
    readings = [*read_texts(texts, qemu_version=qemu_version), *(e for e in loaded if isinstance(e, InputError))]
    if cpu is not None:
        try:
            readings.append(read_cpu_option(cpu, qemu_version=qemu_version))
        except InputError as error:
            readings.append(error)
    return readings


# What a directory may hold that hvtune reads: manifests and domain XML.
_DIRECTORY_SUFFIXES = (".yaml", ".yml", ".json", ".xml")


def _directory(folder: Path) -> list[tuple[str, str] | InputError]:
    """The files under `folder` (sorted, recursively) with a suffix of
    _DIRECTORY_SUFFIXES that a format recognises (a KubeVirt manifest,
    domain XML, hvtune's JSON): other YAML (Deployments, kustomizations)
    is passed over; a directory with none is unusable input."""
    found: list[tuple[str, str] | InputError] = []
    for root, folders, names in os.walk(folder):
        folders.sort()
        for name in sorted(names):
            if not name.endswith(_DIRECTORY_SUFFIXES):
                continue
            try:
                loaded = load_file(Path(root) / name)
            except InputError as error:
                found.append(error)
                continue
            if sniffed_format(loaded.text) is not None:
                found.append((loaded.text, loaded.source))
    return found or [InputError(str(folder), None, "is a directory holding no VM definition hvtune reads")]


def load_input(path: str | Path) -> Loaded:
    """A named file, or standard input for ``-``."""
    return load_stdin() if str(path) == "-" else load_file(path)


def verify_inputs(paths: Iterable[str | Path], cpus: Iterable[str]) -> list[Configuration]:
    """What verify runs: each QEMU command line, libvirt domain or -cpu
    value; the first unusable input stops it."""
    from hvtune.sandbox.verify import Configuration

    configurations: list[Configuration] = []
    for path in paths:
        loaded = load_input(path)
        reading = read_text(loaded.text, source=loaded.source)
        if reading.format == "libvirt":
            configurations.append(Configuration.of_domain(loaded.text, source=loaded.source))
        elif reading.format == "qemu":
            configurations.append(Configuration.of(reading))
        else:
            raise InputError(reading.source, None, "verify runs QEMU command lines, libvirt domains and -cpu values")
    configurations += [Configuration.typed(cpu) for cpu in cpus]
    if not configurations:
        raise InputError("hvtune verify", None, "nothing to verify: give FILE... or --cpu STRING")
    return configurations


def host_profile(spec: str | None) -> HostProfile | None:
    """The host to judge against: a bundled profile by name, a saved profile
    file, ``this`` (probe this machine; libvirt's domcapabilities, which no
    check needs, is not asked), or None for no host."""
    if spec is None or spec == "none":
        return None
    if spec == "this":
        from hvtune.host.profile import probe_host

        return probe_host(libvirt_uri=None)
    from hvtune.host.profile_json import load_profile

    return load_profile(spec)


def planning_host(spec: str | None) -> HostProfile:
    """The host a plan is made for: --host, else this machine; a plan
    needs one, so 'none' is refused in one line."""
    host = host_profile(spec or "this")
    if host is None:
        raise InputError("--host", None, "a plan is made for a host: name one (hvtune host --list) or 'this'")
    return host


def judged_host(spec: str | None) -> HostProfile | None:
    """The host check and doctor judge on: --host, else $HVTUNE_HOST, else
    this machine when it has /dev/kvm (where its VMs run), else none."""
    if spec is None:
        spec = os.environ.get("HVTUNE_HOST") or ("this" if os.path.exists("/dev/kvm") else "none")
    return host_profile(spec)


def doctor_hosts(specs: Iterable[str], uris: Iterable[str]) -> list[Site]:
    """Where doctor looks, and the host each is judged on: --host URI=FILE
    for that daemon, else a plain --host for all, else this machine for a
    local daemon (judged_host) and the daemon's own domcapabilities for
    another machine."""
    from hvtune.doctor import Site

    named = list(uris)
    per_uri: dict[str, str] = {}
    plain: str | None = None
    for spec in specs:
        left, has_uri, right = spec.partition("=")
        if has_uri and "://" in left:
            if left not in named:
                raise InputError("--host", None, f"{spec!r} names {left}, which no --connect names")
            per_uri[left] = right
        elif plain is not None:
            raise InputError("--host", None, f"{spec!r}: give one host for all, or URI=FILE for each --connect")
        else:
            plain = spec
    if not named:
        return [Site(None, judged_host(plain))]
    sites = []
    for uri in named:
        chosen = per_uri.get(uri, plain)
        if chosen is None and _remote(uri):
            sites.append(Site(uri, None, ask_daemon=True))
        else:
            sites.append(Site(uri, judged_host(chosen)))
    return sites


def _remote(uri: str) -> bool:
    """Whether a libvirt URI names a daemon on another machine (a host part)."""
    from urllib.parse import urlsplit

    try:
        return bool(urlsplit(uri).hostname)
    except ValueError:
        return False


def checked_release(option: str | None, name: str = "--libvirt-version") -> str | None:
    """The release option `name` (--libvirt-version, --qemu-version), when
    it is a release number."""
    if option:
        try:
            parse_release(option)
        except InvalidVersion:
            raise InputError(name, None, f"{option!r} is not a version such as 9.0.0") from None
    return option or None


def qemu_release_to_judge(option: str | None, *, say: Callable[[str], None]) -> str | None:
    """The QEMU release whose reading of -cpu values counts: --qemu-version,
    else None (no release); one warning through `say` when it is newer than
    the newest hvtune knows. (A --host profile's QEMU judges the config,
    not its text: check's qemu-too-old and qemu-removed findings.)"""
    from hvtune.formats.qemu import newer_than_known

    if not option:
        return None
    try:
        warning = newer_than_known(option)
    except InvalidVersion:
        raise InputError("--qemu-version", None, f"{option!r} is not a version such as 7.2") from None
    if warning:
        say(warning)
    return option


def installed_libvirt() -> str | None:
    """The libvirt release installed here (virsh --version), or None."""
    from hvtune.host.versions import local_libvirt_version

    return local_libvirt_version()


def libvirt_release(option: str | None, known: str | None = None) -> str | None:
    """The libvirt release to judge files by: --libvirt-version, else
    `known` (a host profile's), else the one installed here; None means the
    newest hvtune knows."""
    return checked_release(option) or known or installed_libvirt()


def connected_release(option: str | None, uri: str | None) -> str | None:
    """The libvirt release to translate for: --libvirt-version, else the
    daemon's at --connect, else the one installed here."""
    if uri is not None and not option:
        from hvtune.live import Connection

        with Connection(uri) as connection:
            return connection.version
    return libvirt_release(option)


def host_capabilities(domcaps: str | None, uri: str | None) -> HypervCapabilities | None:
    """A host's Hyper-V capabilities, from a saved domcapabilities file or
    from the daemon at `uri`."""
    if domcaps is not None:
        from hvtune.formats.domcaps import parse_domcaps

        return parse_domcaps(load_text(domcaps), source=domcaps)
    if uri is not None:
        from hvtune.live import Connection

        with Connection(uri) as connection:
            return connection.hyperv_capabilities()
    return None


def verify_place(release: str | None, folder: Path, *, say: Callable[[str], None]) -> Place:
    """Where verify runs: the release's stack in the sandbox (built first
    when missing), ``local`` (this machine's KVM, refused with one line
    when it emulates no Hyper-V), or by default this machine when its KVM
    emulates Hyper-V, else this machine's Debian release in the sandbox.
    `folder` holds the batch's files on this machine."""
    from hvtune.host.profile import probe_host
    from hvtune.sandbox.places import Sandbox, local_machine, local_problem
    from hvtune.sandbox.stack import default_release, ensure_stack

    if release == "local":
        return local_machine(folder)
    if release is None:
        here = probe_host(libvirt_uri=None)
        if local_problem(here) is None:
            return local_machine(folder, here)
    return Sandbox(ensure_stack(release or default_release(), say=say))
