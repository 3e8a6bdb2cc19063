"""What this host's KVM says about Hyper-V emulation, asked through
/dev/kvm with read-only ioctls (pure Python, no helper binary).

The probe asks what QEMU asks, in the same order: the API version, every
Hyper-V capability and a few related ones (KVM_CHECK_EXTENSION), then the
Hyper-V CPUID leaves KVM can emulate (KVM_GET_SUPPORTED_HV_CPUID) as a
system ioctl when KVM_CAP_SYS_HYPERV_CPUID says it may, else on a temporary
VM and vCPU, and the Hyper-V MSRs KVM saves and restores
(KVM_GET_MSR_INDEX_LIST), which QEMU's legacy path reads on kernels without
the CPUID ioctl. Nothing is changed: the temporary VM is closed at once.

Whatever the host does (no /dev/kvm, permission denied, EINVAL or E2BIG,
KVM variants such as PVM), the probe returns facts and plain statements of
what failed; it never raises for the host's sake.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from hvtune.cpuid import REGISTERS_SIZE, Leaves, Registers, unpack_registers

# Request numbers for x86_64 (KVMIO = 0xAE; include/uapi/linux/kvm.h).
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_GET_MSR_INDEX_LIST = 0xC004AE02
KVM_CHECK_EXTENSION = 0xAE03
KVM_CREATE_VCPU = 0xAE41
KVM_CREATE_IRQCHIP = 0xAE60
KVM_GET_TSC_KHZ = 0xAEA3  # _IO(KVMIO, 0xa3), on a vCPU
KVM_GET_SUPPORTED_HV_CPUID = 0xC008AEC1
KVM_API_VERSION = 12

# Capabilities a Hyper-V probe reads, by their UAPI names.
CAPABILITIES: Mapping[str, int] = {
    "KVM_CAP_HYPERV": 44,
    "KVM_CAP_HYPERV_VAPIC": 45,
    "KVM_CAP_HYPERV_SPIN": 46,
    "KVM_CAP_HYPERV_TIME": 96,
    "KVM_CAP_HYPERV_SYNIC": 123,
    "KVM_CAP_HYPERV_SYNIC2": 148,
    "KVM_CAP_HYPERV_VP_INDEX": 149,
    "KVM_CAP_HYPERV_EVENTFD": 154,
    "KVM_CAP_HYPERV_TLBFLUSH": 155,
    "KVM_CAP_HYPERV_SEND_IPI": 161,
    "KVM_CAP_HYPERV_ENLIGHTENED_VMCS": 163,
    "KVM_CAP_HYPERV_CPUID": 167,
    "KVM_CAP_HYPERV_DIRECT_TLBFLUSH": 175,
    "KVM_CAP_SYS_HYPERV_CPUID": 191,
    "KVM_CAP_HYPERV_ENFORCE_CPUID": 199,
    # related: what the Hyper-V features lean on
    "KVM_CAP_IRQCHIP": 0,
    "KVM_CAP_TSC_CONTROL": 60,
    "KVM_CAP_GET_TSC_KHZ": 61,
    "KVM_CAP_MAX_VCPUS": 66,
    "KVM_CAP_SPLIT_IRQCHIP": 121,
    "KVM_CAP_X86_DISABLE_EXITS": 143,
    "KVM_CAP_NESTED_STATE": 157,
    "KVM_CAP_VM_TSC_CONTROL": 214,
}

# struct kvm_cpuid_entry2: function, index, flags, the four registers, 12 bytes of padding
_ENTRY_HEAD = struct.Struct("<3I")
_ENTRY_SIZE = _ENTRY_HEAD.size + REGISTERS_SIZE + 12
_HEADER = struct.Struct("<II")  # struct kvm_cpuid2: nent, padding
_FIRST_NENT = 16  # KVM returns 10 leaves today; grown on E2BIG
_MAX_NENT = 1024
_HYPERV_MSRS = range(0x40000000, 0x40010000)


@dataclass(frozen=True)
class KvmFacts:
    """KVM's answers, as raw as they came.

    ``device`` is ``present``, ``absent``, ``denied`` or ``error``; ``problem``
    says in one sentence what went wrong, if anything. ``capabilities`` maps
    UAPI names to KVM_CHECK_EXTENSION's answers. ``hv_cpuid`` maps CPUID
    leaves to their registers as KVM_GET_SUPPORTED_HV_CPUID reported them
    through ``hv_cpuid_source`` (``system`` or ``vcpu``; None when KVM offers
    neither), or is None with ``hv_cpuid_problem`` saying why. ``hyperv_msrs`` lists the Hyper-V MSRs in
    KVM_GET_MSR_INDEX_LIST (None when that failed). ``tsc_khz`` is a new
    vCPU's TSC frequency (KVM_GET_TSC_KHZ), which libvirt compares a
    domain's fixed TSC frequency with (None when not asked or failed)."""

    device: str
    problem: str | None = None
    api_version: int | None = None
    capabilities: Mapping[str, int] = field(default_factory=dict)
    hv_cpuid: Leaves | None = None
    hv_cpuid_source: str | None = None
    hv_cpuid_problem: str | None = None
    hyperv_msrs: tuple[int, ...] | None = None
    tsc_khz: int | None = None

    def capability(self, name: str) -> int:
        """KVM_CHECK_EXTENSION's answer (0 when not asked or failed)."""
        return self.capabilities.get(name, 0)


