"""Running hvtune's command line in the test process."""

from __future__ import annotations

import pytest

from hvtune.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """hvtune ARGV: its exit code, standard output and standard error."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    """One line on standard error, hvtune's, holding every fragment."""
    assert err.count("\n") == 1 and err.startswith("hvtune: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
