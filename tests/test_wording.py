"""Words a reader sees: counts agree with their nouns, and the kernel's
sysfs words are not printed raw."""

from __future__ import annotations

import json

import pytest

from hvtune.bundled import bundled_examples

from support.cli import run


def test_doctor_counts_definitions_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    one, two = (str(path) for path in bundled_examples()[:2])
    for paths, said in (([one], "checked 1 VM definition named"), ([one, two], "checked 2 VM definitions named")):
        _, out, _ = run(capsys, "doctor", *paths, "--host", "intel-nested", "--format", "json")
        assert json.loads(out)["hosts"][0]["note"].startswith(said)
        assert "(s)" not in out


def test_host_says_smt_control_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "host", "--host", "no-hyperv")
    assert code == 0
    assert "SMT           not supported\n" in out
    assert "notsupported" not in out
