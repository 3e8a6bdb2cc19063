from __future__ import annotations

import pytest

from support.libvirt import Virsh, ensure_libvirtd
from support.programs import require_program
from support.qemu import QemuProbe


@pytest.fixture(scope="session")
def qemu_binary() -> str:
    return require_program("qemu-system-x86_64")


@pytest.fixture(scope="session")
def qemu(qemu_binary: str) -> QemuProbe:
    return QemuProbe(qemu_binary)


@pytest.fixture(scope="session")
def virsh() -> Virsh:
    return Virsh(ensure_libvirtd())
