"""Edit XML text in place, changing nothing but the edited elements.

Serializing a parsed tree rewrites quoting, attribute spacing, empty elements
and more all over a file; these edits instead work on the text itself.
Comments, namespaces, quoting and whitespace elsewhere stay byte-identical,
and inserted elements take the quote style, indentation and line ending of
their neighbours.

A ``Document`` is the text cut into pieces once: each element that matters
keeps its start tag, the text before it, its element children, the text
after its last child and its end tag; every other element stays one opaque
piece, passed over without being parsed (a search for its end tag, at the
speed of ``str.find`` or of one regular expression). An element is taken
apart only as far as a ``Part`` says, and only when first asked for. Edits
change pieces; ``render`` joins them once. The cost is linear in the text
whatever is edited.

Children that repeat (a run of identical elements, or of a few elements in
turn, with the same text between) are taken apart once: the repeats
between the first and the last are one group, a nameless Element whose
children are one repeat's, written ``copies`` times. Their edits are made once and
written as many times. The first and the last repeat stay Elements of
their own, so that an edit of the first or the last element of a kind (a
new child goes into the last ``<hyperv>``, libvirt reads the first
``<clock>``'s offset) never reaches a group: the repeats in it are always
edited alike.

The text must already be well-formed (xmlsafe.parse_xml checks that first):
the pieces follow tags only, passing over comments, CDATA, processing
instructions and text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import NamedTuple

from hvtune.formats.lines import line_ending


def _condition(key: str) -> tuple[str, str, str] | None:
    """The tag, attribute and value of a "tag attribute=value" key of
    Part.kept (None: a key that is a tag alone)."""
    tag, _, condition = key.partition(" ")
    if not condition:
        return None
    attribute, _, value = condition.partition("=")
    return tag, attribute, value


@dataclass(frozen=True, eq=False)
class Part:
    """What of an element's content to take apart.

    A child gets an Element of its own when `every` child does, when `kept`
    names it (a tag, or "tag attribute=value" for those with that value),
    or when it is the first child of a tag in `firsts` (enough to keep an
    order); the first and the last child always do (for indentation and
    appending), and so do the root's children up to the first indented one.
    The other children stay in the text between, passed by a regular
    expression without a step of Python each. A child with an Element is
    taken apart as `inside` says for its tag, or left opaque.

    A tag in `holding` is kept only where it may matter: a child of that tag
    gets an Element when its text may hold an element its keys name (keys
    as in `kept`), and the last child of that tag before each step of Python
    and at the end does too (so the last one always has an Element); the
    others, thousands of copies that hold nothing to edit, stay in the text
    between."""

    every: bool = False
    kept: frozenset[str] = frozenset()
    firsts: frozenset[str] = frozenset()
    inside: Mapping[str, Part] = field(default_factory=dict)
    holding: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def held(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """`holding` in a fixed order (the groups of _plain_run)."""
        return tuple(sorted(self.holding.items()))

    @cached_property
    def conditions(self) -> Mapping[str, tuple[tuple[str, str], ...]]:
        """The "tag attribute=value" keys of `kept`, by tag."""
        found: dict[str, list[tuple[str, str]]] = {}
        for key in self.kept:
            if (condition := _condition(key)) is not None:
                tag, attribute, value = condition
                found.setdefault(tag, []).append((attribute, value))
        return {tag: tuple(pairs) for tag, pairs in found.items()}

    def keeps(self, tag: str, head: str) -> bool:
        if self.every or tag in self.kept or tag in self.holding:
            return True
        pairs = self.conditions.get(tag)
        return pairs is not None and any(_value_in(head, attribute) == value for attribute, value in pairs)


_ATTRIBUTES = r"""(?:[^>"'/]++|"[^"]*+"|'[^']*+'|/(?!>))*+"""
_START_TAG = re.compile(rf"<([^\s/>]++){_ATTRIBUTES}(/?)>")
# comments, CDATA and processing instructions, whole
_MARKUP = r"<!--(?:[^-]++|-(?!->))*+-->|<!\[CDATA\[(?:[^\]]++|\](?!\]>))*+\]\]>|<\?(?:[^?]++|\?(?!>))*+\?>"
_QUOTED = re.compile(r"""=[ \t\r\n]++(["'])""")  # = "value", with space between
_FIRST_QUOTE = re.compile(r"""<[^\s/>]++\s++[^\s=/>]++\s*+=\s*+(["'])""")
_SPACE = " \t\r\n"
_AFTER_NAME = " \t\r\n/>"


@lru_cache(maxsize=64)
def _content(tag: str) -> re.Pattern[str]:
    """The content of a `tag` element up to its end tag or another `tag`
    (then group 1 is "/" or ""), markup passed whole."""
    return re.compile(rf"(?:[^<]++|{_MARKUP}|<(?!/?{re.escape(tag)}[\s/>]))*+<(/?){re.escape(tag)}[\s/>]")


def _start_of(key: str) -> str:
    """What follows "<" in a start tag that a key of Part.kept names: "tag",
    or "tag attribute=value" (that value, or one with a reference that may
    spell it: then a step of Python decides)."""
    tag, _, condition = key.partition(" ")
    if not condition:
        return rf"{re.escape(tag)}[\s/>]"
    attribute, _, value = condition.partition("=")
    other = r"""(?>\s++[^\s=/>]++\s*+=\s*+(?:"[^"]*+"|'[^']*+'))"""
    value = re.escape(value)
    quoted = rf"""(?:"(?:{value}|[^"&]*+&[^"]*+)"|'(?:{value}|[^'&]*+&[^']*+)')"""
    return rf"{re.escape(tag)}(?={other}*?\s++{re.escape(attribute)}\s*+=\s*+{quoted})"


def _small_child(same: str, refused: tuple[str, ...] = ()) -> str:
    """After "<" and the name, a small element (`same` matches its name
    again) whose content holds no element of its own name and none that
    `refused` (keys as in Part.kept) names."""
    refusing = "".join("|" + _start_of(key) for key in refused)
    content = rf"(?:[^<]{{1,256}}+|{_MARKUP}|<(?!/?{same}[\s/>]|[!?]{refusing})){{0,1000}}+"
    return rf"{_ATTRIBUTES}(?:/>|>{content}</{same}\s*+>)"


@lru_cache(maxsize=256)
def _plain_run(kept: frozenset[str], holding: tuple[tuple[str, frozenset[str]], ...] = ()) -> re.Pattern[str]:
    """Consecutive children that `kept` does not name, with the text and
    markup before each, that hold no element of their own name and are
    small (the others are followed one by one, a large one found at the
    speed of a search). Group "last" is the last child. A child of a tag in
    `holding` passes when its content holds nothing its keys name; group
    "held0", "held1"... is the last one passed of each such tag."""
    refused = [_start_of(key) for key in sorted(kept)] + [_start_of(tag) for tag, _ in holding]
    unkept = f"(?!{'|'.join(refused)})" if refused else ""
    held = [
        rf"(?P<held{index}><{re.escape(tag)}(?=[\s/>]){_small_child(re.escape(tag), tuple(sorted(keys)))})"
        for index, (tag, keys) in enumerate(holding)
    ]
    child = rf"<{unkept}(?P<name>[^\s/>!?]++){_small_child('(?P=name)')}"
    # an atomic group, not a possessive repeat: Python 3.11's possessive
    # repeat loses (or corrupts: SystemError) the spans of groups inside it
    return re.compile(rf"(?>(?:[^<]++|{_MARKUP}|(?P<last>{'|'.join([*held, child])}))*)")


@lru_cache(maxsize=64)
def _attribute_pattern(name: str) -> re.Pattern[str]:
    """A start tag's attribute `name`, found by stepping over whole
    attributes (so never inside another attribute's value)."""
    attribute = r"""\s++[^\s=/>]++\s*+=\s*+(?:"[^"]*+"|'[^']*+')"""
    value = r"""("[^"]*+"|'[^']*+')"""
    return re.compile(rf"<[^\s/>]++(?>{attribute})*?\s++({re.escape(name)})\s*+=\s*+{value}")


def _value_in(head: str, name: str) -> str | None:
    found = _attribute_pattern(name).match(head)
    return _unescape(found.group(2)[1:-1]) if found else None


class Attribute(NamedTuple):
    """An attribute of a start tag, by offsets into that tag."""

    value: str  # unescaped
    quote: str
    start: int  # where the name begins
    value_start: int  # after the opening quote
    value_end: int  # at the closing quote


class Element:
    """An element as pieces of text: ``before`` (what precedes it since its
    previous sibling or its parent's start tag), ``head`` (its start tag),
    its element ``children``, ``trailer`` (what follows the last child, or
    the whole content of an opaque element) and ``end`` (its end tag, empty
    when the element is written ``<empty/>``)."""

    __slots__ = ("_by_tag", "_children", "before", "copies", "end", "head", "parent", "part", "tag", "trailer")

    def __init__(self, tag: str, head: str, before: str, parent: Element | None):
        self.tag = tag
        self.head = head
        self.before = before
        self.parent = parent
        self.trailer = ""
        self.end = ""
        self.part: Part | None = None  # how to take it apart when first asked (None: opaque)
        self._children: list[Element] | None = []  # None until taken apart
        self._by_tag: dict[str, list[Element]] | None = None
        self.copies = 1  # how many times a group's members are written

    @property
    def multiplicity(self) -> int:
        """How many times the element is written: its copies times its
        ancestors'."""
        count, element = self.copies, self.parent
        while element is not None:
            count *= element.copies
            element = element.parent
        return count

    @property
    def opened(self) -> bool:
        return self._children is not None

    @property
    def pieces(self) -> list[Element]:
        """The children with an Element, and groups of repeats (nameless,
        see the module's docstring); an element is taken apart the first
        time they are asked for (an opaque one has none)."""
        if self._children is None:
            if self.part is None:
                return []
            self._children = []
            content = self.trailer + self.end
            _children(content, self, 0, _narrowed(self.part, content), len(self.trailer))
        return self._children

    @pieces.setter
    def pieces(self, pieces: list[Element]) -> None:
        self._children = pieces
        self._by_tag = None
        if self.parent is not None and not self.tag:  # a group: its parent lists its children too
            self.parent._by_tag = None

    @property
    def children(self) -> list[Element]:
        """The children with an Element, those in groups of repeats once
        each (their parent is the group)."""
        pieces = self.pieces
        if all(piece.tag for piece in pieces):
            return pieces
        return [child for piece in pieces for child in (piece.pieces if not piece.tag else (piece,))]

    def holds(self, text: str) -> bool:
        """Whether the element may hold `text` (taken apart, or its text does)."""
        return self._children is not None or text in self.trailer

    @property
    def self_closing(self) -> bool:
        return not self.end

    def attribute(self, name: str) -> Attribute | None:
        found = _attribute_pattern(name).match(self.head)
        if found is None:
            return None
        start, end = found.span(2)
        quoted = self.head[start:end]
        return Attribute(_unescape(quoted[1:-1]), quoted[0], found.start(1), start + 1, end - 1)

    def get(self, name: str) -> str | None:
        found = self.attribute(name)
        return found.value if found else None

    def first_quote(self) -> str | None:
        found = _FIRST_QUOTE.match(self.head)
        return found.group(1) if found else None

    def named(self, tag: str) -> list[Element]:
        if self._by_tag is None:
            self._by_tag = {}
            for child in self.children:
                self._by_tag.setdefault(child.tag, []).append(child)
        return self._by_tag.get(tag, [])

    def set_attribute(self, name: str, value: str, quote: str) -> str:
        """Set an attribute, keeping its quote; a new one takes the quote of
        the element's first attribute (else `quote`) and goes last. Returns
        the quote of an attribute it added ("" when it changed one)."""
        head = self.head
        existing = self.attribute(name)
        if existing is not None:
            self.head = head[: existing.value_start] + escape(value, existing.quote) + head[existing.value_end :]
            return ""
        quote = self.first_quote() or quote
        insert = len(head) - (2 if self.self_closing else 1)
        while head[insert - 1] in _SPACE:
            insert -= 1
        self.head = head[:insert] + f" {name}={quote}{escape(value, quote)}{quote}" + head[insert:]
        return quote

    def rename(self, tag: str) -> None:
        """Give the element another name, in its start and end tags alone."""
        self.head = f"<{tag}{self.head[len(self.tag) + 1 :]}"
        if self.end:
            self.end = f"</{tag}{self.end[len(self.tag) + 2 :]}"
        self.tag = tag

    def remove_attribute(self, name: str) -> str:
        """Remove an attribute; returns its quote ("" when there was none)."""
        existing = self.attribute(name)
        if existing is None:
            return ""
        head, start = self.head, existing.start
        while head[start - 1] in _SPACE:
            start -= 1
        self.head = head[:start] + head[existing.value_end + 1 :]
        return existing.quote

    def render(self, out: list[str]) -> None:
        """The element, once (its parent writes a group's copies)."""
        out.append(self.head)
        for child in self._children or ():
            if child.tag:
                out.append(child.before)
                child.render(out)
            elif child.pieces:
                copy = "".join(member.before + member.text() for member in child.pieces)
                out.append(child.before + copy[len(child.pieces[0].before) :] + copy * (child.copies - 1))
        out.append(self.trailer)
        out.append(self.end)

    def text(self) -> str:
        """The element's text, once."""
        out: list[str] = []
        self.render(out)
        return "".join(out)


def _unescape(value: str) -> str:
    """An attribute value as written, with its references resolved (the
    text is well-formed and has no DTD: only XML's five and numeric ones)."""
    return html.unescape(value) if "&" in value else value


def escape(value: str, quote: str) -> str:
    """A value for an attribute written with `quote`."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace(quote, "&quot;" if quote == '"' else "&apos;")


def _line_indent(before: str, *, nested: bool) -> str:
    """The white space at the end of `before` after its last line break; a
    `nested` element's line holds its parent's start tag or a sibling when
    `before` has no line break."""
    line_start = before.rfind("\n") + 1
    if line_start == 0 and nested:
        return ""
    prefix = before[line_start:]
    return prefix if prefix.strip() == "" else ""


def _blank_last_line(text: str) -> int | None:
    """The length of `text`'s last line when it follows a line break and is
    blank (0 when `text` ends with one); None otherwise."""
    line_start = text.rfind("\n") + 1
    if line_start == 0 or text[line_start:].strip():
        return None
    return len(text) - line_start


class _Joining:
    """The text between an element's neighbours once it (and maybe the
    neighbours after it, in turn) is removed: the text before it joined with
    the text after, less the element's line when it stands alone on one.
    Pieces are kept apart and only the last line is looked at, so that
    removing thousands of neighbours in turn costs what their texts are
    long."""

    __slots__ = ("blank", "pieces")

    def __init__(self, before: str):
        self.pieces = [before]
        self.blank = _blank_last_line(before)  # the length of a blank last line after a line break

    def join(self, after: str) -> None:
        line_end = after.find("\n")
        if self.blank is not None and line_end >= 0 and not after[:line_end].strip():
            self._drop(self.blank)
            self.blank, after = 0, after[line_end + 1 :]
        self.pieces.append(after)
        if "\n" in after:
            self.blank = _blank_last_line(after)
        elif self.blank is not None:
            self.blank = None if after.strip() else self.blank + len(after)

    def _drop(self, count: int) -> None:
        """Drop the last `count` characters."""
        while count:
            last = self.pieces.pop()
            if len(last) > count:
                self.pieces.append(last[: len(last) - count])
                return
            count -= len(last)

    def text(self) -> str:
        if len(self.pieces) > 1:
            self.pieces = ["".join(self.pieces)]
        return self.pieces[0]


def _joined(before: str, after: str) -> str:
    """What stands between an element's neighbours once it is removed (see _Joining)."""
    joining = _Joining(before)
    joining.join(after)
    return joining.text()


_AN_ELEMENT = re.compile(r"<[^!?/]")


def _apart(content: str, parent: Element) -> tuple[list[Element], str]:
    """Content left in the text between (whole elements, markup, text)
    taken apart as `_children` does: its first and last elements get an
    Element of their own; and the text after the last."""
    holder = Element("", "", "", None)
    _children(content + "</>", holder, 0, Part(), len(content))
    for child in holder.pieces:
        child.parent = parent
    return holder.pieces, holder.trailer


def _keep_ends(parent: Element) -> None:
    """After removals, give the first and the last child of `parent` an
    Element again when they were left in the text between."""
    children = parent.pieces
    if children and _AN_ELEMENT.search(children[0].before):
        first, children[0].before = _apart(children[0].before, parent)
        children = first + children
    if _AN_ELEMENT.search(parent.trailer):
        last, parent.trailer = _apart(parent.trailer, parent)
        children = children + last
    parent.pieces = children


def _end_of(text: str, start: int, tag: str, limit: int) -> tuple[int, int]:
    """Where the end tag of the `tag` element whose content begins at
    `start` begins and ends, its parent's end tag beginning at `limit` or
    before. The first ``</tag>`` is it unless the content before it opens
    another `tag` or it may stand inside markup (thousands of comments
    before it cost a few searches); or, nearer `limit`, when it is also the
    last before `limit` (the end tag is one of them: a search of the text
    after it). Else only other `tag` elements inside take a step of Python.
    Text alone (a long description) costs a search for its end."""
    closer = "</" + tag
    first = text.find("<", start)  # a search for one character: the fastest there is
    if text.startswith(closer, first) and text[first + len(closer)] in _AFTER_NAME:
        return first, text.index(">", first) + 1  # text only
    close = text.find(closer, first)  # (none stands before the first "<")
    while text[close + len(closer)] not in _AFTER_NAME:
        close = text.find(closer, close + 1)
    if (limit - close < close - start and text.find(closer, close + 1, limit) < 0) or (
        not _opens(text, tag, start, close) and not _in_markup(text, start, close)
    ):
        return close, text.index(">", close) + 1
    content, depth, position = _content(tag), 0, start
    while True:
        found = content.match(text, position)
        assert found, f"no end tag for <{tag}>"
        index = found.end() - len(tag) - 2 - len(found.group(1))
        if found.group(1):
            if depth == 0:
                return index, text.index(">", index) + 1
            depth -= 1
            position = found.end()
        else:
            nested = _START_TAG.match(text, index)
            assert nested, f"no start tag at {index}"
            depth += not nested.group(2)
            position = nested.end()


_MARKUP_ENDS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))


