"""Release numbers of libvirt, QEMU and Linux, compared as tuples.

Checks compare releases thousands of times per second of work; parsing
once per distinct string and comparing plain tuples keeps that cheap.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from packaging.version import InvalidVersion, Version


class Release(NamedTuple):
    """A release as major.minor.micro; prints the way the projects write it."""

    major: int
    minor: int
    micro: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.micro}"


@cache
def parse_release(text: str) -> Release:
    """`text` ("9.0", "11.9.0", "12.1.0-rc2") as a Release; raises
    packaging's InvalidVersion for what is no release number (a number too
    long for Python to convert included)."""
    try:
        release = Version(text).release
    except ValueError as error:
        raise InvalidVersion(str(error)) from None
    major, minor, micro = (*release, 0, 0)[:3]
    return Release(major, minor, micro)
