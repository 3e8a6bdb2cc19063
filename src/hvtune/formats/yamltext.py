"""YAML documents read for editing: ruamel.yaml's round-trip loader, which
keeps each mapping's and sequence's positions in the text (what the
KubeVirt patcher edits by) and the quoting of every scalar.

Hostile input meets limits here: aliases are refused (a manifest has no use
for them, and expanding them is how a few lines become gigabytes), nesting
deeper than MAX_DEPTH is refused, and every parser error is one InputError
naming the line.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from hvtune.errors import InputError

# Kubernetes objects nest a dozen levels; a hundred is generous and keeps the
# recursive parser far from Python's own limit.
MAX_DEPTH = 100


class _AliasRefused(Exception):
    def __init__(self, line: int):
        self.line = line


class _NoAliases(Composer):
    """The round-trip composer, refusing every alias (``*name``, ``<<: *name``)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            raise _AliasRefused(self.parser.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)


def _loader() -> YAML:
    """A fresh loader (a YAML object keeps state: one per call is thread-safe)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Composer = _NoAliases
    yaml.preserve_quotes = True
    yaml.max_depth = MAX_DEPTH
    return yaml


def load_documents(text: str, *, source: str) -> list[Any]:
    """Every document of a YAML (or JSON) text, as round-trip objects."""
    try:
        return list(_loader().load_all(text))
    except _AliasRefused as refused:
        raise InputError(source, f"line {refused.line}", "YAML aliases are not accepted in a manifest") from None
    except MaxDepthExceededError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise InputError(source, f"line {line}", f"nested more than {MAX_DEPTH} levels deep") from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        place = f"line {mark.line + 1}" if mark is not None else None
        problem = " ".join(part for part in (error.context, error.problem) if part) or "not valid YAML"
        raise InputError(source, place, problem) from None
    except YAMLError as error:
        raise InputError(source, None, str(error).splitlines()[0] if str(error) else "not valid YAML") from None
    except (ValueError, OverflowError) as error:
        # a tagged or timestamp-looking scalar its constructor refuses (2001-13-45, !!int x)
        raise InputError(source, None, f"a value YAML cannot read: {error}") from None
    except RecursionError:
        raise InputError(source, None, f"nested more than {MAX_DEPTH} levels deep") from None


def line_of(node: Any, key: object) -> int | None:
    """The line (from 1) of `key` in a round-trip mapping, or of item `key`
    in a round-trip sequence; None for plain objects (parsed JSON)."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        position = lc.key(key) if isinstance(key, str) else lc.item(key)
    except (KeyError, IndexError, TypeError):
        return None
    return int(position[0]) + 1
