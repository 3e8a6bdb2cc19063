"""Reading domain XML: what a domain asks QEMU for, what libvirt would make
of it, and hostile input handled safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hvtune.catalog import load_catalog
from hvtune.errors import InputError
from hvtune.formats import read_file, read_text
from hvtune.formats.libvirt import parse_text, read_domain
from hvtune.formats.xmlsafe import parse_xml

from support.cli import run
from support.domains import domain

EXAMPLES = Path(__file__).parent.parent / "examples" / "libvirt"


def test_a_virt_install_domain() -> None:
    reading = read_file(EXAMPLES / "win11-virt-install.xml")
    assert reading.format == "libvirt"
    assert reading.guest_os == "win11"
    config = reading.config
    assert config.model == "host" and config.get("migratable") is True
    assert config.get("hv-spinlocks") == 8191 and config.enabled("hv-stimer") and config.enabled("hv-time")
    assert config.machine == "pc-q35-7.2"


def test_states_values_and_their_conditions() -> None:
    hyperv = (
        "<hyperv><relaxed state='off'/><spinlocks state='off' retries='100'/><vendor_id state='on' value='KVM Hv'/>"
        "<stimer state='off'><direct state='on'/></stimer><tlbflush state='on'><extended state='on'/></tlbflush></hyperv>"
        "<kvm><hidden state='on'/></kvm>"
    )
    config = parse_text(
        domain(hyperv, "<timer name='hypervclock' present='no'/><timer name='tsc' frequency='2600000000'/>"), source="d"
    ).config
    assert config.get("hv-relaxed") is False
    assert config.get("hv-spinlocks") is None  # retries count only when on
    assert config.get("hv-vendor-id") == "KVM Hv"
    assert (
        config.get("hv-stimer") is False and config.get("hv-stimer-direct") is None
    )  # direct counts only when stimer is on
    assert config.enabled("hv-tlbflush") and config.enabled("hv-tlbflush-ext")
    assert config.get("hv-time") is False and config.get("tsc-frequency") == 2600000000
    assert config.kvm_hidden


def test_a_later_duplicate_wins_and_spinlocks_may_omit_retries() -> None:
    config = parse_text(
        domain("<hyperv><relaxed state='on'/><spinlocks state='on'/><relaxed state='off'/></hyperv>"), source="d"
    ).config
    assert config.get("hv-relaxed") is False
    assert config.get("hv-spinlocks") == 0xFFFFFFFF  # libvirt 11.9 and later: never notify


def test_modes_and_unknown_children() -> None:
    passthrough = parse_text(domain("<hyperv mode='passthrough'/>"), source="d")
    assert passthrough.config.passthrough
    host_model = parse_text(domain("<hyperv mode='host-model'><relaxed state='on'/></hyperv>"), source="d")
    assert host_model.config.host_model and host_model.config.enabled("hv-relaxed")
    unknown = parse_text(domain("<hyperv><vsm state='on'/><relaxed state='on'/></hyperv>"), source="d")
    assert unknown.document is not None and [child.name for child in unknown.document.unknown] == ["vsm"]
    assert unknown.config.enabled("hv-relaxed")


def test_panics_cpu_features_and_os() -> None:
    metadata = (
        "<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>"
        "<libosinfo:os id='http://ubuntu.com/ubuntu/24.04'/></libosinfo:libosinfo></metadata>"
    )
    cpu = "<cpu mode='custom'><model>Skylake-Client</model><feature policy='require' name='vmx'/><feature policy='disable' name='lahf_lm'/></cpu>"
    reading = parse_text(domain(cpu=cpu, devices="<panic model='hyperv'/>", metadata=metadata), source="d")
    assert reading.guest_os == "linux"
    assert reading.config.model == "Skylake-Client" and reading.config.enabled("vmx")
    assert reading.config.extra == ("lahf-lm=off",)
    assert reading.config.enabled("hv-crash")


# Features as written: a policy (or none, or empty) and a name that is plain,
# spelt otherwise by QEMU (lahf_lm), or a catalog property (vmx, invtsc).
_CPU_FEATURES = st.lists(
    st.tuples(
        st.sampled_from([None, "", "require", "force", "optional", "disable", "forbid"]),
        st.sampled_from(["f1", "f2", "lahf_lm", "pclmuldq", "vmx", "invtsc", ""]),
    ),
    max_size=12,
)


@given(_CPU_FEATURES)
def test_cpu_features_read_as_libvirt_writes_them(features: list[tuple[str | None, str]]) -> None:
    """Each feature's policy and name in order, the last policy of each
    name that is not optional, and a -cpu token for each feature that is
    not optional and no catalog property (spelt as QEMU spells it)."""
    written = "".join(
        "<feature" + (f" policy='{policy}'" if policy is not None else "") + f" name='{name}'/>"
        for policy, name in features
    )
    xml = domain(cpu=f"<cpu mode='custom'><model>qemu64</model>{written}</cpu>")
    facts = read_domain(parse_xml(xml, source="d"), source="d")
    cpu = facts.cpu
    assert cpu is not None
    policies = [policy or "require" for policy, _ in features]
    assert list(cpu.features) == list(zip(policies, [name for _, name in features], strict=True))
    catalog = load_catalog()
    last = {name: policy for policy, (_, name) in zip(policies, features, strict=True) if policy != "optional"}
    assert dict(facts.cpu_policies) == last
    tokens = []
    for policy, (_, name) in zip(policies, features, strict=True):
        qemu_name = catalog.libvirt.cpu_feature_names.get(name, name)
        if policy != "optional" and qemu_name not in catalog.cpu_feature_forms:
            tokens.append(f"{qemu_name}={'on' if policy in ('require', 'force') else 'off'}")
    try:
        extra = parse_text(xml, source="d").config.extra
    except InputError as error:  # an empty name is no -cpu token
        assert any(token.startswith("=") for token in tokens), error
    else:
        assert extra == tuple(tokens)


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        (domain("<hyperv><relaxed/></hyperv>"), "Missing required attribute 'state' in element 'relaxed'"),
        (
            domain("<hyperv><relaxed state='yes'/></hyperv>"),
            "Invalid value for attribute 'state' in element 'relaxed': 'yes'.",
        ),
        (domain("<hyperv><spinlocks state='on' retries='lots'/></hyperv>"), "Invalid value for attribute 'retries'"),
        ("<capabilities><host/></capabilities>", "the root element is <capabilities>, not a libvirt <domain>"),
        ("<domain type='kvm'><name>t</name>", "not well-formed XML"),
    ],
)
def test_what_cannot_be_read_is_one_line(xml: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_text(xml, source="d.xml")


# --- hostile input ---------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<domain type='kvm'><name>&lol9;</name></domain>
"""


