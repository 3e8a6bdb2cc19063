"""Recorded answers of real KVMs, for decoding tests."""

from __future__ import annotations

from hvtune.cpuid import Registers
from hvtune.host.kvm import CAPABILITIES

# What KVM_GET_SUPPORTED_HV_CPUID reports on an Intel host with nested on,
# as Linux 6.x's kvm_get_hv_cpuid() builds it (system ioctl, SMT possible).
INTEL_NESTED_LEAVES: dict[int, Registers] = {
    0x40000000: (0x40000082, 0x756E694C, 0x564B2078, 0x7648204D),
    0x40000001: (0x31237648, 0, 0, 0),
    0x40000002: (0x3839, 0xA0000, 0, 0),
    0x40000003: (0xAAFF, 0x100830, 0, 0x84D12),
    0x40000004: (0x4E2C, 0xFFF, 0, 0),
    0x40000005: (4096, 64, 0, 0),
    0x40000080: (0, 0x756E694C, 0x564B2078, 0x7648204D),
    0x40000081: (0x31235356, 0, 0, 0),
    0x40000082: (0x2, 0, 0, 0),
    0x4000000A: (0xA0101, 0x1, 0, 0),
}

# Every Hyper-V capability a current KVM reports as present.
ALL_HYPERV = {name: 1 for name in CAPABILITIES if "HYPERV" in name}
