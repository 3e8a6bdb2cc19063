"""Every fix check suggests is one fix can make: applied alone (as
`fix` would, `--all` for warnings) or all together, the result is read
without a refusal and re-checked without that finding and without an error
the configuration did not have — with no host and on the bundled
intel-nested host, for generated -cpu values and libvirt domains (some
with a misspelt <hyperv> child, which a fix renames when one name is meant)."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hvtune.checking import check_reading
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import CheckResult, Severity
from hvtune.fixing import apply_change, fix_text
from hvtune.formats import read_text
from hvtune.formats.qemu import render_cpu
from hvtune.host.profile import HostProfile
from hvtune.host.profile_json import load_profile

from strategies import configs, domains, misspelt_domains

HOSTS = st.sampled_from([None, load_profile("intel-nested")])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _errors(result: CheckResult) -> set[tuple[str, str | None]]:
    return {(f.code, f.feature) for f in result.findings if f.severity is Severity.ERROR}


def assert_every_fix_is_taken(text: str, host: HostProfile | None) -> None:
    try:
        reading = read_text(text, source="vm")
    except InputError:
        assume(False)
        raise
    before = check_reading(reading, host=host)
    for finding in before.findings:
        if finding.fix is None or not finding.fix.values or finding.severity is Severity.INFO:
            continue
        fixed = apply_change(reading, text, finding.fix)
        after = check_reading(read_text(fixed, source="vm"), host=host)
        key = (finding.code, finding.feature, finding.fix)
        assert key not in {(f.code, f.feature, f.fix) for f in after.findings}, (finding, fixed)
        assert not _errors(after) - _errors(before), (finding, fixed, after.findings)
    outcome = fix_text(text, source="vm", warnings_too=True, host=host)
    again = check_reading(read_text(outcome.fixed, source="vm"), host=host)
    assert not _errors(again) - _errors(before), (outcome.fixed, again.findings)


@SETTINGS
@given(configs(), HOSTS)
def test_every_fix_of_a_cpu_value_is_taken(config: HypervConfig, host: HostProfile | None) -> None:
    try:
        text = render_cpu(config)
    except InputError:
        assume(False)
        raise
    assert_every_fix_is_taken(text, host)


@SETTINGS
@given(domains(), HOSTS)
def test_every_fix_of_a_domain_is_taken(domain: str, host: HostProfile | None) -> None:
    assert_every_fix_is_taken(domain, host)


@SETTINGS
@given(misspelt_domains(), HOSTS)
def test_every_fix_of_a_misspelt_domain_is_taken(domain: str, host: HostProfile | None) -> None:
    assert_every_fix_is_taken(domain, host)
