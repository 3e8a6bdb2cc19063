"""What an observation calls for beyond its leaves: systemd-detect-virt
calling a KVM guest Microsoft's."""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.guest.drift import kvm_features_leaves
from hvtune.guest.observe import Observation


def notes(observation: Observation) -> tuple[str, ...]:
    """Advice the observation calls for: systemd-detect-virt answering
    ``microsoft`` while KVM's own leaves are there too."""
    facts = load_catalog().linux.detect_virt
    detect_virt = observation.detect_virt
    if detect_virt is None or detect_virt.answer != facts.answer or not kvm_features_leaves(observation.cpuid.leaves):
        return ()
    return (
        f"{facts.program} calls this guest '{facts.answer}', but its CPUID shows KVM's own leaves: it runs on KVM "
        f"with Hyper-V enlightenments, and systemd before {facts.fixed_in} takes their '{facts.signature}' "
        f"signature for Hyper-V. Then {facts.effect}. Fix: {facts.fix} ({', '.join(facts.sources)})",
    )
