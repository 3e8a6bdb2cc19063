"""Finding the real programs tests run against.

A missing program skips the test on a developer's machine, but under CI
(CI=true) it fails it: CI must install everything the tests judge with.
"""

from __future__ import annotations

import os
import shutil

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_program(name: str) -> str:
    """The path of `name`, or skip (developer machine) / fail (CI)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed; the README's test command installs it"
    if under_ci():
        pytest.fail(message)
    pytest.skip(message)