def _in_markup(text: str, start: int, index: int) -> bool:
    """Whether text[index] may stand inside a comment, CDATA section or
    processing instruction that begins in text[start:index]: whether the
    last opening of any kind there is not closed before `index`. (Markup
    does not nest: if text[index] is inside one, no closing of its kind
    stands between its opening, or any later opening of that kind, and
    `index`.)"""
    if text.find("<!", start, index) < 0 and text.find("<?", start, index) < 0:
        return False  # no markup at all: two searches
    for opening, closing in _MARKUP_ENDS:
        last = text.rfind(opening, start, index)
        if last >= 0 and text.find(closing, last + len(opening), index) < 0:
            return True
    return False


def _opens(text: str, tag: str, start: int, end: int) -> bool:
    """Whether a start tag of `tag` begins in text[start:end]."""
    opener = "<" + tag
    index = text.find(opener, start, end)
    while index >= 0:
        if text[index + len(opener)] in _AFTER_NAME:
            return True
        index = text.find(opener, index + 1, end)
    return False


def _narrowed(part: Part, content: str) -> Part:
    """`part` without the "tag attribute=value" keys of `kept` that no child
    in `content` can match: their value is nowhere in it, nor a reference
    that may spell it. (Looking at each child for one costs the plain run
    about as much as the rest of its pattern: thousands of timers.)"""
    if "&" in content:
        return part
    unmatched = frozenset(
        key for key in part.kept if (condition := _condition(key)) is not None and condition[2] not in content
    )
    return _without(part, unmatched) if unmatched else part


