"""Reading untrusted XML safely.

Domain XML comes from users, scripts and daemons; hvtune never needs a DTD.
The parser resolves no entities, loads no DTD, touches no network and keeps
libxml2's limits on; a document with a DOCTYPE is refused outright, so
neither "billion laughs" nor external entities can reach the parser. Size is
limited before parsing (files.MAX_INPUT_BYTES).
"""

from __future__ import annotations

import threading

from lxml import etree

from hvtune.errors import InputError

_local = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser (lxml parsers may be reused, not shared)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    """The tree is only read for facts (edits work on the text itself), so
    comments, processing instructions, blank text and ID bookkeeping are
    dropped while parsing: less to build, less to walk."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        collect_ids=False,
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(text: str, *, source: str) -> etree._Element:
    """The root element of `text`; InputError (with line and column) when the
    text is not well-formed XML or carries a DTD."""
    doctype = text.find("<!DOCTYPE")  # XML spells it in capitals only
    if doctype >= 0:
        line = text.count("\n", 0, doctype) + 1
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
