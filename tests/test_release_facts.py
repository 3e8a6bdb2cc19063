"""The release facts the libvirt matrix (test_matrix_libvirt.py) found, each
pinned where it changes so a quick run keeps them: what each release writes
and refuses, machine types a QEMU lacks and libvirt's TSC check on a host's
facts. The matrix is the judge; these read the catalog's releases."""

from __future__ import annotations

from dataclasses import replace

from hvtune.catalog import load_catalog
from hvtune.checking import check_reading
from hvtune.converting import translate
from hvtune.findings import Finding
from hvtune.formats import read_text
from hvtune.host.profile_json import load_profile

from support.cli import run
from support.domains import HYPERVCLOCK, domain, hyperv

FACTS = load_catalog().libvirt


def _findings(xml: str, release: str, **context: object) -> list[Finding]:
    reading = read_text(xml, source="d.xml")
    return list(check_reading(reading, libvirt_version=release, **context).findings)  # type: ignore[arg-type]


def _refused(xml: str, release: str, **context: object) -> list[str | None]:
    return [f.said for f in _findings(xml, release, **context) if f.refused_by == "libvirt"]


def _cpu(xml: str, release: str) -> str:
    return translate(read_text(xml, source="d.xml"), "qemu", libvirt_version=release).strip()


def test_flags_are_bare_before_7_9_and_hv_crash_gains_on_in_12_8() -> None:
    xml = domain(
        hyperv("relaxed", "<stimer state='off'><direct state='on'/></stimer>"), devices="<panic model='hyperv'/>"
    )
    # 7.0 also writes the nested flag of an off <stimer> (nested_of_off_until)
    assert _cpu(xml, "7.0.0") == "qemu64,hv-relaxed,hv-stimer-direct,hv-crash"
    assert _cpu(xml, "7.1.0") == "qemu64,hv-relaxed,hv-stimer-direct,hv-crash"
    assert FACTS.nested_of_off_until == "7.2.0"
    assert _cpu(xml, "7.2.0") == "qemu64,hv-relaxed,hv-crash"
    assert _cpu(xml, "7.8.0") == "qemu64,hv-relaxed,hv-crash"
    assert FACTS.renders_on_values == "7.9.0"
    assert _cpu(xml, "7.9.0") == "qemu64,hv-relaxed=on,hv-crash"
    assert _cpu(xml, "9.0.0") == "qemu64,hv-relaxed=on,hv-crash"
    assert _cpu(xml, FACTS.crash_renders_on) == "qemu64,hv-relaxed=on,hv-crash=on"


