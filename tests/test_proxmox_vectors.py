"""The -cpu qemu-server builds, judged by qemu-server's own test vectors
(tests/data/proxmox/cfg2cmd, see its PROVENANCE.md): hvtune's must equal
theirs on every vector it can reproduce, and says why for the others."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hvtune.documents.proxmox import Node, ProxmoxVM
from hvtune.errors import InputError
from hvtune.formats.proxmox import read_text
from hvtune.formats.shell import split_words

VECTORS = Path(__file__).parent / "data" / "proxmox" / "cfg2cmd"
CONFIGS = sorted(VECTORS.glob("*.conf"))

# Vectors hvtune cannot reproduce, and why.
UNREPRODUCIBLE = {
    "custom-cpu-model.conf": "a custom model of the cluster's cpu-models.conf, which the VM's file does not hold",
    "custom-cpu-model-defaults.conf": "a custom model of the cluster's cpu-models.conf, which the VM's file does not hold",
    "custom-cpu-model-host-phys-bits.conf": "a custom model of the cluster's cpu-models.conf, which the VM's file does not hold",
    "ostype-usb13-error.conf": "its expected error is about usb13, which hvtune does not model",
}


def _directives(text: str) -> dict[str, str]:
    """The harness's directives in the description (# KEY: value)."""
    return dict(re.findall(r"^#\s*([A-Z_]+):\s*(.*?)\s*$", text, re.MULTILINE))


def _expected_cpu(path: Path) -> str:
    words = [word.text for word in split_words(path.with_name(path.name + ".cmd").read_text())]
    return words[words.index("-cpu") + 1]


def _read(path: Path) -> ProxmoxVM:
    text = path.read_text()
    said = _directives(text)
    node = Node(said.get("HOST_CPU_VENDOR", "GenuineIntel"), said.get("QEMU_VERSION"))
    vm = read_text(text, source=path.name, node=node).document_of(ProxmoxVM)
    assert vm is not None
    return vm


def test_every_vector_is_judged_or_excused() -> None:
    assert len(CONFIGS) >= 20
    assert set(UNREPRODUCIBLE) <= {path.name for path in CONFIGS}


@pytest.mark.parametrize("path", [p for p in CONFIGS if p.name not in UNREPRODUCIBLE], ids=lambda p: p.name)
def test_hvtune_builds_the_cpu_qemu_server_builds(path: Path) -> None:
    said = _directives(path.read_text())
    vm = _read(path)
    if "EXPECT_ERROR" in said:
        # qemu-server's words, without the node's name it adds
        assert vm.refused is not None
        assert said["EXPECT_ERROR"].startswith(vm.refused)
        return
    assert vm.refused is None
    expected = _expected_cpu(path)
    assert vm.built == expected
    if "hv" not in expected:
        assert "hv" not in vm.effective_cpu


@pytest.mark.parametrize("name", sorted(n for n in UNREPRODUCIBLE if n.startswith("custom-")))
def test_a_custom_model_is_refused_in_one_line(name: str) -> None:
    with pytest.raises(InputError, match=r"custom CPU model, defined in /etc/pve/virtual-guest/cpu-models\.conf"):
        _read(VECTORS / name)


def test_windows_vectors_get_hyperv_and_others_none() -> None:
    """The vectors with a Windows ostype of Vista or later get enlightenments;
    the others none."""
    for path in CONFIGS:
        if path.name in UNREPRODUCIBLE or "EXPECT_ERROR" in _directives(path.read_text()):
            continue
        vm = _read(path)
        assert ("hv_" in vm.built) == (vm.windows >= 6), path.name
