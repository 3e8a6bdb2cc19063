"""hvtune verify: each configuration run for real on a stack's QEMU and
Hyper-V KVM, beside hvtune's own prediction for the same stack (check on
the stack's recorded host profile). A disagreement is a defect of hvtune.

A batch is one L1 boot. The stack's host profile is recorded the first
time (hvtune's probe, run in the same boot) and kept with the stack. With
`boot`, each configuration also boots a Linux guest (L2, sandbox.l2) that
reports what it saw: its hypervisor, its Hyper-V lines, its clocksource."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hvtune.catalog import load_catalog
from hvtune.checking import check_reading, refusal
from hvtune.cpuid import Leaves
from hvtune.documents.libvirt import LibvirtDomain
from hvtune.errors import InputError, Refusal
from hvtune.formats import read_text
from hvtune.formats.libvirt_cpu import libvirt_cpu
from hvtune.formats.qemu import read_cpu_option, render_cpu
from hvtune.formats.reading import Reading
from hvtune.guestview import ComparedRegister, GuestCpuid, compare_cpuid, predict_cpuid
from hvtune.host.profile import HostProfile
from hvtune.host.versions import QEMU_BINARY
from hvtune.lab.guest import GuestRun
from hvtune.report.text import plural
from hvtune.sandbox.domain import runnable_domain
from hvtune.sandbox.l2 import boot_cases, guest_spec, initramfs_files, read_boots
from hvtune.sandbox.payload import payload_argv, payload_image, read_payload_output
from hvtune.sandbox.places import Place
from hvtune.valuetypes import Value
from hvtune.vm.console import qemu_refusal
from hvtune.vm.spec import DEFAULT_MACHINE

QEMU_PREFIX = f"{QEMU_BINARY}: "
PAYLOAD_NAME = "cpuid-payload.bin"  # in /opt/hvtune of the L1 guest


@dataclass(frozen=True)
class Prediction:
    """What hvtune's check says QEMU (and libvirt, for a domain) does:
    start, or refuse with `error`; for a domain, also the -cpu value
    libvirt builds; and the hypervisor CPUID leaves a guest reads when it
    starts (hvtune cpuid; None when hvtune could not read the
    configuration)."""

    started: bool
    error: str | None
    cpu: str | None = None
    leaves: GuestCpuid | None = None


@dataclass(frozen=True)
class Verified:
    """One configuration, run: whether QEMU started it or its first error
    line, the Hyper-V properties it ended with, the Hyper-V CPUID leaves
    a guest saw, hvtune's prediction, and (verify --boot, when it started)
    what a Linux guest booted with it saw."""

    source: str
    cpu: str | None
    started: bool
    error: str | None
    properties: dict[str, Value]
    cpuid: Leaves | None
    predicted: Prediction
    refused_by: str | None = None  # qemu, libvirt
    through_libvirt: bool = False
    guest: GuestRun | None = None

    @property
    def agrees(self) -> bool:
        """The same outcome; for a domain that started, the same -cpu value
        as far as the catalog's properties go (the model libvirt derives
        for host-model from the host's CPU is not hvtune's to predict); and
        the hypervisor CPUID leaves the guest read, register by register."""
        same_cpu = (
            self.predicted.cpu is None
            or not self.started
            or catalog_tokens(self.predicted.cpu) == catalog_tokens(self.cpu or "")
        )
        same = (self.predicted.started, self.predicted.error) == (self.started, self.error)
        return same and same_cpu and not self.cpuid_differences

    @property
    def compared_cpuid(self) -> tuple[ComparedRegister, ...] | None:
        """The predicted and the observed hypervisor leaves, register by
        register, when a guest read them and hvtune predicted them."""
        if self.cpuid is None or self.predicted.leaves is None:
            return None
        return compare_cpuid(self.predicted.leaves, self.cpuid)

    @property
    def cpuid_differences(self) -> tuple[ComparedRegister, ...]:
        return tuple(row for row in self.compared_cpuid or () if row.differs)


def catalog_tokens(cpu: str) -> list[str]:
    """The tokens of a -cpu value that set a property the catalog knows, in
    their order."""
    catalog = load_catalog()
    return [token for token in cpu.split(",")[1:] if catalog.entry(token.split("=", 1)[0]) is not None]


@dataclass(frozen=True)
class Verification:
    """A batch's outcome on one place, with the profile that predicted it."""

    place: Place
    profile: HostProfile
    results: tuple[Verified, ...]
    seconds: float


