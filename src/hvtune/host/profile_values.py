"""The values a saved host profile holds that msgspec cannot type alone:
32-bit registers, MSR indexes, CPUID leaves and ioctl answers (a number, or
a C-style string "0x0000AAFF"), release numbers that parse, module
parameters, and strings without control characters. Each reads itself with
a one-line problem (``must be ..., not ...``), writes itself, and describes
itself for the published schema."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

import msgspec

from hvtune.errors import has_control_characters
from hvtune.formats.cnumbers import C_SPACE, c_integer
from hvtune.jsonrecords import TEXT_PATTERN, Parsed, shown, whole
from hvtune.releases import parse_release

Text = Annotated[str, msgspec.Meta(pattern=TEXT_PATTERN, description="a string without control characters")]


class _Number(int, Parsed):
    """A 32-bit number as KVM gave it, read as a number or as a C-style
    string ("0x0000AAFF", as registers are read); written as a number."""

    LOW: ClassVar[int]
    HIGH: ClassVar[int]

    @classmethod
    def parse(cls, value: object) -> Self:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and (parsed := c_integer(value)) is not None:
            number = -parsed.magnitude if parsed.negative else parsed.magnitude
        if number is None:
            raise ValueError(f"must be a number or a hex string, not {shown(value)}")
        if not cls.LOW <= number <= cls.HIGH:
            raise ValueError(f"must be within {cls.LOW}..{cls.HIGH} (32 bits), not {shown(value)}")
        return cls(number)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        digits = f"[{C_SPACE.encode('unicode_escape').decode()}]*[+-]?(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)"
        return {
            "description": f"a number within {cls.LOW}..{cls.HIGH}, or a C-style string of one",
            "anyOf": [
                {"type": "integer", "minimum": cls.LOW, "maximum": cls.HIGH},
                {"type": "string", "pattern": whole(digits)},
            ],
        }

    def to_builtin(self) -> object:
        return int(self)


class Register(_Number):
    """A register, MSR index or CPUID leaf: written in hex."""

    LOW, HIGH = 0, 2**32 - 1

    def to_builtin(self) -> object:
        return f"0x{self:08X}"


class Answer(_Number):
    """What an ioctl answered (KVM_CHECK_EXTENSION)."""

    LOW, HIGH = -(2**31), 2**31 - 1


class Release(str, Parsed):
    """A release number ("9.0.0", "7.2.22")."""

    @classmethod
    def parse(cls, value: object) -> Self:
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {shown(value)}")
        try:
            parse_release(value)
        except ValueError:
            raise ValueError(f"must be a release number such as 9.0.0, not {shown(value)}") from None
        return cls(value)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\s*[vV]?[0-9]+(\.[0-9]+)*", "description": "a release number (PEP 440)"}

    def to_builtin(self) -> object:
        return str(self)


class ModuleParameter(str, Parsed):
    """A kernel module parameter as /sys/module shows it; a number is read as its digits."""

    @classmethod
    def parse(cls, value: object) -> Self:
        if not isinstance(value, str | int):
            raise ValueError(f"must be a string or an int, not {shown(value)}")
        if isinstance(value, str) and has_control_characters(value):
            raise ValueError(f"must be a string without control characters, not {shown(value)}")
        return cls(str(value))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return {"anyOf": [{"type": "string", "pattern": TEXT_PATTERN}, {"type": "integer"}]}

    def to_builtin(self) -> object:
        return str(self)


Device = Literal["present", "absent", "denied", "error"]
CpuidSource = Literal["system", "vcpu"]
Registers = Annotated[
    tuple[Register, Register, Register, Register], msgspec.Meta(description="the four registers EAX, EBX, ECX, EDX")
]
