"""Which QEMU release reads a -cpu value: --qemu-version, else none (a
--host profile's QEMU judges the config instead, as findings). What each release does is judged by the releases
themselves in tests/test_matrix_qemu.py; these hold the command line and
the parse API to the choice of release."""

from __future__ import annotations

import json

import pytest

from hvtune.errors import Refusal
from hvtune.formats.qemu import parse_cpu

from support.cli import assert_one_line_error, run


def test_a_property_the_release_lacks_is_refused_in_qemus_words(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--cpu", "max,hv-relaxed,hv-avic", "--qemu-version", "5.2")
    assert code == 2 and out == ""
    assert_one_line_error(err, "Property 'max-x86_64-cpu.hv-avic' not found", "it came with QEMU 6.2")
    assert run(capsys, "check", "--cpu", "max,hv-relaxed,hv-avic", "--qemu-version", "6.2")[0] == 0
    assert run(capsys, "check", "--cpu", "max,hv-relaxed,hv-avic")[0] == 0  # no release: every property


def test_a_host_profiles_qemu_judges_the_config_not_its_text(capsys: pytest.CaptureFixture[str]) -> None:
    cpu = "host,hv-relaxed,hv-xmm-input"
    code, out, err = run(capsys, "check", "--host", "old-kernel-4.19", "--cpu", cpu, "--format", "json")  # QEMU 3.1
    assert code == 1 and err == ""
    assert "qemu-too-old" in [finding["code"] for finding in json.loads(out)["findings"]]
    code, _, err = run(capsys, "check", "--host", "old-kernel-4.19", "--qemu-version", "3.1", "--cpu", cpu)
    assert code == 2
    assert_one_line_error(err, "Property 'host-x86_64-cpu.hv-xmm-input' not found", "QEMU 3.1 has no hv-xmm-input")


def test_a_release_newer_than_the_newest_known_is_judged_as_it_with_one_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "convert", "--cpu", "max,hv-relaxed", "--to", "json", "--qemu-version", "12.0")
    assert code == 0 and json.loads(out)["hv-relaxed"] is True
    assert err == (
        "hvtune: warning: QEMU 12.0 is newer than the newest release hvtune knows (11.1); judged as QEMU 11.1\n"
    )
    code, _, err = run(capsys, "check", "--cpu", "max,x-hv-synic-kvm-only", "--qemu-version", "12.0")
    assert code == 2 and err.count("warning:") == 1 and "QEMU 11.0 removed it" in err
    assert run(capsys, "check", "--cpu", "max,hv-relaxed", "--qemu-version", "11.1.3")[2] == ""


def test_no_release_number_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--cpu", "max,hv-relaxed", "--qemu-version", "eleven")
    assert code == 2
    assert_one_line_error(err, "--qemu-version: 'eleven' is not a version such as 7.2")


@pytest.mark.parametrize(
    ("cpu", "old", "new"),
    [
        # a size read with strtod before 6.0, in fixed point from it
        ("max,tsc-freq=1.5e3k", 1500000, None),
        ("max,tsc-freq=0x1.8k", 1500, None),
        ("max,tsc-freq=1e", 10**18, 10**18),  # E is the exa suffix to both
        ("max,tsc-freq=2.5G", 2500000000, 2500000000),
    ],
)
def test_sizes_as_each_release_reads_them(cpu: str, old: int, new: int | None) -> None:
    assert parse_cpu(cpu, qemu_version="5.2").config.get("tsc-frequency") == old
    if new is None:
        with pytest.raises(Refusal, match="bad numerical value"):
            parse_cpu(cpu, qemu_version="7.2")
    else:
        assert parse_cpu(cpu, qemu_version="7.2").config.get("tsc-frequency") == new


def test_refusals_worded_as_each_release_words_them() -> None:
    said = {}
    for release in ("5.2", "7.2", "10.0"):
        for cpu in ("max,hv-no-nonarch-coresharing=maybe", "max,tsc-frequency=-1"):
            with pytest.raises(Refusal) as refused:
                parse_cpu(cpu, qemu_version=release)
            said[release, cpu.split(",")[1]] = refused.value.said
    assert said["5.2", "hv-no-nonarch-coresharing=maybe"].endswith(": Invalid parameter 'maybe'")
    assert said["7.2", "hv-no-nonarch-coresharing=maybe"].endswith(
        ": Parameter 'hv-no-nonarch-coresharing' does not accept value 'maybe'"
    )
    assert said["7.2", "tsc-frequency=-1"].endswith(
        "Property .tsc-frequency doesn't take value -1 (minimum: 0, maximum: 9223372036854775807)"
    )
    assert said["10.0", "tsc-frequency=-1"].endswith("parameter 'tsc-frequency' can be at most 9223372036854775807")


def test_the_vendor_id_as_releases_report_it_unset() -> None:
    config = parse_cpu("max,hv-relaxed").config
    assert config.reported("hv-vendor-id", "5.2") == ""
    assert config.reported("hv-vendor-id", "7.2") == config.reported("hv-vendor-id") == "Microsoft Hv"
    assert parse_cpu("max,hv-vendor-id=KVMKVMKVM").config.reported("hv-vendor-id", "5.2") == "KVMKVMKVM"
