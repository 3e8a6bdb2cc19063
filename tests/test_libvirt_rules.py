"""libvirt's own rules, each at the releases that apply it, with libvirt's
messages, in libvirt's order (the first error is the one virsh prints)."""

from __future__ import annotations

import subprocess

import pytest

from hvtune.catalog import load_catalog
from hvtune.checking import check_reading
from hvtune.findings import Finding, Severity
from hvtune.formats import read_text
from hvtune.formats.qemu import read_cpu_option

from support.domains import HYPERVCLOCK, domain, hyperv
from support.qemu import VPINDEX_REFUSED, QemuProbe


def findings(xml: str, release: str) -> list[Finding]:
    return list(check_reading(read_text(xml, source="d.xml"), libvirt_version=release).findings)


def libvirt_errors(xml: str, release: str) -> list[str]:
    """The messages of libvirt's refusals, without the release prefix."""
    prefix = f"libvirt {release} refuses the domain: "
    found = [f for f in findings(xml, release) if f.refused_by == "libvirt"]
    assert all(f.severity is Severity.ERROR and f.message.startswith(prefix) for f in found)
    return [f.message.removeprefix(prefix) for f in found]


def codes(xml: str, release: str, severity: Severity) -> list[str]:
    return [f.code for f in findings(xml, release) if f.severity is severity]


COMPLETE = hyperv(
    "relaxed",
    "vapic",
    "spinlocks retries='8191'",
    "vpindex",
    "runtime",
    "synic",
    "stimer",
    "frequencies",
    "tlbflush",
    "ipi",
)


def test_a_complete_domain_is_clean_everywhere() -> None:
    for release in ("8.0.0", "9.0.0", "11.9.0", "12.5.0"):
        assert findings(domain(COMPLETE, HYPERVCLOCK), release) == []


@pytest.mark.parametrize(
    ("element", "refused_before", "accepted_from"),
    [
        ("emsr_bitmap", "10.6.0", "10.7.0"),
        ("xmm_input", "9.0.0", "10.7.0"),
        ("avic", "8.9.0", "8.10.0"),
        ("ipi", "4.9.0", "4.10.0"),
    ],
)
def test_an_element_older_releases_do_not_know(element: str, refused_before: str, accepted_from: str) -> None:
    xml = domain(hyperv("vapic", "vpindex", element))
    assert libvirt_errors(xml, refused_before) == [
        f"unsupported configuration: unsupported HyperV Enlightenment feature: {element} (<{element}> needs libvirt {accepted_from})"
    ]
    assert libvirt_errors(xml, accepted_from) == []


def test_every_unknown_element_is_one_refusal_saying_what_libvirt_says_of_the_first() -> None:
    # libvirt stops at the first unknown child; the others are named in
    # the note, a few of them, however many there are
    names = [f"x{index}" for index in range(1000)]
    xml = domain(hyperv("relaxed", "vsm", *names, "vsm"))
    assert libvirt_errors(xml, "12.5.0") == [
        "unsupported configuration: unsupported HyperV Enlightenment feature: vsm"
        " (unknown too: <x0>, <x1>, <x2>, <x3>, <x4> and 995 more)"
    ]
    assert [f.said for f in findings(xml, "12.5.0") if f.refused_by == "libvirt"] == [
        "unsupported configuration: unsupported HyperV Enlightenment feature: vsm"
    ]


def test_unknown_elements_are_refused_and_a_newer_release_is_judged_as_the_newest_with_one_warning() -> None:
    xml = domain(hyperv("relaxed", "vsm"))
    refused = "unsupported configuration: unsupported HyperV Enlightenment feature: vsm"
    assert libvirt_errors(xml, "12.5.0") == [refused]
    newest = load_catalog().libvirt.newest
    later = findings(xml, "13.0.0")
    (warning,) = [f for f in later if f.code == "libvirt-newer-than-known"]
    assert warning.severity is Severity.WARNING and f"judged as {newest}" in warning.message
    assert [f.said for f in later if f.refused_by == "libvirt"] == [refused]
    assert not [f for f in findings(xml, newest) if f.code == "libvirt-newer-than-known"]


