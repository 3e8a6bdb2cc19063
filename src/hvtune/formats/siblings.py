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
are counted in bulk. Only elements whose children are all empty (one tag
each, such as ``<relaxed state='on'/>``) are looked at so; the children of any
other element, and of one with few children or few repeats, are all read.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

# Fewer children than this are all read: writing the element out would cost
# more than it saves.
MANY = 256
# How many children are looked at first for a repeat: children that are all
# different are all read, without writing their element out.
_SAMPLE = 32
# How many walks over the children finding the ones given may cost.
_WALKS = 4


def children_to_read(parent: etree._Element) -> Iterable[etree._Element]:
    """The element children of `parent` in document order, except that of
    empty children written alike only the first and the last are given."""
    every: Iterable[etree._Element] = parent.iterchildren(etree.Element)
    count = len(parent)
    if count < MANY or len({(child.tag, *child.items()) for child in parent[:_SAMPLE]}) == _SAMPLE:
        return every
    written = etree.tostring(parent, with_tail=False)
    # b"", the start tag of parent, one tag per child when every child is
    # empty, the end tag of parent; no comment, CDATA or processing
    # instruction among them (a parse that kept them)
    pieces = written.split(b"<")
    if len(pieces) != count + 3 or b"<!" in written or b"<?" in written:
        return every
    children = pieces[2:-1]
    last = dict(zip(children, range(count), strict=True))  # each spelling -> where it is last, in order first written
    wanted = set(last.values())
    for index, child in enumerate(children):
        if child in last:  # first written here
            wanted.add(index)
            del last[child]
            if not last:
                break
    # libxml2 finds a child by walking from the nearer end: when that costs
    # more than a walk over every child, every child is walked over once
    if sum(min(index, count - index) for index in wanted) > _WALKS * count:
        return [child for index, child in enumerate(parent) if index in wanted]
    return [parent[index] if 2 * index < count else parent[index - count] for index in sorted(wanted)]
