"""Measuring: bench (on this machine or guest) and lab (A/B in real guests)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

import click

from hvtune.bench.options import LAB_OPTIONS, MEASUREMENTS, BenchOptions
from hvtune.cli.options import FORMAT, F, UsageFailure, with_options
from hvtune.cli.verifying import ON

WHICH = "The measurements, comma-separated."


def _measurements(value: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [part for part in chosen if part not in MEASUREMENTS]
    if unknown or not chosen:
        raise UsageFailure(f"--which {value!r}: choose from {', '.join(MEASUREMENTS)}")
    return chosen


def _measuring(defaults: BenchOptions) -> Callable[[F], F]:
    """The measurement options (--which, --count, --repeat, --threads,
    --rounds) with these defaults, handed to the command as one `options`
    argument (a BenchOptions)."""

    def number(name: str, default: int, text: str) -> Callable[[Any], Any]:
        return click.option(name, type=click.IntRange(min=1), default=default, show_default=True, help=text)

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def measured(*args: Any, which: str, **kwargs: Any) -> Any:
            numbers = {name: kwargs.pop(name) for name in ("count", "repeat", "threads", "rounds")}
            options = replace(defaults, which=_measurements(which), **numbers)
            return command(*args, options=options, **kwargs)

        return cast(F, with_options(measured, *measuring))

    measuring = (
        click.option("--which", default=",".join(defaults.which), show_default=True, help=WHICH),
        number("--count", defaults.count, "Calls per run."),
        number("--repeat", defaults.repeat, "Runs of each measurement."),
        number("--threads", defaults.threads, "TLB test threads."),
        number("--rounds", defaults.rounds, "TLB test rounds per thread."),
    )

    return decorate


@click.command()
@_measuring(BenchOptions())
@FORMAT
def bench(options: BenchOptions, output: str) -> int:
    """Measure, on this machine or inside this guest, what enlightenments
    change: TSC ticks per clock_gettime(CLOCK_REALTIME) call, TSC ticks per
    cpuid(0x1), and a TLB-shootdown test (threads mapping, touching and
    unmapping a shared file). Prints min and median of several runs, with the
    clocksource and hypervisor signatures that decide them. On a terminal,
    standard error shows which run is under way. Exit code 1 when a
    measurement failed (said in one line on standard error)."""
    from hvtune.bench.run import failures, run_bench
    from hvtune.report import bench as report

    terminal = sys.stderr.isatty()
    document = run_bench(options, progress=_show_step if terminal else None)
    if terminal:
        click.echo("\r\x1b[K", err=True, nl=False)  # the last progress line goes
    click.echo(report.bench_json(document) if output == "json" else report.bench_text(document), nl=False)
    failed = failures(document)
    if failed:
        click.echo(f"hvtune: bench: {'; '.join(failed)}", err=True)
    return 1 if failed else 0


def _show_step(step: str) -> None:
    """One progress line on the terminal, over the previous one."""
    click.echo(f"\r\x1b[Khvtune bench: {step}", err=True, nl=False)


@click.command()
@click.option("--a", "cpu_a", metavar="CPU", help="The -cpu value of guest A (without), e.g. host,kvm=off,hv-vpindex.")
@click.option(
    "--b", "cpu_b", metavar="CPU", help="The -cpu value of guest B (with), e.g. host,kvm=off,hv-vpindex,hv-time."
)
@click.option("--kernel", metavar="PATH", help="The guest kernel (default: this host's, else a fetched one).")
@click.option("--fetch-kernel", is_flag=True, help="Fetch Debian's cloud kernel with apt into the cache.")
@click.option("--vcpus", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--memory", type=click.IntRange(min=128), default=512, show_default=True, metavar="MIB")
@click.option(
    "--accel",
    type=click.Choice(["kvm", "tcg", "sandbox"]),
    help="Default: KVM when this machine's KVM emulates Hyper-V, else the sandbox (both guests as L2 under its "
    "Hyper-V KVM, in one TCG guest, where --count and --rounds left at their defaults are 10x smaller), else TCG.",
)
@ON
@_measuring(LAB_OPTIONS)
@click.option("--plot", "plot_path", metavar="FILE", type=click.Path(dir_okay=False), help="Also draw a PNG chart.")
@FORMAT
def lab(
    cpu_a: str | None,
    cpu_b: str | None,
    kernel: str | None,
    fetch_kernel: bool,
    vcpus: int,
    memory: int,
    accel: str | None,
    release: str | None,
    options: BenchOptions,
    plot_path: str | None,
    output: str,
) -> int:
    """A/B in real guests: boot a Linux guest with -cpu A and one with -cpu
    B (a busybox initramfs with hvtune's measuring core), run the benchmarks
    inside over the serial console, and print a Without/With table with what
    each guest saw (its Hypervisor detected line, Hyper-V lines, clocksource).
    A Linux guest uses Hyper-V interfaces only with kvm=off. In the sandbox
    (--accel sandbox; --on RELEASE implies it) the guests boot the stack's
    kernel."""
    from hvtune.lab.kernel import fetch_kernel as fetch
    from hvtune.lab.run import run_lab
    from hvtune.report import lab as report

    if fetch_kernel:
        fetched = fetch()
        if cpu_a is None and cpu_b is None:
            click.echo(f"kernel: {fetched}")
            return 0
        kernel = kernel or str(fetched)
    if cpu_a is None or cpu_b is None:
        raise UsageFailure("lab: give both --a CPU and --b CPU")
    if release is not None and accel not in (None, "sandbox"):
        raise UsageFailure(f"lab: --on {release} chooses the sandbox's stack; it does not go with --accel {accel}")
    accel = "sandbox" if release is not None else accel
    if plot_path is not None:
        report.require_matplotlib()
    result = run_lab(
        cpu_a, cpu_b, kernel=kernel, accel=accel, vcpus=vcpus, memory=memory, options=options, release=release,
        progress=lambda line: click.echo(f"hvtune lab: {line}", err=True),
    )  # fmt: skip
    if output == "json":
        click.echo(report.lab_json(result), nl=False)
    else:
        click.echo(report.lab_text(result), nl=False)
    if plot_path is not None and not report.lab_plot(result, plot_path):
        click.echo(f"hvtune lab: no chart written to {plot_path}: the guests have no measurement in common", err=True)
    return 1 if result.a.problem or result.b.problem else 0
