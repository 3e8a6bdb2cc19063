"""hvtune fix corrects a misspelt property QEMU refuses when one name is
surely meant, rewriting only that token; when several names are as close,
or none, it leaves the refusal for a decision (exit 1) and writes nothing.
The corrected -cpu values are held to the real QEMU."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvtune.bundled import bundled_examples
from hvtune.fixing import fix_text

from support.cli import run
from support.qemu import VPINDEX_REFUSED, QemuProbe

TYPO = next(e for e in bundled_examples() if e.name == "win11-broken-typo.sh")


def test_the_bundled_typo_is_corrected_in_place(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / TYPO.name
    original = TYPO.read_text()
    path.write_text(original)
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 0, out
    assert out.splitlines()[0] == f"{path}: fixed 1 finding"
    assert "did you mean hv-stimer?" in out and "by set hv-stimer=on" in out
    assert (tmp_path / f"{TYPO.name}.bak").read_text() == original
    assert path.read_text() == original.replace(",hv-stimmer,", ",hv-stimer,", 1)
    code, out, _ = run(capsys, "check", str(path), "--host", "intel-nested")
    assert code == 0, out


@pytest.mark.parametrize(
    ("cpu", "corrected"),
    [
        ("max,hv-time,hv-vpindex,hv-synic,hv-stimmer", "max,hv-time,hv-vpindex,hv-synic,hv-stimer"),
        ("max,hv_relaxed,hv_vapci=on", "max,hv_relaxed,hv_vapic=on"),  # underscores kept, letters swapped
        ("max,,HV-RELAXED=off,,", "max,,hv-relaxed=off,,"),  # case; empty pieces stay
        ("max,+hv_relaxed,-hv_vapic", "max,+hv-relaxed,-hv-vapic"),  # the +/- form needs dashes
        ("max,hv-spinlock=0x1fff", "max,hv-spinlocks=0x1fff"),
        ("max,hv-tlbflush-ex=off", "max,hv-tlbflush-ext=off"),
    ],
)
def test_one_meant_name_is_corrected(qemu: QemuProbe, cpu: str, corrected: str) -> None:
    outcome = fix_text(cpu, source="--cpu")
    assert outcome.fixed.startswith(corrected)
    assert outcome.applied[0].code == "qemu-unknown-name"
    assert not any(f.severity == "error" for f in outcome.remaining)
    refused = qemu.run(cpu, [])
    assert not refused.accepted and "not found" in refused.error  # QEMU refuses the original
    taken = qemu.run(outcome.fixed, [])
    assert taken.accepted or taken.error == VPINDEX_REFUSED, taken.error


@pytest.mark.parametrize(
    ("cpu", "said"),
    [
        ("max,hv-apic", "did you mean hv-vapic, hv-apicv, hv-avic or hv-ipi?"),  # as close
        ("max,hv-tlbflush-dir", "did you mean hv-tlbflush-direct, hv-tlbflush-ext or hv-tlbflush?"),
        ("max,hv-nothing-like-it", "no Hyper-V property has this name"),
        ("max,hv-spinlock=many", "did you mean hv-spinlocks?"),  # the corrected token is refused too
    ],
)
def test_what_is_not_surely_meant_needs_a_decision(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cpu: str, said: str
) -> None:
    path = tmp_path / "vm.sh"
    path.write_text(f"qemu-system-x86_64 -cpu {cpu} -m 1G\n")
    before = path.read_bytes()
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 1
    assert out.splitlines()[0] == f"{path}: fixed 0 findings; 1 error left that needs a decision"
    assert said in out.replace("\n           ", " ")
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["vm.sh"]


def test_a_quoted_cpu_value_stays_quoted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vm.sh"
    path.write_text("#!/bin/sh\nexec qemu-system-x86_64 \\\n  -cpu 'max,hv-relaxd' \\\n  -m 1G\n")
    code, out, _ = run(capsys, "fix", str(path))
    assert code == 0, out
    assert path.read_text() == "#!/bin/sh\nexec qemu-system-x86_64 \\\n  -cpu 'max,hv-relaxed' \\\n  -m 1G\n"


def test_several_misspellings_are_corrected_one_by_one() -> None:
    outcome = fix_text("host,hv-relaxd,hv-vapci,hv-spinlocks=0x1fff", source="--cpu")
    assert outcome.fixed == "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff"
    assert [f.fix.values for f in outcome.applied if f.fix] == [{"hv-relaxed": True}, {"hv-vapic": True}]