def test_spinlocks_retries_limits_and_when_they_became_optional() -> None:
    assert libvirt_errors(domain(hyperv("spinlocks retries='4094'")), "9.0.0") == [
        "XML error: HyperV spinlock retry count must be at least 4095"
    ]
    assert libvirt_errors(domain(hyperv("spinlocks retries='4095'")), "9.0.0") == []
    missing = domain(hyperv("spinlocks"))
    assert libvirt_errors(missing, "11.8.0") == [
        "XML error: Missing required attribute 'retries' in element 'spinlocks' (optional from 11.9.0)"
    ]
    assert libvirt_errors(missing, "11.9.0") == []
    # retries only count when the element is on
    assert libvirt_errors(domain(hyperv("spinlocks state='off' retries='1'")), "9.0.0") == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0123456789abc", "XML error: HyperV vendor_id value must not be more than 12 characters."),
        ("kvm,hv", "XML error: HyperV vendor_id value is invalid"),
    ],
)
def test_vendor_id_limits(value: str, problem: str) -> None:
    xml = domain(hyperv(f"vendor_id value='{value}'"))
    assert libvirt_errors(xml, "9.0.0") == [problem]
    assert libvirt_errors(domain(hyperv("vendor_id value='KVMKVMKVM'")), "9.0.0") == []
    assert libvirt_errors(domain(hyperv("vendor_id")), "9.0.0") == [
        "XML error: missing 'value' attribute for HyperV feature 'vendor_id'"
    ]


def test_the_vendor_id_fix_keeps_what_windows_reads() -> None:
    (finding,) = [
        f for f in findings(domain(hyperv("vendor_id value='0123456789abc'")), "9.0.0") if f.severity is Severity.ERROR
    ]
    assert (
        finding.code == "vendor-id-too-long"
        and finding.fix is not None
        and dict(finding.fix.values) == {"hv-vendor-id": "0123456789ab"}
    )


def test_children_under_passthrough() -> None:
    xml = domain(hyperv("relaxed", "stimer", mode="passthrough"))
    before, after = findings(xml, "10.0.0"), findings(xml, "11.0.0")
    assert (
        [f.code for f in before]
        == [f.code for f in after]
        == ["passthrough-not-migratable", "libvirt-passthrough-children"]  # migration before risk
    )
    assert all(f.severity is Severity.WARNING for f in before + after)
    assert "passes them to QEMU as well (from 11.0.0 it ignores them)" in before[1].message
    assert "libvirt 11.0.0 ignores them" in after[1].message
    assert before[1].fix is not None and set(before[1].fix.values) == {"hv-relaxed", "hv-stimer"}
    # before 11.0 libvirt still read the children: stimer without synic is QEMU's concern, not libvirt's parser
    assert libvirt_errors(xml, "10.0.0") == []


def test_host_model_by_release() -> None:
    plain = domain(hyperv(mode="host-model"))
    assert libvirt_errors(plain, "11.8.0") == [
        "XML error: Invalid value for attribute 'mode' in element 'hyperv': 'host-model'. (host-model needs libvirt 11.9.0)"
    ]
    assert findings(plain, "11.9.0") == []
    chosen = domain(hyperv("relaxed", mode="host-model"))
    assert codes(chosen, "12.0.0", Severity.WARNING) == ["libvirt-host-model-children-ignored"]
    assert codes(chosen, "12.1.0", Severity.WARNING) == []


def test_nested_children_by_release() -> None:
    direct = domain(hyperv("vpindex", "synic", "<stimer state='on'><direct state='on'/></stimer>"), HYPERVCLOCK)
    assert findings(direct, "9.0.0") == []
    assert codes(direct, "5.6.0", Severity.WARNING) == ["libvirt-ignored-child"]  # before <direct> existed
    flush = domain(
        hyperv("vapic", "vpindex", "<tlbflush state='on'><extended state='on'/><direct state='on'/></tlbflush>")
    )
    ignored = [f for f in findings(flush, "10.10.0") if f.code == "libvirt-ignored-child"]
    assert [f.feature for f in ignored] == ["hv-tlbflush-ext", "hv-tlbflush-direct"]
    assert findings(flush, "11.0.0") == []
    unknown = domain(hyperv("vpindex", "<tlbflush state='on'><sideways state='on'/></tlbflush>"))
    assert libvirt_errors(unknown, "11.0.0") == [
        "unsupported configuration: unsupported Hyper-V tlbflush feature: sideways"
    ]
    # children of a parent that is off are not read at all
    assert findings(domain(hyperv("<tlbflush state='off'><sideways state='on'/></tlbflush>")), "11.0.0") == []


def test_dependencies_from_11_9_in_libvirts_order() -> None:
    xml = domain(hyperv("relaxed", "synic", "stimer", "tlbflush", "ipi", "evmcs"))
    assert libvirt_errors(xml, "11.8.0") == []  # QEMU still refuses it: its findings come from the QEMU checks
    assert libvirt_errors(xml, "11.9.0") == [
        "unsupported configuration: 'stimer' hyperv feature requires 'hypervclock' timer",
        "unsupported configuration: 'tlbflush' hyperv feature requires 'vpindex' feature",
        "unsupported configuration: 'ipi' hyperv feature requires 'vpindex' feature",
        "unsupported configuration: 'evmcs' hyperv feature requires 'vapic' feature",
        "unsupported configuration: 'synic' hyperv feature requires 'vpindex' feature",
    ]
    assert "unsupported configuration: 'synic' hyperv feature requires 'vpindex' feature" not in libvirt_errors(
        xml, "12.0.0"
    )
    assert any(f.refused_by == "qemu" for f in findings(xml, "11.8.0"))


