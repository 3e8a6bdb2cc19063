"""Tricky -cpu strings: what hvtune makes of them, and that the real QEMU
makes the same.

Each row is a -cpu value and what hvtune must read from it: the values of
some properties, or REJECT. The first test holds hvtune to the table; the
second runs every row through qemu-system-x86_64 and demands agreement on
accept/reject and on every Hyper-V property read back over QMP.
"""

from __future__ import annotations

import pytest

from hvtune.errors import InputError
from hvtune.formats.qemu import parse_cpu

from support.agreement import assert_agrees

REJECT = "reject"

TRICKY: list[tuple[str, object]] = [
    # bare names and boolean words (exact, case-sensitive)
    ("qemu64,hv-relaxed", {"hv-relaxed": True}),
    ("qemu64,hv-relaxed=on", {"hv-relaxed": True}),
    ("qemu64,hv-relaxed=yes", {"hv-relaxed": True}),
    ("qemu64,hv-relaxed=true", {"hv-relaxed": True}),
    ("qemu64,hv-relaxed=y", {"hv-relaxed": True}),
    ("qemu64,hv-relaxed=off", {"hv-relaxed": False}),
    ("qemu64,hv-relaxed=no", {"hv-relaxed": False}),
    ("qemu64,hv-relaxed=false", {"hv-relaxed": False}),
    ("qemu64,hv-relaxed=n", {"hv-relaxed": False}),
    ("qemu64,hv-relaxed=On", REJECT),
    ("qemu64,hv-relaxed=ON", REJECT),
    ("qemu64,hv-relaxed=1", REJECT),
    ("qemu64,hv-relaxed=0", REJECT),
    ("qemu64,hv-relaxed=", REJECT),
    ("qemu64,hv-relaxed=on=off", REJECT),
    # underscores become dashes in names only
    ("qemu64,hv_relaxed", {"hv-relaxed": True}),
    ("qemu64,hv_stimer_direct=off", {"hv-stimer-direct": False}),
    ("qemu64,hv_vendor_id=my_vendor", {"hv-vendor-id": "my_vendor"}),
    ("qemu64,hv_version_id_build=0x10", {"hv-version-id-build": 16}),
    # names are case-sensitive; unknown hv-* names are refused
    ("qemu64,HV-RELAXED", REJECT),
    ("qemu64,Hv-Relaxed=on", REJECT),
    ("qemu64,hv-stimmer", REJECT),
    ("qemu64,hv-foo=on", REJECT),
    ("qemu64,x-hv-foo=on", REJECT),
    # the legacy +feat/-feat form: no '_' conversion, applied last, '-' wins
    ("qemu64,+hv-relaxed", {"hv-relaxed": True}),
    ("qemu64,+hv_relaxed", REJECT),
    ("qemu64,-hv_relaxed", REJECT),
    ("qemu64,-hv-relaxed", {"hv-relaxed": False}),
    ("qemu64,hv-relaxed=off,+hv-relaxed", {"hv-relaxed": True}),
    ("qemu64,+hv-relaxed,hv-relaxed=off", {"hv-relaxed": True}),
    ("qemu64,hv-relaxed=on,-hv-relaxed", {"hv-relaxed": False}),
    ("qemu64,+hv-relaxed,-hv-relaxed", {"hv-relaxed": False}),
    ("qemu64,-hv-relaxed,+hv-relaxed", {"hv-relaxed": False}),
    ("qemu64,+hv-spinlocks", REJECT),
    ("qemu64,-hv-vendor-id", REJECT),
    ("qemu64,+hv-no-nonarch-coresharing", REJECT),
    ("qemu64,+hv-vpindex", {"hv-vpindex": True}),
    # later duplicates win, but every value must be valid
    ("qemu64,hv-relaxed=on,hv-relaxed=off", {"hv-relaxed": False}),
    ("qemu64,hv-spinlocks=0x1fff,hv-spinlocks=0xfff", {"hv-spinlocks": 4095}),
    ("qemu64,hv-relaxed=1,hv-relaxed=on", REJECT),
    # empty pieces are skipped
    ("qemu64,,hv-relaxed,,", {"hv-relaxed": True}),
    # integers: C base 0 within the property's type
    ("qemu64,hv-spinlocks=0x1fff", {"hv-spinlocks": 8191}),
    ("qemu64,hv-spinlocks=0X1FFF", {"hv-spinlocks": 8191}),
    ("qemu64,hv-spinlocks=8191", {"hv-spinlocks": 8191}),
    ("qemu64,hv-spinlocks=010", {"hv-spinlocks": 8}),
    ("qemu64,hv-spinlocks=0", {"hv-spinlocks": 0}),
    ("qemu64,hv-spinlocks=0xffffffff", {"hv-spinlocks": 0xFFFFFFFF}),
    ("qemu64,hv-spinlocks=+12", {"hv-spinlocks": 12}),
    ("qemu64,hv-spinlocks= 12", {"hv-spinlocks": 12}),
    ("qemu64,hv-spinlocks=-0", {"hv-spinlocks": 0}),
    ("qemu64,hv-spinlocks=-1", REJECT),
    ("qemu64,hv-spinlocks=12 ", REJECT),
    ("qemu64,hv-spinlocks=0x100000000", REJECT),
    ("qemu64,hv-spinlocks=4294967296", REJECT),
    ("qemu64,hv-spinlocks=99999999999999999999999", REJECT),
    ("qemu64,hv-spinlocks=8k", REJECT),
    ("qemu64,hv-spinlocks=08", REJECT),
    ("qemu64,hv-spinlocks=0x", REJECT),
    ("qemu64,hv-spinlocks=1_000", REJECT),
    ("qemu64,hv-spinlocks=", REJECT),
    ("qemu64,hv-spinlocks", REJECT),
    ("qemu64,hv-version-id-major=0xffff", {"hv-version-id-major": 0xFFFF}),
    ("qemu64,hv-version-id-major=0x10000", REJECT),
    ("qemu64,hv-version-id-sbranch=255", {"hv-version-id-sbranch": 255}),
    ("qemu64,hv-version-id-sbranch=256", REJECT),
    ("qemu64,x-hv-max-vps=-1", {"x-hv-max-vps": -1}),
    ("qemu64,x-hv-max-vps=0x40", {"x-hv-max-vps": 64}),
    ("qemu64,x-hv-max-vps=0x80000000", REJECT),
    # strings keep everything but commas
    ("qemu64,hv-vendor-id=KVM Hv", {"hv-vendor-id": "KVM Hv"}),
    ("qemu64,hv-vendor-id=", {"hv-vendor-id": ""}),
    ("qemu64,hv-vendor-id=a=b", {"hv-vendor-id": "a=b"}),
    ("qemu64,hv-vendor-id=abcdefghijklmnop", {"hv-vendor-id": "abcdefghijklmnop"}),
    # on/off/auto, and a bare name meaning on
    ("qemu64,hv-no-nonarch-coresharing", {"hv-no-nonarch-coresharing": "on"}),
    ("qemu64,hv-no-nonarch-coresharing=auto", {"hv-no-nonarch-coresharing": "auto"}),
    ("qemu64,hv-no-nonarch-coresharing=maybe", REJECT),
    ("qemu64,hv-no-nonarch-coresharing=Auto", REJECT),
    # the only QOM alias
    ("qemu64,hv-apicv", {"hv-avic": True}),
    ("qemu64,hv_apicv=off", {"hv-avic": False}),
    ("qemu64,+hv-apicv", {"hv-avic": True}),
    # neighbours
    ("qemu64,kvm=off", {"kvm": False}),
    ("qemu64,-kvm", {"kvm": False}),
    ("qemu64,KVM=off", REJECT),
    ("qemu64,kvm=0", REJECT),
    ("qemu64,tsc-frequency=2500000000", {"tsc-frequency": 2500000000}),
    ("qemu64,tsc-frequency=0x100", {"tsc-frequency": 256}),
    ("qemu64,tsc-frequency=-1", REJECT),
    ("qemu64,tsc-freq=2.5G", {"tsc-frequency": 2500000000}),
    ("qemu64,tsc_freq=2G", {"tsc-frequency": 2000000000}),
    ("qemu64,tsc-freq=1.5k", {"tsc-frequency": 1500}),
    ("qemu64,tsc-freq=2600m", {"tsc-frequency": 2600000000}),
    ("qemu64,tsc-freq=2400000000", {"tsc-frequency": 2400000000}),
    ("qemu64,tsc-freq=2.5", REJECT),
    ("qemu64,tsc-freq=-2G", REJECT),
    ("qemu64,tsc-freq=2Gz", REJECT),
    ("qemu64,tsc-freq=1.5e3k", REJECT),
    ("qemu64,+tsc-frequency", REJECT),
    ("max,migratable=no", {"migratable": False}),
    ("qemu64,migratable=no", REJECT),
    # other tokens are not hvtune's business and are kept
    ("qemu64,l3-cache=on,+lahf_lm,-sep,hv-relaxed", {"hv-relaxed": True}),
]


