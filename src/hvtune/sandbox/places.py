"""Where `hvtune verify` runs a batch: a stack in the sandbox (an L1 guest
under TCG whose KVM emulates Hyper-V), or this machine, when its own KVM
emulates Hyper-V (real hardware, Intel included). Both run the same agent
(hvtune.sandbox.agent) on the same request and read the same JSON lines."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from hvtune.errors import InputError
from hvtune.host.profile import HostProfile, probe_host
from hvtune.host.profile_json import profile_from_json
from hvtune.host.support import hyperv_emulation
from hvtune.host.versions import local_libvirt_version, local_qemu_version
from hvtune.report.host import host_json
from hvtune.sandbox.agent import LIBVIRT_SOCKET, AgentOutcome, last_words, printed_outcome
from hvtune.sandbox.l1 import AGENT_FOLDER, run_l1
from hvtune.sandbox.runtime import python_argv, runtime_image
from hvtune.sandbox.stack import Stack
from hvtune.writing import write_file

LIMITS = (
    "the sandbox's CPU is AMD (TCG's max): Intel-only features (enlightened VMCS, APICv) can only be seen refused, "
    "and its timings are relative"
)
LOCAL_SECONDS = 600.0
Say = Callable[[str], None]


def _quiet(_: str) -> None:
    """Says nothing."""  # a whole batch on this machine, at most


class Place(Protocol):
    """Where a batch runs."""

    @property
    def name(self) -> str: ...  # a Debian release, or "local"

    @property
    def title(self) -> str: ...  # how a report names it

    @property
    def accel(self) -> str: ...

    @property
    def limits(self) -> str | None: ...  # what this place cannot show

    @property
    def folder(self) -> Path: ...  # where the agent finds the batch's files

    @property
    def domain_name(self) -> str: ...  # the name libvirt domains are defined under

    @property
    def stack(self) -> Stack | None: ...  # the sandbox's stack (None: this machine)

    def describe(self) -> dict[str, str]: ...  # release, kernel, qemu, libvirt

    @property
    def libvirt_version(self) -> str | None: ...

    def recorded_profile(self) -> HostProfile | None: ...

    def run(self, request: dict[str, Any], extra: Mapping[str, bytes], *, say: Say = ...) -> AgentOutcome: ...

    def record_profile(self, outcome: AgentOutcome) -> HostProfile: ...


@dataclass(frozen=True)
class Sandbox:
    """A stack booted as the L1 guest; its host profile is recorded the
    first time (hvtune's probe in the same boot) and kept with the stack."""

    stack: Stack
    accel: str = "kvm in a TCG guest (nested SVM)"
    limits: str | None = LIMITS
    folder: Path = AGENT_FOLDER
    domain_name: str = "hvtune-verify"

    @property
    def name(self) -> str:
        return self.stack.release

    @property
    def title(self) -> str:
        return f"Debian {self.stack.release} in the sandbox"

    def describe(self) -> dict[str, str]:
        return self.stack.describe()

    @property
    def libvirt_version(self) -> str | None:
        return self.stack.versions.get("libvirt")

    @property
    def _profile_path(self) -> Path:
        return self.stack.folder / "profile.json"

    def recorded_profile(self) -> HostProfile | None:
        path = self._profile_path
        return profile_from_json(path.read_text(), source=str(path)) if path.is_file() else None

    def run(self, request: dict[str, Any], extra: Mapping[str, bytes], *, say: Say = _quiet) -> AgentOutcome:
        """One boot of the stack; hvtune's probe, when asked for, runs on
        hvtune's own Python, its image mounted in L1 (the stack's may be too
        old for hvtune)."""
        if not request.get("probe"):
            return run_l1(self.stack, request, extra, say=say)
        probing = {**request, "probe": python_argv("hvtune.sandbox.probe")}
        return run_l1(self.stack, probing, extra, runtime_image(say=say), say=say)

    def record_profile(self, outcome: AgentOutcome) -> HostProfile:
        stack = self.stack
        probed = outcome.results().get("probe", {})
        if not probed.get("profile"):
            raise InputError("hvtune sandbox", None, f"hvtune's probe failed in the {stack.release} stack: {probed}")
        profile = profile_from_json(probed["profile"], source=f"the {stack.release} stack's probe")
        described = dataclasses.replace(
            profile,
            name=f"sandbox-{stack.release}",
            description=(
                f"hvtune sandbox, Debian {stack.release}: kernel {stack.kernel}, QEMU {stack.versions.get('qemu')}, "
                f"libvirt {stack.versions.get('libvirt')}; probed by hvtune in the L1 guest "
                "(TCG -cpu max, kvm_amd, one vCPU)"
            ),
        )
        write_file(str(self._profile_path), host_json(described))
        return described


def local_problem(profile: HostProfile) -> str | None:
    """Why this machine's KVM cannot serve verify, or None."""
    if profile.kvm.device != "present":
        return f"this machine has no usable KVM ({profile.kvm.problem})"
    if not hyperv_emulation(profile.kvm):
        return "this machine's KVM emulates no Hyper-V (KVM_CAP_HYPERV is 0)"
    return None


@dataclass(frozen=True)
class LocalMachine:
    """This machine's own QEMU, libvirtd (when it runs) and KVM; its
    profile is probed afresh. Domains are defined under a name of their
    own, started paused, destroyed and undefined; no daemon is started."""

    profile: HostProfile
    folder: Path
    accel: str = "kvm (this machine)"
    limits: str | None = None
    name: str = "local"
    title: str = "this machine"
    stack: None = None

    @property
    def domain_name(self) -> str:
        return f"hvtune-verify-{os.getpid()}"

    @cached_property
    def _qemu_version(self) -> str | None:
        return local_qemu_version()

    def describe(self) -> dict[str, str]:
        return {
            "release": self.name,
            "kernel": self.profile.system.kernel or os.uname().release,
            "qemu": self._qemu_version or "unknown",
            "libvirt": self.libvirt_version or "not installed",
        }

    @cached_property
    def libvirt_version(self) -> str | None:
        """Asked of the installed libvirt once: reports name it per line."""
        return local_libvirt_version()

    def recorded_profile(self) -> HostProfile | None:
        return self.profile

    def run(self, request: dict[str, Any], extra: Mapping[str, bytes], *, say: Say = _quiet) -> AgentOutcome:
        if any("domain" in case for case in request["cases"]) and not os.path.exists(LIBVIRT_SOCKET):
            raise InputError("hvtune verify", None, f"libvirtd is not running here ({LIBVIRT_SOCKET} is missing)")
        for name, data in {**extra, "request.json": json.dumps(request).encode()}.items():
            (self.folder / name).write_bytes(data)
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "hvtune.sandbox.agent", str(self.folder / "request.json")],
            capture_output=True,
            text=True,
            timeout=LOCAL_SECONDS,
        )
        outcome = printed_outcome(done, time.monotonic() - start)
        if outcome is None:
            raise InputError("hvtune verify", None, f"the agent failed here: {last_words(done)}")
        return outcome

    def record_profile(self, outcome: AgentOutcome) -> HostProfile:
        return self.profile


def local_machine(folder: Path, profile: HostProfile | None = None) -> LocalMachine:
    """This machine (its `profile`, probed when not given) as a place to
    verify on, its batch's files in `folder`; InputError when its KVM
    cannot serve."""
    profile = profile or probe_host(libvirt_uri=None)
    problem = local_problem(profile)
    if problem is not None:
        raise InputError("hvtune verify --on local", None, f"{problem}: use the sandbox (--on bookworm)")
    return LocalMachine(profile, folder)
