"""The text patcher's pieces: any well-formed XML comes back byte for byte,
the elements it takes apart are the ones lxml sees, and taking apart only
what an edit needs gives the same text as taking everything apart."""

from __future__ import annotations

import copy
import itertools
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hvtune.catalog import load_catalog
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats import libvirt_patch, xmltext
from hvtune.formats.xmltext import Document, Element, Part

from strategies import configs, duplicated_domains

NAMES = st.sampled_from(["a", "b", "panic", "timer", "x-y", "devices"])
SPACE = st.sampled_from(["", " ", "\n", "\r\n  ", "\n\t", "\n    "])
TEXT = st.sampled_from(["", "t", "a > b", "&amp;", "x &lt;y&gt;", " ]] ", "a --> b"])
# markup holding tags (and, inside, the openings of markup of its kind)
MARKUP = st.sampled_from(
    [
        "<!-- a <b> </b> -->",
        "<![CDATA[ <b> </b> ]]>",
        "<?pi <b>?>",
        "<!---->",
        "<!-- </a> <a> </devices> -->",
        "<![CDATA[ </a> <![CDATA[ </panic> ]]>",
        "<?pi </a> <? </b>?>",
    ]
)


@st.composite
def attributes(draw: st.DrawFn) -> str:
    written = []
    for index, value in enumerate(draw(st.lists(st.sampled_from(["v", "a>b", "/>", "x/y", "'", '"', ""]), max_size=3))):
        quote = "'" if '"' in value else '"' if "'" in value else draw(st.sampled_from(["'", '"']))
        written.append(f"{draw(SPACE) or ' '}n{index}{draw(st.sampled_from(['=', ' = ']))}{quote}{value}{quote}")
    if draw(st.booleans()):
        written.append(f" model={draw(st.sampled_from(['x', 'y']))!r}")
    return "".join(written) + draw(SPACE)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(NAMES)
    opened = f"<{tag}{draw(attributes())}"
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return opened + "/>"
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.one_of(SPACE, TEXT, MARKUP, elements(depth + 1))))
    closing = draw(st.sampled_from(["", " ", "\n"]))
    return f"{opened}>{''.join(parts)}</{tag}{closing}>"


@st.composite
def documents(draw: st.DrawFn) -> str:
    prolog = draw(st.sampled_from(["", "<?xml version='1.0'?>\n", "<!-- c -->\r\n", '<?xml version="1.0"?><!--c-->']))
    epilog = draw(
        st.sampled_from(["", "\n", "\r\n", "<!-- after -->\n", "<!-- </a> </b> </devices> -->", "<?pi </a> </b> ?>"])
    )
    return prolog + draw(elements()) + epilog


LISTED = Part(every=True)
PARTS: list[Part] = [
    LISTED,
    Part(every=True, inside={"a": LISTED, "b": LISTED, "panic": LISTED}),
    Part(kept=frozenset({"panic"})),
    Part(kept=frozenset({"b model=x", "timer"}), firsts=frozenset({"a"})),
    Part(kept=frozenset({"b"}), inside={"b": Part(kept=frozenset({"timer"}), inside={"timer": LISTED})}),
]


def _lxml_children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _agrees(ours: Element, theirs: etree._Element, part: Part | None) -> None:
    """Every child `part` keeps has its Element, in lxml's order, and so do
    the first and the last and the first of each tag in `firsts`; others
    may."""
    if part is None or ours.self_closing:
        return
    children = _lxml_children(theirs)
    if part.every:
        assert [child.tag for child in ours.children] == [child.tag for child in children]
        pairs = list(zip(ours.children, children, strict=True))
    else:
        kept = [child for child in children if _kept(part, child)]
        mine = [child for child in ours.children if _kept(part, child)]
        assert [child.tag for child in mine] == [child.tag for child in kept]
        pairs = list(zip(mine, kept, strict=True))
        if children:
            assert (ours.children[0].tag, ours.children[-1].tag) == (children[0].tag, children[-1].tag)
        ours_tags = [child.tag for child in ours.children]
        for tag in part.firsts:
            if any(child.tag == tag for child in children):
                assert tag in ours_tags
    for mine_child, lxml_child in pairs:
        _agrees(mine_child, lxml_child, part.inside.get(mine_child.tag))


def _kept(part: Part, child: Element | etree._Element) -> bool:
    return child.tag in part.kept or f"{child.tag} model={child.get('model')}" in part.kept


@settings(max_examples=400, deadline=None)
@given(text=documents(), part=st.sampled_from(PARTS))
def test_pieces_join_to_the_same_text_and_follow_lxml(text: str, part: Part) -> None:
    document = Document(text, part)
    assert document.render() == text
    root = etree.fromstring(text.encode(), etree.XMLParser(remove_blank_text=False, resolve_entities=False))
    _agrees(document.root, root, part)


