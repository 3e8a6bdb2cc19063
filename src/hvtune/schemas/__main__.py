"""Write the published schemas: ``python -m hvtune.schemas`` (from a
source tree, with ``PYTHONPATH=src``)."""

from __future__ import annotations

from pathlib import Path

from hvtune.schemas import generate, published, text

folder = Path(__file__).parent
for document in published():
    path = folder / document.file_name
    content = text(generate(document))
    if not path.exists() or path.read_text("utf-8") != content:
        path.write_text(content, "utf-8")
        print(f"wrote {path}")
