"""Realistic generated -cpu strings for the benchmarks.

Each string starts from what a real stack writes for a Windows guest
(virt-install, Proxmox, OpenStack Nova, KubeVirt's Windows preference,
quickemu, an old blog recipe, a GPU-passthrough recipe), then varies the CPU
model, the spelling style and the other tokens, and now and then drops or
adds a feature, as people do.
"""

from __future__ import annotations

import random

STACKS = {
    "virt-install": (
        "relaxed vapic spinlocks=0x1fff vpindex runtime synic stimer time frequencies tlbflush ipi evmcs avic"
    ),
    "proxmox": "ipi relaxed reset runtime spinlocks=0x1fff stimer synic time vapic vpindex",
    "nova": "relaxed vapic spinlocks=0x1fff vpindex runtime synic reset frequencies tlbflush ipi time",
    "kubevirt": (
        "relaxed vapic vpindex spinlocks=0x1fff synic stimer stimer-direct tlbflush frequencies "
        "reenlightenment ipi runtime reset time"
    ),
    "quickemu": "passthrough",
    "blog-2014": "relaxed vapic spinlocks=0x1fff time",
    "gpu": "relaxed vapic spinlocks=0x1fff time vendor-id=1234567890ab",
}
MODELS = ("host", "Skylake-Client-v4", "Icelake-Server-v6", "EPYC-Milan", "kvm64", "qemu64", "max")
OTHERS = (
    "+kvm_pv_eoi",
    "+kvm_pv_unhalt",
    "-cet-ibt",
    "-cet-ss",
    "l3-cache=on",
    "+invtsc",
    "kvm=off",
    "+hypervisor",
    "enforce",
    "+lahf_lm",
    "+sep",
    "pmu=off",
    "tsc-frequency=2600000000",
)
SPARE = ("frequencies", "tlbflush", "tlbflush-ext", "xmm-input", "crash", "stimer-direct", "evmcs")


def _spell(rng: random.Random, feature: str, style: str) -> str:
    name, _, value = feature.partition("=")
    name = "hv-" + name
    if style == "underscore":
        name = name.replace("-", "_")
    if value:
        return f"{name}={value}"
    return f"{name}=on" if style == "libvirt" else name


def cpu_strings(count: int, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    strings = []
    stacks = list(STACKS.values())
    for _ in range(count):
        features = rng.choice(stacks).split()
        if rng.random() < 0.15 and len(features) > 3:
            features.remove(rng.choice(features))
        if rng.random() < 0.15:
            features.append(rng.choice(SPARE))
        style = rng.choice(("dash", "underscore", "libvirt"))
        others = rng.sample(OTHERS, rng.randint(0, 4))
        tokens = [rng.choice(MODELS), *others, *(_spell(rng, f, style) for f in features)]
        if "migratable=no" not in tokens and tokens[0] in ("host", "max") and rng.random() < 0.1:
            tokens.append("migratable=no")
        strings.append(",".join(tokens))
    return strings
