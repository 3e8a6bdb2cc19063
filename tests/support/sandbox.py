"""The sandbox's stacks for tests: built under CI (a stack that cannot be
built fails there), used from the cache on a developer's machine, which
skips without one unless HVTUNE_SANDBOX_BUILD=1 asks for the build."""

from __future__ import annotations

import os

import pytest

from hvtune.sandbox.stack import Stack, ensure_stack, load_stack

from support.programs import require_program, under_ci


def sandbox_stack(release: str) -> Stack:
    require_program("mmdebstrap")
    require_program("mkfs.ext4")
    if load_stack(release) is None and not under_ci() and not os.environ.get("HVTUNE_SANDBOX_BUILD"):
        pytest.skip(f"no {release} stack in the cache: run `hvtune sandbox build {release}` (CI builds it)")
    return ensure_stack(release)
