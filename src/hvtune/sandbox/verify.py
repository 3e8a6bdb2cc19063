"""hvtune verify: each configuration run for real on a stack's QEMU and
Hyper-V KVM, beside hvtune's own prediction for the same stack (check on
the stack's recorded host profile). A disagreement is a defect of hvtune.

A batch is one L1 boot. The stack's host profile is recorded the first
time (hvtune's probe, run in the same boot) and kept with the stack. With
`boot`, each configuration also boots a Linux guest (L2, sandbox.l2) that
reports what it saw: its hypervisor, its Hyper-V lines, its clocksource."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvtune.catalog import load_catalog
from hvtune.checking import check_reading, refusal
from hvtune.cpuid import Leaves
from hvtune.errors import InputError, Refusal
from hvtune.formats.qemu import read_cpu_option, render_cpu
from hvtune.formats.reading import Reading
from hvtune.host.profile import HostProfile
from hvtune.host.profile_json import profile_from_json
from hvtune.lab.guest import GuestRun
from hvtune.report.host import host_json
from hvtune.sandbox.l1 import AGENT_FOLDER, L1Outcome, run_l1
from hvtune.sandbox.l2 import boot_cases, guest_spec, initramfs_files, read_boots
from hvtune.sandbox.payload import payload_argv, payload_image, read_payload_output
from hvtune.sandbox.stack import Stack
from hvtune.sandbox.wheels import wheel_files
from hvtune.valuetypes import Value
from hvtune.vm.console import qemu_refusal
from hvtune.vm.spec import DEFAULT_MACHINE
from hvtune.writing import write_file

PAYLOAD_NAME = "cpuid-payload.bin"  # in /opt/hvtune of the L1 guest
ACCEL = "kvm in a TCG guest (nested SVM)"
LIMITS = (
    "the sandbox's CPU is AMD (TCG's max): Intel-only features (enlightened VMCS, APICv) can only be seen refused, "
    "and its timings are relative"
)


@dataclass(frozen=True)
class Prediction:
    """What hvtune's check says QEMU does: start, or refuse with `error`."""

    started: bool
    error: str | None


@dataclass(frozen=True)
class Verified:
    """One configuration, run: whether QEMU started it or its first error
    line, the Hyper-V properties it ended with, the Hyper-V CPUID leaves
    a guest saw, hvtune's prediction, and (verify --boot, when it started)
    what a Linux guest booted with it saw."""

    source: str
    cpu: str
    started: bool
    error: str | None
    properties: dict[str, Value]
    cpuid: Leaves | None
    predicted: Prediction
    guest: GuestRun | None = None

    @property
    def agrees(self) -> bool:
        return self.predicted == Prediction(self.started, self.error)


@dataclass(frozen=True)
class Verification:
    """A batch's outcome on one stack, with the profile that predicted it."""

    stack: Stack
    profile: HostProfile
    results: tuple[Verified, ...]
    seconds: float


@dataclass(frozen=True)
class Configuration:
    """What is run: where it came from, the -cpu value QEMU gets (a value
    typed on the command line as it was, else the config written out), and
    what hvtune made of it: the reading, or the refusal hvtune predicts
    when it could not read it as QEMU would not."""

    source: str
    cpu: str
    machine: str
    judged: Reading[Any] | Refusal
    cpuid: bool = True  # also run the CPUID payload when it starts

    @classmethod
    def of(cls, reading: Reading[Any], typed: str | None = None, *, cpuid: bool = True) -> Configuration:
        cpu = typed if typed is not None else render_cpu(reading.config)
        return cls(reading.source, cpu, reading.config.machine or DEFAULT_MACHINE, reading, cpuid)

    @classmethod
    def typed(cls, cpu: str, *, source: str = "--cpu", cpuid: bool = True) -> Configuration:
        """A -cpu value as typed, QEMU's refusal of it included."""
        try:
            return cls.of(read_cpu_option(cpu, source=source), cpu, cpuid=cpuid)
        except Refusal as refused:
            return cls(source, cpu, DEFAULT_MACHINE, refused, cpuid)


def predict(judged: Reading[Any] | Refusal, profile: HostProfile) -> Prediction:
    """hvtune's verdict for a configuration on the host `profile` describes."""
    if isinstance(judged, Refusal):
        return Prediction(False, judged.said or judged.problem)
    found = refusal(check_reading(judged, target="qemu", host=profile), "qemu")
    return Prediction(found is None, found.refusal_line if found is not None else None)


def _profile_path(stack: Stack) -> Path:
    return stack.folder / "profile.json"


def stack_profile(stack: Stack) -> HostProfile | None:
    """The stack's recorded host profile, if it was recorded."""
    path = _profile_path(stack)
    return profile_from_json(path.read_text(), source=str(path)) if path.is_file() else None


def _record_profile(stack: Stack, outcome: L1Outcome) -> HostProfile:
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
    write_file(str(_profile_path(stack)), host_json(described))
    return described


def verify(
    stack: Stack,
    configurations: Sequence[Configuration],
    *,
    boot: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> Verification:
    """Run every configuration on the stack's QEMU and KVM (and with
    `boot` a Linux guest with each)."""
    profile = stack_profile(stack)
    cases = [
        {
            "id": str(index),
            "cpu": each.cpu,
            "machine": each.machine,
            "cpuid": each.cpuid,
        }
        for index, each in enumerate(configurations)
    ]
    request = {
        "cases": cases,
        "properties": [prop.name for prop in load_catalog().properties],
        "probe": profile is None,
        "payload": list(payload_argv(AGENT_FOLDER / PAYLOAD_NAME)),
    }
    say(
        f"booting the {stack.release} sandbox for {len(cases)} configuration(s)"
        + (", a Linux guest each" if boot else "")
    )
    extra = {PAYLOAD_NAME: payload_image()}
    guests = [guest_spec(stack, each.cpu, machine=each.machine, measure=False) for each in configurations]
    if boot:
        request["cases"] = cases + boot_cases(guests)
        extra.update(initramfs_files("hvtune verify --boot", None))
    if profile is None:  # hvtune's probe runs on the stack's Python, with its compiled dependency
        extra.update((f"lib/{name}", data) for name, data in wheel_files(stack.python))
    outcome = run_l1(stack, request, extra)
    if not outcome.kvm.get("kvm"):
        raise InputError("hvtune sandbox", None, f"the {stack.release} stack's kernel gave no /dev/kvm (kvm_amd)")
    if profile is None:
        profile = _record_profile(stack, outcome)
    ran = outcome.results()
    booted: list[GuestRun | None] = [*read_boots(guests, ran, measured=False)] if boot else [None] * len(guests)
    results = []
    for index, each in enumerate(configurations):
        result = ran.get(str(index))
        if result is None:
            raise InputError(each.source, None, f"the {stack.release} sandbox gave no result for it")
        started = bool(result["started"])
        results.append(
            Verified(
                source=each.source,
                cpu=each.cpu,
                started=started,
                error=None if started else qemu_refusal(result["stderr"]),
                properties=result["properties"],
                cpuid=read_payload_output(result["payload"]) if result.get("payload") else None,
                predicted=predict(each.judged, profile),
                guest=booted[index] if started else None,
            )
        )
    return Verification(stack, profile, tuple(results), outcome.run.seconds)
