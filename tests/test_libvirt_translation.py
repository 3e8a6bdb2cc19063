"""Domain XML to QEMU -cpu, judged by libvirt itself: libvirt's own test
vectors at the releases they come from, and the real libvirtd (virsh
domxml-to-native) on the vectors and on generated domains."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hvtune.checking import check_reading, refusal
from hvtune.formats.domcaps import parse_domcaps
from hvtune.formats.libvirt import parse_text
from hvtune.formats.libvirt_cpu import libvirt_cpu
from hvtune.formats.shell import split_words

from strategies import domains
from support.libvirt import Virsh, assert_libvirt_agrees

DATA = Path(__file__).parent / "data"
VECTORS = DATA / "libvirt-vectors"
CAPABILITIES = parse_domcaps((DATA / "domcaps-qemu-11.1.0.xml").read_text(), source="domcaps")

# (input, expected args, the libvirt release the args come from). The c181c7dd
# host-model args (an intermediate state of the 11.9 cycle, before host-model
# was expanded at start) and the c2ea8b2e hyperv args (whose input is not
# available) are left out; see the vectors' PROVENANCE.md.
CASES = [
    ("v10.7.0/hyperv.xml", "v10.7.0/hyperv.x86_64-latest.args", "10.7.0"),
    ("v10.7.0/hyperv-off.xml", "v10.7.0/hyperv-off.x86_64-latest.args", "10.7.0"),
    ("v10.7.0/hyperv-panic.xml", "v10.7.0/hyperv-panic.x86_64-latest.args", "10.7.0"),
    ("v10.7.0/hyperv-passthrough.xml", "v10.7.0/hyperv-passthrough.x86_64-latest.args", "10.7.0"),
    ("v10.7.0/hyperv-stimer-direct.xml", "v10.7.0/hyperv-stimer-direct.x86_64-latest.args", "10.7.0"),
    ("v10.7.0/clock-timer-hyperv-rtc.xml", "v10.7.0/clock-timer-hyperv-rtc.x86_64-latest.args", "10.7.0"),
    ("upstream-da76c1e8/hyperv.xml", "upstream-da76c1e8/hyperv.x86_64-latest.args", "11.9.0"),
    (
        "upstream-da76c1e8/hyperv-stimer-direct.xml",
        "upstream-da76c1e8/hyperv-stimer-direct.x86_64-latest.args",
        "11.9.0",
    ),
    ("upstream-380fb893/hyperv-host-model.xml", "upstream-11057abf/hyperv-host-model.x86_64-latest.args", "12.1.0"),
    ("upstream-380fb893/hyperv-host-model.xml", "upstream-c2ea8b2e/hyperv-host-model.x86_64-latest.args", "12.5.0"),
    (
        "upstream-da76c1e8/hyperv-stimer-direct.xml",
        "upstream-c2ea8b2e/hyperv-stimer-direct.x86_64-latest.args",
        "12.5.0",
    ),
    ("v10.7.0/hyperv-off.xml", "upstream-c2ea8b2e/hyperv-off.x86_64-latest.args", "12.5.0"),
    ("v10.7.0/hyperv-panic.xml", "upstream-c2ea8b2e/hyperv-panic.x86_64-latest.args", "12.5.0"),
    ("v10.7.0/hyperv-passthrough.xml", "upstream-c2ea8b2e/hyperv-passthrough.x86_64-latest.args", "12.5.0"),
    ("v10.7.0/clock-timer-hyperv-rtc.xml", "upstream-c2ea8b2e/clock-timer-hyperv-rtc.x86_64-latest.args", "12.5.0"),
]
INPUTS = sorted(path for path in VECTORS.glob("*/*.xml") if ".x86_64-" not in path.name)


def _cpu_of(args: str) -> str:
    words = [word.text for word in split_words(args)]
    return words[words.index("-cpu") + 1]


@pytest.mark.parametrize(("domain", "args", "release"), CASES, ids=[f"{a} @{r}" for _, a, r in CASES])
def test_libvirts_own_vectors(domain: str, args: str, release: str) -> None:
    reading = parse_text((VECTORS / domain).read_text(), source=domain)
    assert refusal(check_reading(reading, libvirt_version=release), "libvirt") is None
    expected = _cpu_of((VECTORS / args).read_text())
    assert libvirt_cpu(reading.document, version=release, capabilities=CAPABILITIES) == expected  # type: ignore[arg-type]


def test_host_model_needs_capabilities() -> None:
    reading = parse_text((VECTORS / "upstream-380fb893/hyperv-host-model.xml").read_text(), source="d.xml")
    with pytest.raises(Exception, match="host's capabilities"):
        libvirt_cpu(reading.document, version="12.5.0")  # type: ignore[arg-type]


@pytest.mark.libvirt
@pytest.mark.parametrize("domain", INPUTS, ids=[str(p.relative_to(VECTORS)) for p in INPUTS])
def test_real_libvirt_agrees_on_the_vectors(virsh: Virsh, domain: Path) -> None:
    assert_libvirt_agrees(virsh, domain.read_text())


@pytest.mark.libvirt
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(xml=domains())
def test_real_libvirt_agrees_on_generated_domains(virsh: Virsh, xml: str) -> None:
    assert_libvirt_agrees(virsh, xml)
