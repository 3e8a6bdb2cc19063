"""Finding the real programs tests run against.

A missing program skips the test on a developer's machine, but under CI
(CI=true) it fails it: CI must install everything the tests judge with.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import NoReturn

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_program(name: str) -> str:
    """The path of `name`, or skip (developer machine) / fail (CI)."""
    path = shutil.which(name)
    if path:
        return path
    _missing(name)


def require_module(name: str) -> None:
    """Skip (developer machine) / fail (CI) unless the Python package `name`
    imports: a program the tests run as `python -m`, from the test extra."""
    if importlib.util.find_spec(name) is None:
        _missing(name)


def _missing(name: str) -> NoReturn:
    message = f"{name} is not installed; the README's test command installs it"
    if under_ci():
        pytest.fail(message)
    pytest.skip(message)
