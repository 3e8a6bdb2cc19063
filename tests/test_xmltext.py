"""The text patcher's pieces: any well-formed XML comes back byte for byte,
and the elements it takes apart are the ones lxml sees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hvtune.formats.xmltext import Document, Element, Spec

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


SPECS: list[Spec] = [
    {"*": None},
    {"*": {"*": None}},
    {"panic": None},
    {"b": {"timer": None}, "*": None},
    {"*": {"*": {"*": None}}},
]


def _lxml_children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _agrees(ours: Element, theirs: etree._Element, spec: Spec | None) -> None:
    if spec is None or ours.self_closing:
        return
    children = _lxml_children(theirs)
    kept = [child for child in children if "*" in spec or child.tag in spec]
    if children:
        kept = list(dict.fromkeys([children[0], *kept, children[-1]]))
    kept.sort(key=children.index)
    assert [child.tag for child in ours.children] == [child.tag for child in kept]
    for mine, lxml_child in zip(ours.children, kept, strict=True):
        _agrees(mine, lxml_child, spec.get(mine.tag, spec.get("*")))


@settings(max_examples=400, deadline=None)
@given(text=documents(), spec=st.sampled_from(SPECS))
def test_pieces_join_to_the_same_text_and_follow_lxml(text: str, spec: Spec) -> None:
    document = Document(text, spec)
    assert document.render() == text
    root = etree.fromstring(text.encode(), etree.XMLParser(remove_blank_text=False, resolve_entities=False))
    _agrees(document.root, root, spec)
