"""Reading untrusted XML safely.

Domain XML comes from users, scripts and daemons; hvtune never needs a DTD.
The parser resolves no entities, loads no DTD, touches no network and keeps
libxml2's limits on; a document with a DOCTYPE is refused outright, so
neither "billion laughs" nor external entities can reach the parser. Size is
limited before parsing (formats.MAX_INPUT_BYTES).
"""

from __future__ import annotations

import re

from lxml import etree

from hvtune.errors import InputError

_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
    )


def parse_xml(text: str, *, source: str) -> etree._Element:
    """The root element of `text`; InputError (with line and column) when the
    text is not well-formed XML or carries a DTD."""
    match = _DOCTYPE.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise InputError(
            source, f"line {line}", "a DOCTYPE is not allowed: domain XML has none and hvtune reads no DTD"
        )
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position
        message = str(error.msg).split(", line ")[0]
        raise InputError(source, f"line {line} column {column}", f"not well-formed XML: {message}") from None
    return root
