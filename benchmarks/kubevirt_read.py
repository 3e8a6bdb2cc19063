"""hvtune's read of a KubeVirt manifest (YAML parse, the preference, the
mutating webhook, the converter's domain, the config) and its patch of one
(an edit made and checked by reading the text again), as ratios to a bare
ruamel.yaml round-trip load of the same text, measured in the same process,
for manifests of several shapes at growing sizes: the ratios must not grow
with the size.

Goals: read at most 2x; patch at most 6x (it loads the text once, then again
after each change, which checks it).

    python benchmarks/kubevirt_read.py [--sizes 10,100,1000] [--repeat R]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from check_throughput import best_of

from hvtune.findings import ConfigChange
from hvtune.formats import format_named, read_text
from hvtune.formats.yamltext import load_documents

EXAMPLE = (Path(__file__).parents[1] / "src/hvtune/examples/kubevirt/win11-common-templates.yaml").read_text("utf-8")


def disks(n: int) -> str:
    """The example with n more disks (a VM's usual bulk)."""
    more = "".join(f"          - disk:\n              bus: virtio\n            name: data{i}\n" for i in range(n))
    return EXAMPLE.replace("          interfaces:\n", more + "          interfaces:\n")


def documents(n: int) -> str:
    """The example and n DataVolumes in the same file."""
    volume = (
        "---\napiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata:\n  name: dv{i}\nspec:\n  storage: {{}}\n"
    )
    return EXAMPLE + "".join(volume.format(i=i) for i in range(n))


def annotations(n: int) -> str:
    """The example with n annotations, each one line of 200 characters."""
    more = "".join(f'    note{i}: "{"x" * 200}"\n' for i in range(n))
    return EXAMPLE.replace(
        "  labels:\n    vm.kubevirt.io/template", "  annotations:\n" + more + "  labels:\n    vm.kubevirt.io/template"
    )


SHAPES: dict[str, Callable[[int], str]] = {"disks": disks, "documents": documents, "annotations": annotations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    change = ConfigChange({"hv-vapic": False, "hv-evmcs": True})
    kubevirt = format_named("kubevirt")
    print(f"{'shape':12} {'n':>6} {'KB':>7} {'load ms':>9} {'read ms':>9} {'ratio':>6} {'patch ms':>9} {'ratio':>6}")
    worst_read = worst_patch = 0.0
    for name, shape in SHAPES.items():
        for size in sizes:
            text = shape(size)
            reading = read_text(text, source=name)  # warm the catalog and caches
            bare = best_of(args.repeat, lambda text=text: load_documents(text, source="bare"))  # type: ignore[misc]
            read = best_of(args.repeat, lambda text=text, name=name: read_text(text, source=name))  # type: ignore[misc]
            patch = best_of(args.repeat, lambda text=text, r=reading: kubevirt.patch(r, text, change))  # type: ignore[misc]
            worst_read, worst_patch = max(worst_read, read / bare), max(worst_patch, patch / bare)
            print(
                f"{name:12} {size:6} {len(text) / 1e3:7.1f} {bare * 1e3:9.1f} {read * 1e3:9.1f} {read / bare:6.2f}"
                f" {patch * 1e3:9.1f} {patch / bare:6.2f}"
            )
    print(f"worst ratios: read {worst_read:.2f}x (goal 2x), patch {worst_patch:.2f}x (goal 6x)")


if __name__ == "__main__":
    main()
