"""The hvtune command group: every command, one module per group of them
(catalog, judging, editing, planning, hosts, measuring,
verifying, serving, shell). Commands parse
arguments, call the core and print; no logic lives here."""

from __future__ import annotations

import sys

import click

from hvtune._version import __version__
from hvtune.cli import (
    catalog,
    editing,
    guestview,
    hosts,
    judging,
    measuring,
    planning,
    serving,
    shell,
    verifying,
)
from hvtune.report import style


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hvtune")
@click.option("--debug", is_flag=True, help="On an internal error, also print the traceback (first option only).")
@click.option(
    "--color/--no-color",
    "color",
    default=None,
    help="Colour verdicts and severities, or not. Default: colour when standard output is a terminal and "
    "$NO_COLOR is not set.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, color: bool | None) -> None:
    """Make Hyper-V enlightenments on KVM guests correct and fast.

    hvtune reads QEMU -cpu strings and command lines, libvirt domain XML
    (files or a daemon's domains) and JSON; checks them the way libvirt and
    QEMU will; fixes them in place; explains every enlightenment; and
    converts between spellings. Start with `hvtune doctor`.
    """
    ctx.with_resource(style.colour(style.colour_wanted(color, sys.stdout)))
    if color is not None:
        ctx.color = color  # click.echo keeps (or strips) the codes on any stream


for command in (
    judging.check,
    editing.convert,
    editing.fix,
    judging.doctor,
    planning.plan,
    planning.compare,
    measuring.bench,
    measuring.lab,
    verifying.verify,
    verifying.sandbox,
    hosts.host,
    guestview.cpuid,
    guestview.guest,
    serving.webhook,
    catalog.list_command,
    catalog.explain,
    shell.completion,
    shell.manual,
):
    cli.add_command(command)
