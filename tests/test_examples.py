"""The bundled examples say what their names promise, and the real QEMU
reads their -cpu values as hvtune does."""

from __future__ import annotations

import pytest

from hvtune.bundled import bundled_examples
from hvtune.doctor import check_vm
from hvtune.findings import Severity
from hvtune.formats.shell import split_words

from support.agreement import assert_agrees

EXAMPLES = bundled_examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_examples_earn_their_names(example) -> None:  # type: ignore[no-untyped-def]
    result = check_vm(example.read_text("utf-8"), example.name)
    if "-good" in example.name:
        assert result.worst in (None, Severity.INFO), [f.code for f in result.findings]
    elif "-broken" in example.name:
        assert result.worst is Severity.ERROR
    else:
        assert result.worst is Severity.WARNING, [f.code for f in result.findings]


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
