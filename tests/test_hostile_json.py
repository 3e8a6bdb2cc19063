"""Hostile JSON, as a configuration and as a host profile: any document
keeps hvtune's promises, and the JSON reader takes only configurations the
other formats could hold (one validator): what it accepts, hvtune can write
out again as -cpu and read back unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hvtune.catalog import load_catalog
from hvtune.config import DEFAULT_MODEL
from hvtune.errors import InputError
from hvtune.formats import read_text
from hvtune.formats.json import parse_text
from hvtune.formats.qemu import parse_cpu, render_cpu
from hvtune.host.profile_json import load_profile, profile_json

from support.hostile import assert_kept_promises, hvtune

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
CATALOG = load_catalog()
KEYS = st.sampled_from(
    ["model", "machine", "non-hyperv-tokens", "libvirt-host-model", "migratable", "kvm", "hv-relaxed",
     "hv-spinlocks", "hv-vendor-id", "tsc-frequency", "hv-stimer", "x"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["host", "max", "qemu64", "a,b", "a\nb", "l3-cache=on", "+lahf_lm", "hv-relaxed", "\x1b"]),
)
DOCUMENTS = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=6)
)


@FUZZ
@given(document=st.dictionaries(KEYS, DOCUMENTS, max_size=6))
@example(document={"model": None, "migratable": True})
@example(document={"non-hyperv-tokens": ["a,b"]})
@example(document={"hv-vendor-id": "a\nb"})
@example(document={"model": "hello world"})
def test_any_configuration_document(capsys: pytest.CaptureFixture[str], tmp_path: Path, document: object) -> None:
    path = tmp_path / "vm.json"
    path.write_text(json.dumps(document), "utf-8")
    assert_kept_promises(hvtune(capsys, "check", str(path)), str(path))
    try:
        config = parse_text(path.read_text("utf-8"), source="vm.json").config
    except InputError:
        return
    if config.host_model:
        return
    # accepted: it has a -cpu spelling that reads back as the same config
    try:
        cpu = render_cpu(config)
    except InputError as refused:
        assert "comma" in refused.problem  # hv-vendor-id with a comma: a finding, and no -cpu spelling
        return
    # -cpu has no machine type, and names the default model
    assert parse_cpu(cpu).config == replace(config, model=config.model or DEFAULT_MODEL, machine=None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"hv-spinlocks": ' + "1" * 5000 + "}", "an integer of 5000 digits"),
        ('{"hv-relaxed": NaN}', "NaN is not a JSON number"),
        ('{"hv-relaxed": true, "hv-relaxed": false}', "key 'hv-relaxed' is given twice"),
        ('{"hv-relaxed\\u001b": true}', "holds control characters"),
    ],
)
def test_json_edges(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "vm.json"
    path.write_text(text, "utf-8")
    if text.startswith("["):  # not an object: read as JSON only when asked to
        with pytest.raises(InputError, match=problem):
            parse_text(text, source="vm.json")
        outcome = hvtune(capsys, "check", str(path))
    else:
        outcome = hvtune(capsys, "check", str(path))
        assert problem in outcome.err
    assert outcome.code == 2
    assert_kept_promises(outcome, str(path))


def test_a_bare_json_value_is_no_cpu_model() -> None:
    with pytest.raises(InputError):
        read_text("[[[[", source="x")


# -- host profiles ----------------------------------------------------------

BASE = profile_json(load_profile("intel-nested"))
PATHS = [
    ("name",), ("kernel",), ("cpu", "vendor"), ("cpu", "family"), ("cpu", "flags"), ("modules",),
    ("kvm", "device"), ("kvm", "api_version"), ("kvm", "capabilities", "KVM_CAP_HYPERV"),
    ("kvm", "hv_cpuid", "leaves", "0x40000003"), ("kvm", "hyperv_msrs"), ("qemu", "version"),
    ("libvirt", "version"), ("libvirt", "hyperv", "spinlocks"), ("smt",), ("clocksource", "current"),
]  # fmt: skip
HOSTILE_VALUES = st.one_of(
    DOCUMENTS,
    st.sampled_from(["0x" + "f" * 3000, "9" * 30, "1.0.0.0.0", "x.y", "a\nb", "\x00", "-1", "", "10.0.0rc1"]),
    st.integers(-(2**64), 2**64),
)


@FUZZ
@given(path=st.sampled_from(PATHS), value=HOSTILE_VALUES)
@example(path=("kvm", "capabilities", "KVM_CAP_HYPERV"), value="0x" + "f" * 3000)
@example(path=("qemu", "version"), value="not a version")
@example(path=("libvirt", "version"), value="1" * 5000)
def test_any_edit_of_a_host_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, path: tuple[str, ...], value: object
) -> None:
    document = json.loads(json.dumps(BASE))
    node = document
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    saved = tmp_path / "host.json"
    saved.write_text(json.dumps(document), "utf-8")
    for argv in (["host", "--host", str(saved)], ["check", "--cpu", "host,hv-relaxed", "--host", str(saved)]):
        assert_kept_promises(hvtune(capsys, *argv), str(saved))