@lru_cache(maxsize=256)
def _without(part: Part, keys: frozenset[str]) -> Part:
    """`part` without these keys of `kept` (once for each parent taken apart alike)."""
    return replace(part, kept=part.kept - keys)


def _skip_markup(text: str, index: int) -> int:
    """The offset after the comment, CDATA, processing instruction or
    declaration at `index`."""
    for begin, finish in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">")):
        if text.startswith(begin, index):
            return text.index(finish, index + len(begin)) + len(finish)
    raise ValueError(f"no markup at {index}")


def _element(
    text: str, start: re.Match[str], part: Part | None, before: str, parent: Element | None, limit: int
) -> tuple[Element, int]:
    """The element whose start tag is `start`, and the offset after it
    (its parent's end tag begins at `limit` or before); its content is
    taken apart when its children are first asked for."""
    element = Element(start.group(1), start.group(), before, parent)
    if start.group(2):
        return element, start.end()
    end_start, end = _end_of(text, start.end(), element.tag, limit)
    element.trailer, element.end, element.part, element._children = (
        text[start.end() : end_start],
        text[end_start:end],
        part,
        None,
    )
    return element, end


@lru_cache(maxsize=256)
def _run_of(part: Part, firsts: frozenset[str]) -> re.Pattern[str]:
    """The plain run of `part`'s children while `firsts` are still to come
    (asked once for each of thousands of parents taken apart alike)."""
    return _plain_run(part.kept | firsts, tuple(pair for pair in part.held if pair[0] not in firsts))


