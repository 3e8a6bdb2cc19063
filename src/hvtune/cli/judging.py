"""Judging configurations: check (one configuration or many) and doctor
(every VM this host can show)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hvtune.cli.completing import hosts
from hvtune.cli.options import (
    CONNECT,
    FAIL_ON,
    GUEST_OS,
    JUDGED_ON,
    JUDGEMENT_FORMAT,
    LIBVIRT_VERSION,
    QEMU_VERSION,
    TARGETS,
    goal_options,
    guest_os_name,
    stdin_or_fail,
    warn,
)

if TYPE_CHECKING:
    from hvtune.plan import Goals


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", metavar="STRING", help="A -cpu value to check, e.g. 'host,hv-relaxed,hv-stimer'.")
@CONNECT
@GUEST_OS
@JUDGED_ON
@goal_options
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    help="Who reads the configuration; libvirt's stricter limits are errors for libvirt.",
)
@click.option(
    "--nodes",
    "nodes_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=False),
    help="Kubernetes nodes (kubectl get nodes -o json) to judge KubeVirt VMs on, by KubeVirt's node labels.",
)
@LIBVIRT_VERSION
@QEMU_VERSION
@FAIL_ON
@JUDGEMENT_FORMAT
def check(
    files: tuple[str, ...],
    cpu: str | None,
    uri: str | None,
    guest_os: str | None,
    host_spec: str | None,
    goals: Goals,
    target: str | None,
    nodes_file: str | None,
    libvirt_version: str | None,
    qemu_version: str | None,
    fail_on: str,
    output: str,
) -> int:
    """Find errors and risks in QEMU command lines, -cpu values, domain XML,
    KubeVirt manifests or JSON; with --connect, in a libvirt daemon's domains (FILE... then names
    domains; all when none are named).

    Dependencies are checked exactly as QEMU checks them at VM start, and
    libvirt's own rules as the libvirt release in use applies them; the first
    error is the one you would meet first. Judged on this machine when it has
    /dev/kvm (as doctor does), with the enlightenments a Windows guest's plan
    for the goals has and it lacks. Exit code 1 when any error is found
    (--fail-on: also when slow, or at any warning), 2 when an input is
    unusable.
    """
    from hvtune.checking import check_reading
    from hvtune.cli.inputs import checked_release, judged_host, libvirt_release, qemu_release_to_judge, read_inputs
    from hvtune.errors import InputError
    from hvtune.kubenodes import load_nodes
    from hvtune.live import check_live
    from hvtune.locating import place
    from hvtune.report import findings as report
    from hvtune.report.sarif import sarif_log
    from hvtune.verdict import fails

    os_name = guest_os_name(guest_os)
    host = judged_host(host_spec)
    unusable: list[InputError] = []
    if uri is not None:
        results = check_live(
            uri, files, guest_os=os_name, libvirt_version=checked_release(libvirt_version), host=host, goals=goals
        )
    else:
        version = libvirt_release(libvirt_version, host.libvirt_version if host else None)
        qemu = qemu_release_to_judge(qemu_version, say=warn)
        readings = read_inputs(stdin_or_fail(files, cpu, "check"), cpu, qemu)
        nodes = load_nodes(nodes_file) if nodes_file else None
        results = [
            check_reading(
                reading,
                target=target,
                guest_os=os_name,
                libvirt_version=version,
                host=host,
                qemu_version=qemu,
                goals=goals,
                nodes=nodes,
            )
            for reading in readings
            if not isinstance(reading, InputError)
        ]
        unusable = [reading for reading in readings if isinstance(reading, InputError)]
    for problem in unusable:
        click.echo(f"hvtune: {problem}", err=True)
    named = files if uri is None else ()
    if output == "sarif":
        click.echo(sarif_log(place(results, named), unusable, named), nl=False)
    elif output == "json":
        click.echo(report.check_json(results, list(map(str, unusable))), nl=False)
    else:
        click.echo(report.check_text(results) + report.verify_offer(results, files if uri is None else ()), nl=False)
    if unusable:
        return 2
    return 1 if any(fails(result, fail_on, migratable=goals.migratable) for result in results) else 0


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--connect",
    "uris",
    metavar="URI",
    multiple=True,
    help="A libvirt daemon, e.g. qemu+ssh://host/system; repeat for a fleet (each judged on its own host).",
)
@GUEST_OS
@click.option(
    "--host",
    "host_specs",
    metavar="[URI=]NAME|FILE",
    multiple=True,
    shell_complete=hosts("this", "none"),
    help="Judge on this host: a bundled profile, a file saved with hvtune host --save, 'this' or 'none'; "
    "URI=FILE for the daemon --connect URI names. Default: $HVTUNE_HOST, else this machine when it has "
    "/dev/kvm, else none; for another machine's daemon, what its domcapabilities say.",
)
@goal_options
@LIBVIRT_VERSION
@FAIL_ON
@JUDGEMENT_FORMAT
def doctor(
    files: tuple[str, ...],
    uris: tuple[str, ...],
    guest_os: str | None,
    host_specs: tuple[str, ...],
    goals: Goals,
    libvirt_version: str | None,
    fail_on: str,
    output: str,
) -> int:
    """Check every VM this host can show, on this host, and say what to
    change, most important first: WILL NOT START, WILL NOT MIGRATE (with
    --migratable), SLOW (an enlightenment a Windows guest's plan has is
    missing; the biggest loss named), AT RISK, OK. What the host itself
    lacks is said once, above the VMs.

    With FILE... it checks those QEMU command lines or domain XML files;
    otherwise every domain of the libvirt daemon it can reach (--connect, else
    $LIBVIRT_DEFAULT_URI or qemu:///system); with nothing to check it shows the
    bundled examples. Exit code 1 when one of your VMs will not start
    (--fail-on slow or warning: also for those); the bundled examples never
    fail. A file that is no usable VM definition is named on standard error
    and the others are still checked (exit 2).
    """
    from hvtune.cli.inputs import checked_release, doctor_hosts, installed_libvirt
    from hvtune.doctor import failing, run_fleet
    from hvtune.locating import place
    from hvtune.report import doctor as report
    from hvtune.report import findings as report_findings
    from hvtune.report.sarif import sarif_log

    version = checked_release(libvirt_version)
    installed = installed_libvirt() if files and version is None else None
    hosts = doctor_hosts(host_specs, uris)
    reports = run_fleet(
        files,
        hosts,
        guest_os=guest_os_name(guest_os),
        libvirt_version=version,
        installed_libvirt=installed,
        goals=goals,
    )
    for each in reports:
        for problem in each.unusable:
            click.echo(f"hvtune: {problem}", err=True)
    if output == "sarif":
        results = [result for each in reports for result in each.results]
        unusable = [error for each in reports for error in each.unusable]
        click.echo(sarif_log(place(results, files), unusable, files), nl=False)
    elif output == "json":
        click.echo(report.doctor_json(reports), nl=False)
    else:
        offer = report_findings.verify_offer([r for each in reports for r in each.results], files)
        click.echo(report.doctor_text(reports) + offer, nl=False)
    if any(each.unusable for each in reports):
        return 2
    return 1 if failing(reports, fail_on) else 0
