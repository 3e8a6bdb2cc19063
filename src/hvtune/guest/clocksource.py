"""The clocksource the guest kernel runs on and those it could (sysfs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CLOCKSOURCE = Path("/sys/devices/system/clocksource/clocksource0")


@dataclass(frozen=True)
class Clocksource:
    """The current clocksource, those available, or why they are unknown."""

    current: str | None = None
    available: tuple[str, ...] = ()
    missing: str | None = None


def read_clocksource(directory: Path = CLOCKSOURCE) -> Clocksource:
    try:
        current = (directory / "current_clocksource").read_text().strip()
        available = tuple((directory / "available_clocksource").read_text().split())
    except OSError as error:
        return Clocksource(missing=f"{error.filename}: {error.strerror or error}")
    return Clocksource(current, available)