def _carve_held(text: str, passed: re.Match[str], element: Element, piece: int, part: Part, limit: int) -> int:
    """Give the last child of each `holding` tag that a plain run passed an
    Element of its own (in document order); where the text before the next
    child now begins. (The end tag of `element` begins at `limit` or before.)"""
    spans = sorted(passed.span(name) for name in passed.re.groupindex if name.startswith("held"))
    for start, _ in spans:
        if start >= piece:
            tag = _START_TAG.match(text, start)
            assert tag, f"no start tag at {start}"
            child, end = _element(text, tag, part.inside.get(tag.group(1)), text[piece:start], element, limit)
            element.pieces.append(child)
            piece = end
    return piece


def _common_length(text: str, start: int, here: int) -> int:
    """How far the text from `here` repeats the text from `start`,
    compared in growing steps: a comparison costs about what repeats."""
    done, step = 0, 256
    while True:
        size = min(step, len(text) - here - done)
        if size <= 0 or not text.startswith(text[start + done : start + done + size], here + done):
            break
        done, step = done + size, step * 4
    while size > 1:  # the last step, halved down to where it differs
        size //= 2
        if text.startswith(text[start + done : start + done + size], here + done):
            done += size
    return done


def _grouped(text: str, element: Element, first: int, start: int, here: int, part: Part, limit: int) -> tuple[int, int]:
    """When the children of `element` from its piece `first` (whose text
    before it begins at `start`) repeat from `here` on, at least twice
    more: the repeats but the last as one group of `element`, and where
    the last begins (else `here`); and where the text compared ends, before
    which no repeat is looked for again (so that looking costs what the
    text is long). Only repeats whose texts between elements join simply
    when an element is removed are grouped (_removable_alike). (The end
    tag of `element` begins at `limit` or before.)"""
    common = _common_length(text, start, here)
    period = here - start
    members = element.pieces[first:]
    if common < 2 * period or not all(member.tag for member in members):
        return here, here + common
    if not _removable_alike([member.before for member in members]):
        return here, here + common
    group = Element("", "", members[0].before, element)
    group.copies = common // period - 1
    position = here
    for each in members:
        head = _START_TAG.match(text, position + len(each.before))
        assert head, f"no start tag at {position + len(each.before)}"
        member, position = _element(text, head, part.inside.get(head.group(1)), each.before, group, limit)
        group.pieces.append(member)
    element.pieces.append(group)
    end = here + group.copies * period
    return end, end


