"""hvtune cpuid: the hypervisor CPUID a guest will see; hvtune guest:
what a guest really sees, run inside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hvtune.cli.options import FORMAT, HOST, UsageFailure

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", metavar="STRING", help="A -cpu value, e.g. 'host,hv-relaxed,hv-stimer'.")
@HOST
@FORMAT
def cpuid(files: tuple[str, ...], cpu: str | None, host_spec: str | None, output: str) -> int:
    """The hypervisor CPUID leaves QEMU builds for each configuration on a
    host (default: this machine), register by register, each set bit named
    and traced to the property that set it, hv-passthrough expanded from
    the host's leaves. Assumes QEMU starts it (hvtune check says whether)."""
    from hvtune.cli.inputs import planning_host, read_inputs
    from hvtune.errors import InputError
    from hvtune.guestview import predict_cpuid
    from hvtune.report import guestview as report

    profile = planning_host(host_spec)
    readings = read_inputs(files, cpu)
    if not readings:
        raise InputError("hvtune cpuid", None, "nothing to predict: give FILE... or --cpu STRING")
    predictions = []
    for reading in readings:
        if isinstance(reading, InputError):
            raise reading
        predictions.append((reading.source, predict_cpuid(reading.config, profile)))
    text = report.cpuid_json if output == "json" else report.predicted_text
    click.echo(text(profile, predictions), nl=False)
    return 0


def _guest_host(host_spec: str | None) -> HostProfile:
    """The host the guest runs on, to predict what it should see: --host,
    else this machine, which a guest without a KVM of its own cannot be."""
    from hvtune.cli.inputs import planning_host
    from hvtune.errors import InputError

    profile = planning_host(host_spec)
    if host_spec is None and not profile.hyperv_emulation:
        problem = (
            "this machine has no KVM with Hyper-V emulation to predict on: name the host the guest runs on "
            "(a bundled profile, or a file hvtune host --save wrote there)"
        )
        raise InputError("--host", None, problem)
    return profile


@click.command()
@click.option(
    "--expect",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The configuration this guest was started with (a QEMU command line, libvirt domain XML or JSON): "
    "report what differs from what it received, and exit 1 when anything does.",
)
@click.option("--cpu", metavar="STRING", help="The same, as a -cpu value, e.g. 'host,hv-relaxed,hv-stimer'.")
@HOST
@FORMAT
def guest(expect: str | None, cpu: str | None, host_spec: str | None, output: str) -> int:
    """Run inside a guest: read its CPUID (the cpuid instruction, else
    Linux's /dev/cpu/N/cpuid) and decode it with the catalog's table; on
    Linux add the kernel's hypervisor lines, the clocksource and
    systemd-detect-virt's answer. With --expect or --cpu, compare with what
    that configuration gives on the --host the guest runs on (default: this
    machine): features configured but not received, received but not
    configured, values that differ, each with its likely cause. Exit 1 on
    drift."""
    from hvtune.cli.inputs import read_inputs
    from hvtune.errors import InputError
    from hvtune.guest.drift import judge_drift
    from hvtune.guest.observe import observe
    from hvtune.report import guest as report

    if expect is not None and cpu is not None:
        raise UsageFailure("guest: give --expect FILE or --cpu STRING, not both")
    wanted = next(iter(read_inputs([expect] if expect is not None else [], cpu)), None)
    if isinstance(wanted, InputError):
        raise wanted
    compared = None if wanted is None else (wanted, _guest_host(host_spec))  # input checked before reading
    observation = observe()
    expected = None
    if compared is not None:
        reading, profile = compared
        drift = judge_drift(reading.config, profile, observation.cpuid.leaves)
        expected = report.Expected(reading.source, profile.name, profile.qemu_version, drift)
    text = report.guest_json if output == "json" else report.guest_text
    click.echo(text(observation, expected), nl=False)
    return 1 if expected is not None and expected.drift else 0