def test_billion_laughs_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "laughs.xml"
    path.write_text(BILLION_LAUGHS)
    code, out, err = run(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "DOCTYPE is not allowed" in err


def test_an_external_entity_never_reaches_the_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN-1234")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<domain type='kvm'><name>&x;</name><features><hyperv><vendor_id state='on' value='&x;'/></hyperv></features></domain>"
    )
    for command in (
        ["check", str(path)],
        ["convert", str(path), "--to", "qemu"],
        ["doctor", str(path)],
        ["fix", str(path)],
    ):
        code, out, err = run(capsys, *command)
        assert "TOP-SECRET" not in out + err
        assert code in (1, 2)
    assert "TOP-SECRET" not in path.read_text().replace(str(secret), "")
    assert not (tmp_path / "xxe.xml.bak").exists()


def test_an_undeclared_entity_is_not_well_formed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "entity.xml"
    path.write_text("<domain type='kvm'><name>&passwd;</name></domain>")
    code, _, err = run(capsys, "check", str(path))
    assert code == 2 and "not well-formed XML" in err and err.count("\n") == 1


def test_a_100_mb_file_is_refused_before_it_is_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with open(path, "w") as handle:
        handle.write("<domain type='kvm'><name>t</name><description>")
        handle.truncate(100 * 1024 * 1024)
    code, _, err = run(capsys, "check", str(path))
    assert code == 2 and "larger than 16 MiB" in err


def test_truncated_and_foreign_documents(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    whole = (EXAMPLES / "win2022-good.xml").read_text()
    truncated = tmp_path / "truncated.xml"
    truncated.write_text(whole[: len(whole) // 2])
    code, _, err = run(capsys, "check", str(truncated))
    assert code == 2 and "not well-formed XML" in err and "line" in err
    foreign = tmp_path / "network.xml"
    foreign.write_text("<network><name>default</name></network>")
    code, _, err = run(capsys, "convert", str(foreign), "--to", "qemu")
    assert code == 2 and "not a libvirt <domain>" in err