Ioctl = Callable[[int, int, "int | bytearray"], int]
T = TypeVar("T")


def _ioctl(fd: int, request: int, argument: int | bytearray) -> int:
    if isinstance(argument, bytearray):
        return int(fcntl.ioctl(fd, request, argument, True))  # filled in place
    return int(fcntl.ioctl(fd, request, argument))


def _failure(error: OSError) -> str:
    """An errno as people read it: its name and its text."""
    name = errno.errorcode.get(error.errno or 0, "error")
    return f"{name} ({error.strerror})" if error.strerror else name


def _decode_cpuid(buffer: bytearray) -> dict[int, Registers]:
    (count, _) = _HEADER.unpack_from(buffer)
    leaves: dict[int, Registers] = {}
    for position in range(count):
        offset = _HEADER.size + position * _ENTRY_SIZE
        function, _index, _flags = _ENTRY_HEAD.unpack_from(buffer, offset)
        leaves[function] = unpack_registers(buffer, offset + _ENTRY_HEAD.size)
    return leaves


def _supported_hv_cpuid(fd: int, ioctl: Ioctl) -> dict[int, Registers]:
    """KVM_GET_SUPPORTED_HV_CPUID on `fd`, growing the buffer on E2BIG
    (KVM does not say how many entries it needs)."""
    entries = _FIRST_NENT
    while True:
        buffer = bytearray(_HEADER.pack(entries, 0) + bytes(_ENTRY_SIZE * entries))
        try:
            ioctl(fd, KVM_GET_SUPPORTED_HV_CPUID, buffer)
        except OSError as error:
            if error.errno == errno.E2BIG and entries < _MAX_NENT:
                entries *= 2
                continue
            raise
        return _decode_cpuid(buffer)


def _hyperv_msrs(fd: int, ioctl: Ioctl) -> tuple[int, ...]:
    """The Hyper-V MSRs of KVM_GET_MSR_INDEX_LIST: asked with room for none,
    KVM answers E2BIG with the count, then the list."""
    header = bytearray(struct.pack("<I", 0))
    try:
        ioctl(fd, KVM_GET_MSR_INDEX_LIST, header)
    except OSError as error:
        if error.errno != errno.E2BIG:
            raise
    (count,) = struct.unpack("<I", header)
    buffer = bytearray(struct.pack("<I", count) + bytes(4 * count))
    ioctl(fd, KVM_GET_MSR_INDEX_LIST, buffer)
    (count,) = struct.unpack_from("<I", buffer)
    return tuple(m for m in struct.unpack_from(f"<{count}I", buffer, 4) if m in _HYPERV_MSRS)


