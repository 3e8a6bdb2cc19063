"""A real libvirtd for the tests, and virsh as the judge of translation.

Without systemd (containers, CI) libvirtd is started by hand: create
/var/run/libvirt and /var/log/libvirt, run `libvirtd -d`, and wait until
qemu:///system answers; virtlogd likewise, for tests that start domains.
"""

from __future__ import annotations

import contextlib
import grp
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from hvtune.checking import check_reading, refusal
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.formats.libvirt import parse_text
from hvtune.formats.libvirt_cpu import libvirt_cpu
from hvtune.formats.shell import split_words
from hvtune.host.profile import HostProfile
from hvtune.sandbox.verify import catalog_tokens

from support.programs import require_program, under_ci

URI = "qemu:///system"


def _answers(virsh: str) -> bool:
    done = subprocess.run([virsh, "-c", URI, "version"], capture_output=True, text=True, timeout=30)
    return done.returncode == 0


def _kvm_like_udev() -> None:
    """Give /dev/kvm to group kvm, mode 0660, as Debian's udev rule does.

    Containers have no udev and keep /dev/kvm root-only; libvirt then finds
    KVM usable when it probes QEMU but not for the libvirt-qemu user, throws
    its capabilities away on every call and re-probes, each call waiting out
    a 30-second QMP timeout."""
    try:
        status = os.stat("/dev/kvm")
        kvm = grp.getgrnam("kvm").gr_gid
    except (FileNotFoundError, KeyError):
        return
    if status.st_gid != kvm or status.st_mode & 0o060 != 0o060:
        os.chown("/dev/kvm", -1, kvm)
        os.chmod("/dev/kvm", 0o660)


def ensure_libvirtd() -> str:
    """The virsh path, once a libvirtd answers on qemu:///system."""
    virsh = require_program("virsh")
    libvirtd = require_program("libvirtd")
    if os.geteuid() == 0:
        _kvm_like_udev()
    if _answers(virsh):
        return virsh
    if os.geteuid() != 0:
        message = "starting libvirtd needs root"
        if under_ci():
            pytest.fail(message)
        pytest.skip(message)
    for folder in ("/var/run/libvirt", "/var/log/libvirt"):
        os.makedirs(folder, exist_ok=True)
    subprocess.run([libvirtd, "-d"], check=True, timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _answers(virsh):
            return virsh
        time.sleep(0.2)
    pytest.fail("libvirtd started but qemu:///system does not answer")


VIRTLOGD_SOCKET = "/run/libvirt/virtlogd-sock"


def _listening(path: str) -> bool:
    """Whether a daemon accepts connections on this Unix socket; a socket
    file left by a daemon that has gone (a machine restored from a snapshot
    keeps /run) does not."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def ensure_virtlogd() -> None:
    """libvirt starts domains with their console logged by virtlogd, which
    systemd would start on demand; without systemd the tests start it."""
    if _listening(VIRTLOGD_SOCKET):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(VIRTLOGD_SOCKET)
    subprocess.run([require_program("virtlogd"), "-d"], check=True, timeout=60)
    deadline = time.monotonic() + 30
    while not _listening(VIRTLOGD_SOCKET):
        if time.monotonic() > deadline:
            pytest.fail("virtlogd started but does not answer on " + VIRTLOGD_SOCKET)
        time.sleep(0.1)


@dataclass(frozen=True)
class Native:
    """What `virsh domxml-to-native qemu-argv` made of a domain."""

    cpu: str | None
    error: str | None


class Virsh:
    def __init__(self, path: str):
        self.path = path

    def run(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [self.path, "-c", URI, *arguments]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"virsh {' '.join(arguments)} failed: {done.stderr.strip()}")
        return done

    @property
    def version(self) -> str:
        for line in self.run("version").stdout.splitlines():
            if line.startswith("Using library: libvirt "):
                return line.split()[-1]
        raise AssertionError("virsh version printed no library version")

    def to_native(self, xml: str) -> Native:
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as handle:
            handle.write(xml)
            handle.flush()
            done = self.run("domxml-to-native", "qemu-argv", handle.name, check=False)
        return native_of(done.returncode == 0, done.stdout, done.stderr)


def native_of(translated: bool, stdout: str, stderr: str) -> Native:
    """What `virsh domxml-to-native qemu-argv` printed, read: the -cpu value
    of the command line, or libvirt's error without virsh's prefix."""
    if not translated:
        return Native(None, stderr.strip().removeprefix("error: "))
    words = [word.text for word in split_words(stdout)]
    return Native(words[words.index("-cpu") + 1] if "-cpu" in words else None, None)


def libvirt_disagreement(
    xml: str,
    native: Native,
    version: str,
    offered: Mapping[str, HypervCapabilities | None] | None = None,
    qemu_version: str | None = None,
    host: HostProfile | None = None,
) -> str | None:
    """How hvtune, judging for libvirt `version` (with the Hyper-V
    capabilities that libvirt `offered` for each domain type, the QEMU
    release beside it and the `host` it runs on, when known), differs from
    what that libvirt made of `xml` (None: the same -cpu value, or the same
    refusal with libvirt's own words)."""
    reading = parse_text(xml, source="domain.xml")
    judged = check_reading(reading, libvirt_version=version, qemu_version=qemu_version, host=host)
    refused = refusal(judged, "libvirt")
    if native.error is not None:
        if refused is None:
            return f"libvirt {version} refuses ({native.error}); hvtune does not"
        if refused.refusal_line != native.error:
            return f"libvirt {version} says {native.error!r}, hvtune {refused.refusal_line!r}"
        return None
    if refused is not None:
        return f"hvtune says libvirt {version} refuses ({refused.message}); it does not"
    assert reading.document is not None
    capabilities = (offered or {}).get(reading.document.domain_type)
    cpu = libvirt_cpu(reading.document, version=version, capabilities=capabilities)
    written = native.cpu or "qemu64"
    cpu_model = reading.document.cpu
    if cpu_model is not None and cpu_model.mode == "host-model":
        # libvirt puts the host's CPU model and features there, which hvtune
        # writes as `host` (formats/libvirt_cpu.py); the rest must agree, as
        # verify judges it (sandbox.verify.Verified.agrees)
        if catalog_tokens(cpu) != catalog_tokens(written):
            return f"libvirt {version} writes -cpu {native.cpu}, hvtune {cpu} (beyond the host's CPU model)"
        return None
    if cpu != written:
        return f"libvirt {version} writes -cpu {native.cpu}, hvtune {cpu}"
    return None


def assert_libvirt_agrees(virsh: Virsh, xml: str) -> None:
    """hvtune and the real libvirt translate `xml` alike, or refuse it alike."""
    problem = libvirt_disagreement(xml, virsh.to_native(xml), virsh.version)
    assert problem is None, problem
