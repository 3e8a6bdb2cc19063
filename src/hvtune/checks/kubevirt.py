"""KubeVirt's own rules, with its own messages (hvtune.kubevirt_facts names
their sources), for a VM read from a KubeVirt manifest: what its validating
webhook refuses when the VirtualMachineInstance is created, what its API
server drops, what its converter cannot take; then where its scheduler can
put the VM among the nodes given (``check --nodes``), judged on the nodes
whose KubeVirt node labeller wrote ``hyperv.node.kubevirt.io/*`` labels.

The requirements are judged after KubeVirt's mutating webhook, as KubeVirt
judges them: it enables the unset requirement of a feature written with
``enabled: true``, so only a requirement written ``enabled: false`` is
refused. A feature written without ``enabled`` (``synic: {}``, as KubeVirt's
own templates write them) is on for the converter but unset for both
webhooks and the scheduler: its requirements and host support are left to
libvirt, QEMU and the node, and hvtune's libvirt and QEMU rules judge them.
"""

from __future__ import annotations

import difflib

from hvtune.checks.context import CheckContext
from hvtune.checks.rule import needs
from hvtune.config import HypervConfig
from hvtune.documents.kubevirt import KubevirtVm
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.kubenodes import KubeNode
from hvtune.kubevirt_facts import kubevirt_facts


def _vm(context: CheckContext) -> KubevirtVm | None:
    return context.document_of(KubevirtVm)


def kubevirt_refusal(code: str, feature: str | None, said: str, fix: ConfigChange | None = None) -> Finding:
    """An error KubeVirt's validating webhook reports with `said`."""
    return Finding(
        code=code,
        severity=Severity.ERROR,
        feature=feature,
        message=f"KubeVirt refuses the VirtualMachineInstance: {said}",
        fix=fix,
        refused_by="kubevirt",
        said=said,
    )


def _property(field: str) -> str | None:
    """The catalog property of a features.hyperv field."""
    return kubevirt_facts().properties_by_field.get(f"features.hyperv.{field}")


