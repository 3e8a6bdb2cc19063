"""The value types of QEMU CPU properties, independent of any text format."""

from __future__ import annotations

from dataclasses import dataclass

from hvtune.errors import has_control_characters

Value = bool | int | str


@dataclass(frozen=True)
class ValueType:
    """A QEMU property type: the Python type that holds it and its range."""

    name: str
    python: type
    c_name: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def signed(self) -> bool:
        """Whether QEMU reads it as a signed C integer (int64 properties
        whose range starts at 0 included)."""
        return self.c_name.startswith("int")

    def problem(self, value: object) -> str | None:
        """Why `value` does not fit this type, or None when it does."""
        if self.python is bool:
            return None if type(value) is bool else "expects on or off"
        if self.python is int:
            if type(value) is not int:
                return f"expects an integer ({self.c_name})"
            assert self.minimum is not None and self.maximum is not None
            if not self.minimum <= value <= self.maximum:
                return f"expects {self.c_name} ({self.minimum}..{self.maximum}), got {value}"
            return None
        if type(value) is not str:
            return "expects a string"
        if self.choices and value not in self.choices:
            return f"expects one of {', '.join(self.choices)}, got {value!r}"
        if has_control_characters(value):
            return "contains control characters, which no command line or domain file carries intact"
        return None


VALUE_TYPES: dict[str, ValueType] = {
    "bool": ValueType("bool", bool),
    "uint8": ValueType("uint8", int, "uint8_t", 0, 0xFF),
    "uint16": ValueType("uint16", int, "uint16_t", 0, 0xFFFF),
    "uint32": ValueType("uint32", int, "uint32_t", 0, 0xFFFFFFFF),
    "int32": ValueType("int32", int, "int32_t", -(2**31), 2**31 - 1),
    "int64": ValueType("int64", int, "int64_t", 0, 2**63 - 1),
    "string": ValueType("string", str),
    "on-off-auto": ValueType("on-off-auto", str, choices=("on", "off", "auto")),
}


def display(value: Value) -> str:
    """A value as a person would write it on a -cpu line (on/off for flags)."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)
