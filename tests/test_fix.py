"""hvtune fix: completes what a configuration asks for, changes nothing else
in the file, writes atomically with a backup, and a second run is a no-op.
virt-xml-validate judges the XML it writes."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hvtune.bundled import bundled_examples
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.fixing import fix_text
from hvtune.formats.libvirt_patch import into_domain

from strategies import configs, duplicated_domains
from support.cli import assert_one_line_error, run
from support.domains import domain
from support.programs import require_program

UMASK = os.umask(0o022)
os.umask(UMASK)

DATA = Path(__file__).parent / "data"
HAND_EDITED = DATA / "win10-hand-edited.xml"
QEMU_BROKEN = next(e for e in bundled_examples() if e.name == "win10-broken-missing-dependency.sh")
LIBVIRT_EXAMPLES = [e for e in bundled_examples() if e.name.endswith(".xml")]


def removed_and_added(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines a line diff removes and adds."""
    import difflib

    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def validate(path: Path) -> None:
    done = subprocess.run(
        [require_program("virt-xml-validate"), str(path), "domain"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def hand_edited(tmp_path: Path) -> Path:
    """A domain someone edited by hand: comments, mixed quotes, odd spacing,
    tabs, foreign namespaces, qemu:commandline, no <clock>; its <hyperv> asks
    for synthetic timers without what they need and has a vendor id libvirt refuses."""
    path = tmp_path / "win10.xml"
    shutil.copyfile(HAND_EDITED, path)
    path.chmod(0o640)
    return path


def test_a_hand_edited_domain_changes_only_where_it_must(capsys: pytest.CaptureFixture[str], hand_edited: Path) -> None:
    original = hand_edited.read_bytes()
    code, out, _ = run(capsys, "fix", str(hand_edited), "--libvirt-version", "12.5.0")
    assert code == 0
    assert f"wrote {hand_edited} (original kept as {hand_edited}.bak)" in out
    assert out.splitlines()[0] == f"{hand_edited}: fixed 3 findings"
    fixed = hand_edited.read_text()
    assert removed_and_added(original.decode(), fixed) == (
        ["      <vendor_id state='on' value='KVMKVMKVMKVMKVM'/>"],
        [
            "      <synic state='on'/>",
            "      <vendor_id state='on' value='KVMKVMKVMKVM'/>",
            "  <clock offset='utc'>",
            "    <timer name='hypervclock' present='yes'/>",
            "  </clock>",
        ],
    )
    # the new <synic> sits in libvirt's order, before <stimer>; the new <clock> after <cpu>
    assert fixed.index("<synic") < fixed.index("<stimer") and fixed.index("<cpu ") < fixed.index("<clock")
    assert (hand_edited.parent / "win10.xml.bak").read_bytes() == original
    assert hand_edited.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in hand_edited.parent.iterdir()) == ["win10.xml", "win10.xml.bak"]  # no temporary left
    validate(hand_edited)


def test_a_second_run_changes_nothing(capsys: pytest.CaptureFixture[str], hand_edited: Path) -> None:
    run(capsys, "fix", str(hand_edited), "--all")
    once = hand_edited.read_bytes()
    backup = (hand_edited.parent / "win10.xml.bak").read_bytes()
    code, out, _ = run(capsys, "fix", str(hand_edited), "--all")
    assert code == 0 and out.endswith("nothing to change; wrote nothing\n")
    assert hand_edited.read_bytes() == once
    assert (hand_edited.parent / "win10.xml.bak").read_bytes() == backup  # the backup still holds the original


def test_diff_writes_nothing(capsys: pytest.CaptureFixture[str], hand_edited: Path) -> None:
    before = hand_edited.read_bytes(), hand_edited.stat().st_mtime_ns
    code, out, _ = run(capsys, "fix", str(hand_edited), "--diff")
    assert code == 0
    label = str(hand_edited).lstrip("/")
    assert out.startswith(f"--- a/{label}\n+++ b/{label}\n@@ ")
    assert "+      <synic state='on'/>\n" in out
    assert (hand_edited.read_bytes(), hand_edited.stat().st_mtime_ns) == before
    assert sorted(p.name for p in hand_edited.parent.iterdir()) == ["win10.xml"]


def test_output_leaves_the_original_alone(capsys: pytest.CaptureFixture[str], hand_edited: Path) -> None:
    before = hand_edited.read_bytes()
    target = hand_edited.parent / "fixed.xml"
    code, out, _ = run(
        capsys, "fix", str(hand_edited), "--output", str(target), "--format", "json", "--libvirt-version", "12.5.0"
    )
    document = json.loads(out)
    assert code == 0 and document["written"] == str(target) and document["backup"] is None
    assert [f["code"] for f in document["applied"]] == [
        "vendor-id-too-long",
        "libvirt-dependency",
        "libvirt-dependency",
    ]
    assert document["remaining"] == [] and document["changed"] is True
    assert hand_edited.read_bytes() == before
    assert not (hand_edited.parent / "win10.xml.bak").exists()
    assert target.stat().st_mode & 0o777 == 0o666 & ~UMASK  # a new file, as any program would make it
    validate(target)


@pytest.mark.parametrize("example", LIBVIRT_EXAMPLES, ids=[e.name for e in LIBVIRT_EXAMPLES])
def test_every_fixed_example_is_valid_and_clean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, example: Path
) -> None:
    path = tmp_path / example.name
    path.write_text(example.read_text("utf-8"))
    code, _, _ = run(capsys, "fix", str(path), "--all")
    assert code == 0
    validate(path)
    code, out, _ = run(capsys, "check", str(path), "--format", "json")
    severities = {f["severity"] for f in json.loads(out)["findings"] if f["fix"]}
    assert "error" not in severities and code == 0


