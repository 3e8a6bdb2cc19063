"""The KubeVirt format: a VirtualMachine read as KubeVirt runs it (a
preference's additions, the mutating webhook's, the converter's libvirt
domain), KubeVirt's own rules with its own messages, scheduling on nodes,
fixes made in the manifest's text, and the fragment convert writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.checking import check_reading
from hvtune.errors import InputError
from hvtune.formats import format_named, read_text
from hvtune.formats.kubevirt import read_manifest, read_vm, render_fragment
from hvtune.kubenodes import read_nodes
from hvtune.kubevirt_facts import kubevirt_facts

from support.cli import assert_one_line_error, run

EXAMPLE = Path(__file__).parents[1] / "src/hvtune/examples/kubevirt/win11-common-templates.yaml"


def vm(domain: str, *, extra: str = "", kind: str = "VirtualMachine") -> str:
    """A VirtualMachine (or VMI) whose spec.domain is `domain` (YAML indented
    by 8 spaces for a VM, 4 for a VMI), with `extra` documents after it."""
    if kind == "VirtualMachine":
        head = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: w\nspec:\n"
        head += "  template:\n    spec:\n      domain:\n"
    else:
        head = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: w\nspec:\n  domain:\n"
    return head + domain + extra


def codes(text: str, **options: object) -> list[str]:
    result = check_reading(read_text(text, source="vm.yaml"), **options)  # type: ignore[arg-type]
    return [finding.code for finding in result.findings]


def test_common_templates_windows11_reads_as_kubevirt_writes_it() -> None:
    reading = read_text(EXAMPLE.read_text("utf-8"), source="win11.yaml")
    assert reading.format == "kubevirt"
    assert reading.guest_os == "win11"
    assert reading.config.values["hv-spinlocks"] == 8191
    # synictimer: {direct: {}} is both on; clock.timer.hyperv: {} is hv-time
    for name in ("hv-stimer", "hv-stimer-direct", "hv-time", "hv-reenlightenment", "hv-vpindex"):
        assert reading.config.enabled(name), name
    cpu = format_named("kubevirt").builds_cpu(reading, libvirt_version=None, capabilities=None)
    assert cpu is not None and "hv-stimer-direct=on" in cpu and "hv-spinlocks=0x1fff" in cpu


def test_json_manifest_is_kubevirt_not_hvtune_json() -> None:
    document = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": "w"},
        "spec": {"domain": {"features": {"hyperv": {"relaxed": {}, "vapic": {"enabled": False}}}}},
    }
    reading = read_text(json.dumps(document, indent=2), source="vmi.json")
    assert reading.format == "kubevirt"
    assert reading.config.values["hv-relaxed"] is True and reading.config.values["hv-vapic"] is False


def test_webhook_object_reads_without_text() -> None:
    """A webhook passes the AdmissionReview's object as parsed JSON."""
    document = json.loads(
        '{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "w"},'
        ' "spec": {"domain": {"features": {"hyperv": {"synic": {"enabled": true}}}}}}'
    )
    reading = read_vm(document, source="admission")
    assert reading.config.enabled("hv-vpindex")  # the mutating webhook's addition


def test_preference_in_the_same_file_adds_what_the_vm_leaves_unset() -> None:
    preference = """---
apiVersion: instancetype.kubevirt.io/v1beta1
kind: VirtualMachineClusterPreference
metadata:
  name: windows.11
spec:
  clock:
    preferredTimer:
      hyperv: {}
  features:
    preferredHyperv:
      relaxed: {}
      vapic: {}
      spinlocks:
        spinlocks: 8191
"""
    text = vm(
        "        features:\n          hyperv:\n            vapic:\n              enabled: false\n", extra=preference
    )
    text = text.replace("spec:\n  template:", "spec:\n  preference:\n    name: windows.11\n  template:")
    reading = read_text(text, source="vm.yaml")
    assert reading.guest_os == "win11"
    values = reading.config.values
    assert values["hv-relaxed"] is True and values["hv-spinlocks"] == 8191 and values["hv-time"] is True
    assert values["hv-vapic"] is False  # the VM's own field wins
    assert "kubevirt-preference-not-read" not in codes(text)
    alone = vm("        cpu:\n          cores: 2\n").replace(
        "spec:\n  template:", "spec:\n  preference:\n    name: x\n  template:"
    )
    assert "kubevirt-preference-not-read" in codes(alone)


