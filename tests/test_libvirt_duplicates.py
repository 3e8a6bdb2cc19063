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
from hypothesis import strategies as st

from hvtune.api import check_reading
from hvtune.findings import Severity
from hvtune.fixing import fix_text
from hvtune.formats import read_text
from hvtune.formats.libvirt import parse_text
from hvtune.formats.libvirt_cpu import libvirt_cpu

from support.domains import domain
from support.libvirt import Virsh, assert_libvirt_agrees

ON_OFF = st.sampled_from(["on", "off"])
SIMPLE = ("relaxed", "vapic", "vpindex", "runtime", "synic", "reset", "frequencies", "ipi")


@st.composite
def hyperv_child(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from([*SIMPLE, "spinlocks", "vendor_id", "stimer", "tlbflush", "unknown"]))
    state = draw(ON_OFF)
    if kind == "spinlocks":
        retries = draw(st.sampled_from(["retries='4095'", "retries='8191'", "retries='12287'", "retries='100'", ""]))
        return f"<spinlocks state='{state}' {retries}/>"
    if kind == "vendor_id":
        return f"<vendor_id state='{state}' value='{draw(st.sampled_from(['KVM Hv', 'Hv2', 'far-too-long-id']))}'/>"
    if kind == "stimer":
        nested = draw(st.sampled_from(["", "<direct state='on'/>", "<direct state='off'/>"]))
        return f"<stimer state='{state}'>{nested}</stimer>"
    if kind == "tlbflush":
        nested = draw(st.sampled_from(["", "<direct state='on'/>"]))
        return f"<tlbflush state='{state}'>{nested}</tlbflush>"
    if kind == "unknown":
        return "<vsm state='on'/>"
    return f"<{kind} state='{state}'/>"


def _split(draw: st.DrawFn, items: list[str], parts: int) -> list[list[str]]:
    """`items` in order, cut into `parts` runs (some may be empty)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(items)), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, len(items)]
    return [items[bounds[i] : bounds[i + 1]] for i in range(parts)]


@st.composite
def duplicated_domains(draw: st.DrawFn) -> str:
    children = draw(st.lists(hyperv_child(), max_size=8))
    if children and draw(st.booleans()):
        children.append(draw(st.sampled_from(children)))  # a copy of one, later
    hypervs = []
    for part in _split(draw, children, draw(st.integers(1, 3))):
        mode = draw(st.sampled_from(["", "", "", " mode='custom'", " mode='passthrough'"]))
        hypervs.append(f"<hyperv{mode}>{''.join(part)}</hyperv>")
    others = []
    for _ in range(draw(st.integers(0, 2))):
        hints = draw(
            st.lists(
                st.sampled_from(["<hidden state='on'/>", "<hidden state='off'/>", "<poll-control state='on'/>"]),
                max_size=2,
            )
        )
        others.append(f"<kvm>{''.join(hints)}</kvm>")
    for _ in range(draw(st.integers(0, 2))):
        others.append(draw(st.sampled_from(["<apic/>", "<apic eoi='on'/>", "<apic eoi='off'/>"])))
    for _ in range(draw(st.integers(0, 2))):
        others.append(f"<{draw(st.sampled_from(['pmu', 'pvspinlock']))} state='{draw(ON_OFF)}'/>")
    features = draw(st.permutations(hypervs + others))
    feature_parts = _split(draw, list(features), draw(st.integers(1, 2)))
    timers = draw(
        st.lists(
            st.sampled_from(
                [
                    "<timer name='hypervclock' present='yes'/>",
                    "<timer name='hypervclock' present='no'/>",
                    "<timer name='kvmclock' present='no'/>",
                    "<timer name='kvmclock' present='yes'/>",
                    "<timer name='rtc' tickpolicy='catchup'/>",
                ]
            ),
            max_size=4,
        )
    )
    if draw(st.integers(0, 9)) == 0:
        timers.append("<timer name='hypervclock' present='yes' tickpolicy='catchup'/>")
    clocks = _split(draw, timers, draw(st.integers(1, 2)))
    first_cpu = draw(st.sampled_from(["none", "host-passthrough", "maximum", "custom"]))
    cpus = []
    if first_cpu in ("host-passthrough", "maximum"):
        cpus.append(f"<cpu mode='{first_cpu}'/>")
    elif first_cpu == "custom":
        features_of_cpu = draw(st.lists(st.sampled_from(["vmx", "pcid", "lahf_lm"]), max_size=3))
        policies = "".join(
            f"<feature policy='{draw(st.sampled_from(['require', 'disable']))}' name='{name}'/>"
            for name in features_of_cpu
        )
        cpus.append(f"<cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model>{policies}</cpu>")
    if cpus and draw(st.booleans()):
        cpus.append(draw(st.sampled_from(["<cpu mode='host-passthrough'/>", "<cpu mode='maximum'/>"])))
    panics = ["<panic model='hyperv'/>"] * draw(st.sampled_from([0, 1, 1, 2]))
    devices = _split(draw, panics, draw(st.integers(1, 2)))
    oses = ["<os><type arch='x86_64' machine='pc'>hvm</type></os>"]
    if draw(st.booleans()):
        oses.append("<os><type arch='x86_64' machine='q35'>hvm</type></os>")
    kind = "kvm" if first_cpu in ("host-passthrough", "maximum") else "qemu"
    return (
        f"<domain type='{kind}'><name>duplicates</name><memory unit='KiB'>131072</memory><vcpu>2</vcpu>"
        + "".join(oses)
        + "".join(f"<features>{''.join(part)}</features>" for part in feature_parts)
        + "".join(cpus)
        + "".join(f"<clock offset='utc'>{''.join(part)}</clock>" for part in clocks)
        + "".join(
            f"<devices>{'<emulator>/usr/bin/qemu-system-x86_64</emulator>' if i == 0 else ''}{''.join(part)}</devices>"
            for i, part in enumerate(devices)
        )
        + "</domain>"
    )


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
    assert reading.libvirt is not None
    assert libvirt_cpu(reading.libvirt, version=release) == cpu


def test_two_clocks_and_cpus_are_read_as_libvirt_reads_them() -> None:
    xml = domain(
        clock="<timer name='hypervclock' present='yes'/><timer name='hypervclock' present='no'/></clock>"
        "<clock offset='localtime'><timer name='kvmclock' present='no'/>",
        cpu="<cpu mode='maximum'/><cpu mode='host-passthrough'/>",
    )
    reading = parse_text(xml, source="d.xml")
    assert reading.libvirt is not None
    assert libvirt_cpu(reading.libvirt, version="9.0.0") == "max,hv-time=on,kvmclock=off"
    assert reading.config.get("hv-time") is True