def _removable_alike(befores: list[str]) -> bool:
    """Whether removing the members of a group with these texts before
    them is the same as removing each copy in turn (see _cut): every text
    is the same one, which a removal joins into itself (a line break and
    indentation, or nothing); or no text ends a line or is indentation,
    so that removals only ever put texts one after the other."""
    same = befores[0]
    if all(before == same for before in befores) and _joined(same, same) == same:
        return True
    return all(not before.endswith("\n") and not _line_indent(before, nested=True) for before in befores)


def _children(text: str, element: Element, position: int, part: Part, limit: int) -> int:
    """Take apart an element's content from `position` into its (empty)
    children; the offset after its end tag (which begins at `limit` or
    before: the last "</" of the text will do for the root)."""
    children = element.pieces
    # a kept child's text before it and start tag: its piece, and where that text begins
    seen: dict[tuple[int, str, str], tuple[int, int]] = {}
    compared = position  # where the text last compared for repeats ends
    firsts = part.firsts
    piece = position  # where the text before the next child begins
    last: tuple[int, int] | None = None  # a last child left in that text
    # the root's children up to an indented one count (Document.indent_unit); of others the first
    indented = False
    run = _run_of(part, firsts)
    while True:
        if indented and not part.every:
            passed = run.match(text, position)
            assert passed is not None  # it matches at least nothing
            if passed.end() > position:
                last = passed.span("last") if passed.group("last") is not None else last
                position = passed.end()
                if part.holding:
                    piece = _carve_held(text, passed, element, piece, part, limit)
                    last = last if last is not None and last[0] >= piece else None
        index = text.index("<", position)
        following = text[index + 1]
        if following == "/":
            break
        if following in "!?":
            position = _skip_markup(text, index)
            continue
        start = _START_TAG.match(text, index)
        assert start, f"no start tag at {index}"
        name = start.group(1)
        kept = indented and part.keeps(name, start.group())
        if not indented or name in firsts or kept:
            before = text[piece:index]
            if kept:
                # a child seen before, after the same text: the children since may
                # repeat (_grouped compares the texts: the key only needs to be cheap)
                key = (len(before), before[-64:], start.group())
                earlier = seen.get(key)
                seen[key] = (len(children), piece)
                if earlier is not None and piece >= compared:
                    grouped, compared = _grouped(text, element, *earlier, piece, part, limit)
                    if grouped > piece:
                        piece = position = grouped
                        last = None
                        continue
            child, position = _element(text, start, part.inside.get(name), before, element, limit)
            children.append(child)
            piece, last = position, None
            if name in firsts:
                firsts = firsts - {name}
                run = _run_of(part, firsts)
            indented = indented or element.parent is not None or bool(_line_indent(child.before, nested=True))
        else:
            position = _element(text, start, None, "", None, limit)[1]
            last = index, position
    if last is not None:
        start = _START_TAG.match(text, last[0])
        assert start, f"no start tag at {last[0]}"
        child, piece = _element(text, start, None, text[piece : last[0]], element, limit)
        children.append(child)
    end = text.index(">", index) + 1
    element.trailer, element.end = text[piece:index], text[index:end]
    return end


