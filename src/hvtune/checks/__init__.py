"""The checks: small functions ``(config, context) -> findings``, grouped by
concern, run in a fixed order so that errors come in the order the user would
meet them: libvirt's refusals first, then QEMU's, each in its own order."""

from __future__ import annotations

from functools import lru_cache

from hvtune.checks import dependencies, hazards, host, kubevirt, libvirt, machine, migration, values
from hvtune.checks.context import CheckContext
from hvtune.checks.rule import Check, needed_facts, subjects, target_of
from hvtune.config import HypervConfig
from hvtune.findings import Finding, most_important_first, without_repeats

CHECKS: tuple[Check, ...] = (
    # KubeVirt's webhooks judge a VM when its VMI is created, and its
    # scheduler places it, before libvirt sees the domain.
    kubevirt.check_kubevirt_admission,
    kubevirt.check_kubevirt_manifest,
    kubevirt.check_kubevirt_nodes,
    # libvirt refuses a domain before QEMU ever sees it: its parser, then its
    # post-parse checks, then its define-time validation.
    libvirt.check_libvirt_release,
    libvirt.check_libvirt_cpu,
    libvirt.check_libvirt_mode,
    libvirt.check_libvirt_hyperv,
    libvirt.check_libvirt_kvm,
    libvirt.check_libvirt_post_parse,
    libvirt.check_libvirt_validation,
    libvirt.check_libvirt_tsc,
    machine.check_machine_type,
    values.check_spinlocks,
    values.check_vendor_id,
    # QEMU's own checks at start, in its order: properties it does not know,
    # the VP_INDEX pre-plug check, the Hyper-V CPUID, support and
    # dependencies, then what fails at the first reset.
    host.check_host_kvm,
    host.check_host_qemu,
    host.check_host_vp_index,
    host.check_host_hv_cpuid,
    dependencies.check_dependencies,
    host.check_host_without_hyperv,
    host.check_host_tsc_scaling,
    migration.check_passthrough,
    hazards.check_passthrough_overrides,
    hazards.check_evmcs,
    migration.check_reenlightenment,
    migration.check_invtsc,
    migration.check_coresharing_auto,
    hazards.check_emulator_only,
    host.check_host_clocksource,
    host.check_host_apicv,
    host.check_host_smt,
    hazards.check_synic_without_stimer,
    hazards.check_linux_kvm_signature,
    hazards.check_vendor_id_alone,
    hazards.check_development_features,
    hazards.check_reset,
    hazards.check_ambiguous,
    hazards.check_crash,
    hazards.check_coresharing_on,
    # libvirt again, once QEMU has started: the CPU the guest really got
    host.check_host_invtsc,
)


# Each check with the names it declared (@about; None: any config), the
# target it judges for (@only_for; None: every target) and the context facts
# it needs (@needs).
_GATED = tuple((check, subjects(check), target_of(check), needed_facts(check)) for check in CHECKS)


@lru_cache(maxsize=4096)
def _applicable(present: tuple[str, ...], target: str, facts: frozenset[str]) -> tuple[Check, ...]:
    """The checks that can find something in a config setting `present`
    (canonical names in catalog order, so one set has one key), read by
    `target`, in a context with `facts`, in CHECKS order. Fleets share a
    few sets of names."""
    return tuple(
        check
        for check, names, only, needed in _GATED
        if (only is None or only == target) and (names is None or not names.isdisjoint(present)) and needed <= facts
    )


def run_checks(config: HypervConfig, context: CheckContext | None = None) -> list[Finding]:
    """Every finding for `config`, most important first; among errors the
    first is the one QEMU would print."""
    context = context or CheckContext()
    findings: list[Finding] = []
    for check in _applicable(tuple(config.values.keys()), context.target, context.facts):
        findings.extend(check(config, context))
    return most_important_first(without_repeats(findings)) if len(findings) > 1 else findings


__all__ = ["CHECKS", "Check", "CheckContext", "run_checks"]
