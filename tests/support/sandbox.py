"""The sandbox's stack the tests run on: the cached one, built under CI
(or with HVTUNE_SANDBOX_BUILD=1), else the tests that need it skip."""

from __future__ import annotations

import os

import pytest

from hvtune.sandbox.stack import Stack, ensure_stack, load_stack

from support.programs import require_program, under_ci

RELEASE = "bookworm"


def sandbox_stack() -> Stack:
    """The bookworm stack, built first when CI (or the caller) asks for it."""
    require_program("mmdebstrap")
    require_program("mkfs.ext4")
    if load_stack(RELEASE) is None and not under_ci() and not os.environ.get("HVTUNE_SANDBOX_BUILD"):
        pytest.skip(f"no {RELEASE} stack in the cache: run `hvtune sandbox build {RELEASE}` (CI builds it)")
    return ensure_stack(RELEASE)
