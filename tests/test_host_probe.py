"""The KVM probe: real ioctls on this machine's /dev/kvm, and every way a
strange host can fail, injected."""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import pytest

from hvtune.cpuid import Registers
from hvtune.host import kvm
from hvtune.host.kvm import CAPABILITIES, KvmFacts, probe_kvm
from hvtune.host.profile import HostProfile
from hvtune.host.sysfs import SystemFacts, read_system

from support.kvm_records import ALL_HYPERV, INTEL_NESTED_LEAVES
from support.programs import under_ci


def _kvm_device() -> str:
    if not os.path.exists("/dev/kvm"):
        if under_ci():
            pytest.fail("/dev/kvm is missing on the CI machine")
        pytest.skip("no /dev/kvm here")
    return "/dev/kvm"


# --- the real thing ----------------------------------------------------------


def test_the_probe_asks_this_machines_kvm() -> None:
    facts = probe_kvm(_kvm_device())
    assert facts.device == "present", facts.problem
    assert facts.api_version == 12
    assert set(facts.capabilities) == set(CAPABILITIES)
    assert all(isinstance(value, int) and value >= 0 for value in facts.capabilities.values())
    assert facts.capability("KVM_CAP_IRQCHIP") > 0  # every x86 KVM has an in-kernel irqchip
    assert facts.hyperv_msrs is not None and all(0x40000000 <= m < 0x40010000 for m in facts.hyperv_msrs)
    if facts.capability("KVM_CAP_HYPERV_CPUID") or facts.capability("KVM_CAP_SYS_HYPERV_CPUID"):
        assert facts.hv_cpuid is not None and facts.hv_cpuid[0x40000001][0] == 0x31237648  # "Hv#1"
    else:
        assert facts.hv_cpuid is None and facts.hv_cpuid_source is None


def test_the_system_hv_cpuid_ioctl_reaches_the_kernel() -> None:
    """The request number and buffer layout are right: KVM either fills the
    leaves or says it has no such ioctl (EINVAL), never EFAULT or ENOTTY."""
    fd = os.open(_kvm_device(), os.O_RDWR | os.O_CLOEXEC)
    try:
        has_it = kvm._ioctl(fd, kvm.KVM_CHECK_EXTENSION, CAPABILITIES["KVM_CAP_SYS_HYPERV_CPUID"]) > 0
        try:
            leaves = kvm._supported_hv_cpuid(fd, kvm._ioctl)
        except OSError as error:
            assert not has_it and error.errno == errno.EINVAL
        else:
            assert has_it and leaves[0x40000001][0] == 0x31237648
    finally:
        os.close(fd)


def test_this_machine_as_a_profile() -> None:
    profile = HostProfile("here", "test", read_system(), probe_kvm(_kvm_device()))
    assert profile.status.startswith("KVM present; Hyper-V emulation")
    assert profile.system.kernel == Path("/proc/sys/kernel/osrelease").read_text().strip()


# --- a KVM that answers from a record, and fails on demand ------------------------


