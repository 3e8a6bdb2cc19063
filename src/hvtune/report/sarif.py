"""Findings as a SARIF 2.1.0 log (``--format sarif``), for code scanning
and pull-request annotations: one run of hvtune, one rule per finding code,
one result per finding (and per configuration QEMU or libvirt refuses
outright), each located on the line of its file that spells the property
— or, for a daemon's domain or a --cpu value, named as a logical location.
Sources that were no usable input are the invocation's notifications."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from hvtune._version import __version__
from hvtune.catalog import load_catalog
from hvtune.errors import InputError, Refusal
from hvtune.findings import Finding, Severity
from hvtune.jsonrecords import dumps
from hvtune.locating import Placed
from hvtune.report.findings import finding_text, fix_text
from hvtune.verdict import impact_of

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_REFUSED = "{}-refuses"  # the rule of a configuration a program refuses outright
_UNUSABLE = "unusable-input"  # the rule of a named file that is no usable input


def _uri(path: str) -> str:
    """`path` as a SARIF artifact URI: relative paths stay relative (to the
    directory the command ran in, the repository's root in CI)."""
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())


def _location(source: str, path: str | None, line: int | None) -> dict[str, Any]:
    """Line `line` of file `path`, or `source` by name when it is no file
    (a domain, a --cpu value)."""
    if path is None:
        return {"logicalLocations": [{"name": source, "kind": "resource"}]}
    region = {"startLine": line or 1}
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(path)}, "region": region}}


def _message(finding: Finding, spelling: str) -> str:
    fix = fix_text(finding, spelling)
    return finding_text(finding) + (f" Fix: {fix}." if fix else "")


class _Rules:
    """The rules the results name, in the order first named."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def index(self, code: str, level: str, impact: str) -> int:
        if code not in self._index:
            rule: dict[str, Any] = {"id": code, "defaultConfiguration": {"level": level}}
            fact = load_catalog().impacts.impacts.get(code)
            if fact:
                rule["fullDescription"] = {"text": fact.why}
            rule["properties"] = {"impact": impact}
            self._index[code] = len(self.rules)
            self.rules.append(rule)
        return self._index[code]


def _refused(rules: _Rules, program: str | None, problem: str, location: dict[str, Any]) -> dict[str, Any]:
    """The result of a configuration `program` refuses outright, or of a
    file that is no usable input at all (`program` None)."""
    code = _REFUSED.format(program) if program else _UNUSABLE
    return {
        "ruleId": code,
        "ruleIndex": rules.index(code, "error", "start"),
        "level": "error",
        "message": {"text": problem},
        "locations": [location],
    }


def _results(placed: Placed, rules: _Rules) -> list[dict[str, Any]]:
    result = placed.result
    found = []
    if result.problem:
        where = _location(result.source, placed.path, result.problem_line)
        found.append(_refused(rules, result.refused_by or "qemu", result.problem, where))
    for finding, line in zip(result.findings, placed.lines, strict=True):
        level, impact = _LEVEL[finding.severity], impact_of(finding).value
        properties = {"impact": impact, **({"feature": finding.feature} if finding.feature else {})}
        found.append(
            {
                "ruleId": finding.code,
                "ruleIndex": rules.index(finding.code, level, impact),
                "level": level,
                "message": {"text": _message(finding, result.format)},
                "locations": [_location(result.source, placed.path, line)],
                "properties": properties,
            }
        )
    return found


def sarif_log(placed: Sequence[Placed], unusable: Sequence[InputError] = (), files: Sequence[str] = ()) -> str:
    """The SARIF log of `placed` results. A source in `unusable` is a
    result on its line when it is one of `files` (a program refusing it, or
    no usable input), else a notification of the invocation, which then did
    not succeed."""
    rules = _Rules()
    results = [found for each in placed for found in _results(each, rules)]
    notifications = []
    for error in unusable:
        if error.source in files and error.source != "-":
            where = _location(error.source, error.source, error.line)
            by = error.by if isinstance(error, Refusal) else None
            results.append(_refused(rules, by, error.located, where))
        else:
            notifications.append({"level": "error", "message": {"text": str(error)}})
    run = {
        "tool": {"driver": {"name": "hvtune", "version": __version__, "rules": rules.rules}},
        "invocations": [{"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}],
        "results": results,
    }
    return dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})
