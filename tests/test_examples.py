"""The bundled examples say what their names promise, and the real QEMU
reads their -cpu values as hvtune does."""

from __future__ import annotations

import pytest

from hvtune.bundled import bundled_examples
from hvtune.doctor import check_vm
from hvtune.findings import Severity
from hvtune.formats.shell import split_words
from hvtune.host.profile_json import load_profile
from hvtune.verdict import Verdict, verdict_of

from support.agreement import assert_agrees

EXAMPLES = bundled_examples()
INTEL = load_profile("intel-nested")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_examples_earn_their_names(example) -> None:  # type: ignore[no-untyped-def]
    """On a host that emulates every feature: the good ones are OK (their
    plans have nothing they lack), the broken ones will not start, and the
    others (risky, or as a management stack writes them) are slow or at risk."""
    result = check_vm(example.read_text("utf-8"), example.name, host=INTEL)
    verdict = verdict_of(result.findings, refused=bool(result.problem))
    codes = [f.code for f in result.findings]
    if "-good" in example.name:
        assert verdict is Verdict.OK and result.worst in (None, Severity.INFO), codes
    elif "-broken" in example.name:
        assert verdict is Verdict.WILL_NOT_START
    elif "-risky" in example.name:
        assert verdict is Verdict.AT_RISK, codes
    else:
        assert verdict is Verdict.SLOW, codes


def test_there_are_examples_of_every_kind_for_each_windows() -> None:
    names = [e.name for e in EXAMPLES]
    for windows in ("win10", "win11", "win2022"):
        assert any(n.startswith(f"{windows}-good") for n in names)
    for suffix in (".sh", ".xml"):
        assert sum("-broken" in n and n.endswith(suffix) for n in names) >= 2
        assert sum("-risky" in n and n.endswith(suffix) for n in names) >= 1


QEMU_EXAMPLES = [e for e in EXAMPLES if e.name.endswith(".sh")]


@pytest.mark.qemu
@pytest.mark.parametrize("example", QEMU_EXAMPLES, ids=[e.name for e in QEMU_EXAMPLES])
def test_qemu_reads_the_example_cpu_values_alike(qemu, example) -> None:  # type: ignore[no-untyped-def]
    text = example.read_text("utf-8")
    words = [word.text for word in split_words(text)]
    cpu = words[words.index("-cpu") + 1]
    # host needs KVM; max has the same properties and runs under TCG
    assert_agrees(qemu, "max," + cpu.partition(",")[2])
