"""The VM runner: argv from configurations, the serial console read back
from recorded output and from real boots under TCG, and timeouts with a
fake kernel that never powers off."""

from __future__ import annotations

import gzip
import os
import pty
import stat
import struct
import subprocess
import sys
import termios
from pathlib import Path

from hvtune.formats.qemu import parse_command_line, parse_cpu, render_cpu
from hvtune.host.versions import QEMU_BINARY
from hvtune.lab.guest import boot
from hvtune.vm.accel import PVM_NOTE, accelerator, cpu_for_accel
from hvtune.vm.console import Console, is_kernel_line, kernel_message, markers, qemu_refusal
from hvtune.vm.initramfs import cpio_newc, find_busybox
from hvtune.vm.run import run_vm, run_vm_again_if_stalled
from hvtune.vm.spec import BOOT_APPEND, VmSpec

from support.programs import require_program

CONFIG = parse_cpu("host,kvm=off,hv_relaxed,hv-time").config

# --- argv --------------------------------------------------------------------


def test_the_argv_of_a_configuration_under_kvm() -> None:
    spec = VmSpec(Path("/k/vmlinuz"), Path("/k/initrd.gz"), CONFIG, "kvm", vcpus=4, memory=1024, extra=("-s",))
    assert spec.argv() == [
        QEMU_BINARY, "-accel", "kvm", "-machine", "q35", "-cpu", render_cpu(CONFIG),
        "-smp", "4", "-m", "1024", "-kernel", "/k/vmlinuz", "-initrd", "/k/initrd.gz", "-append", BOOT_APPEND,
        "-display", "none", "-serial", "stdio", "-monitor", "none", "-nodefaults", "-no-reboot", "-s",
    ]  # fmt: skip
    assert spec.cpu_value.startswith("host,") and spec.cpu_note is None


def test_under_tcg_the_model_host_becomes_max() -> None:
    spec = VmSpec(Path("vmlinuz"), Path("initrd"), CONFIG, "tcg")
    model, _, rest = render_cpu(CONFIG).partition(",")
    assert model == "host" and spec.cpu_value == f"max,{rest}"
    assert spec.cpu_note == "under TCG the CPU model host is replaced by max"
    assert spec.argv()[spec.argv().index("-cpu") + 1] == spec.cpu_value
    # a value given verbatim is passed on as typed, but for the model
    assert VmSpec(Path("k"), Path("i"), "host,hv_relaxed", "tcg").cpu_value == "max,hv_relaxed"
    assert VmSpec(Path("k"), Path("i"), "host,hv_relaxed", "kvm").cpu_value == "host,hv_relaxed"
    assert cpu_for_accel("host", "tcg") == ("max", "under TCG the CPU model host is replaced by max")
    assert cpu_for_accel("hostile,hv-time", "tcg") == ("hostile,hv-time", None)


def test_the_machine_type_comes_from_the_spec_else_the_configuration() -> None:
    read = parse_command_line("qemu-system-x86_64 -machine pc-q35-7.2,accel=kvm -cpu host,hv-relaxed", source="t")
    assert read.config.machine == "pc-q35-7.2"
    assert VmSpec(Path("k"), Path("i"), read.config).machine_type == "pc-q35-7.2"
    assert VmSpec(Path("k"), Path("i"), read.config, machine="pc").machine_type == "pc"
    assert VmSpec(Path("k"), Path("i"), "qemu64").machine_type == "q35"


def test_the_accelerator_that_boots_an_ordinary_kernel() -> None:
    assert accelerator("tcg", {"kvm", "kvm_pvm"}) == ("tcg", None)
    assert accelerator("kvm", {"kvm", "kvm_pvm"}) == ("kvm", PVM_NOTE)
    assert accelerator(None, {"kvm", "kvm_pvm"}) == ("tcg", f"{PVM_NOTE}; running under TCG")
    opens = os.access("/dev/kvm", os.R_OK | os.W_OK)
    assert accelerator(None, {"kvm", "kvm_intel"}) == ("kvm" if opens else "tcg", None)


# --- the console, recorded -----------------------------------------------------

BEGIN, END = markers("REPORT")


def test_markers_name_the_part() -> None:
    assert markers("REPORT") == ("HVTUNE-REPORT-BEGIN", "HVTUNE-REPORT-END")


def test_what_a_guest_printed_between_markers() -> None:
    recorded = "\r\n".join(
        ["[    0.000000] Linux version 6.1.0", BEGIN, "one", "", "two=2", END, BEGIN, "again", END, ""]
    )
    console = Console.read(recorded)
    assert console.lines[1] == BEGIN  # the serial port's carriage returns are gone
    assert console.between(BEGIN, END) == ("one", "", "two=2")  # the first part
    assert console.between(*markers("OTHER")) is None
    assert Console.read(f"{BEGIN}\nhalf of it\n").between(BEGIN, END) is None  # cut off
    assert Console.read(f"{END}\n{BEGIN}\n").between(BEGIN, END) is None  # the end before the beginning
    assert console.panic() is None


