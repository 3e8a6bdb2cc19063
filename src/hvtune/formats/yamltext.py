"""YAML documents read for editing: ruamel.yaml's round-trip loader, which
keeps each mapping's and sequence's positions in the text (what the
KubeVirt patcher edits by) and the quoting of every scalar.

Hostile input meets limits here: aliases are refused (a manifest has no use
for them, and expanding them is how a few lines become gigabytes), nesting
deeper than MAX_DEPTH, more than MAX_NODES nodes, MAX_LINES lines or
MAX_BYTES are refused, and every parser error is one InputError naming the line. The
round-trip parser is pure Python (about 2,000 nodes a second on a loaded
test machine): the node limit is what bounds the time a hostile file costs.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.scanner import RoundTripScanner

from hvtune.errors import InputError

# Kubernetes objects nest a dozen levels; a hundred is generous and keeps the
# recursive parser far from Python's own limit.
MAX_DEPTH = 100
# A VirtualMachine manifest has a few hundred nodes; Kubernetes refuses a
# request body over 3 MiB (kube-apiserver's MaxRequestBodyBytes).
MAX_NODES = 20_000
MAX_LINES = 50_000  # comments and blank lines cost the parser too
MAX_BYTES = 3 * 1024 * 1024


class _Refused(Exception):
    def __init__(self, line: int, problem: str):
        self.line = line
        self.problem = problem


class _Bounded(Composer):
    """The round-trip composer, refusing every alias (``*name``, ``<<:
    *name``) and more than MAX_NODES nodes."""

    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            line = self.parser.peek_event().start_mark.line + 1
            raise _Refused(line, f"more than {MAX_NODES} YAML nodes: no KubeVirt manifest is that large")
        if self.parser.check_event(AliasEvent):
            line = self.parser.peek_event().start_mark.line + 1
            raise _Refused(line, "YAML aliases are not accepted in a manifest")
        return super().compose_node(parent, index)


class _Characters(RoundTripScanner):
    """The round-trip scanner, reading a double-quoted scalar's \\u escapes
    as JSON readers do (kubectl and the API server read a JSON manifest so):
    two that make a surrogate pair are one character, and one that is half
    of a pair, which names no character, is refused."""

    def scan_flow_scalar(self, style: Any) -> Any:
        token = super().scan_flow_scalar(style)
        if not token.value.isascii():
            try:
                token.value = token.value.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                line = token.start_mark.line + 1
                raise _Refused(line, "a \\u escape names half of a UTF-16 surrogate pair, no character") from None
        return token


def _loader() -> YAML:
    """A fresh loader (a YAML object keeps state: one per call is thread-safe)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Composer = _Bounded
    yaml.Scanner = _Characters
    yaml.preserve_quotes = True
    yaml.max_depth = MAX_DEPTH
    return yaml


def load_documents(text: str, *, source: str) -> list[Any]:
    """Every document of a YAML (or JSON) text, as round-trip objects."""
    if len(text) > MAX_BYTES:
        raise InputError(source, None, "larger than 3 MiB, which Kubernetes refuses for any object")
    if text.count("\n") > MAX_LINES:
        raise InputError(source, None, f"more than {MAX_LINES} lines: no KubeVirt manifest is that long")
    try:
        return list(_loader().load_all(text))
    except _Refused as refused:
        raise InputError(source, f"line {refused.line}", refused.problem) from None
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
