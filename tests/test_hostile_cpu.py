"""Hostile -cpu values and QEMU command lines: any text, any bytes, any
number keeps hvtune's promises; numbers are read exactly as the real QEMU
reads them (Unicode digits, signs, bases, sizes); text that is no -cpu value
is refused, not taken for a CPU model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hvtune.config import _plainly_valid, token_problem
from hvtune.errors import InputError
from hvtune.formats.qemu import parse_cpu

from strategies import NUMBER, OTHER_TOKENS
from support.agreement import assert_agrees
from support.hostile import assert_kept_promises, hvtune, one_line_each

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
PIECES = st.sampled_from(
    ["host", "qemu64", "max", "hv-relaxed", "hv_stimer", "+hv-vapic", "-kvm", "hv-spinlocks=", "tsc-freq=", "=", ",",
     "+", "-", "on", "off", "0x", "٣", "²", " ", "\t", "\n", "\x00", "\x1b[31m", "'", '"', "\\", "$", "#", "é", "\u2028"]
)  # fmt: skip
CPU_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=12).map("".join)


@FUZZ
@given(cpu=CPU_TEXT)
@example(cpu="hello world")
@example(cpu="\x00" * 100)
@example(cpu="host,hv-spinlocks=" + "9" * 5000)
@example(cpu="host,tsc-freq=٣G")
def test_any_cpu_value(capsys: pytest.CaptureFixture[str], cpu: str) -> None:
    assert_kept_promises(hvtune(capsys, "check", "--cpu", cpu), "--cpu")


@FUZZ
@given(raw=st.binary(max_size=40))
def test_any_bytes_in_an_argument(capsys: pytest.CaptureFixture[str], raw: bytes) -> None:
    """What the shell hands over as bytes: not UTF-8 is one line, exit 2."""
    cpu = os.fsdecode(b"host," + raw)
    outcome = hvtune(capsys, "check", "--cpu", cpu)
    assert_kept_promises(outcome)
    if not _utf8(b"host," + raw):
        assert outcome.code == 2 and "--cpu value: not UTF-8 text" in outcome.err


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


SHELL = st.sampled_from(
    ["qemu-system-x86_64", " ", "\\\n", "-cpu", "-machine", "q35", "-M", "-kernel", "'", '"', "\\", ";", "&&", "|",
     "#", "host,hv-relaxed", "\n", "hv-stimer", "$(x)", "`x`", "\x00", "é", "-cpu=", "--cpu"]
)  # fmt: skip


@FUZZ
@given(pieces=st.lists(st.one_of(SHELL, st.text(max_size=5)), max_size=20))
def test_any_command_line_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, pieces: list[str]) -> None:
    path = tmp_path / "vm.sh"
    path.write_bytes("".join(pieces).encode("utf-8", "surrogatepass"))
    assert_kept_promises(hvtune(capsys, "check", str(path)), str(path))


@pytest.mark.parametrize("text", ["hello world", "Hello, how are you?", "\x00" * 100, "<<<", "[" * 1000, "a b c"])
def test_garbage_is_not_a_cpu_model(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(text + "\n", "utf-8")
    outcome = hvtune(capsys, "check", str(path))
    assert outcome.code == 2 and "no findings" not in outcome.out
    assert_kept_promises(outcome, str(path))


def test_several_files_one_line_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    names = []
    for index, text in enumerate(["a b", "host,hv-relaxed", "host,hv-foo", "\x00"]):
        path = tmp_path / f"vm{index}.sh"
        path.write_text(text, "utf-8")
        names.append(str(path))
    outcome = hvtune(capsys, "check", *names)
    assert outcome.code == 2
    one_line_each(outcome.err, [names[0], names[2], names[3]])
    assert f"{names[1]}: no findings" in outcome.out


# -- numbers, judged by the real QEMU ---------------------------------------


@pytest.mark.qemu
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(["hv-spinlocks", "hv-version-id-build", "tsc-frequency", "tsc-freq"]), number=NUMBER)
@example(name="tsc-freq", number="٣G")
@example(name="hv-spinlocks", number="٨١٩١")
@example(name="hv-spinlocks", number="9" * 5000)
def test_numbers_as_qemu_reads_them(qemu, name: str, number: str) -> None:  # type: ignore[no-untyped-def]
    assert_agrees(qemu, f"qemu64,{name}={number}")


def test_unicode_digits_are_no_digits() -> None:
    for cpu in ("qemu64,tsc-freq=٣G", "qemu64,hv-spinlocks=٨١٩١", "qemu64,hv-spinlocks=²"):
        with pytest.raises(InputError):
            parse_cpu(cpu)


# tokens as libvirt writes <cpu> features (name=on, name=off), properties
# among them, and near misses
SWITCHED = ("f=on", "lahf_lm=off", "hv-relaxed=on", "hv_vapic=off", "a=on=on", "x=o", "=on", "+f=on", "on", "f.1=off")


@settings(max_examples=500, deadline=None)
@given(
    tokens=st.lists(st.one_of(st.sampled_from(OTHER_TOKENS + SWITCHED), st.text(max_size=8)), min_size=1, max_size=6)
)
def test_the_fast_token_check_never_passes_a_bad_token(tokens: list[str]) -> None:
    """Configs with many tokens are validated in one pass; that pass must
    only ever let through what the token-by-token check passes."""
    fast = _plainly_valid(tuple(tokens))
    slow = all(token_problem(token) is None for token in tokens)
    assert fast == slow, tokens