def test_kernel_lines_and_a_panic() -> None:
    line = "[    0.912345] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
    assert is_kernel_line(line) and not is_kernel_line("clocksource=tsc")
    assert kernel_message(line) == "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
    assert kernel_message("no timestamp") == "no timestamp"
    console = Console.read(f"[    0.1] Hypervisor detected: KVM\n{line}\n[    0.9] ---[ end Kernel panic ]---\n")
    assert console.panic() == kernel_message(line)


def test_qemus_refusal_passes_its_warnings_over() -> None:
    recorded = (
        f"{QEMU_BINARY}: warning: TCG doesn't support requested feature: CPUID.01H:ECX.pcid [bit 17]\n"
        f"\n{QEMU_BINARY}: Failed to open file '/nonexistent'\n{QEMU_BINARY}: something after it\n"
    )
    assert qemu_refusal(recorded) == "Failed to open file '/nonexistent'"
    assert qemu_refusal(f"{QEMU_BINARY}: warning: host doesn't support requested feature\n") is None
    assert qemu_refusal("") is None
    smp = f"{QEMU_BINARY}: -accel kvm: warning: Number of SMP cpus requested (8) exceeds the recommended cpus\n"
    assert qemu_refusal(smp + f"{QEMU_BINARY}: Hyper-V x\n") == "Hyper-V x"


# --- real QEMU ---------------------------------------------------------------


def _stopped_kernel(folder: Path, says: str = "") -> Path:
    """A multiboot image (flags bit 16: loaded as it is at 1 MiB, no ELF)
    that writes `says` to COM1 and then spins for ever: a kernel that never
    powers off."""
    load = 0x100000
    magic, flags = 0x1BADB002, 0x00010000
    code = b"\x66\xba\xf8\x03"  # mov dx, 0x3f8
    code += b"".join(b"\xb0" + bytes([byte]) + b"\xee" for byte in says.encode())  # mov al, byte; out dx, al
    code += b"\xeb\xfe"  # jmp .
    header = struct.pack("<8I", magic, flags, -(magic + flags) & 0xFFFFFFFF, load, load, 0, 0, load + 32)
    path = folder / "stopped.bin"
    path.write_bytes(header + code)
    return path


def _qemu_running_with(path: Path) -> bool:
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue  # gone meanwhile
    return False


def test_a_guest_that_runs_over_is_killed_and_what_it_said_kept(tmp_path: Path) -> None:
    require_program(QEMU_BINARY)
    kernel = _stopped_kernel(tmp_path, f"{BEGIN}\r\nhalf\r\n")
    (tmp_path / "initrd").write_bytes(b"module")
    run = run_vm(VmSpec(kernel, tmp_path / "initrd", "qemu64", "tcg", vcpus=1, memory=64, timeout=3))
    assert run.timed_out and run.returncode is None and run.seconds >= 3
    assert Console.read(run.stdout).lines == (BEGIN, "half")
    assert Console.read(run.stdout).between(BEGIN, END) is None
    assert not _qemu_running_with(kernel)  # killed and reaped


def test_a_guest_whose_console_stays_silent_is_killed_as_stalled(tmp_path: Path) -> None:
    """With `silence`, a guest that stops printing is killed that long after
    its last output, long before its timeout; what it printed is kept."""
    require_program(QEMU_BINARY)
    kernel = _stopped_kernel(tmp_path, f"{BEGIN}\r\nhalf\r\n")
    (tmp_path / "initrd").write_bytes(b"module")
    spec = VmSpec(kernel, tmp_path / "initrd", "qemu64", "tcg", vcpus=1, memory=64, timeout=120, silence=2)
    run = run_vm(spec)
    assert run.stalled and not run.timed_out and run.returncode is None
    assert 2 <= run.seconds < 60
    assert Console.read(run.stdout).lines == (BEGIN, "half")
    assert not _qemu_running_with(kernel)
    # the timeout still ends a guest that prints now and then but never stops
    run = run_vm(VmSpec(kernel, tmp_path / "initrd", "qemu64", "tcg", vcpus=1, memory=64, timeout=2, silence=60))
    assert run.timed_out and not run.stalled