class _Removal:
    """One removal of elements: where each piece stands among its parent's
    pieces, listed once per parent (pieces cut stay listed until it ends);
    the parents whose pieces are cut; and the texts before pieces (or a
    parent's trailer) that it joins, written when it ends (a text joined
    again and again, as neighbours are removed in turn, is not copied each
    time)."""

    def __init__(self) -> None:
        self._by_parent: dict[int, tuple[Element, dict[int, int]]] = {}
        self._first: dict[int, int] = {}
        self._joinings: dict[tuple[int, str], tuple[Element, str, _Joining]] = {}

    def taken(self, element: Element) -> _Joining:
        """The text before `element`, which is being removed, to join more
        to (it is written nowhere: it goes where the join is written)."""
        found = self._joinings.pop((id(element), "before"), None)
        return _Joining(element.before) if found is None else found[2]

    def text(self, element: Element, name: str = "before") -> str:
        found = self._joinings.get((id(element), name))
        return getattr(element, name) if found is None else found[2].text()

    def write(self, element: Element, name: str, joining: _Joining) -> None:
        self._joinings[(id(element), name)] = element, name, joining

    def end(self) -> None:
        """Write the texts joined."""
        for element, name, joining in self._joinings.values():
            setattr(element, name, joining.text())

    def first_attached(self, group: Element) -> Element:
        """The first member of `group` not yet cut (members are cut in
        document order)."""
        index = self._first.get(id(group), 0)
        while group.pieces[index].parent is not group:
            index += 1
        self._first[id(group)] = index
        return group.pieces[index]

    def index(self, piece: Element) -> int:
        parent = piece.parent
        assert parent is not None
        listed = self._by_parent.get(id(parent))
        if listed is None:
            listed = parent, {id(each): index for index, each in enumerate(parent.pieces)}
            self._by_parent[id(parent)] = listed
        return listed[1][id(piece)]

    def parents(self) -> list[Element]:
        return [parent for parent, _ in self._by_parent.values()]


def _attached(group: Element) -> list[Element]:
    return [member for member in group.pieces if member.parent is group]


