"""Planning: plan (the best set for a guest on a host) and compare (what the
stacks would configure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hvtune.cli.options import FORMAT, HOST, PLANNED_OS, goal_options, guest_os_name
from hvtune.formats import format_names

if TYPE_CHECKING:
    from hvtune.plan import Goals


@click.command()
@PLANNED_OS
@HOST
@goal_options
@click.option("--to", "to", type=click.Choice(format_names()), default="qemu", show_default=True)
@click.option("--explain", is_flag=True, help="Also give the reason for every property chosen or left out.")
@FORMAT
def plan(
    guest_os: str,
    host_spec: str | None,
    goals: Goals,
    to: str,
    explain: bool,
    output: str,
) -> int:
    """The best Hyper-V enlightenments for a guest OS on a host (this
    machine unless --host), given the goals, written as a -cpu value, libvirt
    XML or JSON. Every choice has a reason (--explain); a plan always passes
    `hvtune check` on its host."""
    from hvtune.cli.inputs import host_profile
    from hvtune.converting import render
    from hvtune.plan import make_plan
    from hvtune.report import plan as report

    host = host_profile(host_spec or "this")
    assert host is not None
    made = make_plan(guest_os_name(guest_os) or guest_os, host, goals)
    rendered = render(made.config, to, source="plan")
    if output == "json":
        click.echo(report.plan_json(made, rendered, to), nl=False)
    else:
        click.echo(rendered + ("\n" + report.explain_text(made) if explain else ""), nl=False)
        empty = None if explain else report.empty_plan_note(made)
        if empty is not None:
            click.echo(f"hvtune: note: {empty}", err=True)
    return 0


@click.command()
@PLANNED_OS
@HOST
@goal_options
@FORMAT
def compare(
    guest_os: str,
    host_spec: str | None,
    goals: Goals,
    output: str,
) -> int:
    """Side by side: what virt-install, Proxmox VE, OpenStack Nova, KubeVirt
    and cloud-hypervisor would configure for this guest on this host (or
    --host), each judged by hvtune's checks, beside hvtune's plan."""
    from hvtune.cli.inputs import host_profile
    from hvtune.compare import compare as compare_stacks
    from hvtune.report import compare as report

    host = host_profile(host_spec or "this")
    assert host is not None
    comparison = compare_stacks(guest_os_name(guest_os) or guest_os, host, goals)
    click.echo(report.compare_json(comparison) if output == "json" else report.compare_text(comparison), nl=False)
    return 0