@dataclass(frozen=True)
class Configuration:
    """What is run: where it came from, the -cpu value QEMU gets (a value
    typed on the command line as it was, else the config written out) or
    the libvirt domain that is started (hvtune.sandbox.domain), and what
    hvtune made of it: the reading, or the refusal hvtune predicts when it
    could not read it as QEMU would not."""

    source: str
    cpu: str | None  # None for a domain: libvirt builds it
    machine: str
    judged: Reading[Any] | Refusal
    cpuid: bool = True  # also run the CPUID payload when it starts
    domain: str | None = None

    @classmethod
    def of(cls, reading: Reading[Any], typed: str | None = None, *, cpuid: bool = True) -> Configuration:
        cpu = typed if typed is not None else render_cpu(reading.config)
        return cls(reading.source, cpu, reading.config.machine or DEFAULT_MACHINE, reading, cpuid)

    @classmethod
    def of_domain(cls, text: str, *, source: str, cpuid: bool = True) -> Configuration:
        """A libvirt domain, as the sandbox runs it (runnable_domain)."""
        domain = runnable_domain(text, source=source)
        reading = read_text(domain, source=source)
        return cls(source, None, reading.config.machine or DEFAULT_MACHINE, reading, cpuid, domain)

    @classmethod
    def typed(cls, cpu: str, *, source: str = "--cpu", cpuid: bool = True) -> Configuration:
        """A -cpu value as typed, QEMU's refusal of it included."""
        try:
            return cls.of(read_cpu_option(cpu, source=source), cpu, cpuid=cpuid)
        except Refusal as refused:
            return cls(source, cpu, DEFAULT_MACHINE, refused, cpuid)


def predict(judged: Reading[Any] | Refusal, profile: HostProfile, libvirt: str | None) -> Prediction:
    """hvtune's verdict for a configuration on the host `profile` describes
    (a domain: through libvirt release `libvirt`, which refuses first)."""
    if isinstance(judged, Refusal):
        return Prediction(False, judged.said or judged.problem)
    leaves = predict_cpuid(judged.config, profile)
    domain = judged.document_of(LibvirtDomain)
    if domain is None:
        found = refusal(check_reading(judged, target="qemu", host=profile), "qemu")
        return Prediction(found is None, found.refusal_line if found is not None else None, leaves=leaves)
    # the checks run in the programs' order: libvirt's at define, QEMU's, libvirt's after the start
    found = next(
        (each for each in check_reading(judged, libvirt_version=libvirt, host=profile).findings if each.refused_by),
        None,
    )
    cpu = libvirt_cpu(domain, version=libvirt, capabilities=profile.libvirt_hyperv, source=judged.source)
    return Prediction(found is None, found.refusal_line if found is not None else None, cpu, leaves)


def refused(stderr: str, *, through_libvirt: bool) -> tuple[str, str | None]:
    """Which program refused, and the first error line of its refusal
    without the program's name: QEMU's own, also where libvirt passes it
    on from QEMU's log, else libvirt's last error line (virsh's first says
    only that it failed)."""
    if not through_libvirt:
        return "qemu", qemu_refusal(stderr)
    from_qemu = qemu_refusal(
        "\n".join(line.split(QEMU_PREFIX, 1)[1] for line in stderr.splitlines() if QEMU_PREFIX in line)
    )
    if from_qemu is not None:
        return "qemu", from_qemu
    said = [line.removeprefix("error: ") for line in stderr.splitlines() if line.startswith("error: ")]
    return "libvirt", said[-1] if said else stderr.strip() or None


