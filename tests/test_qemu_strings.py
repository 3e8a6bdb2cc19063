"""Tricky -cpu strings: what hvtune makes of them, and that the real QEMU
makes the same.

Each row is a -cpu value and what hvtune must read from it: the values of
some properties, or REJECT. The first test holds hvtune to the table; the
second runs every row through qemu-system-x86_64 and demands agreement on
accept/reject and on every Hyper-V property read back over QMP.
"""

from __future__ import annotations

import pytest

from hvtune.errors import InputError
from hvtune.formats.qemu import parse_cpu

from support.agreement import assert_agrees
from support.cpu_strings import REJECT, TRICKY


def _read(cpu: str) -> object:
    try:
        config = parse_cpu(cpu).config
    except InputError:
        return REJECT
    return config


@pytest.mark.parametrize(("cpu", "expected"), TRICKY, ids=[cpu for cpu, _ in TRICKY])
def test_hvtune_reads_tricky_strings(cpu: str, expected: object) -> None:
    result = _read(cpu)
    if expected == REJECT:
        assert result == REJECT, f"{cpu!r} should be refused"
        return
    assert result != REJECT, f"{cpu!r} should be accepted"
    for name, value in expected.items():  # type: ignore[attr-defined]
        assert result.get(name) == value  # type: ignore[attr-defined]


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", [cpu for cpu, _ in TRICKY])
def test_qemu_agrees_on_tricky_strings(qemu, cpu: str) -> None:  # type: ignore[no-untyped-def]
    assert_agrees(qemu, cpu)


def test_refusals_name_the_token_and_suggest_the_right_spelling() -> None:
    with pytest.raises(InputError) as caught:
        parse_cpu("host,hv-relaxed,HV-VAPIC", source="--cpu")
    assert str(caught.value) == (
        "--cpu: -cpu token 3 'HV-VAPIC': Property 'host-x86_64-cpu.HV-VAPIC' not found; "
        "names are case-sensitive: write hv-vapic"
    )
    with pytest.raises(InputError, match=r"write \+hv-relaxed"):
        parse_cpu("host,+hv_relaxed")
    with pytest.raises(InputError, match="did you mean hv-stimer"):
        parse_cpu("host,hv-stimmer")
    with pytest.raises(InputError, match=r"'hv-spinlocks=8k'.*expects uint64"):
        parse_cpu("host,hv-spinlocks=8k")


def test_ambiguous_mix_is_reported_as_qemu_warns() -> None:
    # QEMU warns only when the +/- form comes before name=value.
    assert parse_cpu("qemu64,-hv-relaxed,hv-relaxed=on").ambiguous == ("hv-relaxed",)
    assert parse_cpu("qemu64,hv-relaxed=on,-hv-relaxed").ambiguous == ()


@pytest.mark.qemu
def test_qemu_warns_about_the_same_ambiguity(qemu) -> None:  # type: ignore[no-untyped-def]
    outcome = qemu.run("qemu64,-hv-relaxed,hv-relaxed=on", ["hv-relaxed"])
    assert any("Ambiguous CPU model string" in warning for warning in outcome.warnings)
    assert not any("Ambiguous" in w for w in qemu.run("qemu64,hv-relaxed=on,-hv-relaxed", []).warnings)
