"""The Proxmox format: reading as qemu-server starts a VM, the checks of its
own rules, fix's edits (only where they must be), rendering, and the real
QEMU reading the Hyper-V part of what qemu-server builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvtune.bundled import bundled_examples
from hvtune.checking import check_reading
from hvtune.converting import render, translate
from hvtune.documents.proxmox import ProxmoxVM
from hvtune.findings import ConfigChange
from hvtune.fixing import apply_change, fix_text
from hvtune.formats import format_named, read_text
from hvtune.formats.proxmox import read_text as read_proxmox
from hvtune.host.profile_json import load_profile
from hvtune.plan import Goals, make_plan

from support.agreement import assert_agrees

EXAMPLE = next(e for e in bundled_examples() if e.name == "win11-proxmox-gui.conf").read_text("utf-8")
VECTORS = sorted((Path(__file__).parent / "data" / "proxmox" / "cfg2cmd").glob("*.conf"))
SNAPSHOT = "\n[before-update]\ncpu: host,flags=+hv-relaxed\nmachine: pc-q35-7.2\nostype: win10\n"


def _vm(text: str) -> ProxmoxVM:
    vm = read_text(text, source="100.conf").document_of(ProxmoxVM)
    assert vm is not None
    return vm


def _outside(before: str, after: str, keys: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The lines of two texts that set none of `keys`."""

    def kept(text: str) -> list[str]:
        return [line for line in text.split("\n") if not line.startswith(tuple(f"{key}:" for key in keys))]

    return kept(before), kept(after)


def test_a_qm_configuration_is_read_as_proxmox() -> None:
    reading = read_text(EXAMPLE, source="101.conf")
    assert reading.format == "proxmox"
    assert reading.guest_os == "win11"
    assert reading.config.enabled("hv-stimer") and reading.config.get("hv-spinlocks") == 0x1FFF
    assert not reading.config.enabled("hv-tlbflush")


@pytest.mark.parametrize(
    "text",
    [
        "<domain type='kvm'/>",
        '{"schema": "hvtune/config/1"}',
        "host,hv-relaxed",
        "qemu-system-x86_64 -cpu host,hv-relaxed",
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nspec:\n  running: true\n",
        "kind: VirtualMachine\nspec:\n  template: {}\n",
    ],
)
def test_other_formats_are_not_taken_for_proxmox(text: str) -> None:
    assert not format_named("proxmox").sniff(text)


def test_snapshots_and_comments_are_kept_and_not_judged() -> None:
    text = EXAMPLE + SNAPSHOT
    vm = _vm(text)
    assert vm.sections == ("[before-update]",)
    assert not vm.ignored  # the snapshot's refused flags count only after a rollback
    reading = read_text(text, source="101.conf")
    fixed = apply_change(reading, text, ConfigChange({"hv-tlbflush": True}))
    assert fixed.endswith(SNAPSHOT)
    assert fixed.startswith("# Windows 11 as the Proxmox VE 8.1 web interface")


def test_pending_changes_count_as_at_the_next_start() -> None:
    text = EXAMPLE + "\n[PENDING]\ncpu: host\ndelete: machine\n"
    vm = _vm(text)
    assert vm.built.startswith("host,")
    # no machine left: a Windows VM created by QEMU 8.1 (before 9.1) is pinned to pc 5.1
    assert vm.machine == "pc-i440fx-5.1+pve0"
    assert vm.settings["cpu"].line == len(EXAMPLE.split("\n")) + 2


def test_an_allowed_flag_goes_to_cpu_flags_and_nothing_else_changes() -> None:
    reading = read_text(EXAMPLE, source="101.conf")
    fixed = apply_change(reading, EXAMPLE, ConfigChange({"hv-tlbflush": True}))
    assert "cpu: x86-64-v2-AES,flags=+hv-tlbflush\n" in fixed
    assert _outside(EXAMPLE, fixed, ("cpu",))[0] == _outside(EXAMPLE, fixed, ("cpu",))[1]
    again = read_text(fixed, source="101.conf")
    assert again.config.enabled("hv-tlbflush")
    assert apply_change(again, fixed, ConfigChange({"hv-tlbflush": True})) == fixed


def test_a_flag_qemu_server_builds_anyway_is_not_written() -> None:
    text = EXAMPLE.replace("machine: pc-q35-8.1", "machine: pc-q35-11.0+pve2")
    reading = read_text(text, source="101.conf")
    assert reading.config.enabled("hv-evmcs")  # an Intel node: qemu-server adds it
    assert apply_change(reading, text, ConfigChange({"hv-evmcs": True})) == text
    off = apply_change(reading, text, ConfigChange({"hv-evmcs": None}))
    assert "cpu: x86-64-v2-AES,flags=-hv-evmcs\n" in off
    assert not read_text(off, source="101.conf").config.enabled("hv-evmcs")


def test_what_cpu_cannot_say_goes_to_args_as_the_whole_value() -> None:
    reading = read_text(EXAMPLE, source="101.conf")
    fixed = apply_change(reading, EXAMPLE, ConfigChange({"hv-frequencies": True, "hv-reset": None}))
    added = [line for line in fixed.split("\n") if line not in EXAMPLE.split("\n")]
    assert len(added) == 1 and added[0].startswith("args: -cpu qemu64,+aes,")
    again = read_text(fixed, source="101.conf")
    assert again.config.enabled("hv-frequencies") and again.config.get("hv-reset") is None
    assert again.config.enabled("hv-stimer")  # the rest of what qemu-server builds stays
    # a later change edits that -cpu, not the cpu: line
    later = apply_change(again, fixed, ConfigChange({"hv-tlbflush": True}))
    assert "cpu: x86-64-v2-AES\n" in later
    assert read_text(later, source="101.conf").config.enabled("hv-tlbflush")
    assert [f.code for f in check_reading(again).findings if f.code.startswith("proxmox")] == ["proxmox-args-cpu"]


