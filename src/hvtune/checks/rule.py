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


def subjects(check: Check) -> frozenset[str] | None:
    """The names a check declared with @about, or None (always run)."""
    return getattr(check, "about", None)
