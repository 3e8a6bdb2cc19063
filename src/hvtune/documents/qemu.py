"""What the QEMU format keeps of a command line besides its config."""

from __future__ import annotations

from typing import NamedTuple


class QemuCommand(NamedTuple):
    """Where the -cpu value stands in the text (``line``, and ``span``: its
    offsets, quotes included; None when the text has no -cpu), and the names
    it both switched with ``+x``/``-x`` and set with ``x=...``, which QEMU
    warns about; ``applied``: the properties its ``x=...`` tokens set, in
    the order QEMU applies them (so the first it does not know is the one it
    names); ``shell``: whether the value is a word of a shell command line
    (quoted as a shell reads it) rather than a -cpu value on its own."""

    line: int | None = None
    span: tuple[int, int] | None = None
    ambiguous: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()
    shell: bool = True