def test_flags_a_vm_may_not_set_make_qemu_server_skip_the_cpu_line_and_fix_moves_them() -> None:
    text = "ostype: win10\nmachine: pc-q35-9.2\ncpu: host,flags=+hv-frequencies;+md-clear\nmemory: 4096\n"
    reading = read_text(text, source="100.conf")
    assert reading.config.model == "kvm64"  # the line is skipped: qemu-server's default CPU
    (skipped,) = [f for f in check_reading(reading).findings if f.code == "proxmox-cpu-skipped"]
    assert "VM-specific CPU flags must be a subset of" in skipped.message
    outcome = fix_text(text, source="100.conf")
    assert "cpu: host,flags=+md-clear\n" in outcome.fixed
    assert "memory: 4096\n" in outcome.fixed
    fixed = read_text(outcome.fixed, source="100.conf")
    assert fixed.config.model == "host" and fixed.config.enabled("hv-frequencies")
    assert not [f for f in check_reading(fixed).findings if f.code == "proxmox-cpu-skipped"]
    assert fix_text(outcome.fixed, source="100.conf").fixed == outcome.fixed


def test_the_node_decides_evmcs_and_the_vendor_of_nested_virt() -> None:
    text = "ostype: win11\nmachine: pc-q35-11.0+pve2\ncpu: host,flags=+nested-virt\n"
    reading = read_text(text, source="100.conf")
    fmt = format_named("proxmox")
    amd = fmt.on_host(reading, load_profile("amd-avic"))
    intel = fmt.on_host(reading, load_profile("intel-nested"))
    assert reading.config.enabled("hv-evmcs") and intel.config.enabled("hv-evmcs")
    assert not amd.config.enabled("hv-evmcs")
    assert "+svm" in amd.document.effective_cpu and "+vmx" in intel.document.effective_cpu
    # on an AMD host, no false 'evmcs needs Intel' error
    assert not [f for f in check_reading(reading, host=load_profile("amd-avic")).findings if f.feature == "hv-evmcs"]


def test_gpu_passthrough_hides_kvm_and_sets_the_vendor_id_unless_cpu_says_otherwise() -> None:
    text = "ostype: win10\nmachine: pc-q35-9.2\nhostpci0: 0000:01:00,pcie=1,x-vga=1\n"
    config = read_text(text, source="100.conf").config
    assert config.get("kvm") is False and config.get("hv-vendor-id") == "proxmox"
    shown = read_text(text + "cpu: kvm64,hidden=0,hv-vendor-id=NV43FIX\n", source="100.conf").config
    assert shown.get("kvm") is None and shown.get("hv-vendor-id") == "NV43FIX"


def test_a_machine_the_node_cannot_run_is_refused_by_qemu_server() -> None:
    reading = read_proxmox("ostype: win11\nmachine: pc-q35-12.1\n", source="100.conf", qemu_version="11.0")
    (refused,) = [f for f in check_reading(reading).findings if f.refused_by == "proxmox"]
    assert refused.said == "Installed QEMU version '11.0' is too old to run machine type 'pc-q35-12.1+pve0'"


HOSTS = ("intel-nested", "amd-avic", "sandbox-bookworm")
GUESTS = ("win7", "win10", "win11", "win2022", "linux")


@pytest.mark.parametrize("guest", GUESTS)
@pytest.mark.parametrize("host", HOSTS)
def test_a_rendered_fragment_gives_qemu_the_planned_setup(guest: str, host: str) -> None:
    """plan --to proxmox: the fragment, read as qemu-server starts it,
    gives QEMU every Hyper-V value of the plan."""
    planned = make_plan(guest, load_profile(host), Goals()).config
    fragment = render(planned, "proxmox")
    got = read_text(fragment, source="plan").config
    for name in {*planned.values, *got.values}:
        if name.startswith("hv-") or name == "kvm":
            assert got.effective(name) == planned.effective(name), (name, fragment)


def test_convert_to_qemu_is_what_qemu_server_builds() -> None:
    reading = read_text(EXAMPLE, source="101.conf")
    assert translate(reading, "qemu") == _vm(EXAMPLE).built + "\n"


def _hyperv_part(cpu: str) -> str:
    """The Hyper-V tokens and kvm= of a -cpu qemu-server builds, on QEMU's max
    model (its other tokens, enforce and pve-qemu-kvm's newer flags, need KVM
    or a newer QEMU than the one here)."""
    tokens = [token for token in cpu.split(",")[1:] if token.lstrip("+-").startswith(("hv", "kvm="))]
    return ",".join(["max", *tokens])


@pytest.mark.qemu
@pytest.mark.parametrize("path", [p for p in VECTORS if "custom-" not in p.name], ids=lambda p: p.name)
def test_qemu_reads_the_hyperv_part_as_hvtune_does(qemu, path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = read_text(path.read_text(), source=path.name).document_of(ProxmoxVM)
    assert vm is not None
    assert_agrees(qemu, _hyperv_part(vm.built))
