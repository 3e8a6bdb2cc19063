"""The CPUID payload: the image itself, its output read back, and real runs
under QEMU's TCG, checked against what QEMU says of its CPU over QMP."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvtune.cpuid import Leaves, Registers, read_leaves
from hvtune.sandbox.payload import (
    EXIT_STATUS,
    IMAGE_SIZE,
    MARKER,
    PAYLOAD_LEAVES,
    RESET_VECTOR,
    payload_argv,
    payload_image,
    read_payload_output,
)
from hvtune.vm.console import markers

from support.qemu import QemuProbe

# CPUID.1 bits by the names QEMU's x86 CPU object gives them (Intel SDM
# vol. 2A, CPUID leaf 1: ECX and EDX feature flags).
LEAF1_ECX = {
    0: "sse3",
    1: "pclmulqdq",
    9: "ssse3",
    19: "sse4.1",
    20: "sse4.2",
    21: "x2apic",
    23: "popcnt",
    31: "hypervisor",
}
LEAF1_EDX = {0: "fpu", 4: "tsc", 5: "msr", 8: "cx8", 15: "cmov", 23: "mmx", 25: "sse", 26: "sse2"}


def run_payload(binary: str, cpu: str, image: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "-accel", "tcg", "-machine", "q35", "-cpu", cpu, *payload_argv(image)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("payload") / "cpuid.bin"
    path.write_bytes(payload_image())
    return path


def payload_leaves(qemu_binary: str, cpu: str, image: Path) -> Leaves:
    done = run_payload(qemu_binary, cpu, image)
    assert done.returncode == EXIT_STATUS, done.stderr
    leaves = read_payload_output(done.stdout)
    assert leaves is not None, done.stdout
    return leaves


def test_the_image_is_64_kib_with_a_jump_at_the_reset_vector() -> None:
    image = payload_image()
    assert len(image) == IMAGE_SIZE == 0x10000
    assert image[RESET_VECTOR] == 0xE9  # jmp near
    (distance,) = struct.unpack_from("<H", image, RESET_VECTOR + 1)
    assert (RESET_VECTOR + 3 + distance) & 0xFFFF == 0  # to the code at offset 0
    assert image[0] == 0xFA  # which starts with cli
    assert payload_image() == image and image.count(0) > IMAGE_SIZE - 2048  # deterministic, and small


def test_the_leaves_are_the_hypervisor_ranges_and_leaf_1() -> None:
    expected = [*range(0x40000000, 0x4000000C), *range(0x40000080, 0x40000083), *range(0x40000100, 0x40000103), 1]
    assert list(PAYLOAD_LEAVES) == expected


def test_under_tcg_the_payload_prints_every_leaf_and_exits_with_33(qemu_binary: str, image: Path) -> None:
    done = run_payload(qemu_binary, "max", image)
    assert done.returncode == EXIT_STATUS == 33
    begin, end = markers(MARKER)
    lines = done.stdout.splitlines()
    assert lines[0] == begin and lines[-1] == end and len(lines) == len(PAYLOAD_LEAVES) + 2
    leaves = read_payload_output(done.stdout)
    assert leaves is not None and list(leaves) == list(PAYLOAD_LEAVES)
    # TCG's own hypervisor leaf: "TCGTCGTCGTCG", announcing 0x40000001 as its last leaf
    signature = leaves[0x40000000]
    assert signature[0] == 0x40000001 and struct.pack("<3I", *signature[1:]) == b"TCGTCGTCGTCG"
    assert leaves[0x40000001] == (0, 0, 0, 0)
    # past it TCG answers every leaf alike (with its highest basic leaf), which means nothing here
    beyond = {leaves[leaf] for leaf in PAYLOAD_LEAVES if leaf >= 0x40000002}
    assert len(beyond) == 1
    unread = {reading.leaf: reading.unread for reading in read_leaves(leaves)}
    assert all(unread[leaf] for leaf in PAYLOAD_LEAVES if leaf >= 0x40000002)
    assert unread[0x40000003] == "not Hyper-V's: 0x40000001 holds '\\x00\\x00\\x00\\x00', not 'Hv#1'"


@pytest.mark.parametrize("cpu", ["max", "max,hypervisor=off,popcnt=off"])
def test_leaf_1_is_what_qemu_says_of_its_cpu(qemu_binary: str, qemu: QemuProbe, image: Path, cpu: str) -> None:
    eax, _, ecx, edx = payload_leaves(qemu_binary, cpu, image)[1]
    told = qemu.run(cpu, ["family", "model", "stepping", *LEAF1_ECX.values(), *LEAF1_EDX.values()])
    assert told.accepted, told.error
    family, model, stepping = told.values["family"], told.values["model"], told.values["stepping"]
    assert eax & 0xF == stepping
    assert (eax >> 4 & 0xF) | (eax >> 16 & 0xF) << 4 == model
    assert (eax >> 8 & 0xF) + (eax >> 20 & 0xFF) == family
    for register, bits in ((ecx, LEAF1_ECX), (edx, LEAF1_EDX)):
        assert {name: bool(register >> bit & 1) for bit, name in bits.items()} == {
            name: told.values[name] for name in bits.values()
        }
    assert bool(ecx >> 31) == ("hypervisor=off" not in cpu)


def test_under_tcg_hyperv_properties_are_accepted_and_change_nothing(qemu_binary: str, image: Path) -> None:
    # QEMU builds the Hyper-V leaves only for KVM: under TCG the guest sees TCG's own leaves either way
    plain = payload_leaves(qemu_binary, "max", image)
    hyperv = payload_leaves(qemu_binary, "max,kvm=off,hv-relaxed,hv-vapic,hv-time,hv-spinlocks=0x1fff", image)
    assert hyperv == plain


_WORD = st.integers(0, 0xFFFFFFFF)
_REGISTERS = st.tuples(_WORD, _WORD, _WORD, _WORD)


def printed(leaves: dict[int, Registers]) -> str:
    """What the payload prints for `leaves`, around what else the console
    carries (QEMU and firmware say nothing, but the reader must not care)."""
    begin, end = markers(MARKER)
    lines = [f"L {leaf:08x}: " + " ".join(f"{value:08x}" for value in leaves[leaf]) for leaf in PAYLOAD_LEAVES]
    return "\r\n".join(["noise", begin, *lines, end, "more noise"]) + "\r\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(_REGISTERS, min_size=len(PAYLOAD_LEAVES), max_size=len(PAYLOAD_LEAVES)))
def test_the_output_reads_back_as_printed(registers: list[Registers]) -> None:
    leaves = dict(zip(PAYLOAD_LEAVES, registers, strict=True))
    assert read_payload_output(printed(leaves)) == leaves


@settings(max_examples=200, deadline=None)
@given(_REGISTERS, st.integers(0, len(PAYLOAD_LEAVES) + 1), st.sampled_from(["drop", "garble", "cut"]))
def test_an_incomplete_or_garbled_report_is_none(registers: Registers, line: int, damage: str) -> None:
    text = printed(dict.fromkeys(PAYLOAD_LEAVES, registers))
    lines = text.split("\r\n")
    index = line + 1  # a marker or a leaf's line
    if damage == "drop":
        del lines[index]
    elif damage == "garble":
        lines[index] = lines[index][:-1] + "g"
    else:
        lines = lines[:index]
    assert read_payload_output("\r\n".join(lines)) is None
