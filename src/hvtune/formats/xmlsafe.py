"""Reading untrusted XML safely.

Domain XML comes from users, scripts and daemons; hvtune never needs a DTD.
Three rules keep a hostile document harmless:

* libxml2 reads exactly the text hvtune decoded: the input is UTF-8 (files
  checks that), a declaration naming any other encoding is refused, and the
  parser is told the encoding, so no declaration can make libxml2 decode the
  bytes differently (UTF-7 or EBCDIC could otherwise hide markup from any
  check made on the text).
* The parser resolves no entities, loads no DTD, touches no network, keeps
  libxml2's size limits on, and its resolver refuses every external resource:
  no file but the input is ever opened.
* What libxml2 parsed is then inspected: a document that had a DOCTYPE (an
  internal subset or an external DTD) is refused. A comment that only
  mentions ``<!DOCTYPE`` is of course fine.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from hvtune.errors import InputError

_local = threading.local()
# The XML declaration's encoding, as the first thing in the document.
_DECLARED_ENCODING = re.compile(r"""\ufeff?<\?xml\s[^>]*?\bencoding\s*=\s*(["'])(.*?)\1""")
_UTF8_NAMES = frozenset(("utf-8", "utf8", "us-ascii", "ascii"))


class _ExternalResource(Exception):
    """libxml2 asked for a file or URL: only a DTD or an entity does that."""


class _RefuseExternal(etree.Resolver):  # type: ignore[misc]
    """Refuses every external entity or DTD libxml2 asks for (even with DTD
    loading off, libxml2 asks for an external subset), before anything is
    opened."""

    def resolve(self, url: str, public_id: str, context: Any) -> Any:
        raise _ExternalResource(url)


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
    parser = etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        no_network=True,
        huge_tree=False,
        collect_ids=False,
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
    )
    parser.resolvers.add(_RefuseExternal())
    return parser


def _check_declared_encoding(text: str, source: str) -> None:
    declared = _DECLARED_ENCODING.match(text)
    if declared and declared.group(2).lower() not in _UTF8_NAMES:
        raise InputError(
            source, "line 1", f"declares encoding {declared.group(2)!r}; hvtune reads UTF-8 (or ASCII) XML only"
        )


def _first_line(message: str) -> str:
    """libxml2's message without the context lines it appends (which can
    quote the document, e.g. a whole unterminated comment)."""
    return message.split("\n", 1)[0].split(", line ")[0].split("<!--")[0].strip(" :")


def parse_xml(text: str, *, source: str) -> etree._Element:
    """The root element of `text`; InputError (with line and column) when the
    text is not well-formed XML, is not UTF-8, or has a DTD."""
    _check_declared_encoding(text, source)
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except _ExternalResource:
        raise InputError(source, _doctype_place(text), _NO_DTD) from None
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise InputError(
            source, f"line {line} column {column}", f"not well-formed XML: {_first_line(str(error.msg))}"
        ) from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise InputError(source, _doctype_place(text), _NO_DTD)
    return root


_NO_DTD = "a DOCTYPE is not allowed: domain XML has none and hvtune reads no DTD"


def _doctype_place(text: str) -> str | None:
    """The line of the DOCTYPE, for the message (the parser knows there is
    one; this only says where)."""
    doctype = text.find("<!DOCTYPE")
    return f"line {text.count(chr(10), 0, doctype) + 1}" if doctype >= 0 else None
