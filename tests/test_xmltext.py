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
from hvtune.formats.xmltext import Document, Element, Spec

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
    """Every child named in `spec` (all under "*") has its Element, in
    lxml's order, and so do the first and the last; others may."""
    if spec is None or ours.self_closing:
        return
    children = _lxml_children(theirs)
    if "*" in spec:
        assert [child.tag for child in ours.children] == [child.tag for child in children]
        pairs = list(zip(ours.children, children, strict=True))
    else:
        named = [child for child in children if child.tag in spec]
        mine = [child for child in ours.children if child.tag in spec]
        assert [child.tag for child in mine] == [child.tag for child in named]
        pairs = list(zip(mine, named, strict=True))
        if children:
            assert (ours.children[0].tag, ours.children[-1].tag) == (children[0].tag, children[-1].tag)
    for mine_child, lxml_child in pairs:
        _agrees(mine_child, lxml_child, spec.get(mine_child.tag, spec.get("*")))


@settings(max_examples=400, deadline=None)
@given(text=documents(), spec=st.sampled_from(SPECS))
def test_pieces_join_to_the_same_text_and_follow_lxml(text: str, spec: Spec) -> None:
    document = Document(text, spec)
    assert document.render() == text
    root = etree.fromstring(text.encode(), etree.XMLParser(remove_blank_text=False, resolve_entities=False))
    _agrees(document.root, root, spec)


EVERYTHING: Spec = {
    "features": {"hyperv": {"*": {"*": None}}, "kvm": {"*": None}, "*": None},
    "clock": {"*": None},
    "cpu": {"*": None},
    "devices": {"*": None},
    "*": None,
}
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
    with mock.patch.object(libvirt_patch, "_spec", lambda names: EVERYTHING):
        assert _patched(text, change, config) == needed
