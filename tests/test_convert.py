"""convert keeps what a translation must not lose: the clock's base and the
CPU model (libvirt reads them back as QEMU's -rtc and -cpu model), --into
changes nothing it does not own, and --format json is a published document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.bundled import bundled_examples

from support.cli import run
from support.libvirt import Virsh
from support.schemas import assert_valid

COMMAND = "qemu-system-x86_64 -machine q35 -rtc base=localtime,driftfix=slew -cpu {cpu}\n"


def _converted(capsys: pytest.CaptureFixture[str], tmp_path: Path, cpu: str, *more: str) -> str:
    script = tmp_path / "vm.sh"
    script.write_text(COMMAND.format(cpu=cpu))
    code, out, err = run(capsys, "convert", str(script), "--to", "libvirt", *more)
    assert (code, err) == (0, "")
    return out


def test_qemu_to_libvirt_keeps_the_clock_base_and_the_cpu_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = _converted(capsys, tmp_path, "Skylake-Server,hv-relaxed,hv-time")
    assert (
        "<cpu mode='custom' match='exact' check='none'>\n  <model fallback='forbid'>Skylake-Server</model>\n</cpu>\n"
        in out
    )
    assert "<clock offset='localtime'>\n  <timer name='hypervclock' present='yes'/>\n</clock>\n" in out
    out = _converted(capsys, tmp_path, "host,hv-relaxed")
    assert "<cpu mode='host-passthrough'/>\n<clock offset='localtime'/>\n" in out
    code, out, _ = run(capsys, "convert", "--cpu", "max,hv-relaxed", "--to", "libvirt")  # no -rtc: libvirt's default
    assert code == 0 and "<cpu mode='maximum'/>\n" in out and "<clock" not in out


@pytest.mark.parametrize("offset", ["localtime", "utc"])
def test_libvirt_to_libvirt_keeps_the_offset(capsys: pytest.CaptureFixture[str], offset: str) -> None:
    source = next(e for e in bundled_examples() if e.name == "win11-virt-install.xml")
    text = source.read_text().replace('offset="localtime"', f'offset="{offset}"')
    assert f'offset="{offset}"' in text
    path = Path(pytest.importorskip("tempfile").mkdtemp()) / "d.xml"
    path.write_text(text)
    _, out, _ = run(capsys, "convert", str(path), "--to", "libvirt")
    assert f"<clock offset='{offset}'>" in out


def test_into_changes_only_what_it_owns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = next(e for e in bundled_examples() if e.name == "win2022-good.xml").read_text()
    domain = tmp_path / "d.xml"
    assert "<clock offset='utc'>" in source and "<cpu mode='custom' match='exact' check='partial'>" in source
    domain.write_text(source)
    before = domain.read_text()
    script = tmp_path / "vm.sh"
    script.write_text(COMMAND.format(cpu="Skylake-Server,hv-relaxed,hv-vapic"))
    code, out, err = run(capsys, "convert", str(script), "--into", str(domain), "--format", "json")
    assert code == 0 and err.startswith("wrote ")
    document = json.loads(out)
    assert_valid(out)
    assert document["into"] == {"path": str(domain), "written": str(domain), "backup": f"{domain}.bak"}
    after = domain.read_text()
    # the <hyperv> children, the hypervclock timer and the panic device are owned; so is the offset the
    # source gives; the <cpu> (a custom model here) and every other line are the domain's own
    owned = ("<hyperv", "</hyperv", "state=", "hypervclock", "panic", "<clock", "</stimer")
    kept_before = [line for line in before.splitlines() if not any(mark in line for mark in owned)]
    kept_after = [line for line in after.splitlines() if not any(mark in line for mark in owned)]
    assert kept_after == kept_before
    assert "<clock offset='localtime'>" in after and "<cpu mode='custom' match='exact' check='partial'>" in after
    code, out, _ = run(capsys, "convert", "--cpu", "host,hv-relaxed", "--into", str(domain))
    assert "<clock offset='localtime'>" in domain.read_text()  # a bare -cpu value says no offset: kept


def test_convert_format_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "convert", "--cpu", "host,hv-relaxed", "--to", "qemu", "--format", "json")
    assert code == 0
    assert_valid(out)
    document = json.loads(out)
    assert set(document) == {"schema", "source", "format", "config", "rendered", "into"}
    assert document["schema"] == "hvtune/convert/1" and document["into"] is None
    assert document["rendered"] == {"format": "qemu", "text": "host,hv-relaxed=on\n"}
    assert document["config"] == {"model": "host", "hv-relaxed": True}


@pytest.mark.libvirt
def test_libvirt_reads_the_clock_base_and_model_back(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, virsh: Virsh
) -> None:
    fragments = _converted(capsys, tmp_path, "Skylake-Server,hv-relaxed,hv-time")
    xml = (
        "<domain type='kvm'><name>t</name><memory>1048576</memory>"
        f"<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>{fragments}</domain>"
    )
    (tmp_path / "d.xml").write_text(xml)
    native = virsh.run("domxml-to-native", "qemu-argv", str(tmp_path / "d.xml")).stdout
    assert "-rtc base=localtime" in native
    assert "-cpu Skylake-Server," in native and "hv-relaxed=on" in native