def _case(identity: str, configuration: Configuration, place: Place) -> dict[str, Any]:
    """One configuration as the agent takes it (a domain under the name the
    place gives them)."""
    case: dict[str, Any] = {"id": identity, "cpuid": configuration.cpuid}
    if configuration.domain is not None:
        named = runnable_domain(configuration.domain, source=configuration.source, name=place.domain_name)
        return {**case, "domain": named, "name": place.domain_name}
    return {**case, "cpu": configuration.cpu, "machine": configuration.machine}


CPU_PLACEHOLDER = "{cpu}"  # in a command run in the guest: the -cpu value the guest got


def guest_command(template: Sequence[str], cpu: str) -> tuple[str, ...]:
    """An hvtune command line for the guest booted with -cpu `cpu`: each
    CPU_PLACEHOLDER in `template` replaced by it."""
    return tuple(word.replace(CPU_PLACEHOLDER, cpu) for word in template)


def verify(
    place: Place,
    configurations: Sequence[Configuration],
    *,
    boot: bool = False,
    run_in_guest: Sequence[str] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Verification:
    """Run every configuration on the place's QEMU and KVM (libvirt's, for
    a domain), and with `boot` a Linux guest with each -cpu value (in the
    sandbox: its kernel boots as L2), which with `run_in_guest` (hvtune's
    arguments; guest_command fills in each guest's -cpu value) runs that
    hvtune command line on hvtune's Python and reports what it printed."""
    profile = place.recorded_profile()
    cases = [_case(str(index), each, place) for index, each in enumerate(configurations)]
    request = {
        "cases": cases,
        "properties": [prop.name for prop in load_catalog().properties],
        "probe": profile is None,
        "payload": list(payload_argv(place.folder / PAYLOAD_NAME)),
    }
    extra = {PAYLOAD_NAME: payload_image()}
    guests = {}
    if boot:
        if place.stack is None:
            raise InputError("hvtune verify --boot", None, "a Linux guest boots only in the sandbox (--on RELEASE)")
        commands = {
            index: guest_command(run_in_guest, each.cpu) if run_in_guest is not None else None
            for index, each in enumerate(configurations)
            if each.cpu is not None
        }
        guests = {
            index: guest_spec(place.stack, each.cpu, machine=each.machine, measure=False, command=commands[index])
            for index, each in enumerate(configurations)
            if each.cpu is not None
        }
        request["cases"] = cases + boot_cases(list(guests.values()))
        wanted = sorted({command for command in commands.values() if command is not None})
        extra.update(initramfs_files("hvtune verify --boot", None, wanted))
    say(
        f"running {plural(len(cases), 'configuration')} on {place.name} ({place.accel})"
        + (", a Linux guest with each -cpu value" if guests else "")
    )
    outcome = place.run(request, extra, say=say)
    if not outcome.kvm.get("kvm"):
        raise InputError("hvtune verify", None, f"{place.name} gave no /dev/kvm")
    if "libvirtd" in outcome.results():
        raise InputError(
            "hvtune verify", None, f"libvirtd did not start on {place.name}: {outcome.results()['libvirtd']['error']}"
        )
    if profile is None:
        profile = place.record_profile(outcome)
    ran = outcome.results()
    booted = dict(zip(guests, read_boots(list(guests.values()), ran, measured=False), strict=True))
    results = []
    for index, each in enumerate(configurations):
        result = ran.get(str(index))
        if result is None:
            raise InputError(each.source, None, f"{place.name} gave no result for it")
        started = bool(result["started"])
        through_libvirt = each.domain is not None
        by, error = (None, None) if started else refused(result["stderr"], through_libvirt=through_libvirt)
        results.append(
            Verified(
                source=each.source,
                cpu=result.get("cpu") if through_libvirt else each.cpu,
                started=started,
                error=error,
                properties=result["properties"],
                cpuid=read_payload_output(result["payload"]) if result.get("payload") else None,
                predicted=predict(each.judged, profile, place.libvirt_version),
                refused_by=by,
                through_libvirt=through_libvirt,
                guest=booted.get(index) if started else None,
            )
        )
    return Verification(place, profile, tuple(results), outcome.seconds)