def test_a_qemu_command_line_keeps_everything_but_the_new_token(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "win10.sh"
    original = QEMU_BROKEN.read_text("utf-8")
    path.write_text(original)
    path.chmod(0o755)
    code, _, _ = run(capsys, "fix", str(path))
    assert code == 0
    removed, added = removed_and_added(original, path.read_text())
    assert len(removed) == len(added) == 1
    # the rest of -cpu, its spelling (underscores) included, stays as written
    assert added[0] == removed[0].replace("hv_stimer \\", "hv_stimer,hv_time \\")
    assert os.access(path, os.X_OK)


def test_json_is_completed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vm.json"
    path.write_text('{"model": "host", "hv-synic": true, "hv-stimer": true}\n')
    code, _, _ = run(capsys, "fix", str(path))
    assert code == 0
    assert json.loads(path.read_text()) == {
        "schema": "hvtune/config/1",
        "model": "host",
        "hv-time": True,
        "hv-vpindex": True,
        "hv-synic": True,
        "hv-stimer": True,
    }


def test_what_needs_a_decision_is_left_and_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "arm.xml"
    path.write_text(
        "<domain type='kvm'><name>arm</name><memory>1048576</memory>"
        "<os><type arch='aarch64' machine='virt'>hvm</type></os>"
        "<features><hyperv><relaxed state='on'/></hyperv></features></domain>\n"
    )
    before = path.read_bytes()
    code, out, _ = run(capsys, "fix", str(path), "--libvirt-version", "9.0.0")
    assert code == 1
    assert "1 error left that needs a decision" in out.splitlines()[0]
    assert "  left     libvirt 9.0.0 refuses the domain: unsupported configuration: Hyperv features" in out
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("<domain type='kvm'><name>t</name>", "not well-formed XML"),
        ("<domain type='kvm'><features><hyperv><relaxed state='maybe'/></hyperv></features></domain>", "Invalid value"),
        ("-cpu host,hv-spinlocks=many\n", "expects uint64"),
    ],
)
def test_unusable_input_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "vm.conf"
    path.write_text(content)
    code, out, err = run(capsys, "fix", str(path))
    assert code == 2 and out == ""
    assert_one_line_error(err, str(path), problem)
    assert path.read_text() == content and sorted(p.name for p in tmp_path.iterdir()) == ["vm.conf"]


