"""Hostile qm configuration files: any file hvtune takes for Proxmox keeps
hvtune's promises (exit 0, 1 or 2; unusable input one line naming the file;
never a traceback) in check, fix, fix --plan and convert; and what fix writes
reads back, with every line it did not need to touch as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hvtune.errors import InputError
from hvtune.fixing import fix_text
from hvtune.formats import read_text
from hvtune.host.profile_json import load_profile

from support.hostile import assert_kept_promises, hvtune

INTEL = load_profile("intel-nested")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
KEYS = st.sampled_from(["ostype", "machine", "cpu", "args", "bios", "kvm", "meta", "hostpci0", "template", "arch"])
WORDS = st.sampled_from(
    ["win11", "win10", "w2k8", "wxp", "l26", "solaris", "other", "q35", "pc", "pc-q35-11.0+pve2", "pc-i440fx-2.2",
     "pc-q35-42.9", "pc-q35-9.0+pve77", "virt", "host", "kvm64", "x86-64-v2-AES", "Opteron_G5", "Icelake-Client",
     "custom-x", "max", "ovmf", "seabios", "0", "1", "yes", "aarch64", "x86_64", "creation-qemu=9.2.0",
     "flags=+hv-tlbflush;-hv-evmcs", "flags=+hv-relaxed", "flags=+nested-virt", "flags=+", "hidden=1",
     "hv-vendor-id=NV43FIX", "hv-vendor-id=toolongvendorid", "level=30", "phys-bits=host", "phys-bits=99",
     "guest-phys-bits=39", "reported-model=athlon", "x-vga=1", "x-vga=on", "-cpu host,hv-relaxed", "-cpu",
     "-cpu 'qemu64,hv_stimmer'", "'unbalanced", "-cpu max,hv-vendor-id=a,b", "cputype=", "=", ",", ";", "\x1b",
     "\u2028", "\r", "é"]
)  # fmt: skip
VALUES = st.lists(WORDS, min_size=1, max_size=3).map(lambda words: ",".join(words)) | st.text(max_size=12)
SETTINGS = st.tuples(KEYS, VALUES).map(lambda pair: f"{pair[0]}: {pair[1]}")
LINES = st.one_of(
    SETTINGS,
    SETTINGS,
    SETTINGS,
    st.sampled_from(["# a comment", "", "[PENDING]", "[snap1]", "[special:cloudinit]", "[??]", "delete: cpu,args"]),
    st.text(max_size=15),
)
FILES = st.tuples(st.lists(LINES, min_size=1, max_size=12), st.sampled_from(["\n", "\r\n"])).map(
    lambda parts: parts[1].join(["ostype: win11", *parts[0]]) + parts[1]
)


def _promises(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    source = str(path)
    for argv in (
        ("check", source),
        ("check", source, "--host", "amd-avic"),
        ("fix", "--diff", "--all", source, "--host", "intel-nested"),
        ("fix", "--diff", "--plan", "--os", "win11", source, "--host", "intel-nested"),
        ("convert", source, "--to", "qemu"),
        ("convert", source, "--to", "proxmox"),
    ):
        assert_kept_promises(hvtune(capsys, *argv), source)


@FUZZ
@given(text=FILES)
@example(text="ostype: win11\ncpu: host,flags=+hv-relaxed;+hv-frequencies\n")
@example(text="ostype: win11\nargs: -cpu 'qemu64,hv_stimmer'\n")
@example(text="ostype: win11\ncpu: custom-x\n")
@example(text="ostype: win11\nmachine: pc-q35-42.9\n")
@example(text="ostype: win11\n[PENDING]\ndelete: args\nargs: -cpu host\n")
def test_any_qm_configuration(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    path = tmp_path / "100.conf"
    path.write_bytes(text.encode("utf-8"))
    _promises(capsys, path)


@FUZZ
@given(text=FILES)
def test_what_fix_writes_reads_back_and_touches_only_its_lines(text: str) -> None:
    try:
        reading = read_text(text, source="100.conf")
        outcome = fix_text(text, source="100.conf", warnings_too=True, host=INTEL)
    except InputError:
        return
    if reading.format != "proxmox" or not outcome.changed:
        return
    again = read_text(outcome.fixed, source="100.conf")
    assert again.format == "proxmox"
    before, after = text.split("\n"), outcome.fixed.split("\n")
    untouched = [line for line in before if not line.startswith(("cpu:", "args:"))]
    assert [line for line in after if not line.startswith(("cpu:", "args:"))] == untouched
