"""Holding hvtune's JSON documents to their published schemas."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from hvtune.schemas import load


def assert_valid(document: str | dict) -> dict:  # type: ignore[type-arg]
    """`document` (its text, or parsed) validates against the published
    schema its schema key names; returns it parsed."""
    parsed = json.loads(document) if isinstance(document, str) else document
    errors = sorted(Draft202012Validator(load(parsed["schema"])).iter_errors(parsed), key=lambda e: e.json_path)
    assert not errors, [f"{error.json_path}: {error.message}" for error in errors]
    return parsed  # type: ignore[no-any-return]
