"""hvtune: make Hyper-V enlightenments on KVM guests correct and fast.

The public API::

    import hvtune

    reading = hvtune.read_cpu_option("host,hv-relaxed,hv-stimer")
    for finding in hvtune.check(reading.config):
        print(finding.severity, finding.code, finding.message)
    print(hvtune.render(reading.config, "json"))

Names are imported on first use, so ``import hvtune`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from hvtune._version import __version__

if TYPE_CHECKING:
    from hvtune.bench.document import BenchDocument
    from hvtune.bench.options import BenchOptions
    from hvtune.bench.run import run_bench
    from hvtune.catalog import Catalog, Neighbour, Property, load_catalog
    from hvtune.checking import check, check_reading, refusal
    from hvtune.checks.context import CheckContext
    from hvtune.compare import Comparison, compare
    from hvtune.config import HypervConfig
    from hvtune.converting import Into, render, translate, write_into
    from hvtune.doctor import DoctorReport, run_doctor
    from hvtune.errors import InputError, Refusal
    from hvtune.findings import CheckResult, ConfigChange, Finding, Severity
    from hvtune.fixing import FileFix, Fixing, FixOutcome, LiveFix, fix_file, fix_live, fix_text
    from hvtune.formats import Format, Reading, format_named, read_file, read_text
    from hvtune.formats.domcaps import HypervCapabilities
    from hvtune.formats.qemu import read_cpu_option
    from hvtune.host.profile import HostProfile, probe_host
    from hvtune.host.profile_json import load_profile
    from hvtune.lab.run import LabResult, run_lab
    from hvtune.live import check_live
    from hvtune.plan import Goals, Plan, make_plan

_WHERE = {
    "check": "hvtune.checking",
    "check_reading": "hvtune.checking",
    "refusal": "hvtune.checking",
    "render": "hvtune.converting",
    "translate": "hvtune.converting",
    "write_into": "hvtune.converting",
    "Into": "hvtune.converting",
    "check_live": "hvtune.live",
    "read_cpu_option": "hvtune.formats.qemu",
    "BenchDocument": "hvtune.bench.document",
    "BenchOptions": "hvtune.bench.options",
    "run_bench": "hvtune.bench.run",
    "Catalog": "hvtune.catalog",
    "Neighbour": "hvtune.catalog",
    "Property": "hvtune.catalog",
    "load_catalog": "hvtune.catalog",
    "CheckContext": "hvtune.checks.context",
    "Comparison": "hvtune.compare",
    "compare": "hvtune.compare",
    "HypervConfig": "hvtune.config",
    "DoctorReport": "hvtune.doctor",
    "run_doctor": "hvtune.doctor",
    "InputError": "hvtune.errors",
    "Refusal": "hvtune.errors",
    "CheckResult": "hvtune.findings",
    "ConfigChange": "hvtune.findings",
    "Finding": "hvtune.findings",
    "Severity": "hvtune.findings",
    "FileFix": "hvtune.fixing",
    "Fixing": "hvtune.fixing",
    "FixOutcome": "hvtune.fixing",
    "LiveFix": "hvtune.fixing",
    "fix_file": "hvtune.fixing",
    "fix_live": "hvtune.fixing",
    "fix_text": "hvtune.fixing",
    "Format": "hvtune.formats",
    "Reading": "hvtune.formats",
    "format_named": "hvtune.formats",
    "read_file": "hvtune.formats",
    "read_text": "hvtune.formats",
    "HypervCapabilities": "hvtune.formats.domcaps",
    "HostProfile": "hvtune.host.profile",
    "probe_host": "hvtune.host.profile",
    "load_profile": "hvtune.host.profile_json",
    "LabResult": "hvtune.lab.run",
    "run_lab": "hvtune.lab.run",
    "Goals": "hvtune.plan",
    "Plan": "hvtune.plan",
    "make_plan": "hvtune.plan",
}

__all__ = [
    "BenchDocument",
    "BenchOptions",
    "Catalog",
    "CheckContext",
    "CheckResult",
    "Comparison",
    "ConfigChange",
    "DoctorReport",
    "FileFix",
    "Finding",
    "FixOutcome",
    "Fixing",
    "Format",
    "Goals",
    "HostProfile",
    "HypervCapabilities",
    "HypervConfig",
    "InputError",
    "Into",
    "LabResult",
    "LiveFix",
    "Neighbour",
    "Plan",
    "Property",
    "Reading",
    "Refusal",
    "Severity",
    "__version__",
    "check",
    "check_live",
    "check_reading",
    "compare",
    "fix_file",
    "fix_live",
    "fix_text",
    "format_named",
    "load_catalog",
    "load_profile",
    "make_plan",
    "probe_host",
    "read_cpu_option",
    "read_file",
    "read_text",
    "refusal",
    "render",
    "run_bench",
    "run_doctor",
    "run_lab",
    "translate",
    "write_into",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'hvtune' has no attribute {name!r}")