EVERYTHING = Part(
    every=True,
    inside={
        "features": Part(
            every=True,
            inside={"hyperv": Part(every=True, inside=dict.fromkeys(("stimer", "tlbflush"), LISTED)), "kvm": LISTED},
        ),
        "clock": LISTED,
        "cpu": LISTED,
        "devices": LISTED,
    },
)
CHANGEABLE = [prop.name for prop in load_catalog().properties if prop.libvirt] + ["kvm", "tsc-frequency", "vmx"]


@st.composite
def changes(draw: st.DrawFn) -> ConfigChange:
    names = draw(st.lists(st.sampled_from(CHANGEABLE), unique=True, max_size=6))
    return ConfigChange({name: draw(st.sampled_from([None, True, False])) for name in names})


def _indented(xml: str, unit: str) -> str:
    root = etree.fromstring(xml.encode())
    etree.indent(root, space=unit)
    return etree.tostring(root, encoding="unicode")


def _patched(text: str, change: ConfigChange, config: HypervConfig | None) -> str:
    try:
        if config is not None:
            return libvirt_patch.into_domain(text, config, source="d")
        return libvirt_patch.patch_domain(text, change, source="d")
    except InputError as error:
        return str(error)


@settings(max_examples=300, deadline=None)
@given(
    xml=duplicated_domains(),
    unit=st.sampled_from(["", "  ", "\t"]),
    change=changes(),
    config=st.none() | configs(),
)
def test_taking_apart_only_what_an_edit_needs_changes_nothing(
    xml: str, unit: str, change: ConfigChange, config: HypervConfig | None
) -> None:
    text = _indented(xml, unit) if unit else xml
    needed = _patched(text, change, config)
    with mock.patch.object(libvirt_patch, "_part", lambda names, **_: EVERYTHING):
        assert _patched(text, change, config) == needed


TEXT_BETWEEN = st.sampled_from(["", "\n  ", "\r\n    ", " ", "\n", "<!-- c -->", "\n  <!-- c -->", "\n    ", "t\n "])


@st.composite
def repeated_domains(draw: st.DrawFn) -> str:
    """A domain in which a few runs of neighbours (one element, or a few in
    turn; nested ones too) repeat, each element after the same text (some of
    which a removal would not take alike)."""
    root = etree.fromstring(draw(duplicated_domains()).encode())
    elements = [element for element in root.iter() if element is not root and isinstance(element.tag, str)]
    for first in draw(st.lists(st.sampled_from(elements), max_size=3)) if elements else []:
        run = [first, *first.itersiblings()][: draw(st.integers(1, 3))]
        between = draw(TEXT_BETWEEN)
        for element in run:
            element.tail = between
        last = run[-1]
        for _ in range(draw(st.integers(1, 4))):
            for element in run:
                last.addnext(copy.deepcopy(element))
                last = last.getnext()
        last.tail = draw(TEXT_BETWEEN)  # what follows the run, and what precedes it
        previous = first.getprevious()
        if previous is not None:
            previous.tail = draw(TEXT_BETWEEN)
        else:
            first.getparent().text = draw(TEXT_BETWEEN)
    return etree.tostring(root, encoding="unicode")


def _one_by_one(
    text: str, element: Element, first: int, start: int, here: int, part: Part, limit: int
) -> tuple[int, int]:
    """xmltext._grouped that groups nothing: every repeat is taken apart."""
    return here, here


@settings(max_examples=3000, deadline=None)
@given(xml=repeated_domains(), unit=st.sampled_from(["", "  "]), change=changes(), config=st.none() | configs())
def test_repeats_edited_as_one_read_as_edited_one_by_one(
    xml: str, unit: str, change: ConfigChange, config: HypervConfig | None
) -> None:
    text = _indented(xml, unit) if unit else xml
    together = _patched(text, change, config)
    with mock.patch.object(xmltext, "_grouped", _one_by_one):
        assert _patched(text, change, config) == together
    for part in (*PARTS, EVERYTHING):
        assert Document(text, part).render() == text


def test_repeats_between_the_first_and_the_last_are_one_group() -> None:
    text = "<domain>\n  <clock/>" + "\n  <a/>\n  <b/>" * 5 + "\n  <a/>\n</domain>"
    pieces = Document(text, LISTED).root.pieces
    assert [(piece.tag, piece.copies) for piece in pieces] == [
        ("clock", 1),
        ("a", 1),
        ("b", 1),
        ("", 3),
        ("a", 1),
        ("b", 1),
        ("a", 1),
    ]
    assert [child.tag for child in pieces[3].pieces] == ["a", "b"]


