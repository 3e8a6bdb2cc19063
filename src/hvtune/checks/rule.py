"""What a check is, and how it says which properties it looks at."""

from __future__ import annotations

from collections.abc import Callable

from hvtune.checks.context import CheckContext
from hvtune.config import HypervConfig
from hvtune.findings import Finding

Check = Callable[[HypervConfig, CheckContext], list[Finding]]


def about(*names: str) -> Callable[[Check], Check]:
    """Declare that a check can only find something when one of `names` is
    set; run_checks skips it otherwise. Checks without it always run."""

    def mark(check: Check) -> Check:
        check.about = frozenset(names)  # type: ignore[attr-defined]
        return check

    return mark


def only_for(target: str) -> Callable[[Check], Check]:
    """Declare that a check judges only configurations `target` reads
    (libvirt's own rules); run_checks skips it for any other target."""

    def mark(check: Check) -> Check:
        check.target = target  # type: ignore[attr-defined]
        return check

    return mark


def needs(*facts: str) -> Callable[[Check], Check]:
    """Declare the facts of the context (CheckContext.facts: "host",
    "linux", "ambiguous", "nodes") without which a check can find nothing;
    run_checks skips it when one is missing."""

    def mark(check: Check) -> Check:
        check.needs = frozenset(facts)  # type: ignore[attr-defined]
        return check

    return mark


def needed_facts(check: Check) -> frozenset[str]:
    """The context facts a check declared with @needs (none: always run)."""
    return getattr(check, "needs", frozenset())


def target_of(check: Check) -> str | None:
    """The target a check declared with @only_for, or None (every target)."""
    return getattr(check, "target", None)


def subjects(check: Check) -> frozenset[str] | None:
    """The names a check declared with @about, or None (always run)."""
    return getattr(check, "about", None)
