"""The catalog's commands: list and explain."""

from __future__ import annotations

import click

from hvtune.cli.completing import spellings
from hvtune.cli.options import FORMAT, UsageFailure


@click.command("list")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Text table, JSON with every catalog fact, or the README's Markdown table.",
)
@click.option("--all", "everything", is_flag=True, help="Also list compat properties (and neighbours, in JSON).")
def list_command(output: str, everything: bool) -> int:
    """List every Hyper-V property QEMU knows."""
    from hvtune.catalog import load_catalog
    from hvtune.report import catalog as report

    catalog = load_catalog()
    if output == "json":
        click.echo(report.list_json(catalog, everything=everything), nl=False)
    elif output == "markdown":
        click.echo(report.list_markdown(catalog), nl=False)
    else:
        click.echo(report.list_text(catalog, everything=everything), nl=False)
    return 0


@click.command()
@click.argument("name", shell_complete=spellings)
@FORMAT
def explain(name: str, output: str) -> int:
    """Explain one enlightenment: what it does, needs and costs.

    NAME may be any spelling: hv-stimer, hv_stimer, stimer, synictimer,
    hypervclock, tlbflush.direct, ...
    """
    from hvtune.catalog import load_catalog
    from hvtune.report import catalog as report

    catalog = load_catalog()
    entry = catalog.lookup(name)
    if entry is None:
        suggestion = catalog.suggest(name)
        hint = f"; did you mean {suggestion}?" if suggestion else "; see `hvtune list`"
        raise UsageFailure(f"{name!r}: not a Hyper-V property or neighbour hvtune knows{hint}")
    click.echo(report.explain_json(entry) if output == "json" else report.explain_text(entry), nl=False)
    return 0
