from __future__ import annotations

import os
from pathlib import Path

import pytest

from hvtune.errors import InputError
from hvtune.lab.kernel import fetch_kernel

from support.libvirt import Virsh, ensure_libvirtd
from support.matrix import agreement_table
from support.programs import require_program, under_ci
from support.qemu import QemuProbe
from support.sandbox import start_builds

# check and doctor judge on this machine's KVM unless told otherwise; the
# tests judge without a host unless they name one (or test that default), so
# that what they expect does not depend on the machine running them.
os.environ.setdefault("HVTUNE_HOST", "none")


@pytest.fixture(scope="session")
def qemu_binary() -> str:
    return require_program("qemu-system-x86_64")


@pytest.fixture(scope="session")
def qemu(qemu_binary: str) -> QemuProbe:
    return QemuProbe(qemu_binary)


@pytest.fixture(scope="session")
def virsh() -> Virsh:
    return Virsh(ensure_libvirtd())


@pytest.fixture(scope="session")
def kernel() -> Path:
    """A Linux kernel for the guests tests boot: Debian's cloud kernel,
    fetched into the cache once."""
    require_program("qemu-system-x86_64")
    try:
        return fetch_kernel()
    except InputError as error:
        if under_ci():
            pytest.fail(f"the lab's kernel could not be fetched: {error}")
        pytest.skip(f"no guest kernel: {error}")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start building the sandbox's missing stacks (CI), beside the tests
    that need none."""
    start_builds()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The release matrix's agreement table, when matrix tests ran."""
    lines = agreement_table()
    if lines:
        terminalreporter.section("agreement with the real programs, per Debian release")
        for line in lines:
            terminalreporter.write_line(line)
