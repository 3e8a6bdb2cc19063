"""The sandbox's stacks for tests: built under CI (a stack that cannot be
built fails there), used from the cache on a developer's machine, which
skips without one unless HVTUNE_SANDBOX_BUILD=1 asks for the build.

Stacks that will be built are started at the beginning of the run
(`start_builds`, from conftest), one after another in a background thread,
so that their downloads and dpkg runs overlap the tests that need no
sandbox; a test that needs a stack waits for its build."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from hvtune.sandbox.stack import RELEASES, Stack, ensure_stack, load_stack

from support.programs import require_program, under_ci

_BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hvtune-stack-build")
_BUILDS: dict[str, Future[Stack]] = {}


def _builds_allowed() -> bool:
    return under_ci() or bool(os.environ.get("HVTUNE_SANDBOX_BUILD"))


def start_builds() -> None:
    """Build every missing stack in the background, when builds are allowed
    and the builder's programs are there (a missing one fails the tests that
    need a stack, with its own message)."""
    import shutil

    if not _builds_allowed() or not shutil.which("mmdebstrap") or not shutil.which("mkfs.ext4"):
        return
    for release in RELEASES:
        if load_stack(release) is None and release not in _BUILDS:
            _BUILDS[release] = _BUILDER.submit(ensure_stack, release)


def sandbox_stack(release: str) -> Stack:
    require_program("mmdebstrap")
    require_program("mkfs.ext4")
    if release in _BUILDS:
        return _BUILDS[release].result()
    if load_stack(release) is None and not _builds_allowed():
        pytest.skip(f"no {release} stack in the cache: run `hvtune sandbox build {release}` (CI builds it)")
    return ensure_stack(release)
