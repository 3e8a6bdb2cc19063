"""hvtune cpuid: the hypervisor CPUID a guest will see."""

from __future__ import annotations

import click

from hvtune.cli.options import FORMAT, HOST


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
