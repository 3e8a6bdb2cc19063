"""Changing configurations: fix (in place, or a daemon's domain) and convert
(between spellings, or into a domain file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hvtune.cli.options import (
    CONNECT,
    FORMAT,
    GUEST_OS,
    HOST,
    LIBVIRT_VERSION,
    QEMU_VERSION,
    UsageFailure,
    goal_options,
    guest_os_name,
    stdin_or_fail,
    warn,
)
from hvtune.formats import format_names

if TYPE_CHECKING:
    from hvtune.fixing import Fixing
    from hvtune.plan import Goals


@click.command()
@click.argument("target", required=False)
@click.option("--cpu", metavar="STRING", help="A -cpu value to fix instead of a file; the fixed value is printed.")
@click.option("--output", "output_path", metavar="OUT", type=click.Path(dir_okay=False), help="Write here instead.")
@click.option("--diff", "--dry-run", "show_diff", is_flag=True, help="Print a unified diff and write nothing.")
@click.option("--all", "warnings_too", is_flag=True, help="Fix warnings too, not only errors.")
@click.option("--plan", "use_plan", is_flag=True, help="Apply hvtune's plan for the guest (--os, goals) instead.")
@click.option("--yes", is_flag=True, help="With --connect: redefine the domain (without it, only show the diff).")
@CONNECT
@GUEST_OS
@HOST
@goal_options
@LIBVIRT_VERSION
@FORMAT
def fix(
    target: str | None,
    cpu: str | None,
    output_path: str | None,
    show_diff: bool,
    warnings_too: bool,
    use_plan: bool,
    yes: bool,
    uri: str | None,
    guest_os: str | None,
    host_spec: str | None,
    goals: Goals,
    libvirt_version: str | None,
    output: str,
) -> int:
    """Apply the fixes of error findings (with --all, warnings too) to a
    file, or with --connect to a domain's persistent definition; with --plan,
    make its Hyper-V setup hvtune's plan for the guest (--os, else the OS the
    domain's metadata names) on the host (--host, else this machine).

    A fix completes what was asked for (adds the missing dependency, timer
    or element) rather than removing it. Files are written atomically and the
    original is kept as FILE.bak; nothing outside the touched elements
    changes, and a second run changes nothing. Exit code 1 when errors are
    left that need a decision. A -cpu value (--cpu) or standard input
    (TARGET -) is fixed as a filter: the fixed text on standard output,
    what was fixed on standard error.
    """
    from hvtune.cli.inputs import checked_release, host_profile, libvirt_release
    from hvtune.fixing import Fixing, fix_file, fix_live
    from hvtune.report import fixes as report

    if (target is None) == (cpu is None) or (uri is not None and cpu is not None):
        raise UsageFailure(
            "fix: give TARGET (a file, - for standard input, or with --connect a domain) or --cpu STRING"
        )
    host = host_profile(host_spec or ("this" if use_plan else None))
    # a daemon's domain is judged by that daemon's release unless told otherwise
    known = host.libvirt_version if host else None
    version = checked_release(libvirt_version) if uri is not None else libvirt_release(libvirt_version, known)
    fixing = Fixing(warnings_too, guest_os_name(guest_os), version, host, goals if use_plan else None)
    if cpu is not None or target in (None, "-"):
        return _fix_stream(cpu, fixing, show_diff=show_diff, output=output)
    if uri is not None:
        live = fix_live(uri, target, fixing, apply=yes)
        click.echo(report.live_json(live, uri) if output == "json" else report.live_text(live, uri), nl=False)
        return report.exit_code(live.outcome)
    fixed = fix_file(target, fixing, output=output_path, write=not show_diff)
    if output == "json":
        click.echo(report.file_json(fixed), nl=False)
    else:
        click.echo(fixed.outcome.diff() if show_diff else report.file_text(fixed), nl=False)
    return report.exit_code(fixed.outcome)


def _fix_stream(cpu: str | None, fixing: Fixing, *, show_diff: bool, output: str) -> int:
    """Fix a -cpu value (None: standard input) and print the result."""
    from hvtune.files import load_stdin
    from hvtune.fixing import FileFix
    from hvtune.report import fixes as report

    if cpu is None:
        loaded = load_stdin()
        text, source = loaded.text, loaded.source
    else:
        text, source = cpu, "--cpu"
    fixed = FileFix(fixing.outcome(text, source), None, None)
    if output == "json":
        click.echo(report.file_json(fixed), nl=False)
    elif show_diff:
        click.echo(fixed.outcome.diff(), nl=False)
    else:
        click.echo(fixed.outcome.fixed + ("\n" if cpu is not None else ""), nl=False)
        click.echo(report.file_text(fixed), err=True, nl=False)
    return report.exit_code(fixed.outcome)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", metavar="STRING", help="A -cpu value to convert instead of a file.")
@click.option(
    "--to",
    "to",
    type=click.Choice(format_names()),
    help="qemu: the -cpu value (for domain XML, the one libvirt builds); json: one object keyed by QEMU "
    "property names; libvirt: the <hyperv> block with the timer and panic device it needs.",
)
@click.option(
    "--into",
    "into",
    metavar="DOMAIN.xml",
    type=click.Path(dir_okay=False, exists=True),
    help="Write the configuration into this domain XML (implies --to libvirt; patched in place, "
    "DOMAIN.xml.bak keeps the original).",
)
@LIBVIRT_VERSION
@QEMU_VERSION
@click.option(
    "--domcaps",
    metavar="FILE",
    type=click.Path(dir_okay=False, exists=True),
    help="`virsh domcapabilities` output of the host, for <hyperv mode='host-model'>.",
)
@CONNECT
@FORMAT
def convert(
    file: str | None,
    cpu: str | None,
    to: str | None,
    into: str | None,
    libvirt_version: str | None,
    qemu_version: str | None,
    domcaps: str | None,
    uri: str | None,
    output: str,
) -> int:
    """Translate a configuration between QEMU -cpu, libvirt domain XML and
    JSON. Besides the Hyper-V setup, --to libvirt keeps the CPU model (host
    as host-passthrough, max as maximum, others as a custom model) and the
    clock's base (libvirt's <clock offset>, QEMU's -rtc base=utc|localtime);
    --into changes only the Hyper-V setup, its timer and panic device, the
    CPU features hvtune reads, and the clock's offset when the source gives
    one: the domain's <cpu> model and everything else stay as they were."""
    from hvtune.cli.inputs import connected_release, host_capabilities, qemu_release_to_judge, read_inputs
    from hvtune.converting import translate, write_into
    from hvtune.errors import InputError, printable
    from hvtune.formats.libvirt_cpu import beyond_known
    from hvtune.report.convert import convert_json

    if file and cpu is not None:
        raise UsageFailure("convert: give either FILE or --cpu, not both")
    if to is None and into is None:
        raise UsageFailure("convert: give --to FORMAT, or --into DOMAIN.xml")
    if into is not None and to not in (None, "libvirt"):
        raise UsageFailure(f"convert: --into writes libvirt XML; it cannot be combined with --to {to}")
    qemu = qemu_release_to_judge(qemu_version, say=warn)
    (reading,) = read_inputs(stdin_or_fail((file,) if file else (), cpu, "convert"), cpu, qemu)
    if isinstance(reading, InputError):
        raise reading
    version = connected_release(libvirt_version, uri)
    beyond = beyond_known(version)
    if beyond is not None:
        click.echo(f"hvtune: warning: {beyond}", err=True)
    if into is not None:
        done = write_into(reading.config, into, source=reading.source, libvirt_version=version)
        if done.written is None:
            said = f"{done.path} already has this Hyper-V configuration; nothing written"
        else:
            said = f"wrote {done.written} (original kept as {done.backup})"
        if output == "json":
            click.echo(
                convert_json(reading.source, reading.format, reading.config, to=None, text=None, into=done), nl=False
            )
        click.echo(printable(said), err=True)
        return 0
    assert to is not None
    # a --domcaps file is always read (and so checked); the daemon is asked only for host-model
    capabilities = host_capabilities(domcaps, uri if reading.config.host_model else None)
    text = translate(reading, to, libvirt_version=version, capabilities=capabilities)
    if output == "json":
        text = convert_json(reading.source, reading.format, reading.config, to=to, text=text, into=None)
    click.echo(text, nl=False)
    return 0
