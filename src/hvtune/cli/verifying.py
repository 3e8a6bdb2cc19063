"""Running configurations for real: verify, and the sandbox's stacks."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click

from hvtune.cli.options import FORMAT
from hvtune.sandbox.stack import RELEASES, STACKS

_WHICH = "; ".join(f"{release}: {held}" for release, held in STACKS.items())

ON = click.option(
    "--on",
    "release",
    type=click.Choice([*RELEASES, "local"]),
    help=(
        f"Where it runs: a Debian release's kernel, QEMU and libvirt in the sandbox ({_WHICH}), or `local`, this "
        "machine's own KVM when it emulates Hyper-V (the default there; elsewhere this machine's Debian release, "
        "else bookworm)."
    ),
)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _guest_command(text: str | None, boot: bool) -> list[str] | None:
    """--run-in-guest's command line as words, refused in one line before
    anything boots."""
    from hvtune.errors import InputError

    if text is None:
        return None
    if not boot:
        raise InputError("--run-in-guest", None, "a command runs only in a guest that boots: add --boot")
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise InputError("--run-in-guest", None, f"cannot split {text!r} into words: {error}") from None
    if not words:
        raise InputError("--run-in-guest", None, "no hvtune command given")
    return words


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", "cpus", multiple=True, metavar="STRING", help="A -cpu value to run (repeatable).")
@click.option(
    "--boot", is_flag=True, help="Also boot a Linux guest with each configuration that starts, and say what it saw."
)
@click.option(
    "--run-in-guest",
    "run_in_guest",
    metavar="COMMAND",
    help=(
        "With --boot: run this hvtune command line (its arguments, e.g. 'cpuid --cpu {cpu} --format json'; "
        "{cpu} is the guest's own -cpu value) inside each guest, on hvtune's Python packed into its initramfs, "
        "and report its exit status and output."
    ),
)
@ON
@FORMAT
def verify(
    files: tuple[str, ...],
    cpus: tuple[str, ...],
    boot: bool,
    run_in_guest: str | None,
    release: str | None,
    output: str,
) -> int:
    """Run QEMU command lines and -cpu values for real, on a real KVM with
    Hyper-V emulation: a Debian release's kernel, QEMU and libvirt booted
    as a guest under TCG (the sandbox, built on first use into
    ~/.cache/hvtune/sandbox). For each: whether QEMU starts it or its exact
    refusal, the Hyper-V properties it ends with, the Hyper-V CPUID leaves a
    guest sees, and hvtune's own prediction for that stack; a disagreement
    is a defect of hvtune. With --boot, a Linux guest (the stack's kernel,
    as L2 under its KVM) boots with each configuration that starts and
    reports what it saw: its Hypervisor detected line, its Hyper-V lines,
    its clocksource. Exit 1 when a configuration does not start or
    disagrees (the leaves the guest read count: a difference from hvtune
    cpuid's prediction is a disagreement)."""
    from hvtune.cli.inputs import verify_inputs, verify_place
    from hvtune.report import verify as report
    from hvtune.sandbox.verify import verify as run_verify

    configurations = verify_inputs(files, cpus)
    command = _guest_command(run_in_guest, boot)
    with tempfile.TemporaryDirectory(prefix="hvtune-verify-") as folder:
        place = verify_place(release, Path(folder), say=_say)
        verification = run_verify(place, configurations, boot=boot, run_in_guest=command, say=_say)
    click.echo(report.verify_json(verification) if output == "json" else report.verify_text(verification), nl=False)
    return 0 if all(result.agrees and result.started for result in verification.results) else 1


@click.group()
def sandbox() -> None:
    """The sandbox's stacks: a Debian release's kernel, QEMU and libvirt,
    built with mmdebstrap from the mirror this machine's apt uses."""


@sandbox.command(
    help=f"Build (or rebuild) the stacks of these releases (default: this machine's Debian release). {_WHICH}."
)
@click.argument("releases", nargs=-1, type=click.Choice(RELEASES))
def build(releases: tuple[str, ...]) -> int:
    from hvtune.sandbox.stack import build_stack, default_release

    for release in releases or (default_release(),):
        stack = build_stack(release, say=_say)
        click.echo(f"{release}: {stack.folder} ({', '.join(f'{k} {v}' for k, v in stack.describe().items())})")
    return 0
