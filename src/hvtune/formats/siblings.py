"""Which children of an element a reader must look at, when thousands are
written alike.

A reader that takes each child in turn, where a child written exactly like
an earlier one reads as that one did and a later one overrides an earlier
one, learns the same from the first and the last copy of each kind of child
as from every copy: a copy between them says nothing the first did not say,
and whatever it set, the last copy sets again. libvirt reads ``<hyperv>``'s,
``<stimer>``'s and ``<kvm>``'s children so.

Looking at a child in Python costs more than libxml2's parse of it, so
children written alike are found without a Python object for each: libxml2
writes the element out (every child then has one canonical spelling: the
same name, attributes in the same order, the same values) and equal spellings
are counted in bulk. Only elements whose children are empty or hold empty
elements (``<relaxed state='on'/>``, ``<stimer state='on'><direct
state='on'/></stimer>``) are looked at so; the children of any other
element, and of one with few children or few repeats, are all read.

Children of one name that hold anything (thousands of ``<hyperv>`` in a
``<features>``, of ``<features>`` in a ``<domain>``) are found alike the same
way, each spelling then running from one start tag of that name to the next,
and those between the first and the last of their spelling are dropped from
the tree, so that every later look at it passes over a few.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import islice

from lxml import etree

# Fewer children than this are all read: writing the element out would cost
# more than it saves.
MANY = 256
# How many children are looked at first for a repeat: children that are all
# different are all read, without writing their element out.
_SAMPLE = 16
# How many walks over the children finding the ones given may cost.
_WALKS = 4


# A child as libxml2 writes it, with the text after it: empty, or holding
# text and empty elements only (<stimer state="on"><direct state="on"/></stimer>).
# (Possessive: a tag is read once, never again from a shorter match.)
_CHILD = re.compile(rb"<(?:[^<>]*+(?<=/)>|[^<>]*+>[^<]*+(?:<[^<>/]*+/>[^<]*+)*+</[^<>]*+>)[^<]*+")


def _spellings(written: bytes, count: int) -> list[bytes] | None:
    """How each of the `count` children of the element `written` is
    written, in order; None when a child holds more than text and empty
    elements, or when there is a comment, CDATA or processing instruction
    (a parse that kept them)."""
    if b"<!" in written or b"<?" in written or written.endswith(b"/>"):
        return None
    if written.count(b"<") == count + 2:  # its start and end tags, and one each: every child is empty
        return written.split(b"<")[2:-1]
    start, end = written.index(b">") + 1, written.rindex(b"</")
    children: list[bytes] = _CHILD.findall(written, start, end)
    # the children found cover the text between the tags of the element, so
    # that each one found is a child
    return children if len(children) == count and sum(map(len, children)) == end - start else None


def _all_different(children: Iterable[etree._Element]) -> bool:
    """Whether the first _SAMPLE children are all written differently (then
    writing their parent out to find copies would cost more than it saves)."""
    return len({etree.tostring(child, with_tail=False) for child in islice(children, _SAMPLE)}) == _SAMPLE


def _first_and_last(spellings: Sequence[bytes]) -> set[int]:
    """Where each spelling is written first and last."""
    # each spelling -> where it is last, in the order first written
    last = dict(zip(spellings, range(len(spellings)), strict=True))
    wanted = set(last.values())
    for index, spelling in enumerate(spellings):
        if spelling in last:  # first written here
            wanted.add(index)
            del last[spelling]
            if not last:
                break
    return wanted


def children_to_read(parent: etree._Element, written: bytes | None = None) -> Iterable[etree._Element]:
    """The element children of `parent` in document order, except that of
    children written alike (empty, or holding text and empty elements) only
    the first and the last are given (`written`: the parent as libxml2
    writes it, when the caller has it already)."""
    every: Iterable[etree._Element] = parent.iterchildren(etree.Element)
    count = len(parent)
    if count < MANY or _all_different(parent.iterchildren(etree.Element)):
        return every
    children = _spellings(written or etree.tostring(parent, with_tail=False), count)
    if children is None:
        return every
    wanted = _first_and_last(children)
    # libxml2 finds a child by walking from the nearer end: when that costs
    # more than a walk over every child, every child is walked over once
    if sum(min(index, count - index) for index in wanted) > _WALKS * count:
        return [child for index, child in enumerate(parent) if index in wanted]
    return [parent[index] if 2 * index < count else parent[index - count] for index in sorted(wanted)]


@cache
def _count(tag: str) -> etree.XPath:
    """How many `tag` children an element has."""
    return etree.XPath(f"count({tag})")


def drop_copies(parent: etree._Element, tag: str) -> None:
    """Drop from `parent` its `tag` children written alike (whatever they
    hold) but for the first and the last of each spelling, when there are
    many, one after another (any other child before or after them)."""
    if len(parent) < MANY or (count := int(_count(tag)(parent))) < MANY:
        return
    if _all_different(parent.iterchildren(tag)):
        return
    before = parent.index(next(parent.iterchildren(tag)))
    after = sum(1 for _ in next(parent.iterchildren(tag, reversed=True)).itersiblings())
    # a piece from each start tag of that name to the next: as many as there
    # are such children when they are one after another and no other
    # element's name begins with it
    pieces = etree.tostring(parent, with_tail=False).split(b"<" + tag.encode())[1:]
    if len(pieces) != count or before + count + after != len(parent):
        return
    wanted = sorted(_first_and_last(pieces))
    for low, high in reversed(list(zip([-1, *wanted], [*wanted, count], strict=True))):
        if high - low > 1:
            del parent[before + low + 1 : before + high]