def _following(parent: Element, index: int) -> Element | None:
    """The first piece after `index` in `parent` that writes anything (a
    group whose members are all cut writes nothing)."""
    pieces = parent.pieces
    return next((pieces[at] for at in range(index + 1, len(pieces)) if pieces[at].tag or _attached(pieces[at])), None)


def _join(removal: _Removal, parent: Element, index: int, before: _Joining) -> None:
    """The piece at `index` in `parent`, after the text `before`, is
    removed: join that text with what follows it."""
    following = _following(parent, index)
    target, name = (parent, "trailer") if following is None else (following, "before")
    before.join(removal.text(target, name))
    removal.write(target, name, before)


def _cut(element: Element, parent: Element, removal: _Removal) -> None:
    """Join the text around `element`, which is being removed from
    `parent`, as if it stood alone (see _Joining).

    A group is written as its text before, then its copies, the first
    without the text before its first member. Removing a member joins the
    text before it with the next member's, in every copy (when it is the
    first, the group's text before too); removing the last joins its text
    before with the first member's (in every copy but the first) and with
    what follows the group (after the last copy); removing the only one
    joins the group's text before with its text before in each copy in
    turn, then with what follows the group."""
    index = removal.index(element)
    if parent.tag:
        _join(removal, parent, index, removal.taken(element))
        return
    group, pieces, first = parent, parent.pieces, removal.first_attached(parent)
    assert group.parent is not None
    before = removal.text(element)
    if index + 1 < len(pieces):
        following = removal.text(pieces[index + 1])
        if element is first:
            removal.write(group, "before", _Joining(_joined(removal.text(group), following)))
        removal.write(pieces[index + 1], "before", _Joining(_joined(before, following)))
        return
    if element is first:
        joined = _Joining(_joined_over(removal.text(group), before, group.copies - 1))
        removal.write(group, "before", _Joining(""))
    else:
        removal.write(first, "before", _Joining(_joined(before, removal.text(first))))
        joined = _Joining(before)
    _join(removal, group.parent, removal.index(group), joined)


def _cut_children(parent: Element, cut: list[Element]) -> None:
    """Join the texts around children of `parent` (which holds no group)
    that are being removed, in one pass over its pieces: what _cut does
    removing each in turn (a run of neighbours joins the text before the
    first with the texts before the others, then with what follows)."""
    doomed = {id(element) for element in cut}
    joining: _Joining | None = None
    for piece in parent.pieces:
        if id(piece) in doomed:
            if joining is None:
                joining = _Joining(piece.before)
            else:
                joining.join(piece.before)
        elif joining is not None:
            joining.join(piece.before)
            piece.before, joining = joining.text(), None
    if joining is not None:
        joining.join(parent.trailer)
        parent.trailer = joining.text()


def _joined_over(before: str, between: str, times: int) -> str:
    """`before` joined with `between`, `times` over (an element after
    `between` removed in each copy in turn); the joins settle in a step or
    two into leaving the text as it is or appending `between`."""
    for done in range(times):
        joined = _joined(before, between)
        if joined == before:
            break
        if joined == before + between:
            return before + between * (times - done)
        before = joined
    return before


def _quote_counts(text: str, start: int, end: int) -> dict[str, int]:
    """How many attributes in text[start:end] are written ``name="value"``
    and how many ``name='value'``."""
    spaced = _QUOTED.findall(text, start, end)
    return {
        '"': text.count('="', start, end) + spaced.count('"'),
        "'": text.count("='", start, end) + spaced.count("'"),
    }


