"""hvtune fix renames a misspelt <hyperv> child libvirt refuses when one
known name is surely meant, changing only the name in its start and end
tags (its attributes and children stay); when several names are as close,
or none, or the element would not read as the one meant, check suggests no
fix and fix leaves the refusal for a decision. The real libvirt judges:
`virsh define` refuses the domain before the fix and takes it after."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hvtune.checking import check_reading
from hvtune.findings import Severity
from hvtune.fixing import fix_text
from hvtune.formats import read_text

from strategies import misspelt_domains
from support.cli import run
from support.domains import HYPERVCLOCK, domain, hyperv
from support.libvirt import Virsh, assert_libvirt_agrees

PREFIX = "hvtune-test-rename"
TIMED = domain(hyperv("relaxed", "vpindex", "synic", "<stimmer state='on'/>"), HYPERVCLOCK, name=PREFIX, machine="pc")
# (the misspelt domain, as fix leaves it: only the names change)
RENAMED = [
    (TIMED, TIMED.replace("stimmer", "stimer")),
    pytest.param(
        domain(hyperv("relaxed", "<vpindx state='on'></vpindx>", "synic", "stimer"), HYPERVCLOCK, name=PREFIX),
        domain(hyperv("relaxed", "<vpindex state='on'></vpindex>", "synic", "stimer"), HYPERVCLOCK, name=PREFIX),
        id="open and closed",
    ),
    pytest.param(
        domain(hyperv("vpindex", "synic", "<stimr state='on'><direct state='on'/></stimr>"), HYPERVCLOCK, name=PREFIX),
        domain(
            hyperv("vpindex", "synic", "<stimer state='on'><direct state='on'/></stimer>"), HYPERVCLOCK, name=PREFIX
        ),
        id="holding a child",
    ),
    pytest.param(
        domain(hyperv("relaxed", '<tlbflsh  state="on" >\n  <!-- <tlbflsh/> -->\n</tlbflsh >', "vpindex"), name=PREFIX),
        domain(
            hyperv("relaxed", '<tlbflush  state="on" >\n  <!-- <tlbflsh/> -->\n</tlbflush >', "vpindex"), name=PREFIX
        ),
        id="spaces, quotes and a comment",
    ),
    pytest.param(
        domain(hyperv("relaxed", "<spinlock state='on' retries='8191'/>", "<Vapic state='off'/>"), name=PREFIX),
        domain(hyperv("relaxed", "<spinlocks state='on' retries='8191'/>", "<vapic state='off'/>"), name=PREFIX),
        id="two, a value and a case",
    ),
    pytest.param(
        domain(hyperv("relaxed") + "<acpi/>" + hyperv("<vapci state='on'/>", "<vapci state='off'/>"), name=PREFIX),
        domain(hyperv("relaxed") + "<acpi/>" + hyperv("<vapic state='on'/>", "<vapic state='off'/>"), name=PREFIX),
        id="in the second of two hyperv, twice",
    ),
    pytest.param(
        domain(
            hyperv("relaxed", "<frequencys state='on'/>").replace("<hyperv>", "<hyperv>\r\n  <!-- tuned -->\r\n  "),
            metadata="<metadata><x:y xmlns:x='urn:x'><x:stimmer/></x:y></metadata>",
            name=PREFIX,
        ).replace("><", ">\r\n<"),
        domain(
            hyperv("relaxed", "<frequencies state='on'/>").replace("<hyperv>", "<hyperv>\r\n  <!-- tuned -->\r\n  "),
            metadata="<metadata><x:y xmlns:x='urn:x'><x:stimmer/></x:y></metadata>",
            name=PREFIX,
        ).replace("><", ">\r\n<"),
        id="CRLF, a comment and a namespace",
    ),
]


@pytest.fixture
def define(virsh: Virsh) -> Iterator[Virsh]:
    """The real daemon, with the test's domain removed afterwards."""
    yield virsh
    virsh.run("undefine", PREFIX, check=False)


def _define(virsh: Virsh, xml: str) -> str:
    """libvirt's error defining `xml` ("" when it takes it, then undefined)."""
    with tempfile.NamedTemporaryFile("w", suffix=".xml") as handle:
        handle.write(xml)
        handle.flush()
        done = virsh.run("define", handle.name, check=False)
    virsh.run("undefine", PREFIX, check=False)
    return "" if done.returncode == 0 else done.stderr.strip()


@pytest.mark.libvirt
@pytest.mark.parametrize(("misspelt", "renamed"), RENAMED)
def test_a_misspelt_child_is_renamed_and_libvirt_takes_it(define: Virsh, misspelt: str, renamed: str) -> None:
    refused = _define(define, misspelt)
    assert "unsupported HyperV Enlightenment feature" in refused
    outcome = fix_text(misspelt, source="d.xml", libvirt_version=define.version)
    assert outcome.fixed == renamed
    assert outcome.applied[0].code == "libvirt-unknown-element"
    assert not [f for f in outcome.remaining if f.severity is Severity.ERROR]
    assert _define(define, outcome.fixed) == ""


