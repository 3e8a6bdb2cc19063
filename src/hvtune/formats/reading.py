"""What every format's parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from hvtune.config import HypervConfig

D = TypeVar("D")
K = TypeVar("K")


@dataclass(frozen=True)
class Reading(Generic[D]):
    """A config read from one source, with what the source said besides.

    ``format`` names the format that read it (hvtune.formats.format_named);
    ``document`` is what that format keeps of the source for checks and
    edits (a libvirt domain's facts, where a command line holds its -cpu:
    the types of hvtune.documents; None for a format that keeps nothing);
    ``guest_os`` is what the source reveals about the guest (``-kernel``
    means Linux, libosinfo metadata names the OS); ``text`` is the text it
    was read from (hvtune.formats.read_text keeps it), so that a finding can
    be placed on its line (hvtune.locating).
    """

    source: str
    format: str
    config: HypervConfig
    document: D
    guest_os: str | None = None
    text: str | None = field(default=None, repr=False, compare=False)

    def document_of(self, kind: type[K]) -> K | None:
        """The document when it is a `kind`, else None."""
        return self.document if isinstance(self.document, kind) else None
