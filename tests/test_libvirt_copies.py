"""<hyperv> children written many times are read once per kind of copy
(formats.libvirt._Copies): a copy seen, a copy with children like the
previous one of its name, an unknown copy written alike or read before.
Whatever the copies, the domain reads as every copy read alone, in turn:
the same settings, the same unknown children and what they mean, the same
refusal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hvtune.documents.libvirt import HypervChild, LibvirtDomain, hyperv_settings
from hvtune.errors import Refusal
from hvtune.formats.libvirt import parse_text

from support.copies import FAMILIES, INVALID, MODES, passed_on
from support.domains import domain


def _read(children: list[str], mode: str) -> LibvirtDomain | Refusal:
    xml = domain(f"<hyperv{mode}>" + "\n".join(children) + "</hyperv>")
    try:
        reading = parse_text(xml, source="domain.xml")
    except Refusal as refused:
        return refused
    found = reading.document_of(LibvirtDomain)
    assert found is not None
    return found


def _without_line(record: HypervChild) -> HypervChild:
    return record._replace(line=0)


@settings(max_examples=500, deadline=None)
@given(
    families=st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=2),
    picks=st.lists(st.integers(0, 11), max_size=60),
    invalid=st.lists(st.sampled_from(INVALID), max_size=1),
    where=st.integers(0, 60),
    mode=st.sampled_from(MODES),
)
def test_copies_read_as_every_copy_alone(
    families: list[tuple[str, ...]], picks: list[int], invalid: list[str], where: int, mode: str
) -> None:
    """The copies of a few names, each written many times, in any order."""
    kinds = [copy for family in families for copy in family]
    children = [kinds[pick % len(kinds)] for pick in picks]
    children[where:where] = invalid
    whole = _read(children, mode)
    alone = [_read([child], mode) for child in children]
    refusals = [read for read in alone if isinstance(read, Refusal)]
    if refusals:
        assert isinstance(whole, Refusal) and whole.problem == refusals[0].problem
        return
    assert isinstance(whole, LibvirtDomain)
    singles = [read for read in alone if isinstance(read, LibvirtDomain)]
    records = [record for read in singles for record in read.hyperv]
    assert passed_on(whole.hyperv) == passed_on(records)
    assert {_without_line(record) for record in whole.hyperv} <= {_without_line(record) for record in records}
    # each unknown name, in the order first written, with the known name
    # it means when every copy alone reads as that one
    names = list(dict.fromkeys(unknown.name for read in singles for unknown in read.unknown))
    meant = {
        name: {unknown.meant for read in singles for unknown in read.unknown if unknown.name == name} for name in names
    }
    assert [(unknown.name, unknown.meant) for unknown in whole.unknown] == [
        (name, next(iter(meant[name])) if len(meant[name]) == 1 else None) for name in names
    ]


def test_thousands_of_copies_keep_a_few_records() -> None:
    """Copies with children like the previous one of their name are one
    record; unknown copies are one name."""
    children = ["<stimer state='on'><direct state='on'/></stimer>", "<relaxd state='on'/>"] * 2000
    whole = _read([*children, "<stimer state='on'><direct state='off'/></stimer>"], "")
    assert isinstance(whole, LibvirtDomain)
    assert [record.name for record in whole.hyperv] == ["stimer", "stimer"]
    assert [(unknown.name, unknown.meant) for unknown in whole.unknown] == [("relaxd", "relaxed")]
    assert hyperv_settings(whole.hyperv).nested == {"stimer.direct": "off"}


def test_copies_with_many_children_are_told_apart() -> None:
    """Copies with more than a few children are told apart by all of them,
    down to the last."""
    many_on = "<stimer state='on'>" + "<direct state='on'/>" * 20 + "</stimer>"
    last_off = "<stimer state='on'>" + "<direct state='on'/>" * 19 + "<direct state='off'/></stimer>"
    whole = _read([many_on, last_off], "")
    assert isinstance(whole, LibvirtDomain)
    assert hyperv_settings(whole.hyperv).nested == {"stimer.direct": "off"}