def test_a_failed_write_is_one_line_and_leaves_nothing(capsys: pytest.CaptureFixture[str], hand_edited: Path) -> None:
    before = hand_edited.read_bytes()
    target = hand_edited.parent / "missing" / "fixed.xml"
    code, out, err = run(capsys, "fix", str(hand_edited), "--output", str(target))
    assert code == 2 and out == ""
    assert_one_line_error(err, str(target), "cannot write")
    assert hand_edited.read_bytes() == before
    assert sorted(p.name for p in hand_edited.parent.iterdir()) == ["win10.xml"]


def test_convert_into_a_domain(capsys: pytest.CaptureFixture[str], hand_edited: Path) -> None:
    original = hand_edited.read_text()
    cpu = "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-synic,hv-time,hv-stimer,hv-crash,hv-vendor-id=KVMKVMKVM"
    code, _, _ = run(capsys, "convert", "--cpu", cpu, "--to", "libvirt", "--into", str(hand_edited))
    assert code == 0
    validate(hand_edited)
    code, out, _ = run(capsys, "convert", str(hand_edited), "--to", "qemu", "--libvirt-version", "12.5.0")
    assert out == (
        "host,migratable=on,hv-time=on,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff,hv-vpindex=on,"
        "hv-synic=on,hv-stimer=on,hv-vendor-id=KVMKVMKVM,hv-crash\n"
    )
    text = hand_edited.read_text()
    assert "<panic model='hyperv'/>" in text
    for kept in (
        "<!-- timers! -->",
        "<!-- a tab-indented comment -->",
        "keep  this   spacing",
        "<qemu:arg value='-global'/>",
    ):
        assert kept in text and kept in original
    assert (hand_edited.parent / "win10.xml.bak").read_text() == original


@pytest.mark.parametrize(
    ("source", "target", "limit"),
    [
        ("domain", ("--to", "qemu"), "HyperV spinlock retry count must be at least 4095"),
        ("host,hv-spinlocks=0x100", ("--to", "libvirt"), "HyperV spinlock retry count must be at least 4095"),
        ("host,hv-vendor-id=0123456789abc", ("--into", "win10.xml"), "must not be more than 12 characters"),
    ],
)
def test_convert_refuses_values_libvirt_refuses(
    capsys: pytest.CaptureFixture[str], hand_edited: Path, source: str, target: tuple[str, ...], limit: str
) -> None:
    before = hand_edited.read_bytes()
    if source == "domain":
        hand_edited.write_text(before.decode().replace('retries="8191"', 'retries="256"'))
        reading = (str(hand_edited),)
    else:
        reading = ("--cpu", source)
    option, value = target
    argv = (option, str(hand_edited.parent / value) if option == "--into" else value)
    code, out, err = run(capsys, "convert", *reading, *argv, "--libvirt-version", "9.0.0")
    assert code == 2 and out == ""
    assert_one_line_error(err, "libvirt 9.0.0 refuses the domain", limit)
    assert sorted(p.name for p in hand_edited.parent.iterdir()) == ["win10.xml"]


# --- line endings ------------------------------------------------------------


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def _pretty(xml: str) -> str:
    """The domain indented on lines of its own, as libvirt writes it."""
    root = etree.fromstring(xml.encode())
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"


def _fixed(text: str, *, into: HypervConfig | None = None) -> str:
    try:
        if into is not None:
            return into_domain(text, into, source="d.xml")
        return fix_text(text, source="d.xml", warnings_too=True).fixed
    except InputError as error:
        return f"error: {error}"


