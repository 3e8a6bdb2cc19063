"""The text patcher's pieces: any well-formed XML comes back byte for byte,
the elements it takes apart are the ones lxml sees, and taking apart only
what an edit needs gives the same text as taking everything apart."""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hvtune.catalog import load_catalog
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats import libvirt_patch
from hvtune.formats.xmltext import Document, Element, Part

from strategies import configs, duplicated_domains

NAMES = st.sampled_from(["a", "b", "panic", "timer", "x-y", "devices"])
SPACE = st.sampled_from(["", " ", "\n", "\r\n  ", "\n\t", "\n    "])
TEXT = st.sampled_from(["", "t", "a > b", "&amp;", "x &lt;y&gt;", " ]] "])
MARKUP = st.sampled_from(["<!-- a <b> </b> -->", "<![CDATA[ <b> </b> ]]>", "<?pi <b>?>", "<!---->"])


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
    return prolog + draw(elements()) + draw(st.sampled_from(["", "\n", "\r\n", "<!-- after -->\n"]))


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
