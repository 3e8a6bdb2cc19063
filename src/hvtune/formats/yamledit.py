"""Editing YAML text in place: a few assignments to a document's mappings,
each made as the smallest change of the text (a scalar replaced, a key
inserted, a list item added), so that comments, order, quoting and every
byte outside the edit stay as they were.

Positions come from ruamel.yaml's round-trip nodes (line and column of each
key and value). A key goes into a block mapping before its first key, with
that key's indentation; into a flow mapping before its closing brace. Each
edit is checked by reading the text again: the document must then hold
exactly what it held, with the assignment made; an edit hvtune cannot make
that way is refused with an InputError rather than written wrongly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from hvtune.errors import InputError
from hvtune.formats.yamltext import load_documents

Scalar = bool | int | str
Path = tuple[str, ...]
EMPTY: Mapping[str, Any] = {}

# What YAML takes for a line break (the scanner's, YAML 1.1 included).
_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_PLAIN_STRING = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]*\Z")
_NOT_STRINGS = re.compile(r"(?i:y|n|yes|no|on|off|true|false|null|~)\Z|[-+]?[0-9.]|\.(?i:inf|nan)\Z|[-+]?\.(?i:inf)\Z")
_NULLS = ("", "~", "null", "Null", "NULL")


@dataclass(frozen=True)
class Set:
    """Make `path` hold `value`: a scalar, or a mapping (``EMPTY`` or a
    nested one) when the key is missing; parents are created as needed
    (with `create_parents` false, nothing is done without them). With
    `only_if_present`, only a key already written is changed."""

    path: Path
    value: Scalar | Mapping[str, Any]
    only_if_present: bool = False
    create_parents: bool = True

    @property
    def creates(self) -> bool:
        """Whether missing parents are written."""
        return self.create_parents and not self.only_if_present


@dataclass(frozen=True)
class Item:
    """In the list at `path`, the mapping whose `key` is `name` gets
    `fields` (a new item is added first when there is none)."""

    path: Path
    key: str
    name: str
    fields: Mapping[str, Scalar]


Edit = Set | Item


def scalar_text(value: Scalar) -> str:
    """A scalar as YAML writes it (strings plain when that reads back the same)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN_STRING.match(value) and not _NOT_STRINGS.match(value) and value == value.strip():
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key_text(key: str, quoted: bool = False) -> str:
    if quoted:
        return json.dumps(key)
    return key if _PLAIN_KEY.match(key) else scalar_text(key) if key else '""'


def flow_text(value: Scalar | Mapping[str, Any] | Sequence[Any], quoted: bool = False) -> str:
    """A value in flow style: {a: {}, b: 1}; `quoted`: as JSON writes it."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key_text(k, quoted)}: {flow_text(v, quoted)}" for k, v in value.items()) + "}"
    if isinstance(value, bool | int | str):
        return json.dumps(value) if quoted else scalar_text(value)
    return "[" + ", ".join(flow_text(v, quoted) for v in value) + "]"


def block_lines(key: str, value: Any, indent: int = 0) -> list[str]:
    """`key: value` in block style, a nested mapping one level (2 spaces)
    deeper; empty mappings and scalars stay on the key's line; a list of
    mappings is written as YAML's block sequence."""
    pad = " " * indent
    if isinstance(value, Mapping) and value:
        lines = [f"{pad}{_key_text(key)}:"]
        for child, inner in value.items():
            lines += block_lines(child, inner, indent + 2)
        return lines
    if isinstance(value, list | tuple) and value:
        lines = [f"{pad}{_key_text(key)}:"]
        for item in value:
            entry = [line for child, inner in item.items() for line in block_lines(child, inner, indent + 2)]
            lines += [f"{pad}- {entry[0][indent + 2 :]}", *entry[1:]]
        return lines
    return [f"{pad}{_key_text(key)}: {flow_text(value)}"]


def render_block(tree: Mapping[str, Any]) -> str:
    """A mapping as block YAML text (ending in a newline)."""
    return "".join(line + "\n" for key, value in tree.items() for line in block_lines(key, value))


def assign(tree: dict[str, Any], edit: Edit) -> None:
    """Make `edit` in plain data (what the text must read as afterwards)."""
    *parents, last = edit.path
    node = tree
    for name in parents:
        if not isinstance(node.get(name), dict):
            if isinstance(edit, Set) and not edit.creates:
                return
            node[name] = {}
        node = node[name]
    if isinstance(edit, Set):
        if edit.only_if_present and last not in node:
            return
        current = node.get(last)
        if isinstance(edit.value, Mapping) and isinstance(current, dict):
            for key, value in edit.value.items():
                assign(current, Set((key,), value))
        else:
            node[last] = deepcopy(dict(edit.value)) if isinstance(edit.value, Mapping) else edit.value
        return
    items = node.get(last)
    if not isinstance(items, list):
        items = node[last] = []
    for item in items:
        if isinstance(item, dict) and item.get(edit.key) == edit.name:
            item.update(edit.fields)
            return
    items.insert(0, {edit.key: edit.name, **edit.fields})