def test_fix_says_what_it_renamed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vm.xml"
    path.write_text(TIMED)
    code, out, _ = run(capsys, "check", str(path), "--host", "intel-nested", "--libvirt-version", "9.0.0")
    assert code == 1
    assert "feature: stimmer (did you mean <stimer>?)" in out and "fix: rename <stimmer> to <stimer>" in out
    code, out, _ = run(capsys, "check", str(path), "--host", "intel-nested", "--format", "json")
    (finding,) = [f for f in json.loads(out)["findings"] if f["code"] == "libvirt-unknown-element"]
    assert (finding["feature"], finding["fix"]) == ("hv-stimer", {"rename": {"stimmer": "stimer"}})
    code, out, _ = run(capsys, "fix", str(path), "--host", "intel-nested")
    assert code == 0, out
    assert out.splitlines()[0] == f"{path}: fixed 1 finding"
    assert "  fixed    hv-stimer: " in out and "by rename <stimmer> to <stimer>" in out
    assert path.read_text() == TIMED.replace("stimmer", "stimer")
    assert (tmp_path / "vm.xml.bak").read_text() == TIMED


def test_the_renamed_child_gets_what_it_needs() -> None:
    """After the rename the usual fixes go on: <stimer> needs the
    hypervclock timer, and <synic> <vpindex>, which a rename gives."""
    xml = domain(hyperv("relaxed", "<vpindx state='on'/>", "synic", "<stimmer state='on'/>"))
    outcome = fix_text(xml, source="d.xml")
    reading = read_text(outcome.fixed, source="d.xml")
    assert {name: reading.config.get(name) for name in ("hv-vpindex", "hv-stimer", "hv-time")} == dict.fromkeys(
        ("hv-vpindex", "hv-stimer", "hv-time"), True
    )
    assert outcome.fixed.count("<vpindex") == 1 and "<stimer state='on'/>" in outcome.fixed
    assert not [f for f in outcome.remaining if f.severity is Severity.ERROR]


@pytest.mark.parametrize(
    ("child", "said"),
    [
        ("<apic state='on'/>", "(did you mean <vapic> or <avic>?)"),  # as close
        ("<frobnicate state='on'/>", "feature: frobnicate\n"),  # nothing close
        ("<time state='on'/>", "feature: time\n"),  # a <timer>, not a <hyperv> child
        ("<stimmer state='maybe'/>", "(did you mean <stimer>?)"),  # <stimer> would be refused too
        ("<stimmer/>", "(did you mean <stimer>?)"),
        ("<spinlock state='on' retries='many'/>", "(did you mean <spinlocks>?)"),
        ("<vendorid state='on'/>", "(did you mean <vendor_id>?)"),  # <vendor_id> needs a value
        ("<stimr state='on'><bogus state='on'/></stimr>", "(did you mean <stimer>?)"),  # a child <stimer> refuses
        ("<hv:stimmer xmlns:hv='urn:x' state='on'/>", ""),  # not libvirt's to read
    ],
)
def test_what_is_not_surely_meant_needs_a_decision(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, child: str, said: str
) -> None:
    path = tmp_path / "vm.xml"
    path.write_text(domain(hyperv("relaxed", child)))
    before = path.read_bytes()
    code, out, _ = run(capsys, "check", str(path), "--host", "intel-nested")
    assert code == 1 and said in out.replace("\n           ", " ") + "\n"
    assert "fix:" not in out
    code, out, _ = run(capsys, "fix", str(path), "--host", "intel-nested")
    assert code == 1
    assert out.splitlines()[0] == f"{path}: fixed 0 findings; 1 error left that needs a decision"
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["vm.xml"]


def test_a_name_the_release_does_not_know_is_not_offered() -> None:
    xml = domain(hyperv("relaxed", "<emsr_bitmp state='on'/>"))
    reading = read_text(xml, source="d.xml")
    (old,) = [f for f in check_reading(reading, libvirt_version="9.0.0").findings if f.code.endswith("element")]
    assert old.fix is None and old.message.endswith("(did you mean <emsr_bitmap>? <emsr_bitmap> needs libvirt 10.7.0)")
    (new,) = [f for f in check_reading(reading, libvirt_version="12.8.0").findings if f.code.endswith("element")]
    assert new.fix is not None and new.fix.renames == (("emsr_bitmp", "emsr_bitmap"),)


@pytest.mark.libvirt
def test_switching_a_timer_on_drops_the_child_libvirt_passed_over(define: Virsh) -> None:
    """libvirt reads the children of a <stimer> only when it is on: an
    unknown one under an off <stimer> meant nothing, and switched on it
    would be refused, so the fix that switches it on drops it."""
    xml = domain(
        hyperv("vpindex", "synic", "<stimer state='off'><bogus state='on'/></stimer>"), HYPERVCLOCK, name=PREFIX
    )
    assert _define(define, xml) == ""
    assert "unsupported Hyper-V stimer feature: bogus" in _define(define, xml.replace("'off'", "'on'"))
    outcome = fix_text(xml, source="d.xml", warnings_too=True, libvirt_version=define.version)
    assert "bogus" not in outcome.fixed and "<stimer state='on'>" in outcome.fixed
    assert _define(define, outcome.fixed) == ""


@pytest.mark.libvirt
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(xml=misspelt_domains())
def test_real_libvirt_reads_the_fixed_misspellings_as_hvtune_does(virsh: Virsh, xml: str) -> None:
    assert_libvirt_agrees(virsh, xml)
    outcome = fix_text(xml, source="d.xml", warnings_too=True, libvirt_version=virsh.version)
    assert_libvirt_agrees(virsh, outcome.fixed)
    for finding in outcome.applied:
        for rename in finding.fix.renames if finding.fix else ():
            assert f"<{rename.written}" not in outcome.fixed
