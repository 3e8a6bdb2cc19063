"""Judging configurations: check (one configuration or many) and doctor
(every VM this host can show)."""

from __future__ import annotations

import click

from hvtune.cli.options import (
    CONNECT,
    FORMAT,
    GUEST_OS,
    HOST,
    LIBVIRT_VERSION,
    QEMU_VERSION,
    TARGETS,
    guest_os_name,
    stdin_or_fail,
    warn,
)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", metavar="STRING", help="A -cpu value to check, e.g. 'host,hv-relaxed,hv-stimer'.")
@CONNECT
@GUEST_OS
@HOST
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    help="Who reads the configuration; libvirt's stricter limits are errors for libvirt.",
)
@LIBVIRT_VERSION
@QEMU_VERSION
@FORMAT
def check(
    files: tuple[str, ...],
    cpu: str | None,
    uri: str | None,
    guest_os: str | None,
    host_spec: str | None,
    target: str | None,
    libvirt_version: str | None,
    qemu_version: str | None,
    output: str,
) -> int:
    """Find errors and risks in QEMU command lines, -cpu values, domain XML
    or JSON; with --connect, in a libvirt daemon's domains (FILE... then names
    domains; all when none are named).

    Dependencies are checked exactly as QEMU checks them at VM start, and
    libvirt's own rules as the libvirt release in use applies them; the first
    error is the one you would meet first. Exit code 1 when any error is
    found, 2 when an input is unusable.
    """
    from hvtune.checking import check_reading
    from hvtune.cli.inputs import checked_release, host_profile, libvirt_release, qemu_release_to_judge, read_inputs
    from hvtune.errors import InputError
    from hvtune.live import check_live
    from hvtune.report import findings as report

    os_name = guest_os_name(guest_os)
    host = host_profile(host_spec)
    unusable: list[str] = []
    if uri is not None:
        results = check_live(uri, files, guest_os=os_name, libvirt_version=checked_release(libvirt_version), host=host)
    else:
        version = libvirt_release(libvirt_version, host.libvirt_version if host else None)
        qemu = qemu_release_to_judge(qemu_version, say=warn)
        readings = read_inputs(stdin_or_fail(files, cpu, "check"), cpu, qemu)
        results = [
            check_reading(
                reading, target=target, guest_os=os_name, libvirt_version=version, host=host, qemu_version=qemu
            )
            for reading in readings
            if not isinstance(reading, InputError)
        ]
        unusable = [str(reading) for reading in readings if isinstance(reading, InputError)]
    for problem in unusable:
        click.echo(f"hvtune: {problem}", err=True)
    if output == "json":
        click.echo(report.check_json(results, unusable), nl=False)
    else:
        click.echo(report.check_text(results) + report.verify_offer(results, files if uri is None else ()), nl=False)
    if unusable:
        return 2
    return 1 if any(result.errors for result in results) else 0


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@CONNECT
@GUEST_OS
@HOST
@LIBVIRT_VERSION
@FORMAT
def doctor(
    files: tuple[str, ...],
    uri: str | None,
    guest_os: str | None,
    host_spec: str | None,
    libvirt_version: str | None,
    output: str,
) -> int:
    """Check every VM this host can show, on this host, and say what to
    change, most important first. A file that is no usable VM definition is
    named on standard error and the others are still checked (exit 2).

    With FILE... it checks those QEMU command lines or domain XML files;
    otherwise every domain of the libvirt daemon it can reach (--connect, else
    $LIBVIRT_DEFAULT_URI or qemu:///system); with nothing to check it shows the
    bundled examples. Each VM is judged on this machine's KVM, or on the host
    named by --host. Exit code 1 when a VM will not start.
    """
    from hvtune.cli.inputs import checked_release, host_profile, installed_libvirt
    from hvtune.doctor import run_doctor
    from hvtune.findings import Severity
    from hvtune.report import findings as report

    host = host_profile(host_spec or "this")
    version = checked_release(libvirt_version)
    installed = installed_libvirt() if files and version is None else None
    result = run_doctor(
        files,
        guest_os=guest_os_name(guest_os),
        uri=uri,
        libvirt_version=version,
        host=host,
        installed_libvirt=installed,
    )
    for problem in result.unusable:
        click.echo(f"hvtune: {problem}", err=True)
    if output == "json":
        click.echo(report.doctor_json(result), nl=False)
    else:
        click.echo(report.doctor_text(result) + report.verify_offer(result.results, files), nl=False)
    if result.unusable:
        return 2
    return 1 if any(r.worst is Severity.ERROR for r in result.results) else 0
