"""Numbers in domain XML, read exactly as libvirt reads them.

libvirt reads a numeric attribute with one of its virXMLProp* readers over
C's strtol family (hvtune.formats.cnumbers); the catalog says which reader
and base each attribute hvtune reads gets (``[libvirt] numbers``). What
libvirt refuses is refused here with libvirt's own message.
"""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.formats.cnumbers import c_integer

_UINT_MAX, _ULLONG_MAX = 2**32 - 1, 2**64 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class LibvirtNumberError(ValueError):
    """libvirt refuses the value; the message is libvirt's."""


def _invalid(element: str, attribute: str, text: str, expected: str) -> LibvirtNumberError:
    return LibvirtNumberError(
        f"Invalid value for attribute '{attribute}' in element '{element}': '{text}'. Expected {expected}"
    )


def read_number(element: str, attribute: str, text: str) -> int:
    """`text`, the value of `attribute` on `element`, as libvirt reads it;
    LibvirtNumberError with libvirt's message where it refuses it."""
    how = load_catalog().libvirt.number(element, attribute)
    parsed = c_integer(text, how.base)
    if how.reader == "int-nonnegative":
        value = None if parsed is None else (-parsed.magnitude if parsed.negative else parsed.magnitude)
        if value is None or not _INT_MIN <= value <= _INT_MAX:
            raise _invalid(element, attribute, text, "integer value")
        if value < 0:
            raise _invalid(element, attribute, text, "non-negative value")
        return value
    limit = _UINT_MAX if how.reader == "uint" else _ULLONG_MAX
    # virStrToLong_uip/_ullp: no '-' anywhere, the whole text, within the type
    if parsed is None or parsed.negative or parsed.magnitude > limit:
        raise _invalid(element, attribute, text, "non-negative integer value")
    return parsed.magnitude