def test_dependency_fixes_complete_what_was_asked() -> None:
    xml = domain(hyperv("vpindex", "synic", "stimer"))
    (finding,) = [f for f in findings(xml, "12.0.0") if f.refused_by == "libvirt"]
    assert finding.fix is not None and dict(finding.fix.values) == {"hv-time": True}


def test_post_parse_and_validation_rules() -> None:
    assert libvirt_errors(domain(clock="<timer name='hypervclock' present='yes' tickpolicy='delay'/>"), "9.0.0") == [
        "unsupported configuration: timer hypervclock doesn't support setting of timer tickpolicy"
    ]
    assert libvirt_errors(domain(devices="<panic model='hyperv'/><panic model='hyperv'/>"), "9.0.0") == [
        "XML error: Multiple panic devices with model 'hyperv'"
    ]
    addressed = "<panic model='hyperv'><address type='isa' iobase='0x505'/></panic>"
    assert libvirt_errors(domain(devices=addressed), "9.0.0") == [
        "unsupported configuration: setting the panic device address is not supported for model 'hyperv'"
    ]
    arm = domain(hyperv("relaxed"), arch="aarch64", machine="virt")
    assert libvirt_errors(arm, "9.0.0") == [
        "unsupported configuration: Hyperv features are not supported for architecture 'aarch64' or machine type 'virt'"
    ]


def test_libvirts_limits_are_errors_for_libvirt_and_warnings_for_qemu() -> None:
    reading = read_cpu_option("host,hv-spinlocks=0x100,hv-vendor-id=0123456789abc")
    for target, severity in (("libvirt", Severity.ERROR), ("qemu", Severity.WARNING)):
        result = check_reading(reading, target=target)  # type: ignore[arg-type]
        limits = {
            f.code: f.severity for f in result.findings if f.code.endswith("-too-low") or f.code.endswith("-too-long")
        }
        assert limits == {"spinlocks-too-low": severity, "vendor-id-too-long": severity}


def test_a_tcg_domain_gets_no_enlightenment_and_no_dependency_check() -> None:
    tcg = domain(hyperv("relaxed", "synic", "stimer")).replace("type='kvm'", "type='qemu'", 1)
    found = findings(tcg, "9.0.0")
    assert [f.code for f in found] == ["hyperv-without-kvm"]
    assert found[0].severity is Severity.WARNING and "type='kvm'" in found[0].message
    with_vpindex = domain(hyperv("relaxed", "vpindex", "synic")).replace("type='kvm'", "type='qemu'", 1)
    # slower first (it runs unenlightened), then the risk; synic without stimer is moot under TCG
    codes = [f.code for f in findings(with_vpindex, "9.0.0")]
    assert codes[:2] == ["hyperv-without-kvm", "vpindex-under-tcg"] and "synic-without-stimer" not in codes
    # libvirt's own define-time rules do not care about the domain type
    assert "libvirt-dependency" in [f.code for f in findings(tcg, "11.9.0")]


@pytest.mark.qemu
def test_qemu_under_tcg_checks_no_dependency_and_old_releases_refuse_vpindex(qemu: QemuProbe) -> None:
    assert qemu.run("qemu64,hv-relaxed,hv-synic,hv-stimer", ["hv-stimer"]).accepted
    refused = qemu.run("qemu64,hv-vpindex", ["hv-vpindex"])
    version = subprocess.run([qemu.binary, "--version"], capture_output=True, text=True, check=True).stdout
    if tuple(int(n) for n in version.split()[3].split(".")[:2]) <= (7, 2):
        assert refused.error == VPINDEX_REFUSED


def test_passthrough_mode_before_libvirt_knew_it() -> None:
    from hvtune.converting import translate

    xml = domain(hyperv("relaxed", mode="passthrough"))
    reading = read_text(xml, source="d.xml")
    # from 7.9 libvirt writes values (catalog: renders_on_values); mode='passthrough' came in 8.0, with =on
    assert translate(reading, "qemu", libvirt_version="7.8.0") == "qemu64,hv-relaxed\n"  # the attribute ignored
    assert translate(reading, "qemu", libvirt_version="7.10.0") == "qemu64,hv-relaxed=on\n"
    assert translate(reading, "qemu", libvirt_version="8.0.0") == "qemu64,hv-passthrough=on,hv-relaxed=on\n"
    (ignored,) = [f for f in findings(xml, "7.10.0") if f.code == "libvirt-mode-unknown"]
    assert ignored.message.endswith("ignores it: the guest gets only the children listed")