@settings(max_examples=150, deadline=None)
@given(xml=duplicated_domains(), config=st.none() | configs())
def test_a_crlf_domain_gets_crlf_lines_and_the_same_changes(xml: str, config: HypervConfig | None) -> None:
    """Fixing (or converting into) a CRLF domain changes what fixing the
    same domain with LF changes, every line it adds ending in CRLF."""
    text = _pretty(xml)
    crlf = _fixed(_crlf(text), into=config)
    assert "\n" not in crlf.replace("\r\n", "")
    assert crlf == _crlf(_fixed(text, into=config))


@pytest.mark.parametrize(
    "text",
    [
        "qemu-system-x86_64 \\\n  -machine q35 \\\n  -cpu host,hv_relaxed,hv_stimer \\\n  -m 4G\n",
        "qemu-system-x86_64 -machine q35 -cpu 'host,hv-stimer'\n",
        '{\n  "model": "host",\n  "hv-synic": true,\n  "hv-stimer": true\n}\n',
    ],
    ids=["qemu", "qemu quoted", "json"],
)
def test_crlf_command_lines_and_json_stay_crlf(text: str) -> None:
    fixed = fix_text(_crlf(text), source="vm").fixed
    assert fixed != _crlf(text)
    assert fixed == _crlf(fix_text(text, source="vm").fixed)


def test_fix_takes_a_cpu_value_and_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "fix", "--cpu", "host,hv-vpindex,hv-synic,hv-stimer")
    assert (code, out) == (0, "host,hv-vpindex,hv-synic,hv-stimer,hv-time\n")
    assert err.startswith("--cpu: fixed 1 finding")
    domain = (
        Path(__file__).parent.parent / "src/hvtune/examples/libvirt/win2022-broken-stimer-without-timer.xml"
    ).read_text()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(domain.encode())))
    code, out, err = run(capsys, "fix", "-", "--libvirt-version", "11.9.0")
    assert code == 0 and out == domain.replace(
        "<timer name='hpet' present='no'/>\n",
        "<timer name='hpet' present='no'/>\n    <timer name='hypervclock' present='yes'/>\n",
    )
    code, _, err = run(capsys, "fix")
    assert code == 2 and "give TARGET" in err


def test_a_cpu_value_holding_a_quote_is_fixed_as_the_value_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A vendor id may hold a double quote, and a -cpu value on its own is
    read by no shell: check and fix take it as QEMU would (hypothesis found
    fix refusing what check accepts); a command line with an open quote is
    still one line of error."""
    value = 'qemu64,hv-vendor-id=abc"d,hv-synic'  # SynIC needs hv-vpindex
    code, out, _ = run(capsys, "fix", "--cpu", value)
    assert code == 0 and out == value + ",hv-vpindex=on\n"
    script = tmp_path / "vm.sh"
    script.write_text('qemu-system-x86_64 -cpu "host,hv-relaxed\n')
    code, _, err = run(capsys, "check", str(script))
    assert code == 2
    assert_one_line_error(err, "a double quote is never closed")


@pytest.mark.parametrize("where", ["description", "clock"])
def test_a_long_text_is_passed_over_as_a_short_one_is(where: str) -> None:
    """Text too long for a small element is followed by a search for its
    end, a short one by the pattern of small elements: a fix reads and
    writes both alike, in an element it passes over (<description>) and in
    one it writes into (<clock>, which gets hypervclock)."""
    features = "<hyperv><relaxed state='on'/><stimer state='on'/></hyperv>"
    outputs = []
    for length in (10, 300_000):
        text = ("a long text, " * length).strip()
        if where == "clock":
            xml = domain(features, clock=text)
        else:
            xml = domain(features).replace("<memory>", f"<{where}>{text}</{where}>\n<memory>")
        fixed = fix_text(xml, source="d.xml").fixed
        assert "<timer name='hypervclock' present='yes'/>" in fixed
        outputs.append(fixed.replace(text, "TEXT"))
    assert outputs[0] == outputs[1]
