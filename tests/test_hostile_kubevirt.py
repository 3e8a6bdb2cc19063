"""Hostile KubeVirt manifests: YAML bombs, deep nesting, huge documents,
documents that are no mapping, and any value of the wrong type at any
field hvtune reads keep hvtune's promises (exit 0, 1 or 2; one line naming
the source for unusable input, the field's path when a field is wrong;
never a traceback; bounded time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from support.hostile import assert_kept_promises, hvtune

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
HEAD = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: w\n"

# The fields hvtune reads, as paths in a VirtualMachine.
PATHS = [
    ("spec",),
    ("spec", "template"),
    ("spec", "template", "spec"),
    ("spec", "template", "spec", "domain"),
    ("spec", "template", "spec", "domain", "features"),
    ("spec", "template", "spec", "domain", "features", "hyperv"),
    ("spec", "template", "spec", "domain", "features", "hyperv", "spinlocks"),
    ("spec", "template", "spec", "domain", "features", "hyperv", "spinlocks", "spinlocks"),
    ("spec", "template", "spec", "domain", "features", "hyperv", "vendorid", "vendorid"),
    ("spec", "template", "spec", "domain", "features", "hyperv", "synictimer", "direct"),
    ("spec", "template", "spec", "domain", "features", "hyperv", "tlbflush", "enabled"),
    ("spec", "template", "spec", "domain", "features", "hypervPassthrough"),
    ("spec", "template", "spec", "domain", "features", "kvm", "hidden"),
    ("spec", "template", "spec", "domain", "clock"),
    ("spec", "template", "spec", "domain", "clock", "timer", "hyperv", "present"),
    ("spec", "template", "spec", "domain", "cpu", "features"),
    ("spec", "template", "spec", "domain", "cpu", "model"),
    ("spec", "template", "spec", "domain", "devices", "panicDevices"),
    ("spec", "template", "spec", "domain", "machine", "type"),
    ("spec", "preference"),
    ("metadata",),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["yes", "on", "0x1fff", "\x1b[2J", "a\nb", "hyperv", "host-passthrough"]),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)


def manifest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": "w"},
        "spec": {"template": {"spec": {"domain": {"features": {"hyperv": {"relaxed": {}}}}}}},
    }
    node = document
    for name in path[:-1]:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[path[-1]] = value
    return document


@FUZZ
@given(path=st.sampled_from(PATHS), value=VALUES, as_yaml=st.booleans())
@example(path=PATHS[7], value="many", as_yaml=False)
@example(path=PATHS[5], value=[1, 2], as_yaml=True)
@example(path=PATHS[15], value=[{"name": None}], as_yaml=False)
@example(path=PATHS[5], value={"\U0001f600": 1}, as_yaml=False)  # JSON writes it as a surrogate pair
def test_any_value_at_any_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, path: tuple[str, ...], value: Any, as_yaml: bool
) -> None:
    text = json.dumps(manifest(path, value), indent=2 if as_yaml else None)
    if as_yaml:  # JSON is YAML; written as block YAML through the flow of its lines
        text = text.replace('": ', '":  ')
    file = tmp_path / "vm.yaml"
    file.write_text(text, "utf-8")
    outcome = hvtune(capsys, "check", "--host", "none", str(file))
    assert_kept_promises(outcome, str(file))


def test_half_a_surrogate_pair_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A \\u escape naming half of a UTF-16 surrogate pair is no character:
    refused, as go-yaml refuses it, in one line naming where."""
    file = tmp_path / "vm.yaml"
    file.write_text(HEAD.replace("name: w", 'name: "w\\ud83d"') + "spec: {}\n", "utf-8")
    outcome = hvtune(capsys, "check", "--host", "none", str(file))
    assert outcome.code == 2
    assert outcome.err == f"hvtune: {file}: line 4: a \\u escape names half of a UTF-16 surrogate pair, no character\n"


def test_wrong_type_names_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "vm.yaml"
    file.write_text(json.dumps(manifest(PATHS[7], "many")), "utf-8")
    outcome = hvtune(capsys, "check", "--host", "none", str(file))
    assert outcome.code == 2
    assert "spec.template.spec.domain.features.hyperv.spinlocks.spinlocks: expects an integer" in outcome.err


BOMB = (
    HEAD
    + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "spec: {template: {spec: {domain: {}}}}\n"
)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("bomb", BOMB, "aliases are not accepted"),
        ("merge", HEAD + "x: &x {a: 1}\nspec:\n  <<: *x\n", "aliases are not accepted"),
        ("deep", HEAD + "spec: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
        ("nodes", HEAD + "spec:\n" + "".join(f"  k{i}: {i}\n" for i in range(30_000)), "more than 20000 YAML nodes"),
        ("lines", HEAD + "#\n" * 60_000 + "spec: {}\n", "more than 50000 lines"),
        ("huge", HEAD + "spec: {}\nx: " + "y" * (4 * 1024 * 1024) + "\n", "larger than 3 MiB"),
        ("scalars", "--- 1\n--- [a]\n--- 'apiVersion: kubevirt.io/v1 kind: VirtualMachine'\n", "holds no KubeVirt"),
        ("nospec", HEAD + "--- 1\n", "spec: a VirtualMachine needs a spec"),
        ("spec", HEAD + "spec: [1]\n", "spec: expects a mapping, not a list"),
        ("date", HEAD + "x: 2001-13-45\nspec: {}\n", "a value YAML cannot read"),
        ("duplicate", HEAD + "spec: {}\nspec: {}\n", "duplicate key"),
    ],
)
def test_hostile_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, text: str, problem: str) -> None:
    file = tmp_path / f"{name}.yaml"
    file.write_text(text, "utf-8")
    outcome = hvtune(capsys, "check", "--host", "none", str(file))
    assert_kept_promises(outcome, str(file))
    assert outcome.code == 2 and problem in outcome.err, outcome.err