@st.composite
def repeating_documents(draw: st.DrawFn) -> str:
    """A root whose children repeat a few elements in turn (each after the
    same text, or each after its own), with other children and text
    around."""
    others = st.lists(st.tuples(TEXT_BETWEEN, st.sampled_from(["<w/>", "<a/>", "<v>t</v>"])), max_size=2)
    period = draw(st.lists(st.sampled_from(["<a/>", "<b x='1'/>", "<c>t<d/></c>"]), min_size=1, max_size=3))
    shared = draw(TEXT_BETWEEN)
    befores = draw(
        st.one_of(st.just([shared] * len(period)), st.lists(TEXT_BETWEEN, min_size=len(period), max_size=len(period)))
    )
    run = "".join(before + element for before, element in zip(befores, period, strict=True)) * draw(st.integers(3, 6))
    around = ["".join(text + element for text, element in draw(others)) for _ in range(2)]
    return f"<r><s>{around[0]}{run}{around[1]}{draw(TEXT_BETWEEN)}</s></r>"


IN_S = Part(every=True, inside={"s": LISTED})


def _taken_apart_one_by_one(text: str) -> Document:
    with mock.patch.object(xmltext, "_grouped", _one_by_one):
        single = Document(text, IN_S)
        assert all(piece.tag for piece in _s(single).pieces)
    return single


def _s(document: Document) -> Element:
    return document.root.pieces[0]


def _copies_of(grouped: Document, single: Document) -> dict[int, list[Element]]:
    """Each child of `grouped`'s <s>: the children of `single`'s <s> it
    stands for (a group's member: one in each copy)."""
    singles = iter(_s(single).pieces)
    copies: dict[int, list[Element]] = {}
    for piece in _s(grouped).pieces:
        for _ in range(piece.copies):
            for child in piece.pieces if not piece.tag else [piece]:
                copies.setdefault(id(child), []).append(next(singles))
    return copies


@settings(max_examples=1500, deadline=None)
@given(text=repeating_documents(), data=st.data())
def test_removing_any_children_of_repeats_as_one_is_removing_each(text: str, data: st.DataObject) -> None:
    grouped = Document(text, IN_S)
    single = _taken_apart_one_by_one(text)
    copies = _copies_of(grouped, single)
    for _ in range(2):
        children = _s(grouped).children
        doomed = data.draw(st.lists(st.sampled_from(children), unique_by=id)) if children else []
        doomed.sort(key=children.index)
        _remove_alike(grouped, single, doomed, copies)


def _remove_alike(grouped: Document, single: Document, doomed: list[Element], copies: dict[int, list[Element]]) -> None:
    grouped.remove(doomed)
    single.remove(sorted((each for one in doomed for each in copies[id(one)]), key=_s(single).pieces.index))
    assert grouped.render() == single.render()


def test_what_follows_repeats_joins_as_after_removing_each() -> None:
    for between, after in itertools.product(("\n  ", " ", "<!-- c -->"), ("", "<!-- c -->", "\n", "\n  <!-- c -->")):
        text = f"<r><s><w/>{f'{between}<a/>{between}<b/>' * 4}{after}</s></r>"
        grouped = Document(text, IN_S)
        single = _taken_apart_one_by_one(text)
        copies = _copies_of(grouped, single)
        pieces = _s(grouped).pieces
        assert [piece.tag for piece in pieces] == ["w", "a", "b", "", "a", "b"]
        group = pieces[3]
        # the last member alone, what precedes the run, the last copy, the first of the others, the only one left
        for doomed in (group.pieces[1:], pieces[:1], pieces[4:], pieces[2:3], pieces[1:2] + group.pieces[:1]):
            _remove_alike(grouped, single, doomed, copies)


def _in_document_order(element: Element) -> list[Element]:
    """Every element taken apart under `element` (group members once), in document order."""
    found = []
    for child in element.children:
        found += [child, *_in_document_order(child)]
    return found


def _cut_in_turn(parent: Element, cut: list[Element]) -> None:
    """xmltext._cut_children as _cut does it, one child after the other."""
    removal = xmltext._Removal()
    for element in cut:
        element.parent = parent  # (Document.remove has let go of it)
        xmltext._cut(element, parent, removal)
        element.parent = None
    removal.end()


@settings(max_examples=1500, deadline=None)
@given(xml=repeated_domains(), unit=st.sampled_from(["", "  ", "\t"]), data=st.data())
def test_children_cut_in_one_pass_join_as_cut_in_turn(xml: str, unit: str, data: st.DataObject) -> None:
    """Removing children of a parent without groups takes one pass over its
    pieces; the texts around them join as when each is cut in turn (_cut),
    runs of neighbours, the first and the last child and nested ones
    included."""
    text = _indented(xml, unit) if unit else xml
    documents = Document(text, EVERYTHING), Document(text, EVERYTHING)
    elements = [_in_document_order(document.root) for document in documents]
    chosen = sorted(data.draw(st.sets(st.integers(0, len(elements[0]) - 1))) if elements[0] else [])
    documents[0].remove([elements[0][index] for index in chosen])
    with mock.patch.object(xmltext, "_cut_children", _cut_in_turn):
        documents[1].remove([elements[1][index] for index in chosen])
    assert documents[0].render() == documents[1].render()
    assert etree.fromstring(documents[0].render().encode()) is not None  # still well-formed