def test_a_stalled_guest_is_booted_once_more_and_said_so(tmp_path: Path) -> None:
    require_program(QEMU_BINARY)
    kernel = _stopped_kernel(tmp_path, "up\r\n")
    (tmp_path / "initrd").write_bytes(b"module")
    said: list[str] = []
    spec = VmSpec(kernel, tmp_path / "initrd", "qemu64", "tcg", vcpus=1, memory=64, timeout=120, silence=1)
    run = run_vm_again_if_stalled(spec, said.append, "the test guest")
    assert said == ["the test guest stalled: its console was silent for 1 s; booting it again"]
    assert run.stalled and Console.read(run.stdout).lines == ("up",)  # the second boot's own console
    # one that does not stall is booted once
    spec = VmSpec(kernel, tmp_path / "initrd", "max,hv-nonsense", "tcg", vcpus=1, memory=64, timeout=60, silence=1)
    run = run_vm_again_if_stalled(spec, said.append, "the refused guest")
    assert run.returncode == 1 and len(said) == 1


def test_the_lab_says_a_silent_guest_did_not_finish(tmp_path: Path) -> None:
    require_program(QEMU_BINARY)
    kernel = _stopped_kernel(tmp_path)
    (tmp_path / "initrd").write_bytes(b"module")
    guest = boot(VmSpec(kernel, tmp_path / "initrd", "host,hv-relaxed", "tcg", vcpus=1, memory=64, timeout=1))
    assert guest.problem == "the guest did not finish within 1 s" and guest.seconds == 1
    assert guest.cpu == "max,hv-relaxed" and not guest.saw
    # one that said something: where it stopped is said too
    kernel = _stopped_kernel(tmp_path, f"{BEGIN}\r\nhalf\r\n")
    guest = boot(VmSpec(kernel, tmp_path / "initrd", "qemu64", "tcg", vcpus=1, memory=64, timeout=1))
    assert guest.problem == "the guest did not finish within 1 s (its last line: half)"


def test_a_killed_guest_leaves_the_terminal_as_it_was(tmp_path: Path) -> None:
    """With `-serial stdio` QEMU sets a terminal on its stdin raw; one killed
    at the timeout would leave it so. The runner gives QEMU no terminal."""
    require_program(QEMU_BINARY)
    kernel = _stopped_kernel(tmp_path)
    (tmp_path / "initrd").write_bytes(b"module")
    leader, terminal = pty.openpty()
    try:
        before = termios.tcgetattr(terminal)
        script = (
            "import sys; from pathlib import Path; from hvtune.vm.run import run_vm; from hvtune.vm.spec import VmSpec; "
            "assert run_vm(VmSpec(Path(sys.argv[1]), Path(sys.argv[2]), 'qemu64', 'tcg', memory=64, timeout=1)).timed_out"
        )
        command = [sys.executable, "-c", script, str(kernel), str(tmp_path / "initrd")]
        subprocess.run(command, stdin=terminal, check=True, timeout=120)
        assert termios.tcgetattr(terminal) == before
    finally:
        os.close(leader)
        os.close(terminal)


def test_qemus_refusal_as_it_prints_it(tmp_path: Path) -> None:
    require_program(QEMU_BINARY)
    kernel = _stopped_kernel(tmp_path)
    run = run_vm(VmSpec(kernel, kernel, "max,hv-nonsense", "tcg", memory=64, timeout=60))
    assert run.returncode == 1 and run.stdout == ""
    assert qemu_refusal(run.stderr) == (
        "can't apply global max-x86_64-cpu.hv-nonsense=on: Property 'max-x86_64-cpu.hv-nonsense' not found"
    )


_INIT = f"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc
/bin/busybox mount -t proc proc /proc
echo {BEGIN}
/bin/busybox cat /proc/cmdline
/bin/busybox grep -c ^processor /proc/cpuinfo
echo {END}
"""  # and then init exits: the kernel panics, and with panic=-1 and -no-reboot QEMU ends


def test_a_real_guest_with_its_own_payload(kernel: Path, tmp_path: Path) -> None:
    """The runner boots whatever initramfs it is given (here not the lab's)
    with the -cpu value of a configuration, and the console is read as the
    guest printed it: its part between markers, then its kernel's panic."""
    executable = stat.S_IFREG | 0o755
    files = [("bin", stat.S_IFDIR | 0o755, b""), ("bin/busybox", executable, find_busybox("test").read_bytes())]
    initramfs = tmp_path / "initramfs.gz"
    initramfs.write_bytes(gzip.compress(cpio_newc([*files, ("init", executable, _INIT.encode())]), compresslevel=1))
    spec = VmSpec(kernel, initramfs, CONFIG, "tcg", vcpus=1, memory=256, append=f"{BOOT_APPEND} hvtune.test=yes")
    run = run_vm(spec)
    assert run.returncode == 0 and not run.timed_out, run.stderr
    assert qemu_refusal(run.stderr) is None
    console = Console.read(run.stdout)
    assert console.between(BEGIN, END) == (spec.append, "1")
    panic = console.panic()
    assert panic is not None and panic.startswith("Kernel panic - not syncing: Attempted to kill init!")