def test_kubevirt_requirement_message_is_kubevirts() -> None:
    text = vm("        features:\n          hyperv:\n            synic:\n              enabled: true\n"
              "            vpindex:\n              enabled: false\n")  # fmt: skip
    result = check_reading(read_text(text, source="vm.yaml"))
    first = result.findings[0]
    assert first.refused_by == "kubevirt" and first.code == "kubevirt-requirement-disabled"
    # the field paths KubeVirt's VMI admitter really builds (the hyperv path given twice)
    assert first.said == (
        "'spec.domain.features.hyperv.domain.features.hyperv.synic' requires "
        "'spec.domain.features.hyperv.domain.features.hyperv.vpindex', which was disabled."
    )


def test_mutating_webhook_enables_requirements_of_enabled_features_only() -> None:
    enabled = vm("        features:\n          hyperv:\n            synictimer:\n              enabled: true\n")
    reading = read_text(enabled, source="vm.yaml")
    assert reading.config.enabled("hv-synic") and reading.config.enabled("hv-vpindex")
    assert "kubevirt-webhook-enables" in codes(enabled)
    # written as the templates write it, KubeVirt adds nothing: libvirt refuses
    bare = vm("        features:\n          hyperv:\n            synictimer: {}\n")
    assert not read_text(bare, source="vm.yaml").config.enabled("hv-synic")
    assert "libvirt-requires" in " ".join(codes(bare)) or any(c.startswith("libvirt") for c in codes(bare))


def test_evmcs_brings_vmx_and_needs_intel_nodes() -> None:
    text = vm("        features:\n          hyperv:\n            vapic: {}\n            evmcs: {}\n")
    reading = read_text(text, source="vm.yaml")
    assert reading.config.enabled("vmx")
    amd = read_nodes(
        json.dumps(
            {
                "kind": "List",
                "items": [
                    {
                        "kind": "Node",
                        "metadata": {
                            "name": "a",
                            "labels": {
                                "cpu-vendor.node.kubevirt.io/AMD": "true",
                                "hyperv.node.kubevirt.io/base": "true",
                            },
                        },
                    }
                ],
            }
        ),  # fmt: skip
        source="nodes.json",
    )
    assert "kubevirt-unschedulable" in codes(text, nodes=amd)


def test_passthrough_without_enabled_and_beside_hyperv() -> None:
    bare = vm("        features:\n          hypervPassthrough: {}\n")
    assert "kubevirt-passthrough-without-enabled" in codes(bare)
    both = vm("        features:\n          hyperv:\n            relaxed: {}\n          hypervPassthrough:\n"
              "            enabled: true\n")  # fmt: skip
    result = check_reading(read_text(both, source="vm.yaml"))
    assert result.findings[0].said == kubevirt_facts().passthrough_message


def test_unknown_field_is_named_with_a_suggestion() -> None:
    text = vm("        features:\n          hyperv:\n            vpIndex: {}\n")
    result = check_reading(read_text(text, source="vm.yaml"))
    messages = [f.message for f in result.findings if f.code == "kubevirt-unknown-field"]
    assert messages and "did you mean vpindex" in messages[0]


def test_wrong_type_names_the_field_and_line() -> None:
    text = vm("        features:\n          hyperv:\n            spinlocks:\n              spinlocks: many\n")
    with pytest.raises(InputError) as raised:
        read_manifest(text, source="vm.yaml")
    assert str(raised.value) == (
        "vm.yaml: line 12, spec.template.spec.domain.features.hyperv.spinlocks.spinlocks: "
        "expects an integer from 0 to 4294967295, not 'many'"
    )


def test_yaml11_booleans_as_kubernetes_reads_them() -> None:
    text = vm("        features:\n          hyperv:\n            vapic:\n              enabled: no\n")
    assert read_text(text, source="vm.yaml").config.values["hv-vapic"] is False
    quoted = vm('        features:\n          hyperv:\n            vapic:\n              enabled: "no"\n')
    with pytest.raises(InputError, match="expects true or false"):
        read_text(quoted, source="vm.yaml")