class RecordedKvm:
    """Answers KVM's ioctls with recorded values, laid out as the kernel lays
    them out; `failures` maps a request to the errno it fails with."""

    def __init__(
        self,
        capabilities: Mapping[str, int] | None = None,
        leaves: Mapping[int, Registers] | None = None,
        msrs: tuple[int, ...] = (),
        *,
        api: int = 12,
        failures: Mapping[int, int] | None = None,
        open_error: OSError | None = None,
    ):
        self.capabilities = {CAPABILITIES[name]: value for name, value in (capabilities or {}).items()}
        self.leaves, self.msrs, self.api = leaves or {}, msrs, api
        self.failures = dict(failures or {})
        self.open_error = open_error
        self.open_fds: set[int] = set()
        self.asked: list[int] = []
        self._next = 10

    def open(self, path: str, flags: int) -> int:
        if self.open_error:
            raise self.open_error
        return self._fd()

    def _fd(self) -> int:
        self._next += 1
        self.open_fds.add(self._next)
        return self._next

    def close(self, fd: int) -> None:
        self.open_fds.remove(fd)

    def ioctl(self, fd: int, request: int, argument: int | bytearray) -> int:
        self.asked.append(request)
        if request in self.failures:
            number = self.failures[request]
            raise OSError(number, os.strerror(number))
        if request == kvm.KVM_GET_API_VERSION:
            return self.api
        if request == kvm.KVM_CHECK_EXTENSION:
            assert isinstance(argument, int)
            return self.capabilities.get(argument, 0)
        if request in (kvm.KVM_CREATE_VM, kvm.KVM_CREATE_VCPU):
            return self._fd()
        if request == kvm.KVM_CREATE_IRQCHIP:
            return 0
        assert isinstance(argument, bytearray)
        if request == kvm.KVM_GET_SUPPORTED_HV_CPUID:
            return self._cpuid(argument)
        if request == kvm.KVM_GET_MSR_INDEX_LIST:
            return self._msr_list(argument)
        raise OSError(errno.ENOTTY, os.strerror(errno.ENOTTY))

    def _cpuid(self, buffer: bytearray) -> int:
        (room,) = struct.unpack_from("<I", buffer)
        if room < len(self.leaves):
            raise OSError(errno.E2BIG, os.strerror(errno.E2BIG))  # KVM does not say how many it needs
        struct.pack_into("<I", buffer, 0, len(self.leaves))
        for position, (leaf, registers) in enumerate(sorted(self.leaves.items())):
            struct.pack_into("<7I", buffer, 8 + 40 * position, leaf, 0, 0, *registers)
        return 0

    def _msr_list(self, buffer: bytearray) -> int:
        (room,) = struct.unpack_from("<I", buffer)
        struct.pack_into("<I", buffer, 0, len(self.msrs))
        if room < len(self.msrs):
            raise OSError(errno.E2BIG, os.strerror(errno.E2BIG))
        struct.pack_into(f"<{len(self.msrs)}I", buffer, 4, *self.msrs)
        return 0

    def probe(self) -> KvmFacts:
        facts = probe_kvm("/dev/kvm", ioctl=self.ioctl, open_device=self.open, close=self.close)
        assert not self.open_fds, "the probe left file descriptors open"
        return facts


def profile(facts: KvmFacts) -> HostProfile:
    return HostProfile("recorded", "test", SystemFacts(), facts)


def test_system_ioctl_when_kvm_offers_it() -> None:
    recorded = RecordedKvm(ALL_HYPERV, INTEL_NESTED_LEAVES, (0x40000000, 0x40000001, 0x40000002, 0x80000000 - 1))
    facts = recorded.probe()
    assert facts.hv_cpuid == INTEL_NESTED_LEAVES and facts.hv_cpuid_source == "system"
    assert facts.hyperv_msrs == (0x40000000, 0x40000001, 0x40000002)  # only the Hyper-V range
    assert kvm.KVM_CREATE_VM not in recorded.asked  # no VM needed


def test_e2big_grows_the_buffer_until_the_leaves_fit() -> None:
    many = {0x40000000 + i: (i, 0, 0, 0) for i in range(40)}
    facts = RecordedKvm(ALL_HYPERV, many).probe()
    assert facts.hv_cpuid == many


def test_e2big_for_ever_is_a_plain_statement() -> None:
    many = {0x40000000 + i: (i, 0, 0, 0) for i in range(5000)}
    facts = RecordedKvm(ALL_HYPERV, many).probe()
    assert facts.hv_cpuid is None and facts.hv_cpuid_source == "system"
    assert facts.hv_cpuid_problem == "KVM_GET_SUPPORTED_HV_CPUID (system ioctl) failed: E2BIG (Argument list too long)"
    assert profile(facts).status.startswith("KVM present; Hyper-V emulation present but unreadable: ")


