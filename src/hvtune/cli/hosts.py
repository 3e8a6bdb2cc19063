"""The host command: probe this machine, or show a saved or bundled profile."""

from __future__ import annotations

import click

from hvtune.cli.completing import hosts
from hvtune.cli.options import CONNECT, FORMAT


@click.command()
@click.option(
    "--save", "save_path", metavar="FILE", type=click.Path(dir_okay=False), help="Also save the profile here."
)
@click.option("--list", "list_bundled", is_flag=True, help="List the bundled host profiles instead.")
@click.option(
    "--host",
    "host_spec",
    metavar="NAME|FILE",
    shell_complete=hosts(),
    help="Show a bundled or saved profile instead of probing this machine.",
)
@CONNECT
@FORMAT
def host(save_path: str | None, list_bundled: bool, host_spec: str | None, uri: str | None, output: str) -> int:
    """Probe this machine's KVM for Hyper-V support, without changing
    anything: capabilities, the Hyper-V CPUID KVM can emulate, CPU vendor,
    nested virtualization, APICv/AVIC, clocksource, SMT, QEMU and libvirt.

    --save writes the profile as JSON, so that `--host FILE` on check, fix
    and doctor can judge guests for this host from another machine.
    """
    from hvtune.host.profile import probe_host
    from hvtune.host.profile_json import bundled_profile_names, load_profile
    from hvtune.report import host as report
    from hvtune.writing import write_file

    if list_bundled:
        profiles = [load_profile(name) for name in bundled_profile_names()]
        click.echo(report.profiles_json(profiles) if output == "json" else report.profiles_text(profiles), nl=False)
        return 0
    profile = load_profile(host_spec) if host_spec else probe_host(libvirt_uri=uri or "qemu:///system")
    if save_path is not None:
        write_file(save_path, report.host_json(profile))
    click.echo(report.host_json(profile) if output == "json" else report.host_text(profile), nl=False)
    return 0
