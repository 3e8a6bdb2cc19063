"""hvtune lab boots real guests (under TCG here: short, but the whole path
from initramfs to table and chart) with Debian's cloud kernel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.errors import InputError
from hvtune.lab.kernel import fetch_kernel, find_kernel

from support.cli import run
from support.programs import require_program, under_ci

SMALL = ["--accel", "tcg", "--count", "20000", "--repeat", "2", "--threads", "4", "--rounds", "10"]
PLAIN = "max,kvm=off"
ENLIGHTENED = "max,kvm=off,hv-relaxed,hv-time,hv-frequencies"


@pytest.fixture(scope="module")
def kernel() -> Path:
    require_program("qemu-system-x86_64")
    try:
        return fetch_kernel()
    except InputError as error:
        if under_ci():
            pytest.fail(f"the lab's kernel could not be fetched: {error}")
        pytest.skip(f"no guest kernel: {error}")


def test_a_b_run_from_boot_to_table_and_chart(capsys: pytest.CaptureFixture[str], kernel: Path, tmp_path: Path) -> None:
    chart = tmp_path / "lab.png"
    code, out, _ = run(
        capsys,
        "lab",
        "--a",
        PLAIN,
        "--b",
        ENLIGHTENED,
        "--kernel",
        str(kernel),
        *SMALL,
        "--plot",
        str(chart),
        "--format",
        "json",
    )
    assert code == 0
    document = json.loads(out)
    assert document["accel"] == "tcg" and "TCG emulates no Hyper-V enlightenment" in document["notes"][0]
    for side, cpu in (("a", PLAIN), ("b", ENLIGHTENED)):
        guest = document[side]
        assert guest["problem"] is None and guest["cpu"] == cpu
        assert guest["clocksource"] and guest["hypervisor"]
        results = guest["results"]
        assert results["clock_gettime"]["ticks_per_call"] > 0 and results["cpuid"]["ticks_per_call"] > 0
        assert results["tlb_shootdown"]["seconds"] > 0
        assert results["context"]["vcpus"] == 2 and results["context"]["kernel"] == kernel.name.removeprefix("vmlinuz-")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


def test_the_table_in_the_published_style(capsys: pytest.CaptureFixture[str], kernel: Path) -> None:
    code, out, _ = run(
        capsys,
        "lab",
        "--a",
        "host,kvm=off",
        "--b",
        "host,kvm=off,hv-relaxed",
        "--kernel",
        str(kernel),
        *SMALL,
        "--which",
        "clock,cpuid",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"hvtune lab: TCG, 2 vCPUs, 512 MiB, kernel {kernel.name}"
    assert lines[2].split() == ["Without", "(A)", "With", "(B)", "B/A"]
    assert lines[3].startswith("clock_gettime, TSC ticks per call") and lines[4].startswith(
        "cpuid(0x1), TSC ticks per call"
    )
    assert "A: -cpu max,kvm=off" in lines  # host is KVM-only: max stands in under TCG
    assert any(line.startswith("Note: under TCG the CPU model host is replaced by max") for line in lines)


def test_a_configuration_qemu_refuses(capsys: pytest.CaptureFixture[str], kernel: Path) -> None:
    from hvtune.catalog import load_catalog
    from hvtune.host.versions import local_qemu_version
    from hvtune.releases import parse_release

    refuses = parse_release(local_qemu_version() or "0") < parse_release(load_catalog().qemu.tcg_vpindex_fixed)
    if not refuses:
        pytest.skip("this QEMU accepts hv-vpindex under TCG")
    argv = ["lab", "--a", PLAIN, "--b", "max,kvm=off,hv-vpindex", "--kernel", str(kernel), *SMALL, "--which", "clock"]
    code, out, _ = run(capsys, *argv, "--format", "json")
    document = json.loads(out)
    assert code == 1 and document["a"]["problem"] is None
    assert document["b"]["problem"] == "QEMU refused it: kernel doesn't allow setting HyperV VP_INDEX"


def test_without_a_kernel_the_way_to_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("os.uname", lambda: type("U", (), {"release": "no-such-release"})())
    with pytest.raises(
        InputError,
        match="no kernel to boot: give --kernel PATH, or fetch Debian's cloud kernel with `hvtune lab --fetch-kernel`",
    ):
        find_kernel(None)
    with pytest.raises(InputError, match="no such kernel image"):
        find_kernel(str(tmp_path / "vmlinuz"))