def check_kubevirt_admission(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """KubeVirt's validating webhook on the VMI (pkg/virt-api/webhooks/hyperv.go),
    in its order: each enabled feature whose requirement is disabled, then
    hyperv beside hypervPassthrough."""
    vm = _vm(context)
    if vm is None:
        return []
    facts = kubevirt_facts()
    findings = []
    for feature, requirement in facts.requires:
        if vm.enabled(feature) and not vm.enabled(requirement):
            said = facts.requires_message.format(
                feature=facts.requires_field.format(name=feature),
                requires=facts.requires_field.format(name=requirement),
            )
            needed = _property(requirement)
            fix = ConfigChange({needed: True}) if needed else None
            findings.append(kubevirt_refusal("kubevirt-requirement-disabled", _property(feature), said, fix))
    if vm.hyperv_written and vm.passthrough_written:
        findings.append(
            kubevirt_refusal("kubevirt-hyperv-and-passthrough", "hv-passthrough", facts.passthrough_message)
        )
    return findings


def check_kubevirt_manifest(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """What KubeVirt's API server and controllers make of the manifest
    besides the webhook: hypervPassthrough without enabled (read without a
    default: virt-launcher's converter and virt-handler dereference it),
    fields it does not know, the requirements its mutating webhook adds, a
    preference not among the documents read."""
    vm = _vm(context)
    if vm is None:
        return []
    findings = []
    passthrough_field = vm.path("features.hypervPassthrough")
    if vm.passthrough_written and vm.passthrough is None:
        findings.append(
            Finding(
                code="kubevirt-passthrough-without-enabled",
                severity=Severity.ERROR,
                feature="hv-passthrough",
                message=(
                    f"{passthrough_field} has no enabled: KubeVirt reads it without a default, and virt-launcher's "
                    "converter (converter/compute/hypervisor_features.go) and virt-handler (vm.go) dereference "
                    "it: the VMI fails instead of starting. Write enabled: true (or remove hypervPassthrough)"
                ),
                fix=ConfigChange({"hv-passthrough": True}),
            )
        )
    known = [field.removeprefix("features.hyperv.") for field in kubevirt_facts().properties_by_field]
    for name in vm.unknown_fields:
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        findings.append(
            Finding(
                code="kubevirt-unknown-field",
                severity=Severity.WARNING,
                feature=None,
                message=(
                    f"KubeVirt has no field {vm.path('features.hyperv.' + name)}: the API server drops it "
                    f"(kubectl warns 'unknown field') and the guest does not get it{hint}"
                ),
            )
        )
    if vm.mutated:
        fields = ", ".join(vm.path(f"features.hyperv.{name}") for name in vm.mutated)
        findings.append(
            Finding(
                code="kubevirt-webhook-enables",
                severity=Severity.INFO,
                feature=None,
                message=f"KubeVirt's mutating webhook enables {fields}, the requirements of enabled features; "
                "judged with them",
            )
        )
    if vm.preference is not None and not vm.preference_found:
        kind, name = vm.preference
        findings.append(
            Finding(
                code="kubevirt-preference-not-read",
                severity=Severity.INFO,
                feature=None,
                message=f"the {kind} {name} it references is not among the documents read: what it adds is not "
                "judged (put it in the same file to include it)",
            )
        )
    return findings


def _required_labels(config: HypervConfig, vm: KubevirtVm) -> tuple[list[str], list[str]]:
    """The node labels KubeVirt's scheduler selects on (features written
    ``enabled: true``, evmcs's CPU vendor), and those the guest needs
    besides: the host support of every enlightenment that is on."""
    facts = kubevirt_facts()
    selected = [facts.node_label_prefix + label for label in facts.selected_labels if vm.enabled(label)]
    if vm.converted_on("evmcs"):
        selected.append(facts.node_vendor_label_prefix + facts.evmcs_vendor)
    needed = [
        facts.node_label_prefix + label
        for name, label in facts.node_labels.items()
        if config.enabled(name) and facts.node_label_prefix + label not in selected
    ]
    return selected, needed


def _names(nodes: list[KubeNode]) -> str:
    shown = ", ".join(node.name for node in nodes[:5])
    return shown + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")


@needs("nodes")
def check_kubevirt_nodes(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Where KubeVirt can schedule the VM, and where it would then start,
    among the nodes KubeVirt's node labeller labelled."""
    vm = _vm(context)
    if vm is None or context.nodes is None:
        return []
    facts = kubevirt_facts()
    labelled = [node for node in context.nodes if node.carries_prefix(facts.node_label_prefix)]
    if not labelled:
        message = (
            f"no node given carries {facts.node_label_prefix}* labels (KubeVirt's node labeller writes them on "
            "the nodes that run VMs): nothing to judge on"
        )
        return [Finding(code="kubevirt-no-labelled-nodes", severity=Severity.INFO, feature=None, message=message)]
    selected, needed = _required_labels(config, vm)
    schedulable = [node for node in labelled if all(node.has(label) for label in selected)]
    if not schedulable:
        missing = sorted({label for node in labelled for label in selected if not node.has(label)})
        message = (
            f"no node can run it: KubeVirt schedules it only on nodes labelled {', '.join(missing)}, and none of "
            f"the {len(labelled)} labelled nodes is; the VMI stays Pending"
        )
        return [Finding(code="kubevirt-unschedulable", severity=Severity.ERROR, feature=None, message=message)]
    findings = []
    lacking = [node for node in schedulable if not all(node.has(label) for label in needed)]
    if lacking:
        labels = sorted({label for node in lacking for label in needed if not node.has(label)})
        everywhere = len(lacking) == len(schedulable)
        findings.append(
            Finding(
                code="kubevirt-node-lacks-support",
                severity=Severity.ERROR if everywhere else Severity.WARNING,
                feature=None,
                message=(
                    f"{'every node it can be scheduled on' if everywhere else 'nodes ' + _names(lacking)} "
                    f"lack {', '.join(labels)}: QEMU refuses to start it there. KubeVirt "
                    "selects nodes only for features written with enabled: true"
                ),
            )
        )
    runnable = [node for node in schedulable if node not in lacking]
    if len(runnable) == 1:
        findings.append(
            Finding(
                code="kubevirt-one-node",
                severity=Severity.WARNING,
                feature=None,
                message=f"only node {runnable[0].name} can run it: live migration has nowhere to go",
            )
        )
    if config.enabled("hv-reenlightenment") and not any(
        facts.node_tsc_frequency_label in node.labels for node in runnable
    ):
        findings.append(
            Finding(
                code="kubevirt-tsc-frequency-not-exposed",
                severity=Severity.WARNING,
                feature="hv-reenlightenment",
                message=f"KubeVirt: {facts.reenlightenment_migration_message} (no node carries "
                f"{facts.node_tsc_frequency_label})",
            )
        )
    return findings
