"""Numbers in domain XML: hvtune reads exactly what the real libvirt reads
(bases, signs, blanks, Unicode digits, sizes), and refuses the rest with
libvirt's message. The judge is `virsh domxml-to-native` on a real libvirtd."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hvtune.errors import InputError
from hvtune.formats.libvirt import parse_text
from hvtune.formats.reading import Reading

from support.domains import domain
from support.libvirt import Native, Virsh

# Characters C and Python disagree on, or that a parser might take as digits.
ALPHABET = " \t+-0123456789xXabcdefABCDEF_.٣٨²¹ⅷ０"


def _number_texts() -> st.SearchStrategy[str]:
    written = st.integers(0, 2**66).flatmap(
        lambda n: st.sampled_from([str(n), hex(n), f"0{n:o}", f"+{n}", f" {n}", f"-{n}", f"{n} ", f"00{n}"])
    )
    return st.one_of(written, st.text(ALPHABET, max_size=24))


@dataclass(frozen=True)
class Judged:
    """What libvirt and hvtune made of one domain, when libvirt read the
    number (a refusal of the number itself is compared by `judge`)."""

    native: Native
    reading: Reading | None
    refusal: str | None


def judge(virsh: Virsh, xml: str) -> Judged | None:
    """None when libvirt refuses the number, after checking that hvtune
    refuses it with libvirt's message; else both readings."""
    native = virsh.to_native(xml)
    try:
        reading, refusal = parse_text(xml, source="d"), None
    except InputError as error:
        reading, refusal = None, error.problem
    if native.error and "Invalid value for attribute" in native.error:
        assert refusal == native.error.removeprefix("XML error: ")
        return None
    return Judged(native, reading, refusal)


NUMBERS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.libvirt
@NUMBERS
@given(text=_number_texts())
@example(text="1" * 5000)
@example(text="0x1fff")
@example(text="08191")
@example(text="٨١٩١")
def test_spinlock_retries(virsh: Virsh, text: str) -> None:
    xml = domain(f"<hyperv><spinlocks state='on' retries={quoteattr(text)}/></hyperv>")
    judged = judge(virsh, xml)
    if judged is None:
        return
    native, reading = judged.native, judged.reading
    assert reading is not None, judged
    retries = reading.config.get("hv-spinlocks")
    assert isinstance(retries, int)
    if native.cpu is not None:
        assert f"hv-spinlocks=0x{retries:x}" in native.cpu
    else:  # libvirt refuses a count below 4095 as a rule, after reading it
        assert native.error is not None and "at least 4095" in native.error and retries < 4095


@pytest.mark.libvirt
@NUMBERS
@given(text=_number_texts())
@example(text="02600000000")
@example(text="18446744073709551616")
def test_timer_frequency(virsh: Virsh, text: str) -> None:
    xml = domain(clock=f"<timer name='tsc' frequency={quoteattr(text)}/>")
    judged = judge(virsh, xml)
    if judged is None:
        return
    native, reading = judged.native, judged.reading
    # libvirt read it: it either built -cpu or compared it with the host's TSC
    found = re.search(r"tsc-frequency=(\d+)", native.cpu or "") or re.search(
        r"Requested TSC frequency (\d+) Hz", native.error or ""
    )
    read = int(found.group(1)) if found else 0
    if read > 2**63 - 1:  # beyond QEMU's int64 tsc-frequency: hvtune refuses it already
        assert judged.refusal is not None and "int64" in judged.refusal
        return
    assert reading is not None, judged
    assert reading.config.get("tsc-frequency") == (read or None)


@pytest.mark.libvirt
@NUMBERS
@given(text=_number_texts())
@example(text="052")
@example(text="-1")
@example(text="4294967296")
def test_maxphysaddr_bits(virsh: Virsh, text: str) -> None:
    xml = domain(cpu=f"<cpu mode='host-passthrough'><maxphysaddr mode='emulate' bits={quoteattr(text)}/></cpu>")
    judged = judge(virsh, xml)
    if judged is None:
        return
    native, reading = judged.native, judged.reading
    assert reading is not None and reading.document is not None and reading.document.cpu is not None, judged
    assert reading.document.cpu.maxphysaddr is not None
    bits = reading.document.cpu.maxphysaddr[1]
    found = re.search(r"phys-bits=(\d+)", native.cpu or "")
    if found:
        assert bits == int(found.group(1))
    else:  # read, then refused as more than the host has
        assert native.error is not None and "address bits" in native.error
