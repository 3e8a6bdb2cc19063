"""Options and helpers every command group shares: how an option is
spelt, what it means, and the one-line usage failure."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from hvtune.cli.completing import guest_names, hosts

F = TypeVar("F", bound=Callable[..., Any])

FORMAT = click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human text, or JSON with stable keys.",
)
JUDGEMENT_FORMAT = click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Human text, JSON with stable keys, or SARIF 2.1.0 (code scanning: each finding on its file's line).",
)
GUEST_OS = click.option(
    "--os",
    "guest_os",
    metavar="OS",
    shell_complete=guest_names,
    help="The guest OS (linux, win10, win11, win2022, ...); some checks depend on it.",
)
PLANNED_OS = click.option(
    "--os",
    "guest_os",
    metavar="OS",
    required=True,
    shell_complete=guest_names,
    help="The guest OS: winxp ... win2025, or linux.",
)
LIBVIRT_VERSION = click.option(
    "--libvirt-version",
    metavar="X.Y.Z",
    help="Judge as this libvirt release would (default: the one connected to, else the one installed here).",
)
QEMU_VERSION = click.option(
    "--qemu-version",
    metavar="X.Y",
    help="The QEMU release that reads and runs the configuration: -cpu values and command lines are read as it "
    "reads them (properties it lacks refused in its words) and machine types it lacks are refused (default: no "
    "release for reading, the --host profile's for machine types).",
)
CONNECT = click.option("--connect", "uri", metavar="URI", help="A libvirt daemon, e.g. qemu:///system.")
HOST = click.option(
    "--host",
    "host_spec",
    metavar="NAME|FILE",
    shell_complete=hosts("this"),
    help="Judge on this host: a bundled profile (hvtune host --list), a file saved with hvtune host --save, "
    "or 'this' to probe this machine.",
)
JUDGED_ON = click.option(
    "--host",
    "host_spec",
    metavar="NAME|FILE",
    shell_complete=hosts("this", "none"),
    help="Judge on this host: a bundled profile (hvtune host --list), a file saved with hvtune host --save, "
    "'this' to probe this machine, or 'none' for rules that hold on any host. Default: $HVTUNE_HOST, else "
    "this machine when it has /dev/kvm, else none.",
)
FAIL_ON = click.option(
    "--fail-on",
    type=click.Choice(["error", "slow", "warning"]),
    default="error",
    show_default=True,
    help="Exit 1 when a VM will not start (error); also when it will not migrate or is slow (slow); or at any "
    "warning (warning).",
)


class Frequency(click.ParamType[int]):
    """A frequency in Hz, read as QEMU reads ``-cpu tsc-freq=`` (decimals
    with a k/M/G/T/P/E suffix in any case, hex), at least 1 Hz."""

    name = "frequency"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from hvtune.formats.qemu_values import parse_metric_size

        hertz = parse_metric_size(value)
        if hertz is None or hertz < 1:
            bare = value[:-2]
            hint = f"; QEMU's suffixes take no Hz: write {bare}" if value.lower().endswith("hz") and bare else ""
            self.fail(f"{value!r}: not a frequency QEMU's tsc-freq reads (e.g. 2600000000, 2600M, 2.6G){hint}")
        return hertz


GOALS = (
    click.option(
        "--migratable", is_flag=True, help="Keep the guest live-migratable (no passthrough, no unpinned TSC)."
    ),
    click.option("--nested", "--vbs", "nested", is_flag=True, help="The guest runs Hyper-V, WSL2 or VBS."),
    click.option("--gpu-passthrough", is_flag=True, help="A GPU whose driver refuses a visible hypervisor."),
    click.option("--overcommit", is_flag=True, help="More vCPUs than host CPUs: favour TLB flush, IPI, spinlocks."),
    click.option(
        "--tsc-frequency",
        type=Frequency(),
        metavar="HZ",
        help="Pin the guest's TSC frequency: Hz, or with QEMU's tsc-freq suffixes k, M, G, T (2.6G, 2600M).",
    ),
)
# The programs whose rules hvtune judges a configuration by (check --target).
TARGETS = ("qemu", "libvirt")
GOAL_NAMES = ("migratable", "nested", "gpu_passthrough", "overcommit", "tsc_frequency")


class UsageFailure(click.UsageError):
    """A usage error reported as one line."""


def guest_os_name(name: str | None) -> str | None:
    """The catalog's name for the guest OS --os names (None: not given)."""
    if name is None:
        return None
    from hvtune.catalog import load_catalog

    catalog = load_catalog()
    guest = catalog.guest(name)
    if guest is None:
        names = ", ".join(g.name for g in catalog.guests)
        raise UsageFailure(f"--os {name!r}: unknown guest OS; expected one of {names}")
    return guest.name


def stdin_or_fail(files: tuple[str, ...], cpu: str | None, what: str) -> tuple[str, ...]:
    """The inputs to read: the files, else standard input when it is not a terminal."""
    if files or cpu is not None:
        return files
    if not sys.stdin.isatty():
        return ("-",)
    raise UsageFailure(f"{what}: give FILE... or --cpu STRING (or pipe a configuration to standard input)")


def with_options(command: Callable[..., Any], *options: Callable[[Any], Any]) -> Any:
    """The command with these click options, shown in this order."""
    for option in reversed(options):
        command = option(command)
    return command


def goal_options(command: F) -> F:
    """The goal options, in their order, handed to the command as one
    `goals` argument (a plan.Goals)."""

    @functools.wraps(command)
    def with_goals(*args: Any, **kwargs: Any) -> Any:
        from hvtune.plan import Goals

        return command(*args, goals=Goals(**{name: kwargs.pop(name) for name in GOAL_NAMES}), **kwargs)

    return cast(F, with_options(with_goals, *GOALS))


def warn(message: str) -> None:
    """One warning line on standard error."""
    from hvtune.errors import printable

    click.echo(f"hvtune: warning: {printable(message)}", err=True)
