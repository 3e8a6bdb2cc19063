"""Edit XML text in place, changing nothing but the edited elements.

Serializing a parsed tree rewrites quoting, attribute spacing, empty elements
and more all over a file; these edits instead find the element's position in
the original text and splice there. Comments, namespaces, quoting and
whitespace elsewhere stay byte-identical, and inserted elements take the
quote style and indentation of their neighbours.

The text must already be well-formed (xmlsafe.parse_xml checks that first):
the scanner only tracks tags, skipping comments, CDATA, processing
instructions and text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ATTRIBUTE = re.compile(r"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")
_SKIPS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))


@dataclass
class Attribute:
    name: str
    value: str
    quote: str
    start: int  # where the name begins
    value_start: int  # after the opening quote
    value_end: int  # at the closing quote


@dataclass
class Node:
    """An element's position: ``start`` at its '<', ``start_end`` after its
    start tag, ``end_start`` at its end tag (== start_end when self-closing),
    ``end`` after the whole element."""

    tag: str
    start: int
    start_end: int
    self_closing: bool
    attributes: list[Attribute]
    parent: Node | None
    end_start: int = 0
    end: int = 0
    children: list[Node] = field(default_factory=list)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def get(self, name: str) -> str | None:
        found = self.attribute(name)
        return found.value if found else None

    def child(self, tag: str) -> Node | None:
        """The last child with that tag (libvirt keeps the last)."""
        found = [child for child in self.children if child.tag == tag]
        return found[-1] if found else None


def _unescape(value: str) -> str:
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def escape(value: str, quote: str) -> str:
    """A value for an attribute written with `quote`."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace(quote, "&quot;" if quote == '"' else "&apos;")


def scan(text: str) -> Node:
    """The root element of well-formed XML text, with every element's place."""
    stack: list[Node] = []
    root: Node | None = None
    index = 0
    while True:
        index = text.find("<", index)
        if index < 0:
            break
        skip = next((end for begin, end in _SKIPS if text.startswith(begin, index)), None)
        if skip is not None:
            index = text.index(skip, index) + len(skip)
            continue
        close = _tag_end(text, index)
        if text.startswith("</", index):
            node = stack.pop()
            node.end_start, node.end = index, close
        else:
            body = text[index + 1 : close - 1]
            self_closing = body.endswith("/")
            tag = re.match(r"[^\s/>]+", body)
            assert tag, f"no tag name at {index}"
            attributes = [
                Attribute(
                    match.group(1),
                    _unescape(match.group(2)[1:-1]),
                    match.group(2)[0],
                    index + 1 + match.start(1),
                    index + 1 + match.start(2) + 1,
                    index + 1 + match.end(2) - 1,
                )
                for match in _ATTRIBUTE.finditer(body, tag.end())
            ]
            node = Node(tag.group(), index, close, self_closing, attributes, stack[-1] if stack else None)
            if stack:
                stack[-1].children.append(node)
            else:
                root = node
            if self_closing:
                node.end_start, node.end = close, close
            else:
                stack.append(node)
        index = close
    assert root is not None, "no root element"
    return root


def _tag_end(text: str, start: int) -> int:
    """The offset after the '>' that closes the tag at `start`, skipping
    '>' inside quoted attribute values."""
    quote = ""
    for index in range(start + 1, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == ">":
            return index + 1
    raise ValueError("unterminated tag")


def line_indent(text: str, offset: int) -> str:
    """The white space between the start of offset's line and offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    return prefix if prefix.strip() == "" else ""


def indent_unit(text: str, root: Node) -> str:
    """The document's indentation step (two spaces when it has none)."""
    for child in root.children:
        indent = line_indent(text, child.start)
        if indent:
            return indent
    return "  "


def quote_style(root: Node) -> str:
    """The quote most attributes use (libvirt writes single quotes)."""
    quotes = [a.quote for node in _walk(root) for a in node.attributes]
    return '"' if quotes.count('"') > quotes.count("'") else "'"


def _walk(node: Node) -> list[Node]:
    nodes = [node]
    for child in node.children:
        nodes += _walk(child)
    return nodes


def set_attribute(text: str, node: Node, name: str, value: str, quote: str) -> str:
    existing = node.attribute(name)
    if existing is not None:
        return text[: existing.value_start] + escape(value, existing.quote) + text[existing.value_end :]
    quote = node.attributes[0].quote if node.attributes else quote
    insert = node.start_end - (2 if node.self_closing else 1)
    while text[insert - 1] in " \t\n":
        insert -= 1
    return text[:insert] + f" {name}={quote}{escape(value, quote)}{quote}" + text[insert:]


def remove_attribute(text: str, node: Node, name: str) -> str:
    existing = node.attribute(name)
    if existing is None:
        return text
    start = existing.start
    while text[start - 1] in " \t\n":
        start -= 1
    return text[:start] + text[existing.value_end + 1 :]


def remove_element(text: str, node: Node) -> str:
    """Remove an element, and its line when it stands alone on one."""
    start, end = node.start, node.end
    indent = line_indent(text, start)
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else len(text)]
    alone_on_line = (indent or start == 0 or text[start - 1] == "\n") and rest.strip() == ""
    if alone_on_line:
        start -= len(indent)
        end = line_end + 1 if line_end >= 0 else len(text)
    return text[:start] + text[end:]


def insert_element(text: str, parent: Node, fragment: str, before: Node | None, unit: str) -> str:
    """Insert an element (a fragment whose later lines are indented relative
    to its first) into `parent`, before `before` or at the end, indented like
    its siblings."""
    parent_indent = line_indent(text, parent.start)
    siblings = parent.children
    child_indent = line_indent(text, siblings[0].start) if siblings else parent_indent + unit
    lines = fragment.split("\n")
    body = ("\n" + child_indent).join(lines)
    if before is not None:
        if line_indent(text, before.start) or text[before.start - 1 : before.start] == "\n":
            return text[: before.start] + body + "\n" + child_indent + text[before.start :]
        return text[: before.start] + body + text[before.start :]
    if siblings:
        last = siblings[-1]
        return text[: last.end] + "\n" + child_indent + body + text[last.end :]
    if parent.self_closing:
        opening = text[parent.start : parent.start_end - 2].rstrip() + ">"
        return (
            text[: parent.start]
            + opening
            + "\n"
            + child_indent
            + body
            + "\n"
            + parent_indent
            + f"</{parent.tag}>"
            + text[parent.end :]
        )
    inner = text[parent.start_end : parent.end_start]
    closing = "\n" + child_indent + body + "\n" + parent_indent + text[parent.end_start :]
    if inner.strip():  # comments or text only: keep them, append after
        return text[: parent.end_start].rstrip() + closing
    return text[: parent.start_end] + closing
