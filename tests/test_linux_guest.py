"""Advice for Linux guests that see Hyper-V (the catalog's [linux] facts):
check and doctor say it when the OS is Linux, named with --os or read from
a libvirt domain's libosinfo metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.catalog import load_catalog

from support.cli import run

LINUX_DOMAIN = """<domain type='kvm'>
  <name>debian</name>
  <metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>
    <libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo></metadata>
  <memory>1048576</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/><hyperv mode='custom'><relaxed state='on'/><vapic state='on'/></hyperv></features>
  <cpu mode='host-passthrough'/>
</domain>
"""


def test_every_linux_use_names_a_feature_and_a_source() -> None:
    catalog = load_catalog()
    assert catalog.linux.uses and all(use.property in catalog.feature_bits and use.source for use in catalog.linux.uses)
    assert catalog.linux.detect_virt.fixed_in.isdigit()


def test_doctor_reads_the_linux_guest_from_libosinfo_and_warns_of_systemd(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "debian.xml"
    path.write_text(LINUX_DOMAIN)
    code, out, _ = run(capsys, "doctor", str(path), "--host", "sandbox-bookworm", "--format", "json")
    assert code == 0
    (site,) = json.loads(out)["hosts"]
    found = {finding["code"] for vm in site["vms"] for finding in vm["findings"]}
    assert {"linux-detect-virt-microsoft", "linux-ignores-hyperv"} <= found


def test_check_with_os_linux_and_kvm_hidden_says_what_linux_uses(capsys: pytest.CaptureFixture[str]) -> None:
    cpu = "host,kvm=off,hv-relaxed,hv-vpindex,hv-time,hv-ipi"
    code, out, _ = run(capsys, "check", "--cpu", cpu, "--os", "linux", "--host", "intel-nested")
    assert code == 0
    assert "runs on Hyper-V's interfaces" in out and "hyperv_clocksource_tsc_page" in out
    assert "systemd-detect-virt before systemd 256" in out
