"""Elements written more than once, read as libvirt reads them: two
<features>, two <hyperv>, a <hyperv> child twice, two <clock>s or timers,
two <kvm>, two <cpu>s, a <cpu> feature twice, two <devices>, two <os>.

The real libvirtd judges generated domains; `fix` on them leaves a domain
whose re-check is clean and which the real libvirt reads as fixed. What
other releases do was seen with `virsh domxml-to-native qemu-argv` of
Debian's libvirt 11.3 (trixie) and 12.8 (sid), and is checked here as data.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from hvtune.checking import check_reading
from hvtune.findings import Severity
from hvtune.fixing import fix_text
from hvtune.formats import read_text
from hvtune.formats.libvirt import parse_text
from hvtune.formats.libvirt_cpu import libvirt_cpu

from strategies import duplicated_domains
from support.domains import domain
from support.libvirt import Virsh, assert_libvirt_agrees


@pytest.mark.libvirt
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(xml=duplicated_domains())
def test_real_libvirt_agrees_on_domains_with_duplicates(virsh: Virsh, xml: str) -> None:
    assert_libvirt_agrees(virsh, xml)


@pytest.mark.libvirt
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(xml=duplicated_domains())
def test_fix_edits_what_libvirt_reads(virsh: Virsh, xml: str) -> None:
    """After fix, no fixable error is left, the real libvirt reads the
    domain as hvtune does, and it reads the values the fixes set."""
    outcome = fix_text(xml, source="domain.xml", libvirt_version=virsh.version)
    reading = read_text(outcome.fixed, source="domain.xml")
    result = check_reading(reading, libvirt_version=virsh.version)
    assert not [f for f in result.findings if f.severity is Severity.ERROR and f.fix and f.fix.values]
    assert_libvirt_agrees(virsh, outcome.fixed)
    wanted: dict[str, object] = {}
    for finding in outcome.applied:
        assert finding.fix is not None
        wanted.update(finding.fix.values)
    for name, value in wanted.items():
        assert reading.config.get(name) == value, (name, outcome.fixed)


# What releases make of duplicates (virsh domxml-to-native qemu-argv on
# Debian's libvirt 9.0, 11.3 and 12.8; -cpu only).
HYPERV_TWO = "<hyperv><vapic state='on'/></hyperv><hyperv mode='passthrough'><relaxed state='on'/></hyperv>"
SEEN = [
    ("<kvm><hidden state='on'/></kvm><kvm><poll-control state='on'/></kvm>", "9.0.0", "qemu64,kvm-poll-control=on"),
    (
        "<kvm><hidden state='on'/></kvm><kvm><poll-control state='on'/></kvm>",
        "11.3.0",
        "qemu64,kvm=off,kvm-poll-control=on",
    ),
    ("<kvm><hidden state='on'/></kvm><kvm/>", "12.8.0", "qemu64,kvm=off"),
    (HYPERV_TWO, "9.0.0", "qemu64,hv-passthrough=on,hv-relaxed=on,hv-vapic=on"),
    (HYPERV_TWO, "11.3.0", "qemu64,hv-passthrough=on,hv-vapic=on"),
    ("<hyperv mode='passthrough'/><hyperv><relaxed state='on'/></hyperv>", "11.3.0", "qemu64,hv-relaxed=on"),
    (
        "<hyperv><tlbflush state='on'><extended state='on'/></tlbflush><tlbflush state='off'/></hyperv>",
        "11.3.0",
        "qemu64,hv-tlbflush-ext=on",
    ),
    (
        "<hyperv><stimer state='on'><direct state='on'/></stimer><stimer state='off'/></hyperv>",
        "12.8.0",
        "qemu64,hv-stimer-direct=on",
    ),
    (
        "<hyperv><spinlocks state='on' retries='4096'/><spinlocks state='on'/></hyperv>",
        "12.8.0",
        "qemu64,hv-spinlocks=0xffffffff",
    ),
    ("<apic eoi='on'/><apic/><pmu state='on'/><pmu state='off'/>", "11.3.0", "qemu64,pmu=off"),
]


@pytest.mark.parametrize(("features", "release", "cpu"), SEEN)
def test_what_releases_were_seen_doing(features: str, release: str, cpu: str) -> None:
    xml = domain(features, machine="pc")
    reading = parse_text(xml, source="d.xml")
    assert reading.document is not None
    assert libvirt_cpu(reading.document, version=release) == cpu


def test_two_clocks_and_cpus_are_read_as_libvirt_reads_them() -> None:
    xml = domain(
        clock="<timer name='hypervclock' present='yes'/><timer name='hypervclock' present='no'/></clock>"
        "<clock offset='localtime'><timer name='kvmclock' present='no'/>",
        cpu="<cpu mode='maximum'/><cpu mode='host-passthrough'/>",
    )
    reading = parse_text(xml, source="d.xml")
    assert reading.document is not None
    assert libvirt_cpu(reading.document, version="9.0.0") == "max,hv-time=on,kvmclock=off"
    assert reading.config.get("hv-time") is True


@pytest.mark.parametrize("clocks", [1, 2, 16, 17, 40])
def test_the_timers_of_every_clock_in_turn(clocks: int) -> None:
    """The same timers split over a few <clock> (walked over) or many
    (picked by XPath) read alike: each in turn, a run of equal ones as one."""
    timers = [
        "<timer name='kvmclock' present='no'/>",
        "<timer name='rtc' tickpolicy='catchup'/>",
        "<timer name='hypervclock' present='yes'/>",
        "<timer name='tsc' frequency='2000000000'/>",
    ]
    written = [timers[i % 4] for i in range(80)] + [timers[0]] * 3
    per_clock = -(-len(written) // clocks)
    clock = "</clock><clock offset='utc'>".join(
        "".join(written[start : start + per_clock]) for start in range(0, len(written), per_clock)
    )
    document = parse_text(domain(clock=clock), source="d.xml").document
    assert document is not None
    cycle = (("kvmclock", "no", None, None), ("hypervclock", "yes", None, None), ("tsc", None, None, 2000000000))
    assert [tuple(timer) for timer in document.timers] == [(*timer, 1) for timer in cycle * 20] + [(*cycle[0], 3)]
