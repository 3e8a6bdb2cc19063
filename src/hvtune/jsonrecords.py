"""JSON documents: what every ``--format json``, ``convert --to json`` and
``host --save`` writes, and how hvtune reads documents back.

Every document starts with ``"schema": "hvtune/KIND/VERSION"`` (`SCHEMA_KEY`).
VERSION changes only when a key is removed or renamed or a value changes its
type or meaning; new keys can appear within a version, so a reader checks
KIND and VERSION and ignores keys it does not know. `hvtune.schemas`
publishes the JSON Schema of every kind.

In code a document is a typed record (a frozen dataclass with a ``SCHEMA``
class attribute): msgspec turns it into JSON (`encode`) and, for the
documents hvtune reads, JSON into it (`decode`, behind the one text-level
gate `hvtune.formats.jsontext.load_json`), with one-line errors that name
the key (``kvm.capabilities.KVM_CAP_HYPERV: must be ...``). Values msgspec
cannot type by itself are `Custom` classes, which read, write and describe
themselves. msgspec is imported only inside these functions: commands that
print text, and ``--version``, never load it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, Self, TypeVar

from hvtune.errors import CONTROL_CHARACTERS, InputError

SCHEMA_KEY = "schema"
T = TypeVar("T")


def whole(pattern: str) -> str:
    """A regular expression that `pattern` must match from the first
    character to the last, read alike by Python (msgspec, the jsonschema
    package), where ``$`` also matches before a final newline, and by
    ECMA-262, which JSON Schema names."""
    return f"^(?:{pattern})$(?!\\n)"


TEXT_PATTERN = whole(f"[^{CONTROL_CHARACTERS}]*")  # a string without control characters


class Document(Protocol):
    """A typed record that is a whole document: ``SCHEMA`` names its kind and version."""

    SCHEMA: ClassVar[str]


class Custom(ABC):
    """A JSON value msgspec cannot type by itself (a register written as a
    number or a hex string, a configuration keyed by the catalog's names).
    A subclass also derives from the builtin type that holds the value."""

    @classmethod
    @abstractmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the value as written."""

    @abstractmethod
    def to_builtin(self) -> object:
        """The value as JSON holds it."""


class Parsed(Custom):
    """A `Custom` value hvtune also reads."""

    @classmethod
    @abstractmethod
    def parse(cls, value: object) -> Self:
        """The value read from JSON; ValueError says in house words (``must
        be ..., not ...``) why it cannot be."""


def shown(value: object, limit: int = 60) -> str:
    """A JSON value as JSON, shortened for a one-line message."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def with_schema(schema: str, body: Mapping[str, object]) -> dict[str, object]:
    """A document: the schema key first, then `body`."""
    return {SCHEMA_KEY: schema, **body}


def dumps(document: Mapping[str, object]) -> str:
    """A document's text, as every command prints it."""
    return json.dumps(document, indent=2) + "\n"


def to_builtins(record: object) -> Any:
    """`record` (a dataclass, or lists and dicts of them) as JSON's types,
    keys in the order the dataclasses declare them."""
    import msgspec

    return msgspec.to_builtins(record, enc_hook=_to_builtin)


def builtins(document: Document) -> dict[str, object]:
    """A document as JSON's types, its schema key first."""
    return with_schema(document.SCHEMA, to_builtins(document))


def encode(document: Document) -> str:
    """A document's text."""
    return dumps(builtins(document))


def check_schema(data: Mapping[str, object], schema: str, *, source: str) -> None:
    """Refuse a document whose schema key names another kind, or a version
    this hvtune does not read; a document without the key (written before
    documents carried it, or by hand) is read as the current version."""
    given = data.get(SCHEMA_KEY)
    if given is not None and given != schema:
        raise InputError(source, SCHEMA_KEY, f"this hvtune reads {schema}, not {shown(given)}")


def convert(data: object, kind: Any) -> Any:
    """`data` as `kind`, through msgspec (ValidationError when it is not)."""
    import msgspec

    return msgspec.convert(data, kind, dec_hook=_parse)


def decode(data: object, kind: type[T], *, source: str) -> T:
    """`data` (what load_json returned) as a `kind` record; InputError
    names the key as a dotted path (``kvm.hv_cpuid.leaves.0x40000003[2]``)
    and the problem in hvtune's words (hvtune.jsonerrors)."""
    import msgspec

    from hvtune.jsonerrors import explain

    try:
        result: T = convert(data, kind)
    except msgspec.ValidationError as error:
        place, problem = explain(str(error), data, kind)
        raise InputError(source, place or None, problem) from None
    return result


def _to_builtin(value: object) -> object:
    if isinstance(value, Custom):
        return value.to_builtin()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _parse(kind: type, value: object) -> object:
    if isinstance(kind, type) and issubclass(kind, Parsed):
        return kind.parse(value)
    raise TypeError(f"cannot read a {kind.__name__} from JSON")


def schema_hook(kind: type) -> dict[str, Any]:
    """The JSON Schema of a type msgspec cannot describe by itself, for its
    schema generation: such a type (a `Custom` one, say) describes itself
    with a ``json_schema`` class method."""
    describe = getattr(kind, "json_schema", None)
    if describe is None:
        raise NotImplementedError(f"{kind} has no json_schema()")
    schema: dict[str, Any] = describe()
    return schema