def test_convert_writes_bare_hv_crash_before_crash_renders_on(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "d.xml"
    path.write_text(domain(hyperv("relaxed"), devices="<panic model='hyperv'/>"))
    assert FACTS.crash_renders_on == "12.8.0"
    for release, crash in (("12.7.0", "hv-crash"), ("12.8.0", "hv-crash=on")):
        code, out, _ = run(capsys, "convert", str(path), "--to", "qemu", "--libvirt-version", release)
        assert (code, out) == (0, f"qemu64,hv-relaxed=on,{crash}\n")


def test_what_7_0_refuses_and_ignores() -> None:
    maximum = domain(hyperv("relaxed"), cpu="<cpu mode='maximum'/>")
    assert _refused(maximum, "7.0.0") == ["unsupported configuration: Invalid mode attribute 'maximum'"]
    assert _refused(maximum, FACTS.cpu_mode_maximum) == []
    pv_ipi = domain(hyperv("relaxed") + "<kvm><pv-ipi state='off'/></kvm>")
    assert _refused(pv_ipi, "7.0.0") == ["unsupported configuration: unsupported KVM feature: pv-ipi"]
    assert _refused(pv_ipi, "9.0.0") == []
    host_model = domain(hyperv("relaxed", mode="host-model"))
    assert _refused(host_model, "7.0.0") == []  # the attribute is not read: the children are
    assert _cpu(host_model, "7.0.0") == "qemu64,hv-relaxed"
    assert _refused(host_model, "9.0.0") == [
        "XML error: Invalid value for attribute 'mode' in element 'hyperv': 'host-model'."
    ]
    missing = domain(hyperv("spinlocks"))
    assert _refused(missing, "7.0.0") == ["XML error: invalid HyperV spinlock retry count"]
    assert _refused(missing, "7.3.0") == ["XML error: invalid HyperV spinlock retry count"]
    named = ["XML error: Missing required attribute 'retries' in element 'spinlocks'"]
    assert _refused(missing, "7.4.0") == named  # virXMLPropUInt (f45937c9cf21)
    assert _refused(missing, "9.0.0") == named


def test_children_of_a_passthrough_hyperv_are_not_judged_once_libvirt_ignores_them() -> None:
    xml = domain(hyperv("<vendor_id state='on' value='far-too-long-id'/>", mode="passthrough"))
    too_long = "XML error: HyperV vendor_id value must not be more than 12 characters."
    assert _refused(xml, "9.0.0") == [too_long]
    assert _refused(xml, FACTS.passthrough_children_ignored) == []


def test_a_machine_type_the_qemu_lacks() -> None:
    xml = domain(hyperv("relaxed"), devices="<emulator>/usr/bin/qemu-system-x86_64</emulator>", machine="pc-q35-7.2")
    refused = (
        "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support machine type 'pc-q35-7.2'"
    )
    assert _refused(xml, "7.0.0", qemu_version="5.2") == [refused]
    assert _refused(xml, "7.0.0", qemu_version="7.2") == []
    assert _refused(xml, "7.0.0") == []  # the QEMU release unknown
    old = domain(hyperv("relaxed"), machine="pc-q35-5.1")
    assert _refused(old, "12.8.0", qemu_version="10.0") == []
    assert _refused(old, "12.8.0", qemu_version="11.1") == [
        "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support machine type 'pc-q35-5.1'"
    ]


def test_qemu_refuses_a_machine_type_it_lacks_in_its_releases_words(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "vm.sh"
    script.write_text("qemu-system-x86_64 -machine pc-i440fx-4.2 -cpu host,hv-relaxed\n")
    code, out, _ = run(capsys, "check", str(script), "--qemu-version", "11.1", "--format", "json")
    assert code == 1 and 'unsupported machine type: \\"pc-i440fx-4.2\\"' in out
    code, out, _ = run(capsys, "check", str(script), "--qemu-version", "10.0", "--format", "json")
    assert code == 0


def test_libvirts_tsc_check_answers_from_the_hosts_facts() -> None:
    xml = domain(hyperv("relaxed"), clock=f"<timer name='tsc' frequency='2600000000'/>{HYPERVCLOCK}")
    sandbox = load_profile("sandbox-bookworm")
    invariant = sandbox.system.cpu.flags | {"constant_tsc", "nonstop_tsc"}
    host = replace(sandbox, system=replace(sandbox.system, cpu=replace(sandbox.system.cpu, flags=invariant)))
    unscaled = replace(
        host, kvm=replace(host.kvm, tsc_khz=2596150, capabilities={**host.kvm.capabilities, "KVM_CAP_TSC_CONTROL": 0})
    )
    # the sandbox's own TSC is not invariant: libvirt leaves the frequency to QEMU there (seen in L1)
    assert [f.code for f in _findings(xml, "9.0.0", host=sandbox) if f.refused_by == "libvirt"] == []
    assert _refused(xml, "9.0.0", host=unscaled) == [
        "unsupported configuration: Requested TSC frequency 2600000000 Hz is outside tolerance range "
        "([2595500963, 2596799037] Hz) around host frequency 2596150000 Hz and TSC scaling is not supported by the host CPU"
    ]
    # the tolerance and these words came in 6.10 (d8e5b4560006); hvtune leaves the strict check before alone
    assert FACTS.tsc_checked == "6.10.0"
    assert _refused(xml, "6.10.0", host=unscaled) == _refused(xml, "9.0.0", host=unscaled)
    assert _refused(xml, "6.9.0", host=unscaled) == []
    near = replace(unscaled, kvm=replace(unscaled.kvm, tsc_khz=2600100))
    assert _refused(xml, "9.0.0", host=near) == []
    scaled = replace(
        unscaled, kvm=replace(unscaled.kvm, capabilities={**unscaled.kvm.capabilities, "KVM_CAP_TSC_CONTROL": 1})
    )
    assert _refused(xml, "9.0.0", host=scaled) == []
    (unknown,) = [f for f in _findings(xml, "9.0.0") if f.code == "libvirt-tsc-host-unknown"]
    assert unknown.refused_by is None and "this host's fact" in unknown.message


def test_convert_for_a_release_newer_than_known_warns_once(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "d.xml"
    path.write_text(domain(hyperv("relaxed"), devices="<panic model='hyperv'/>"))
    code, out, err = run(capsys, "convert", str(path), "--to", "qemu", "--libvirt-version", "99.0.0")
    assert code == 0 and out == _cpu(path.read_text(), FACTS.newest) + "\n"
    assert err.count("warning") == 1 and f"judged as {FACTS.newest}" in err


def test_before_9_0_nested_children_are_judged_after_all_the_others() -> None:
    xml = domain(
        hyperv("<stimer state='on'><bogus state='on'/></stimer>", "<vendor_id state='on' value='far-too-long-id'/>")
    )
    too_long = "XML error: HyperV vendor_id value must not be more than 12 characters."
    bogus = "unsupported configuration: unsupported Hyper-V stimer feature: bogus"
    assert _refused(xml, "7.0.0") == [too_long, bogus]
    assert _refused(xml, "7.4.0") == [too_long, bogus]
    assert FACTS.nested_pass_until == "7.5.0"
    assert _refused(xml, FACTS.nested_pass_until) == [bogus, too_long]


def test_from_7_2_the_children_of_an_off_stimer_are_not_read() -> None:
    xml = domain(hyperv("<stimer state='off'><bogus state='on'/></stimer>"))
    bogus = "unsupported configuration: unsupported Hyper-V stimer feature: bogus"
    assert _refused(xml, "7.1.0") == [bogus]
    assert _refused(xml, FACTS.nested_of_off_until) == []
