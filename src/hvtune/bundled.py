"""The bundled example VM definitions (``hvtune/examples/``), which
``hvtune doctor`` checks when it finds nothing else."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def bundled_examples() -> list[Traversable]:
    """Every example file, sorted by name."""
    root = files("hvtune").joinpath("examples")
    found = [entry for folder in root.iterdir() if folder.is_dir() for entry in folder.iterdir() if entry.is_file()]
    return sorted(found, key=lambda entry: entry.name)
