"""Children written alike, read once (formats.siblings): which children are
given or kept, and a domain read through them reads exactly as one whose
every child is read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hvtune.checking import check_reading
from hvtune.documents.libvirt import LibvirtDomain
from hvtune.errors import Refusal
from hvtune.formats import libvirt
from hvtune.formats.reading import Reading
from hvtune.formats.siblings import MANY, children_to_read, drop_copies
from hvtune.formats.xmlsafe import parse_xml

from support.copies import FAMILIES, INVALID, MODES, passed_on
from support.domains import domain


def _parent(children: Iterable[str]) -> etree._Element:
    return parse_xml(f"<p>{''.join(children)}</p>", source="p.xml")


def _given(parent: etree._Element) -> list[int]:
    everyone = list(parent)
    return [everyone.index(child) for child in children_to_read(parent)]


def test_the_first_and_the_last_of_each_spelling_in_order() -> None:
    kinds = ["<a state='on'/>", "<b/>", "<a state='off'/>"]
    parent = _parent(kinds[i % 3] for i in range(300))
    assert _given(parent) == [0, 1, 2, 297, 298, 299]


def test_a_spelling_is_libxml2s() -> None:
    """Quotes, spaces and character references do not make a copy
    different; attribute order does."""
    written = ["<a x='1' y='2'/>", '<a  x="1" y="&#50;" />', "<a y='2' x='1'/>"]
    parent = _parent([*[written[0], written[1]] * 150, written[2]])
    assert _given(parent) == [0, 299, 300]


def test_children_holding_text_and_empty_elements() -> None:
    kinds = ["<s state='on'><d state='on'/></s>", "<s state='on'><d state='off'/>x</s>", "<t>text</t>", "<u/>"]
    parent = _parent(kinds[i % 4] for i in range(400))
    assert _given(parent) == [0, 1, 2, 3, 396, 397, 398, 399]


def test_elements_it_does_not_look_into() -> None:
    few = _parent(["<a/>"] * (MANY - 1))
    deep = _parent([*["<a/>"] * MANY, "<b><c><d/></c></b>"])
    distinct = _parent(f"<a n='{i}'/>" for i in range(MANY))
    for parent in (few, deep, distinct):
        assert _given(parent) == list(range(len(parent)))


def test_copies_first_and_last_written_far_from_the_ends() -> None:
    """Each one is found in one walk over the children, not one walk
    each."""
    middle = [f"<m n='{i}'/>" for i in range(200)]
    parent = _parent(["<a/>"] * 1000 + middle + middle + ["<a/>"] * 1000)
    assert _given(parent) == [0, *range(1000, 1200), *range(1200, 1400), 2399]


def _kept(parent: etree._Element, tag: str) -> list[int]:
    """Which of `parent`'s children drop_copies keeps, by their sourceline
    (each child on a line of its own)."""
    drop_copies(parent, tag)
    return [child.sourceline - 2 for child in parent]


def _lines(children: Iterable[str]) -> etree._Element:
    return parse_xml("<p>\n" + "\n".join(children) + "\n</p>", source="p.xml")


def test_copies_of_a_name_whatever_they_hold_are_dropped_but_the_first_and_last() -> None:
    kinds = ["<h><a state='on'><b><c/></b></a></h>", "<h mode='x'><a/></h>", "<h><a/></h>"]
    parent = _lines(["<x/>", *(kinds[i % 3] for i in range(300)), "<y/>", "<z/>"])
    # (the last one's spelling runs to the parent's end: it is a kind of its own)
    assert _kept(parent, "h") == [0, 1, 2, 3, 297, 298, 299, 300, 301, 302]


def test_copies_that_are_not_dropped() -> None:
    """Few, all different at first, another child among them, another
    element whose name begins with theirs, or one of theirs nested."""
    few = ["<h/>"] * (MANY - 1)
    distinct = [f"<h n='{i}'/>" for i in range(MANY)]
    among = [*["<h/>"] * MANY, "<x/>", "<h/>"]
    longer = [*["<h/>"] * MANY, "<hx/>"]
    nested = [*["<h/>"] * MANY, "<h><i><h/></i></h>"]
    for children in (few, distinct, among, longer, nested):
        assert _kept(_lines(children), "h") == list(range(len(children)))


NESTED = ("<direct state='on'/>", "<direct state='off'/>", "<extended state='on'/>")
HINTS = ("<hidden state='on'/>", "<hidden state='off'/>", "<poll-control state='on'/>")


def _copies(draw: st.DrawFn, kinds: list[str]) -> str:
    """At least MANY children: a run of picks written again and again, a
    few other children anywhere, text between some."""
    picks = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=40))
    children = picks * (MANY // len(picks) + draw(st.integers(1, 3)))
    for _ in range(draw(st.integers(0, 3))):
        children.insert(draw(st.integers(0, len(children))), draw(st.sampled_from([*kinds, "<x9 state='on'/>"])))
    between = draw(st.sampled_from(["", "\n  ", "t"]))
    return between.join(children)


@st.composite
def _domains(draw: st.DrawFn) -> str:
    families = draw(st.lists(st.sampled_from((*FAMILIES, INVALID)), min_size=1, max_size=3))
    hyperv = _copies(draw, [copy for family in families for copy in family])
    stimer = _copies(draw, list(NESTED)) if draw(st.booleans()) else ""
    kvm = f"<kvm>{_copies(draw, list(HINTS))}</kvm>" if draw(st.booleans()) else ""
    mode = draw(st.sampled_from(MODES))
    return domain(f"<hyperv{mode}>{hyperv}<stimer state='on'>{stimer}</stimer></hyperv>{kvm}")


def _hypervs(draw: st.DrawFn) -> list[str]:
    """A few kinds of <hyperv>, each holding a few copies of one or two families."""
    kinds = [
        copy
        for family in draw(st.lists(st.sampled_from((*FAMILIES, INVALID)), min_size=1, max_size=2))
        for copy in family
    ]
    return [
        f"<hyperv{draw(st.sampled_from(MODES))}>"
        + "".join(draw(st.lists(st.sampled_from(kinds), max_size=3)))
        + "</hyperv>"
        for _ in range(draw(st.integers(1, 4)))
    ]


@st.composite
def _many_hypervs(draw: st.DrawFn) -> str:
    """Hundreds of <hyperv> elements (and other <features> children) in
    one <features>, a few kinds written again and again."""
    hypervs = _hypervs(draw)
    return domain(_copies(draw, [*hypervs, "<apic/>", "<kvm><hidden state='on'/></kvm>", "<pmu state='off'/>"]))


@st.composite
def _runs_of_copies(draw: st.DrawFn) -> str:
    """Hundreds of <hyperv> in one <features>, or of <features> in the
    domain, one after another, a few kinds written again and again, other
    children before and after them."""
    hypervs = _hypervs(draw)
    others = ["<apic/>", "<kvm><hidden state='on'/></kvm>", "<pmu state='off'/>", "<apic eoi='on'/>"]
    around = st.lists(st.sampled_from(others), max_size=2)
    if draw(st.booleans()):
        run = _copies(draw, hypervs).replace("<x9 state='on'/>", hypervs[0])
        return domain("".join(draw(around)) + run + "".join(draw(around)))
    features = [
        "".join(draw(st.lists(st.sampled_from([*hypervs, *others]), min_size=1, max_size=3)))
        for _ in range(draw(st.integers(1, 3)))
    ]
    run = "</features><features>".join(draw(st.lists(st.sampled_from(features), min_size=MANY, max_size=MANY + 20)))
    return domain(run)


def _read(xml: str) -> Reading[LibvirtDomain] | str:
    try:
        return libvirt.parse_text(xml, source="domain.xml")
    except Refusal as refused:
        return str(refused)


def _findings(reading: Reading[LibvirtDomain]) -> set[tuple[str, str]]:
    """What checks say of it, as libvirt releases before and after nested_pass_until read it."""
    return {
        (finding.code, finding.message)
        for version in ("9.0.0", "11.3.0")
        for finding in check_reading(reading, libvirt_version=version).findings
    }


@settings(max_examples=150, deadline=None)
@given(xml=_domains() | _many_hypervs() | _runs_of_copies())
def test_a_domain_reads_as_when_every_child_is_read(xml: str) -> None:
    through = _read(xml)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(libvirt, "children_to_read", lambda parent, written=None: parent.iterchildren(etree.Element))
        patch.setattr(libvirt, "drop_copies", lambda parent, tag: None)
        every = _read(xml)
    if isinstance(through, str) or isinstance(every, str):
        assert through == every
        return
    assert through.config == every.config
    assert _findings(through) == _findings(every)
    ours, theirs = through.document_of(LibvirtDomain), every.document_of(LibvirtDomain)
    assert ours is not None and theirs is not None
    # the same but for copies with children written again, read fewer times
    assert passed_on(ours.hyperv) == passed_on(theirs.hyperv)
    assert set(ours.hyperv) == set(theirs.hyperv)
    # (an unknown child's position counts the records before it)
    assert [child._replace(position=0) for child in ours.unknown] == [
        child._replace(position=0) for child in theirs.unknown
    ]
    # of <kvm> written again, fewer are kept: what libvirt takes of them is the same
    for merged in (False, True):
        assert ours.kvm_hints(merged=merged) == theirs.kvm_hints(merged=merged)
    assert {name for hints in ours.kvm for name in hints} == {name for hints in theirs.kvm for name in hints}
    assert replace(ours, hyperv=(), unknown=(), kvm=()) == replace(theirs, hyperv=(), unknown=(), kvm=())