def plain(node: Any) -> Any:
    """Round-trip data as plain dicts, lists and scalars (for comparing)."""
    if isinstance(node, Mapping):
        return {str(k) if isinstance(k, str) else k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


class _Text:
    """The text being edited, with (line, column) -> offset as ruamel.yaml counts them."""

    def __init__(self, text: str, quoted: bool):
        self.text = text
        self.quoted = quoted  # a JSON document: keys and strings written as JSON writes them
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.starts = [0, *(match.end() for match in _BREAK.finditer(text))]

    def offset(self, line: int, column: int) -> int:
        return self.starts[line] + column

    def line_end(self, offset: int) -> int:
        match = _BREAK.search(self.text, offset)
        return match.start() if match else len(self.text)

    def replaced(self, start: int, end: int, new: str) -> str:
        return self.text[:start] + new + self.text[end:]


def _scalar_end(text: str, start: int, end_of_line: int, flow: bool) -> int:
    """Where the scalar written at `start` ends (quoted, or plain up to a
    comment, the line's end, or in flow context a comma or bracket)."""
    quote = text[start : start + 1]
    if quote in ("'", '"'):
        position = start + 1
        while position < len(text):
            char = text[position]
            if quote == '"' and char == "\\":
                position += 2
                continue
            if char == quote:
                if quote == "'" and text[position + 1 : position + 2] == "'":
                    position += 2
                    continue
                return position + 1
            position += 1
        return len(text)
    position = start
    while position < end_of_line:
        char = text[position]
        if char == "#" and position > start and text[position - 1] in " \t":
            break
        if flow and char in ",]}":
            break
        position += 1
    return len(text[start:position].rstrip(" \t")) + start


def _after_colon(text: _Text, node: Any, key: str) -> int:
    """The offset just after the ':' that ends `key` in a block mapping."""
    line, column = node.lc.key(key)
    start = text.offset(line, column)
    end = _scalar_end(text.text, start, text.line_end(start), False) if text.text[start] in "'\"" else start
    colon = text.text.find(":", end)
    return colon + 1


def _flow_close(text: str, start: int) -> int:
    """The offset of the bracket closing the flow collection opened at `start`."""
    depth, position = 0, start
    while position < len(text):
        char = text[position]
        if char in "'\"":
            position = _scalar_end(text, position, len(text), True)
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    raise ValueError("unclosed flow collection")


def _opening(text: _Text, node: Any, bracket: str) -> int:
    """Where the flow collection `node` opens."""
    opening = text.offset(node.lc.line, node.lc.col)
    if text.text[opening : opening + 1] != bracket:
        raise ValueError(f"a collection written without {bracket}")
    return opening


def _insert_key(text: _Text, node: Any, name: str, value: Any) -> str:
    """`name: value` added to the mapping `node`."""
    if node.fa.flow_style() or not node:
        opening = _opening(text, node, "{")
        closing = _flow_close(text.text, opening)
        inside = text.text[opening + 1 : closing]
        entry = f"{_key_text(name, text.quoted)}: {flow_text(value, text.quoted)}"
        if inside.strip():
            body = inside.rstrip()
            trailing = inside[len(body) :]
            return text.replaced(opening + 1 + len(body), closing, f", {entry}{trailing}")
        return text.replaced(opening + 1, closing, entry)
    first = next(iter(node))
    line, column = node.lc.key(first)
    at = text.offset(line, column)
    lines = block_lines(name, value, column)
    inserted = text.newline.join(lines)[column:] + text.newline + " " * column
    return text.replaced(at, at, inserted)


def _insert_item(text: _Text, items: Any, item: Mapping[str, Scalar]) -> str:
    """`item` added as the first element of the list `items`."""
    if items.fa.flow_style() or not items:
        opening = _opening(text, items, "[")
        closing = _flow_close(text.text, opening)
        inside = text.text[opening + 1 : closing]
        first = flow_text(item, text.quoted) + (", " if inside.strip() else "")
        return text.replaced(opening + 1, opening + 1, first)
    line, column = items.lc.item(0)
    start = text.offset(line, column)
    dash = text.text.rfind("-", text.starts[line], start)
    if dash < 0:
        raise ValueError("a list item without its dash on the line")
    indent = dash - text.starts[line]
    entries = [entry for name, value in item.items() for entry in block_lines(name, value, indent + 2)]
    written = [f"- {entries[0][indent + 2 :]}", *entries[1:]]
    inserted = text.newline.join(written) + text.newline + " " * indent
    return text.replaced(dash, dash, inserted)


def _replace_value(text: _Text, parent: Any, key: str | int, value: Any) -> str:
    """`parent`[`key`] (a scalar or null) replaced by `value`."""
    flow = bool(parent.fa.flow_style())
    current = parent[key]
    if current is None and not flow:
        start = _after_colon(text, parent, str(key))
        end_of_line = text.line_end(start)
        written_end = _scalar_end(text.text, start, end_of_line, False)
        if text.text[start:written_end].strip() not in _NULLS:
            raise ValueError("a null written in a way hvtune does not edit")
        return text.replaced(start, written_end, " " + flow_text(value, text.quoted))
    line, column = parent.lc.value(key) if isinstance(key, str) else parent.lc.item(key)
    start = text.offset(line, column)
    end = _scalar_end(text.text, start, text.line_end(start), flow)
    return text.replaced(start, end, flow_text(value, text.quoted))


def _nested(path: Path, edit: Edit) -> Any:
    """What a missing `path` (the first missing name, then the rest of the
    edit's path) holds once the edit is made: nested mappings down to it."""
    value: Any = edit.value if isinstance(edit, Set) else [{edit.key: edit.name, **edit.fields}]
    for name in reversed(path[1:]):
        value = {name: value}
    return value


def _edit_once(text: _Text, document: Any, edit: Edit) -> str | None:
    """The text with one step of `edit` made (None: nothing left to do)."""
    node: Any = document
    *parents, last = edit.path
    for depth, name in enumerate(parents):
        child = node.get(name)
        if isinstance(child, Mapping):
            node = child
            continue
        if isinstance(edit, Set) and not edit.creates:
            return None
        if child is not None:
            raise ValueError(f"{name} holds no mapping")
        nested = _nested(edit.path[depth:], edit)
        return _replace_value(text, node, name, nested) if name in node else _insert_key(text, node, name, nested)
    if isinstance(edit, Item):
        return _edit_item(text, node, last, edit)
    if last not in node:
        return None if edit.only_if_present else _insert_key(text, node, last, edit.value)
    current = node[last]
    if isinstance(edit.value, Mapping):
        if current is None:
            return _replace_value(text, node, last, edit.value)
        if not isinstance(current, Mapping):
            raise ValueError(f"{last} holds no mapping")
        for inner, value in edit.value.items():
            made = _edit_once(text, document, Set((*edit.path, inner), value))
            if made is not None:
                return made
        return None
    if isinstance(current, Mapping | list):
        raise ValueError(f"{last} holds a collection, not a value")
    if plain(current) == edit.value and type(plain(current)) is type(edit.value):
        return None
    return _replace_value(text, node, last, edit.value)


def _edit_item(text: _Text, node: Any, last: str, edit: Item) -> str | None:
    items = node.get(last)
    if items is None:
        wanted = [{edit.key: edit.name, **edit.fields}]
        return _replace_value(text, node, last, wanted) if last in node else _insert_key(text, node, last, wanted)
    if not isinstance(items, list):
        raise ValueError(f"{last} holds no list")
    for item in items:
        if isinstance(item, Mapping) and item.get(edit.key) == edit.name:
            for name, value in edit.fields.items():
                if name not in item:
                    return _insert_key(text, item, name, value)
                if plain(item[name]) != value:
                    return _replace_value(text, item, name, value)
            return None
    return _insert_item(text, items, {edit.key: edit.name, **edit.fields})


def edit_document(text: str, *, index: int, edits: Sequence[Edit], source: str, place: str) -> str:
    """`text` with `edits` made in its document number `index`, each as
    the smallest change; refused (InputError at `place`) when the result
    would not read back as exactly the intended document."""
    for edit in edits:
        expected = plain(load_documents(text, source=source)[index])
        assign(expected, edit)
        for _ in range(8):  # a mapping value takes one step per key
            document = load_documents(text, source=source)[index]
            try:
                made = _edit_once(_Text(text, bool(document.fa.flow_style())), document, edit)
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as refused:
                raise InputError(source, place, f"hvtune cannot edit this YAML in place: {refused}") from None
            if made is None:
                break
            text = made
        if plain(load_documents(text, source=source)[index]) != expected:
            raise InputError(source, place, "hvtune cannot edit this YAML in place without changing other values")
    return text
