"""Patching KubeVirt manifests in place, over generated manifests with
comments, odd quoting, flow and block styles, null values, CRLF line
endings and JSON: read -> patch -> read gives the change asked for, and
the text changes only where it must (comments stay, no other line of the
original is lost)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats import format_named, read_text
from hvtune.formats.yamledit import plain
from hvtune.formats.yamltext import load_documents

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
FEATURES = ["relaxed", "vapic", "vpindex", "synic", "synictimer", "tlbflush", "reset", "ipi", "evmcs", "frequencies"]
# A nested field counts only while its parent is on.
PARENTS = {"hv-stimer-direct": "hv-stimer", "hv-tlbflush-direct": "hv-tlbflush"}
KEYS = st.sampled_from(["{k}", '"{k}"', "'{k}'"])
COMMENTS = st.sampled_from(["", "  # note", "   #: odd # comment"])
STATES = st.sampled_from(
    ["{}", "{enabled: true}", "{ enabled: false }", "", "~", "block-true", "block-false", "block-yes"]
)
CHANGES = st.dictionaries(
    st.sampled_from(
        [
            "hv-relaxed",
            "hv-vapic",
            "hv-vpindex",
            "hv-synic",
            "hv-stimer",
            "hv-stimer-direct",
            "hv-time",
            "hv-reset",
            "hv-tlbflush",
            "hv-tlbflush-direct",
            "hv-evmcs",
            "hv-spinlocks",
            "hv-vendor-id",
            "kvm",
            "vmx",
        ]
    ),
    st.sampled_from([True, False, None]),
    min_size=1,
    max_size=5,
)


@st.composite
def manifests(draw: st.DrawFn) -> str:
    """A VirtualMachine in block YAML with a varied features.hyperv."""
    lines = ["# generated", "apiVersion: kubevirt.io/v1", "kind: VirtualMachine", "metadata:", "  name: 'w'  # q"]
    lines += ["spec:", "  template:", "    spec:", "      domain:"]
    if draw(st.booleans()):
        lines += ["        clock:", "          utc: {}"] + (["          timer: {}"] if draw(st.booleans()) else [])
    if draw(st.booleans()):
        lines += ["        cpu:", "          cores: 2"] + (
            ["          features:", "          - name: pdpe1gb", "            policy: require"]
            if draw(st.booleans())
            else []
        )
    hyperv_style = draw(st.sampled_from(["absent", "flow", "block", "null"]))
    if hyperv_style != "absent" or draw(st.booleans()):
        lines.append("        features:")
        if draw(st.booleans()):
            lines.append("          # Hyper-V enlightenments")
        chosen = draw(st.lists(st.sampled_from(FEATURES), unique=True, max_size=5))
        if hyperv_style == "flow":
            lines.append("          hyperv: {" + ", ".join(f"{name}: {{}}" for name in chosen) + "}")
        elif hyperv_style == "null":
            lines.append("          hyperv:" + draw(COMMENTS))
        elif hyperv_style == "block":
            lines.append("          hyperv:")
            if not chosen:
                lines[-1] += " {}"
            for name in chosen:
                key = draw(KEYS).format(k=name)
                state = draw(STATES)
                comment = draw(COMMENTS)
                if state.startswith("block-"):
                    lines += [f"            {key}:{comment}", f"              enabled: {state[6:]}"]
                else:
                    lines.append(f"            {key}: {state}{comment}".rstrip(" ") if state else f"            {key}:")
        else:
            lines.append("          acpi: {}")
    lines.append("        devices: {}")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline


def as_json(text: str, indent: int | None) -> str:
    reading = read_text(text, source="vm.yaml")
    del reading

    return json.dumps(plain(load_documents(text, source="vm.yaml")[0]), indent=indent)


def lost_lines(before: str, after: str) -> list[str]:
    """Lines of `before` that `after` no longer holds."""
    return list((Counter(before.splitlines()) - Counter(after.splitlines())).elements())


def check_patch(text: str, change: dict[str, Any]) -> None:
    try:
        reading = read_text(text, source="vm.yaml")
    except InputError:
        return
    values: dict[str, Any] = {
        name: (8191 if name == "hv-spinlocks" else "KVMKVMKVM" if name == "hv-vendor-id" else value)
        if value is True
        else value
        for name, value in change.items()
    }
    try:
        patched = format_named("kubevirt").patch(reading, text, ConfigChange(values))
    except InputError as refused:
        assert "cannot edit this YAML in place" in str(refused)
        return
    again = read_text(patched, source="vm.yaml")
    for name, value in values.items():
        parent = PARENTS.get(name)
        if name == "vmx" or (parent in values and values[parent] is not True):
            continue  # the mutating webhook owns vmx beside evmcs
        if value in (None, False):
            if name == "kvm":
                assert value is None or again.config.values.get(name) is False
            else:
                assert not again.config.enabled(name), name
        elif name == "kvm":
            assert again.config.values.get(name) is not False
        else:
            assert again.config.values.get(name) == value, (name, again.config.values)
    lost = lost_lines(text, patched)
    assert not [line for line in lost if line.lstrip().startswith("#")], lost
    assert len(lost) <= len(values), (lost, values)
    # a second patch with the same change changes nothing
    assert format_named("kubevirt").patch(again, patched, ConfigChange(values)) == patched


@FUZZ
@given(text=manifests(), change=CHANGES)
def test_patch_yaml_round_trip(text: str, change: dict[str, Any]) -> None:
    check_patch(text, change)


@FUZZ
@given(text=manifests(), change=CHANGES, indent=st.sampled_from([None, 2, 4]))
def test_patch_json_stays_json(text: str, change: dict[str, Any], indent: int | None) -> None:
    try:
        document = as_json(text, indent)
    except InputError:
        return
    check_patch(document, change)
    try:
        reading = read_text(document, source="vm.json")
        patched = format_named("kubevirt").patch(reading, document, ConfigChange(change))
    except InputError:
        return
    json.loads(patched)
