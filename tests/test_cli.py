"""The command line as a user meets it: output, JSON keys, exit codes, and
one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hvtune.bundled import bundled_examples
from hvtune.catalog import load_catalog

from support.cli import assert_one_line_error, run

HVTUNE = str(Path(sys.executable).with_name("hvtune"))
GOOD = (
    "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-time,"
    "hv-frequencies,hv-tlbflush,hv-ipi"
)


def test_version_and_module_entry_point() -> None:
    for command in ([HVTUNE, "--version"], [sys.executable, "-m", "hvtune", "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        assert done.stdout.startswith("hvtune, version ")


def test_list_shows_every_property(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    for prop in load_catalog().properties:
        if prop.kind != "compat":
            assert f"\n{prop.name} " in out
    code, out, _ = run(capsys, "list", "--format", "json", "--all")
    entries = json.loads(out)["entries"]
    names = {entry["name"] for entry in entries}
    assert {"hv-stimer", "x-hv-synic-kvm-only", "kvm", "tsc-frequency"} <= names
    stimer = next(entry for entry in entries if entry["name"] == "hv-stimer")
    assert stimer["requires"] == ["hv-time", "hv-synic"]
    assert stimer["cpuid"] == [{"leaf": 0x40000003, "reg": "eax", "bit": 3, "name": "HV_SYNTIMERS_AVAILABLE"}]


@pytest.mark.parametrize("spelling", ["hv_stimer", "stimer", "synictimer", "hv-stimer", "HV_STIMER"])
def test_explain_accepts_any_spelling(capsys: pytest.CaptureFixture[str], spelling: str) -> None:
    code, out, _ = run(capsys, "explain", spelling)
    assert code == 0
    assert out.startswith("hv-stimer - Synthetic timers")
    assert "<stimer state='on'/>" in out and "synictimer" in out and "requires:" in out


def test_explain_json_and_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "hypervclock", "--format", "json")
    assert code == 0 and json.loads(out)["name"] == "hv-time"
    code, _, err = run(capsys, "explain", "hv-stimmer")
    assert code == 2
    assert_one_line_error(err, "did you mean hv-stimer")


def test_check_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "--cpu", GOOD)[0] == 0
    assert run(capsys, "check", "--cpu", GOOD + ",hv-reset")[0] == 0  # warnings only
    code, out, _ = run(capsys, "check", "--cpu", "host,hv-stimer")
    assert code == 1
    assert "Hyper-V synthetic timers (hv-stimer) requires Hyper-V clocksources (hv-time)" in out
    assert "fix: set hv-time=on" in out
    code, out, err = run(capsys, "check", "--cpu", "host,hv-spinlocks=8k")
    assert code == 2 and out == ""
    assert_one_line_error(err, "--cpu", "'hv-spinlocks=8k'", "hv-spinlocks")


def test_check_json_has_stable_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--cpu", "host,hv-stimer,hv-time", "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert set(document) == {"schema", "findings", "sources", "unusable", "summary"}
    (finding,) = document["findings"]
    assert set(finding) == {"source", "code", "severity", "feature", "message", "fix", "refused_by", "impact", "host"}
    assert finding["refused_by"] == "qemu"
    assert finding["code"] == "missing-dependency" and finding["severity"] == "error"
    assert finding["fix"] == {"hv-vpindex": True, "hv-synic": True}
    assert document["sources"][0]["config"] == {"model": "host", "hv-time": True, "hv-stimer": True}
    assert document["summary"] == {"error": 1, "warning": 0, "info": 0}


def test_check_files_keeps_going_past_an_unusable_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "good.sh"
    good.write_text(f"qemu-system-x86_64 -m 4G \\\n  -cpu {GOOD}\n")
    typo = tmp_path / "typo.sh"
    typo.write_text("qemu-system-x86_64 \\\n  -machine q35 \\\n  -cpu host,hv-relaxed,hv-stimmer\n")
    code, out, err = run(capsys, "check", str(good), str(typo))
    assert code == 2
    assert f"{good}: no findings" in out
    assert_one_line_error(err, f"{typo}: line 3, -cpu token 3 'hv-stimmer'", "did you mean hv-stimer")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe\x00binary", "UTF-16 text; hvtune reads UTF-8 only"),
        (b"host,hv-relaxed\xff", "byte 15: not UTF-8 text"),
        (b"", "empty input"),
        (b'{"hv-relaxed": 1}', "key 'hv-relaxed'"),
        (b'{"hv-relaxd": true}', "did you mean hv-relaxed"),
        (b"{not json", "invalid JSON"),
        (b"qemu-system-x86_64 -m 4G -cpu", "-cpu needs a value"),
        (b"qemu-system-x86_64 -cpu 'host,hv-relaxed", "cannot split the command line"),
        (b"one line\nand another\n", "expected a QEMU command line"),
    ],
)
def test_bad_files_get_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "vm.conf"
    path.write_bytes(content)
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    assert_one_line_error(err, str(path), problem)


def test_missing_files_and_directories(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "absent.sh"))
    assert code == 2
    assert_one_line_error(err, "absent.sh", "No such file")
    code, _, err = run(capsys, "doctor", str(tmp_path))
    assert code == 2
    assert_one_line_error(err, "is a directory")


def test_huge_input_is_refused_quickly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "huge.sh"
    with open(path, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    assert_one_line_error(err, "larger than 16 MiB")


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--cpu", GOOD, "--os", "beos")
    assert code == 2
    assert_one_line_error(err, "--os 'beos'", "win11")
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert_one_line_error(err, "No such command")
    code, _, err = run(capsys, "convert", "--cpu", GOOD)
    assert code == 2
    assert_one_line_error(err, "--to")


def test_convert_between_qemu_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "convert", "--cpu", "host,hv_relaxed,hv_spinlocks=8191,kvm=off", "--to", "json")
    assert code == 0
    assert json.loads(out) == {
        "schema": "hvtune/config/1",
        "model": "host",
        "kvm": False,
        "hv-relaxed": True,
        "hv-spinlocks": 8191,
    }
    saved = tmp_path / "vm.json"
    saved.write_text(out)
    code, out, _ = run(capsys, "convert", str(saved), "--to", "qemu")
    assert code == 0 and out == "host,kvm=off,hv-relaxed=on,hv-spinlocks=0x1fff\n"


def test_a_json_configuration_with_the_schema_key_of_another_kind_or_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "vm.json"
    path.write_text('{"schema": "hvtune/config/1", "model": "host", "hv-relaxed": true}')
    assert run(capsys, "convert", str(path), "--to", "qemu")[1] == "host,hv-relaxed=on\n"
    for other in ("hvtune/config/2", "hvtune/check/1", 1):
        path.write_text(json.dumps({"schema": other, "model": "host"}))
        code, _, err = run(capsys, "convert", str(path), "--to", "qemu")
        assert code == 2
        assert_one_line_error(err, f"{path}: schema: this hvtune reads hvtune/config/1, not {json.dumps(other)}")


def test_convert_reads_standard_input() -> None:
    done = subprocess.run(
        [HVTUNE, "convert", "--to", "qemu"],
        input="host,hv_relaxed,+hv-vapic\n",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout == "host,hv-relaxed=on,hv-vapic=on\n"


def test_doctor_shows_the_bundled_examples_most_urgent_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--host", "intel-nested")
    assert code == 0  # the examples are not the user's VMs
    assert "bundled examples" in out
    assert "Judged on host intel-nested (bundled profile): KVM present; Hyper-V emulation supports 21 of 21" in out
    headers = [line for line in out.splitlines() if line.endswith(")") and "  " in line and not line.startswith(" ")]
    verdicts = [line.split("  ")[1].split(":")[0] for line in headers]
    order = {"WILL NOT START": 0, "SLOW": 2, "AT RISK": 3, "OK": 4}
    assert verdicts and [order[v] for v in verdicts] == sorted(order[v] for v in verdicts)
    assert set(verdicts) == set(order)
    examples = bundled_examples()
    broken = sum("-broken" in example.name for example in examples)
    assert out.split("\n\nSummary: ")[1].startswith(f"{len(examples)} VMs: {broken} will not start, ")
    code, out, _ = run(capsys, "doctor", "--host", "intel-nested", "--format", "json")
    (document,) = json.loads(out)["hosts"]
    assert (
        set(document) == {"uri", "origin", "note", "host", "host_problems", "vms", "unusable", "summary", "verdicts"}
        and document["origin"] == "examples"
    )
    assert document["host"] == {
        "name": "intel-nested",
        "probed": None,
        "status": "KVM present; Hyper-V emulation supports 21 of 21 features",
    }
    assert document["vms"][0]["verdict"] == "will-not-start"


def test_doctor_on_named_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "linux.sh"
    path.write_text("qemu-system-x86_64 -kernel /boot/vmlinuz -cpu host,hv-relaxed,hv-time\n")
    code, out, _ = run(capsys, "doctor", str(path), "--host", "intel-nested")
    assert code == 0
    assert "named on the command line" in out and "linux-ignores-hyperv" not in out
    assert "a Linux guest ignores these Hyper-V enlightenments" in out


def test_check_and_doctor_offer_verify_for_predicted_refusals_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file hvtune predicts QEMU or libvirt refuses ends the text with the
    verify command for it (nothing boots); a clean one, JSON and a --cpu
    value get no offer."""
    refused = tmp_path / "stimer only.sh"
    refused.write_text("qemu-system-x86_64 -cpu host,hv-stimer\n")
    clean = tmp_path / "clean.sh"
    clean.write_text("qemu-system-x86_64 -cpu host,hv-relaxed\n")
    offer = "To see QEMU's and libvirt's own verdict on a real Hyper-V KVM: hvtune verify"
    for command in ("check", "doctor"):
        _, out, _ = run(capsys, command, str(refused), str(clean), "--host", "sandbox-bookworm")
        assert out.replace("\n  ", " ").rstrip().endswith(f"{offer} '{refused}'")
        _, out, _ = run(capsys, command, str(clean), "--host", "sandbox-bookworm")
        assert offer not in out
        _, out, _ = run(capsys, command, str(refused), "--format", "json")
        assert offer not in out
    _, out, _ = run(capsys, "check", "--cpu", "host,hv-stimer")
    assert offer not in out
