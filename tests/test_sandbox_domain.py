"""The domain verify runs (sandbox.domain): reduced to what the sandbox can
start, with every Hyper-V decision of the original intact."""

from __future__ import annotations

from hypothesis import given, settings

from hvtune.formats import read_text
from hvtune.formats.libvirt import parse_text
from hvtune.sandbox.domain import NAME, runnable_domain

from strategies import domains, duplicated_domains


def _hyperv_values(xml: str) -> dict[str, object]:
    config = read_text(xml, source="d.xml").config
    return {name: value for name, value in config.values.items() if name.startswith("hv-") or name == "kvm"}


@settings(max_examples=300, deadline=None)
@given(domains() | duplicated_domains())
def test_the_runnable_domain_keeps_every_hyperv_decision(xml: str) -> None:
    reduced = runnable_domain(xml, source="d.xml")
    assert _hyperv_values(reduced) == _hyperv_values(xml)
    original, runnable = parse_text(xml, source="d.xml").document, parse_text(reduced, source="d.xml").document
    assert runnable.name == NAME and runnable.machine == original.machine
    assert (runnable.hyperv_mode, runnable.timers, runnable.hyperv_panics) == (
        original.hyperv_mode,
        original.timers,
        original.hyperv_panics,
    )
    assert runnable_domain(reduced, source="d.xml", name="other") == reduced.replace(NAME, "other")