class _Device:
    """An open /dev/kvm, and the temporary VM some questions need."""

    def __init__(self, fd: int, ioctl: Ioctl, close: Callable[[int], None]):
        self.fd, self.ioctl, self.close = fd, ioctl, close

    def capabilities(self) -> tuple[dict[str, int], list[str]]:
        answers, failed = {}, []
        for name, number in CAPABILITIES.items():
            try:
                answers[name] = self.ioctl(self.fd, KVM_CHECK_EXTENSION, number)
            except OSError as error:
                failed.append(f"{name}: {_failure(error)}")
        return answers, failed

    def on_vcpu(self, question: Callable[[int, Ioctl], T]) -> T:
        """`question` asked of a vCPU, on a VM made for it and closed at
        once. An in-kernel irqchip first, as QEMU has one: KVM reports
        direct-mode synthetic timers only with it."""
        vm = self.ioctl(self.fd, KVM_CREATE_VM, 0)
        try:
            with contextlib.suppress(OSError):  # answered without it: only stimer-direct depends on it
                self.ioctl(vm, KVM_CREATE_IRQCHIP, 0)
            vcpu = self.ioctl(vm, KVM_CREATE_VCPU, 0)
            try:
                return question(vcpu, self.ioctl)
            finally:
                self.close(vcpu)
        finally:
            self.close(vm)

    def vcpu_hv_cpuid(self) -> dict[int, Registers]:
        """The vCPU form of KVM_GET_SUPPORTED_HV_CPUID."""
        return self.on_vcpu(_supported_hv_cpuid)

    def tsc_khz(self) -> int | None:
        """A new vCPU's TSC frequency in kHz (None when KVM cannot say)."""
        try:
            khz = self.on_vcpu(lambda vcpu, ioctl: ioctl(vcpu, KVM_GET_TSC_KHZ, 0))
        except OSError:
            return None
        return khz if khz > 0 else None


def _hv_cpuid(
    device: _Device, capabilities: Mapping[str, int]
) -> tuple[dict[int, Registers] | None, str | None, str | None]:
    """(leaves, how they were asked for, what failed) as QEMU would get them:
    the ioctl form the capabilities allow, or none (QEMU's legacy path)."""
    ask: Callable[[], dict[int, Registers]]
    if capabilities.get("KVM_CAP_SYS_HYPERV_CPUID", 0) > 0:
        source, ask = "system", lambda: _supported_hv_cpuid(device.fd, device.ioctl)
    elif capabilities.get("KVM_CAP_HYPERV_CPUID", 0) > 0:
        source, ask = "vcpu", device.vcpu_hv_cpuid
    else:
        return None, None, "no KVM_GET_SUPPORTED_HV_CPUID (neither KVM_CAP_SYS_HYPERV_CPUID nor KVM_CAP_HYPERV_CPUID)"
    try:
        return ask(), source, None
    except OSError as error:
        return None, source, f"KVM_GET_SUPPORTED_HV_CPUID ({source} ioctl) failed: {_failure(error)}"


def probe_kvm(
    path: str = "/dev/kvm",
    *,
    ioctl: Ioctl = _ioctl,
    open_device: Callable[[str, int], int] = os.open,
    close: Callable[[int], None] = os.close,
) -> KvmFacts:
    """Ask KVM what it can emulate. The callables are the system's; tests
    pass their own to make the host fail in each way a real one can."""
    try:
        fd = open_device(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return KvmFacts("absent", f"{path} does not exist: KVM is not available on this host")
    except PermissionError:
        return KvmFacts("denied", f"{path}: permission denied (run as root or join the group that owns it)")
    except OSError as error:
        return KvmFacts("error", f"{path} cannot be opened: {_failure(error)}")
    device = _Device(fd, ioctl, close)
    try:
        try:
            version = ioctl(fd, KVM_GET_API_VERSION, 0)
        except OSError as error:
            return KvmFacts("error", f"{path} does not answer KVM_GET_API_VERSION: {_failure(error)}")
        if version != KVM_API_VERSION:
            problem = f"KVM API version {version}, not {KVM_API_VERSION}: this is not a KVM hvtune can read"
            return KvmFacts("error", problem, api_version=version)
        capabilities, failed = device.capabilities()
        leaves, source, cpuid_problem = _hv_cpuid(device, capabilities)
        msrs: tuple[int, ...] | None = None
        try:
            msrs = _hyperv_msrs(fd, ioctl)
        except OSError as error:
            failed.append(f"KVM_GET_MSR_INDEX_LIST: {_failure(error)}")
        tsc_khz = device.tsc_khz() if capabilities.get("KVM_CAP_GET_TSC_KHZ", 0) > 0 else None
        return KvmFacts(
            "present", "; ".join(failed) or None, version, capabilities, leaves, source, cpuid_problem, msrs, tsc_khz
        )
    finally:
        close(fd)