def _read(cpu: str) -> object:
    try:
        config = parse_cpu(cpu).config
    except InputError:
        return REJECT
    return config


@pytest.mark.parametrize(("cpu", "expected"), TRICKY, ids=[cpu for cpu, _ in TRICKY])
def test_hvtune_reads_tricky_strings(cpu: str, expected: object) -> None:
    result = _read(cpu)
    if expected == REJECT:
        assert result == REJECT, f"{cpu!r} should be refused"
        return
    assert result != REJECT, f"{cpu!r} should be accepted"
    for name, value in expected.items():  # type: ignore[attr-defined]
        assert result.get(name) == value  # type: ignore[attr-defined]


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", [cpu for cpu, _ in TRICKY])
def test_qemu_agrees_on_tricky_strings(qemu, cpu: str) -> None:  # type: ignore[no-untyped-def]
    assert_agrees(qemu, cpu)


def test_refusals_name_the_token_and_suggest_the_right_spelling() -> None:
    with pytest.raises(InputError) as caught:
        parse_cpu("host,hv-relaxed,HV-VAPIC", source="--cpu")
    assert str(caught.value) == (
        "--cpu: -cpu token 3 'HV-VAPIC': Property 'host-x86_64-cpu.HV-VAPIC' not found; "
        "names are case-sensitive: write hv-vapic"
    )
    with pytest.raises(InputError, match=r"write \+hv-relaxed"):
        parse_cpu("host,+hv_relaxed")
    with pytest.raises(InputError, match="did you mean hv-stimer"):
        parse_cpu("host,hv-stimmer")
    with pytest.raises(InputError, match=r"'hv-spinlocks=8k'.*expects uint64"):
        parse_cpu("host,hv-spinlocks=8k")


def test_ambiguous_mix_is_reported_as_qemu_warns() -> None:
    # QEMU warns only when the +/- form comes before name=value.
    assert parse_cpu("qemu64,-hv-relaxed,hv-relaxed=on").ambiguous == ("hv-relaxed",)
    assert parse_cpu("qemu64,hv-relaxed=on,-hv-relaxed").ambiguous == ()


@pytest.mark.qemu
def test_qemu_warns_about_the_same_ambiguity(qemu) -> None:  # type: ignore[no-untyped-def]
    outcome = qemu.run("qemu64,-hv-relaxed,hv-relaxed=on", ["hv-relaxed"])
    assert any("Ambiguous CPU model string" in warning for warning in outcome.warnings)
    assert not any("Ambiguous" in w for w in qemu.run("qemu64,hv-relaxed=on,-hv-relaxed", []).warnings)