def test_one_vm_per_file() -> None:
    text = vm("        cpu: {}\n") + "---\n" + vm("        cpu: {}\n")
    with pytest.raises(InputError, match="document 2: a second VirtualMachine"):
        read_text(text, source="vm.yaml")


FIXABLE = """# Windows Server 2022, hand-written
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: "win2022"   # quoted on purpose
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        cpu:
          cores: 4
        features:
          hyperv:
            relaxed: {}
            synic:
              enabled: true
            synictimer:
              enabled: true   # no clock.timer.hyperv
            vpindex:
              enabled: false
"""


def test_fix_edits_only_what_it_must(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "vm.yaml"
    path.write_text(FIXABLE, "utf-8")
    code, _, err = run(capsys, "fix", "--host", "none", str(path))
    fixed = path.read_text("utf-8")
    assert code == 0, err
    assert fixed == FIXABLE.replace(
        "        cpu:\n", "        clock:\n          timer:\n            hyperv: {}\n        cpu:\n"
    ).replace(
        "            vpindex:\n              enabled: false\n", "            vpindex:\n              enabled: true\n"
    )
    assert (tmp_path / "vm.yaml.bak").read_text("utf-8") == FIXABLE
    assert run(capsys, "fix", "--host", "none", "--diff", str(path))[1] == ""
    assert not [f for f in check_reading(read_text(fixed, source="vm.yaml")).findings if f.severity == "error"]


def test_fix_keeps_json_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": "w"},
        "spec": {"domain": {"features": {"hyperv": {"synictimer": {"enabled": True}}}}},
    }
    path = tmp_path / "vmi.json"
    path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    assert run(capsys, "fix", "--host", "none", str(path))[0] == 0
    fixed = json.loads(path.read_text("utf-8"))
    assert fixed["spec"]["domain"]["clock"] == {"timer": {"hyperv": {}}}


def test_nodes_without_labels_and_one_node() -> None:
    text = EXAMPLE.read_text("utf-8")
    bare = read_nodes('{"kind": "Node", "metadata": {"name": "n"}}', source="n.json")
    assert codes(text, nodes=bare)[:1] == ["kubevirt-no-labelled-nodes"] or "kubevirt-no-labelled-nodes" in codes(
        text, nodes=bare
    )
    labels = {f"hyperv.node.kubevirt.io/{name}": "true" for name in kubevirt_facts().node_labels.values()}
    one = read_nodes(json.dumps({"kind": "Node", "metadata": {"name": "n", "labels": labels}}), source="n.json")
    found = codes(text, nodes=one)
    assert "kubevirt-one-node" in found and "kubevirt-tsc-frequency-not-exposed" in found
    lacking = {**labels, "hyperv.node.kubevirt.io/synictimer": "false"}
    other = read_nodes(json.dumps({"kind": "Node", "metadata": {"name": "n", "labels": lacking}}), source="n.json")
    assert "kubevirt-node-lacks-support" in codes(text, nodes=other)


def test_bad_nodes_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nodes = tmp_path / "nodes.json"
    nodes.write_text('{"kind": "List", "items": [1]}', "utf-8")
    code, _, err = run(capsys, "check", "--host", "none", "--nodes", str(nodes), str(EXAMPLE))
    assert code == 2
    assert_one_line_error(err, "nodes.json", "items[0]")


def test_convert_to_kubevirt_reads_back() -> None:
    """The fragment convert writes, put under spec.template.spec.domain,
    reads back as the same Hyper-V setup."""
    reading = read_text(EXAMPLE.read_text("utf-8"), source="win11.yaml")
    fragment = render_fragment(reading.config)
    body = "".join("        " + line + "\n" for line in fragment.splitlines() if not line.startswith("#"))
    again = read_text(vm(body), source="vm.yaml")
    assert again.config.values == reading.config.values
    gpu = read_text("host,kvm=off,hv-vendor-id=1234567890ab,hv-relaxed,hv-avic", source="cpu")
    written = render_fragment(gpu.config)
    assert "hidden: true" in written and 'vendorid: "1234567890ab"' in written
    assert "# KubeVirt has no field for: hv-avic" in written and "model: host-passthrough" in written