def test_einval_from_the_cpuid_ioctl() -> None:
    facts = RecordedKvm(ALL_HYPERV, failures={kvm.KVM_GET_SUPPORTED_HV_CPUID: errno.EINVAL}).probe()
    assert facts.hv_cpuid is None
    assert facts.hv_cpuid_problem == "KVM_GET_SUPPORTED_HV_CPUID (system ioctl) failed: EINVAL (Invalid argument)"
    assert not any(profile(facts).support.values())


def test_vcpu_ioctl_on_a_temporary_vm_before_5_11() -> None:
    capabilities = {**ALL_HYPERV, "KVM_CAP_SYS_HYPERV_CPUID": 0}
    recorded = RecordedKvm(capabilities, INTEL_NESTED_LEAVES)
    facts = recorded.probe()
    assert facts.hv_cpuid_source == "vcpu" and facts.hv_cpuid == INTEL_NESTED_LEAVES
    assert recorded.asked.count(kvm.KVM_CREATE_VM) == 1 and kvm.KVM_CREATE_IRQCHIP in recorded.asked


def test_a_vm_that_cannot_be_created() -> None:
    capabilities = {**ALL_HYPERV, "KVM_CAP_SYS_HYPERV_CPUID": 0}
    facts = RecordedKvm(capabilities, INTEL_NESTED_LEAVES, failures={kvm.KVM_CREATE_VM: errno.ENOMEM}).probe()
    assert facts.hv_cpuid is None
    assert facts.hv_cpuid_problem == "KVM_GET_SUPPORTED_HV_CPUID (vcpu ioctl) failed: ENOMEM (Cannot allocate memory)"


def test_no_hyperv_like_a_pvm_host() -> None:
    facts = RecordedKvm({"KVM_CAP_IRQCHIP": 1}).probe()
    assert facts.device == "present" and facts.hv_cpuid is None and facts.hv_cpuid_source is None
    assert profile(facts).status == "KVM present; Hyper-V emulation not available (KVM_CAP_HYPERV is 0)"


@pytest.mark.parametrize(
    ("error", "device", "problem"),
    [
        (
            FileNotFoundError(errno.ENOENT, "No such file"),
            "absent",
            "/dev/kvm does not exist: KVM is not available on this host",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied"),
            "denied",
            "/dev/kvm: permission denied (run as root or join the group that owns it)",
        ),
        (
            OSError(errno.ENXIO, "No such device or address"),
            "error",
            "/dev/kvm cannot be opened: ENXIO (No such device or address)",
        ),
    ],
)
def test_a_device_that_will_not_open(error: OSError, device: str, problem: str) -> None:
    facts = RecordedKvm(open_error=error).probe()
    assert (facts.device, facts.problem) == (device, problem)
    assert profile(facts).status == f"no usable KVM: {problem}"


def test_an_api_that_is_not_kvms() -> None:
    assert RecordedKvm(api=11).probe().problem == "KVM API version 11, not 12: this is not a KVM hvtune can read"
    facts = RecordedKvm(failures={kvm.KVM_GET_API_VERSION: errno.ENOTTY}).probe()
    assert facts.device == "error" and "ENOTTY" in (facts.problem or "")


def test_failing_capability_and_msr_questions_are_stated() -> None:
    facts = RecordedKvm(
        ALL_HYPERV,
        INTEL_NESTED_LEAVES,
        failures={kvm.KVM_CHECK_EXTENSION: errno.EINVAL, kvm.KVM_GET_MSR_INDEX_LIST: errno.EPERM},
    ).probe()
    assert facts.device == "present" and facts.capabilities == {} and facts.hyperv_msrs is None
    assert "KVM_CAP_HYPERV: EINVAL (Invalid argument)" in (facts.problem or "")
    assert (facts.problem or "").endswith("KVM_GET_MSR_INDEX_LIST: EPERM (Operation not permitted)")
