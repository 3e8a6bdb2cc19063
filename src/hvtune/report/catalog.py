"""Reports of the catalog: `hvtune list` and `hvtune explain`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from hvtune.catalog import Catalog, Entry, Neighbour, Property
from hvtune.jsonrecords import Custom, encode
from hvtune.report.text import wrap
from hvtune.valuetypes import display

_MIGRATION = {
    "safe": "safe",
    "blocks": "blocks migration",
    "needs-tsc-frequency": "needs a fixed tsc-frequency",
    "host-dependent": "depends on the host",
}


def _version(text: str) -> str:
    return text or "-"


def _requires(prop: Property) -> str:
    return ", ".join((*prop.requires, *prop.requires_after_loop)) or "-"


def _properties(catalog: Catalog, everything: bool) -> list[Property]:
    kinds = ("feature", "setting", "compat") if everything else ("feature", "setting")
    others = [p for p in catalog.properties if not p.is_feature]
    return [p for p in (*catalog.features, *others) if p.kind in kinds]


def list_text(catalog: Catalog, *, everything: bool = False) -> str:
    rows = [("PROPERTY", "WHAT", "QEMU", "LIBVIRT", "REQUIRES", "ADVICE")]
    for prop in _properties(catalog, everything):
        since = prop.since
        rows.append(
            (prop.name, prop.title, _version(since.qemu), _version(since.libvirt), _requires(prop), prop.advice),
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append("")
    lines.append("`hvtune explain NAME` tells what one does, needs and costs; --format json gives everything.")
    return "\n".join(lines) + "\n"


def list_markdown(catalog: Catalog) -> str:
    """The catalog table for the README (kept in sync by a test)."""
    lines = [
        "| QEMU property | libvirt | what it does | QEMU | libvirt | kernel | QEMU requires | migration | advice |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for prop in _properties(catalog, False):
        libvirt = f"`{prop.libvirt}`" if prop.libvirt else "-"
        lines.append(
            f"| `{prop.name}` | {libvirt} | {prop.title} | {_version(prop.since.qemu)} | "
            f"{_version(prop.since.libvirt)} | {_version(prop.since.kernel)} | {_requires(prop)} | "
            f"{_MIGRATION[prop.migration]} | {prop.advice} |"
        )
    return "\n".join(lines) + "\n"


class CatalogEntry(dict[str, Any], Custom):
    """A property or a neighbour, every field of its catalog record; also
    ``hvtune explain --format json``."""

    SCHEMA: ClassVar[str] = "hvtune/explain/1"
    COMPONENTS = (Property, Neighbour)  # the records its schema refers to

    @classmethod
    def of(cls, entry: Entry) -> CatalogEntry:
        document = asdict(entry)
        if document["libvirt"] is not None:  # the form as the catalog writes it
            document["libvirt"] = {key: value for key, value in document["libvirt"].items() if value is not None}
        return cls(document)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return {"anyOf": [{"$ref": f"#/$defs/{record.__name__}"} for record in cls.COMPONENTS]}

    def to_builtin(self) -> object:
        return dict(self)


@dataclass(frozen=True)
class ListDocument:
    """``hvtune list --format json``: the properties (with ``--all`` also
    QEMU's compat properties and the neighbours)."""

    SCHEMA: ClassVar[str] = "hvtune/list/1"

    entries: tuple[CatalogEntry, ...]


def list_json(catalog: Catalog, *, everything: bool = False) -> str:
    entries: list[Entry] = list(_properties(catalog, everything))
    if everything:
        entries += list(catalog.neighbours)
    return encode(ListDocument(tuple(CatalogEntry.of(entry) for entry in entries)))


def _field(label: str, value: str) -> str:
    return wrap(value, " " * 14, first=f"  {label + ':':<12}")


def _neighbour_form(neighbour: Neighbour) -> str:
    """Where libvirt holds a neighbour, written with the value that
    departs from QEMU's default (kvm=off is <hidden state='on'/>)."""
    form = neighbour.libvirt
    if form is None:
        return "no libvirt element"
    value = (not neighbour.default) if isinstance(neighbour.default, bool) else True
    shown = display(value) if isinstance(value, bool) else "..."
    return f"{form.within(form.snippet(value))} ({neighbour.name}={shown})"


def explain_text(entry: Entry) -> str:
    if isinstance(entry, Neighbour):
        lines = [
            f"{entry.name} - {entry.title} (a CPU property beside the Hyper-V ones)",
            _field("type", f"{entry.type}, default {display(entry.default)}"),
            _field("libvirt", _neighbour_form(entry)),
            "",
            wrap(entry.meaning, "  "),
        ]
        return "\n".join(lines) + "\n"
    prop = entry
    spellings = ", ".join((*prop.aliases, prop.name.replace("-", "_")))
    lines = [
        f"{prop.name} - {prop.title}",
        _field("QEMU", f"{prop.name} (also {spellings}); since QEMU {_version(prop.since.qemu)}"),
        _field("libvirt", f"{prop.libvirt or 'no libvirt element'}; since libvirt {_version(prop.since.libvirt)}"),
    ]
    if prop.kubevirt:
        lines.append(_field("KubeVirt", f"spec.domain.{prop.kubevirt}"))
    lines.append(_field("type", f"{prop.type}, default {display(prop.default)}"))
    if prop.cpuid:
        lines.append(_field("CPUID", "; ".join(str(bit) for bit in prop.cpuid)))
    for note in prop.cpuid_also:
        lines.append(_field("also", str(note)))
    if prop.requires or prop.requires_after_loop:
        required = ", ".join((*prop.requires, *prop.requires_after_loop))
        lines.append(_field("requires", f"{required} (QEMU refuses to start without)"))
    extra_docs = [d for d in prop.docs_require if d not in (*prop.requires, *prop.requires_after_loop)]
    if extra_docs:
        lines.append(_field("docs add", ", ".join(extra_docs)))
    if prop.recommends:
        lines.append(_field("goes with", ", ".join(prop.recommends)))
    if prop.kvm_capability or prop.legacy:
        probe = prop.kvm_capability or ""
        if prop.legacy:
            probe = f"{probe}; old kernels: {prop.legacy}" if probe else f"old kernels: {prop.legacy}"
        lines.append(_field("host KVM", probe))
    lines.append(_field("kernel", f"since Linux {_version(prop.since.kernel)}"))
    needs = prop.host.describe()
    if needs:
        lines.append(_field("host needs", "; ".join(needs)))
    lines.append(_field("migration", _MIGRATION[prop.migration]))
    lines.append(_field("advice", prop.advice))
    lines += ["", wrap(prop.benefit, "  ")]
    if prop.caveats:
        lines += ["", "  Caveats:"]
        lines += [wrap(caveat, "    ", first="  - ") for caveat in prop.caveats]
    lines += ["", wrap(f"Versions: {prop.since.note}", "  ")]
    return "\n".join(lines) + "\n"


def explain_json(entry: Entry) -> str:
    return encode(CatalogEntry.of(entry))
