"""The hvtune commands (click). They parse arguments, call the core and
print; no logic lives here. Exit codes: 0 clean, 1 error findings, 2
unusable input or usage."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from hvtune._version import __version__
from hvtune.bench.options import LAB_OPTIONS, MEASUREMENTS, BenchOptions

if TYPE_CHECKING:
    from hvtune.plan import Goals

FORMAT = click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human text, or JSON with stable keys.",
)
GUEST_OS = click.option(
    "--os",
    "guest_os",
    metavar="OS",
    help="The guest OS (linux, win10, win11, win2022, ...); some checks depend on it.",
)


F = TypeVar("F", bound=Callable[..., Any])


class UsageFailure(click.UsageError):
    """A usage error reported as one line."""


def _guest_os(name: str | None) -> str | None:
    if name is None:
        return None
    from hvtune.catalog import load_catalog

    catalog = load_catalog()
    guest = catalog.guest(name)
    if guest is None:
        names = ", ".join(g.name for g in catalog.guests)
        raise UsageFailure(f"--os {name!r}: unknown guest OS; expected one of {names}")
    return guest.name


def _stdin_or_fail(files: tuple[str, ...], cpu: str | None, what: str) -> tuple[str, ...]:
    if files or cpu is not None:
        return files
    if not sys.stdin.isatty():
        return ("-",)
    raise UsageFailure(f"{what}: give FILE... or --cpu STRING (or pipe a configuration to standard input)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hvtune")
@click.option("--debug", is_flag=True, help="On an internal error, also print the traceback (first option only).")
def cli(debug: bool) -> None:
    """Make Hyper-V enlightenments on KVM guests correct and fast.

    hvtune reads QEMU -cpu strings and command lines, libvirt domain XML
    (files or a daemon's domains) and JSON; checks them the way libvirt and
    QEMU will; fixes them in place; explains every enlightenment; and
    converts between spellings. Start with `hvtune doctor`.
    """


@cli.command("list")
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


@cli.command()
@click.argument("name")
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


LIBVIRT_VERSION = click.option(
    "--libvirt-version",
    metavar="X.Y.Z",
    help="Judge as this libvirt release would (default: the one connected to, else the one installed here).",
)
CONNECT = click.option("--connect", "uri", metavar="URI", help="A libvirt daemon, e.g. qemu:///system.")
HOST = click.option(
    "--host",
    "host_spec",
    metavar="NAME|FILE",
    help="Judge on this host: a bundled profile (hvtune host --list), a file saved with hvtune host --save, "
    "or 'this' to probe this machine.",
)


PLANNED_OS = click.option(
    "--os", "guest_os", metavar="OS", required=True, help="The guest OS: winxp ... win2025, or linux."
)
GOALS = (
    click.option(
        "--migratable", is_flag=True, help="Keep the guest live-migratable (no passthrough, no unpinned TSC)."
    ),
    click.option("--nested", "--vbs", "nested", is_flag=True, help="The guest runs Hyper-V, WSL2 or VBS."),
    click.option("--gpu-passthrough", is_flag=True, help="A GPU whose driver refuses a visible hypervisor."),
    click.option("--overcommit", is_flag=True, help="More vCPUs than host CPUs: favour TLB flush, IPI, spinlocks."),
    click.option("--tsc-frequency", type=click.IntRange(min=1), metavar="HZ", help="Pin the guest's TSC frequency."),
)


GOAL_NAMES = ("migratable", "nested", "gpu_passthrough", "overcommit", "tsc_frequency")


def _goals(command: F) -> F:
    """The goal options, in their order, handed to the command as one
    `goals` argument (a plan.Goals)."""

    @functools.wraps(command)
    def with_goals(*args: Any, **kwargs: Any) -> Any:
        from hvtune.plan import Goals

        return command(*args, goals=Goals(**{name: kwargs.pop(name) for name in GOAL_NAMES}), **kwargs)

    return cast(F, _options(with_goals, *GOALS))


def _options(command: Callable[..., Any], *options: Callable[[Any], Any]) -> Any:
    """The command with these click options, shown in this order."""
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", metavar="STRING", help="A -cpu value to check, e.g. 'host,hv-relaxed,hv-stimer'.")
@CONNECT
@GUEST_OS
@HOST
@click.option(
    "--target",
    type=click.Choice(["qemu", "libvirt"]),
    help="Who reads the configuration; libvirt's stricter limits are errors for libvirt.",
)
@LIBVIRT_VERSION
@FORMAT
def check(
    files: tuple[str, ...],
    cpu: str | None,
    uri: str | None,
    guest_os: str | None,
    host_spec: str | None,
    target: str | None,
    libvirt_version: str | None,
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
    from hvtune.api import check_live, check_reading, host_profile, read_inputs, resolve_libvirt_version
    from hvtune.errors import InputError
    from hvtune.report import findings as report

    os_name = _guest_os(guest_os)
    host = host_profile(host_spec)
    unusable: list[str] = []
    if uri is not None:
        results = check_live(uri, files, guest_os=os_name, libvirt_version=libvirt_version, host=host)
    else:
        version = resolve_libvirt_version(libvirt_version, host.libvirt_version if host else None)
        readings = read_inputs(_stdin_or_fail(files, cpu, "check"), cpu)
        results = [
            check_reading(reading, target=target, guest_os=os_name, libvirt_version=version, host=host)  # type: ignore[arg-type]
            for reading in readings
            if not isinstance(reading, InputError)
        ]
        unusable = [str(reading) for reading in readings if isinstance(reading, InputError)]
    for problem in unusable:
        click.echo(f"hvtune: {problem}", err=True)
    click.echo(report.check_json(results, unusable) if output == "json" else report.check_text(results), nl=False)
    if unusable:
        return 2
    return 1 if any(result.errors for result in results) else 0


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cpu", metavar="STRING", help="A -cpu value to convert instead of a file.")
@click.option(
    "--to",
    "to",
    type=click.Choice(["qemu", "json", "libvirt"]),
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
@click.option(
    "--domcaps",
    metavar="FILE",
    type=click.Path(dir_okay=False, exists=True),
    help="`virsh domcapabilities` output of the host, for <hyperv mode='host-model'>.",
)
@CONNECT
def convert(
    file: str | None,
    cpu: str | None,
    to: str | None,
    into: str | None,
    libvirt_version: str | None,
    domcaps: str | None,
    uri: str | None,
) -> int:
    """Translate a configuration between QEMU -cpu, libvirt domain XML and JSON."""
    from hvtune.api import host_capabilities, libvirt_version_for, read_inputs, translate, write_into
    from hvtune.errors import InputError

    if file and cpu is not None:
        raise UsageFailure("convert: give either FILE or --cpu, not both")
    if to is None and into is None:
        raise UsageFailure("convert: give --to FORMAT, or --into DOMAIN.xml")
    if into is not None and to not in (None, "libvirt"):
        raise UsageFailure(f"convert: --into writes libvirt XML; it cannot be combined with --to {to}")
    (reading,) = read_inputs(_stdin_or_fail((file,) if file else (), cpu, "convert"), cpu)
    if isinstance(reading, InputError):
        raise reading
    version = libvirt_version_for(libvirt_version, uri)
    if into is not None:
        click.echo(write_into(reading.config, into, source=reading.source, libvirt_version=version), err=True)
        return 0
    assert to is not None
    # a --domcaps file is always read (and so checked); the daemon is asked only for host-model
    capabilities = host_capabilities(domcaps, uri if reading.config.host_model else None)
    click.echo(translate(reading, to, libvirt_version=version, capabilities=capabilities), nl=False)
    return 0


@cli.command()
@click.argument("target")
@click.option("--output", "output_path", metavar="OUT", type=click.Path(dir_okay=False), help="Write here instead.")
@click.option("--diff", "--dry-run", "show_diff", is_flag=True, help="Print a unified diff and write nothing.")
@click.option("--all", "warnings_too", is_flag=True, help="Fix warnings too, not only errors.")
@click.option("--plan", "use_plan", is_flag=True, help="Apply hvtune's plan for the guest (--os, goals) instead.")
@click.option("--yes", is_flag=True, help="With --connect: redefine the domain (without it, only show the diff).")
@CONNECT
@GUEST_OS
@HOST
@_goals
@LIBVIRT_VERSION
@FORMAT
def fix(
    target: str,
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
    left that need a decision.
    """
    from hvtune.api import host_profile
    from hvtune.fixing import Fixing, fix_file, fix_live
    from hvtune.report import fixes as report

    host = host_profile(host_spec or ("this" if use_plan else None))
    fixing = Fixing(warnings_too, _guest_os(guest_os), libvirt_version, host, goals if use_plan else None)
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


@cli.command()
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
    from hvtune.api import host_profile
    from hvtune.doctor import run_doctor
    from hvtune.findings import Severity
    from hvtune.report import findings as report

    host = host_profile(host_spec or "this")
    result = run_doctor(files, guest_os=_guest_os(guest_os), uri=uri, libvirt_version=libvirt_version, host=host)
    for problem in result.unusable:
        click.echo(f"hvtune: {problem}", err=True)
    click.echo(report.doctor_json(result) if output == "json" else report.doctor_text(result), nl=False)
    if result.unusable:
        return 2
    return 1 if any(r.worst is Severity.ERROR for r in result.results) else 0


@cli.command()
@PLANNED_OS
@HOST
@_goals
@click.option("--to", "to", type=click.Choice(["qemu", "libvirt", "json"]), default="qemu", show_default=True)
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
    from hvtune.api import host_profile, render
    from hvtune.plan import make_plan
    from hvtune.report import plan as report

    host = host_profile(host_spec or "this")
    assert host is not None
    made = make_plan(_guest_os(guest_os) or guest_os, host, goals)
    rendered = render(made.config, to, source="plan")
    if output == "json":
        click.echo(report.plan_json(made, rendered, to), nl=False)
    else:
        click.echo(rendered + ("\n" + report.explain_text(made) if explain else ""), nl=False)
    return 0


@cli.command()
@PLANNED_OS
@HOST
@_goals
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
    from hvtune.api import host_profile
    from hvtune.compare import compare as compare_stacks
    from hvtune.report import compare as report

    host = host_profile(host_spec or "this")
    assert host is not None
    comparison = compare_stacks(_guest_os(guest_os) or guest_os, host, goals)
    click.echo(report.compare_json(comparison) if output == "json" else report.compare_text(comparison), nl=False)
    return 0


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
        def with_options(*args: Any, which: str, **kwargs: Any) -> Any:
            numbers = {name: kwargs.pop(name) for name in ("count", "repeat", "threads", "rounds")}
            options = replace(defaults, which=_measurements(which), **numbers)
            return command(*args, options=options, **kwargs)

        return cast(F, _options(with_options, *measuring))

    measuring = (
        click.option("--which", default=",".join(defaults.which), show_default=True, help=WHICH),
        number("--count", defaults.count, "Calls per run."),
        number("--repeat", defaults.repeat, "Runs of each measurement."),
        number("--threads", defaults.threads, "TLB test threads."),
        number("--rounds", defaults.rounds, "TLB test rounds per thread."),
    )

    return decorate


@cli.command()
@_measuring(BenchOptions())
@FORMAT
def bench(options: BenchOptions, output: str) -> int:
    """Measure, on this machine or inside this guest, what enlightenments
    change: TSC ticks per clock_gettime(CLOCK_REALTIME) call, TSC ticks per
    cpuid(0x1), and a TLB-shootdown test (threads mapping, touching and
    unmapping a shared file). Prints min and median of several runs, with the
    clocksource and hypervisor signatures that decide them."""
    from hvtune.bench.run import run_bench
    from hvtune.report import bench as report

    document = run_bench(options)
    click.echo(report.bench_json(document) if output == "json" else report.bench_text(document), nl=False)
    return 0


@cli.command()
@click.option("--a", "cpu_a", metavar="CPU", help="The -cpu value of guest A (without), e.g. host,kvm=off,hv-vpindex.")
@click.option(
    "--b", "cpu_b", metavar="CPU", help="The -cpu value of guest B (with), e.g. host,kvm=off,hv-vpindex,hv-time."
)
@click.option("--kernel", metavar="PATH", help="The guest kernel (default: this host's, else a fetched one).")
@click.option("--fetch-kernel", is_flag=True, help="Fetch Debian's cloud kernel with apt into the cache.")
@click.option("--vcpus", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--memory", type=click.IntRange(min=128), default=512, show_default=True, metavar="MIB")
@click.option("--accel", type=click.Choice(["kvm", "tcg"]), help="Default: KVM when /dev/kvm is usable, else TCG.")
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
    options: BenchOptions,
    plot_path: str | None,
    output: str,
) -> int:
    """A/B in real guests: boot a Linux guest with -cpu A and one with -cpu
    B (a busybox initramfs with hvtune's measuring core), run the benchmarks
    inside over the serial console, and print a Without/With table with what
    each guest saw (its Hypervisor detected line, Hyper-V lines, clocksource).
    A Linux guest uses Hyper-V interfaces only with kvm=off."""
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
    if plot_path is not None:
        report.require_matplotlib()
    result = run_lab(
        cpu_a, cpu_b, kernel=kernel, accel=accel, vcpus=vcpus, memory=memory, options=options,
        progress=lambda line: click.echo(f"hvtune lab: {line}", err=True),
    )  # fmt: skip
    if output == "json":
        click.echo(report.lab_json(result), nl=False)
    else:
        click.echo(report.lab_text(result), nl=False)
    if plot_path is not None and not report.lab_plot(result, plot_path):
        click.echo(f"hvtune lab: no chart written to {plot_path}: the guests have no measurement in common", err=True)
    return 1 if result.a.problem or result.b.problem else 0


@cli.command()
@click.option(
    "--save", "save_path", metavar="FILE", type=click.Path(dir_okay=False), help="Also save the profile here."
)
@click.option("--list", "list_bundled", is_flag=True, help="List the bundled host profiles instead.")
@click.option(
    "--host", "host_spec", metavar="NAME|FILE", help="Show a bundled or saved profile instead of probing this machine."
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