class Document:
    """Well-formed XML text as pieces: the root element taken apart as far
    as `part` says, and the text before and after it."""

    def __init__(self, text: str, part: Part):
        index = 0
        while True:
            index = text.index("<", index)
            if text[index + 1] not in "!?":
                break
            index = _skip_markup(text, index)
        start = _START_TAG.match(text, index)
        assert start, "no root element"
        self.root = Element(start.group(1), start.group(), text[:index], None)
        end = start.end() if start.group(2) else _children(text, self.root, start.end(), part, text.rfind("</"))
        self.epilog = text[end:]
        self.newline = line_ending(text)
        self.revision = 0  # how many insertions and removals so far
        self._read = (text, index, end)  # where the quotes read are counted (not the XML declaration's)
        self._quotes = {"'": 0, '"': 0}  # the quotes of attributes written since, less those removed

    def _count_quotes(self, text: str, times: int) -> None:
        """Count (or with negative `times`, uncount) the quotes of the
        attributes in an element written or removed `times` over."""
        for quote, count in _quote_counts(text, 0, len(text)).items():
            self._quotes[quote] += times * count

    @cached_property
    def _doubles_read(self) -> bool:
        """Whether the text read holds a double quote at all."""
        text, start, end = self._read
        return text.find('"', start, end) >= 0

    @cached_property
    def _quotes_read(self) -> dict[str, int]:
        return _quote_counts(*self._read)

    @property
    def quote(self) -> str:
        """The quote most attributes use (libvirt writes single quotes).
        The text read is counted when this is first asked, and only if it
        or what was written since holds a double quote (else single quotes
        win, and a large text costs one search)."""
        if not self._doubles_read and self._quotes['"'] <= 0:
            return "'"
        read = self._quotes_read
        return '"' if read['"'] + self._quotes['"'] > read["'"] + self._quotes["'"] else "'"

    def set_attribute(self, element: Element, name: str, value: str) -> None:
        added = element.set_attribute(name, value, self.quote)
        if added:
            self._quotes[added] += element.multiplicity

    def remove_attribute(self, element: Element, name: str) -> None:
        removed = element.remove_attribute(name)
        if removed:
            self._quotes[removed] -= element.multiplicity

    def rename(self, element: Element, tag: str) -> None:
        element.rename(tag)
        if element.parent is not None:
            element.parent.pieces = element.parent.pieces  # (its index by tag is renewed)

    def render(self) -> str:
        out = [self.root.before]
        self.root.render(out)
        out.append(self.epilog)
        return "".join(out)

    def element(self, tag: str, attributes: Mapping[str, str]) -> Element:
        """A new empty element, in the document's quote style."""
        q = self.quote
        written = "".join(f" {name}={q}{escape(value, q)}{q}" for name, value in attributes.items())
        return Element(tag, f"<{tag}{written}/>", "", None)

    def line_indent(self, element: Element) -> str:
        """The white space between the start of the element's line and the
        element (empty when anything else stands before it on its line)."""
        return _line_indent(element.before, nested=element.parent is not None)

    def indent_unit(self) -> str:
        """The document's indentation step (two spaces when it has none)."""
        for child in self.root.children:
            indent = self.line_indent(child)
            if indent:
                return indent
        return "  "

    def remove(self, elements: Iterable[Element]) -> None:
        """Remove elements (in document order), each with its line when it
        stands alone on one: one after the other, as if each were removed
        alone, but with each parent's pieces listed once. The children of a
        parent without groups are cut in one pass (_cut_children); others
        in turn, in document order (a group's cut joins texts of its
        parent's)."""
        self.revision += 1
        removal = _Removal()
        # each parent -> its children cut, when it holds no group (else None)
        plain: dict[int, tuple[Element, list[Element]] | None] = {}
        removed: dict[int, list[str]] = {}  # the texts removed, by how many times each is written
        for element in elements:
            parent = element.parent
            assert parent is not None
            removed.setdefault(element.multiplicity, []).append(element.text())
            if id(parent) not in plain:
                grouped = not parent.tag or not all(piece.tag for piece in parent.pieces)
                plain[id(parent)] = None if grouped else (parent, [])
            listed = plain[id(parent)]
            if listed is not None:
                listed[1].append(element)
            else:
                _cut(element, parent, removal)
            element.parent = None
        cut_plainly = [listed for listed in plain.values() if listed is not None]
        for parent, cut in cut_plainly:
            _cut_children(parent, cut)
        for times, texts in removed.items():
            self._count_quotes("".join(texts), -times)
        removal.end()
        for parent in [*removal.parents(), *(parent for parent, _ in cut_plainly)]:
            # (a group whose members are all cut writes nothing: it goes too)
            parent.pieces = [
                piece for piece in parent.pieces if piece.parent is parent and (piece.tag or _attached(piece))
            ]
            if parent.tag:
                _keep_ends(parent)

    def insert(self, parent: Element, element: Element, before: Element | None) -> None:
        """Insert an element into `parent`, before `before` or at the end,
        indented like its siblings."""
        self.revision += 1
        siblings = parent.pieces
        assert parent.opened, f"<{parent.tag}> is not taken apart"
        # never among repeats: what is inserted into, or before, is the first
        # or the last of a kind, and the first and the last repeat are no group's
        assert parent.multiplicity == 1 and (before is None or before.parent is parent), "an insertion among repeats"
        parent.pieces = siblings  # (its index by tag is renewed)
        self._count_quotes(element.text(), 1)
        newline = self.newline
        parent_indent = self.line_indent(parent)
        child_indent = self.line_indent(siblings[0]) if siblings else parent_indent + self.indent_unit()
        element.parent = parent
        if before is not None:
            element.before = before.before
            at_line_start = self.line_indent(before) or before.before.endswith("\n")
            before.before = newline + child_indent if at_line_start else ""
            siblings.insert(siblings.index(before), element)
            return
        if siblings:
            element.before = newline + child_indent
            siblings.append(element)
            return
        if parent.self_closing:
            parent.head = parent.head[:-2].rstrip() + ">"
            parent.end = f"</{parent.tag}>"
            element.before = newline + child_indent
        elif parent.trailer.strip():  # comments or text only: keep them, append after
            element.before = parent.trailer.rstrip() + newline + child_indent
        else:
            element.before = newline + child_indent
        parent.trailer = newline + parent_indent
        siblings.append(element)
