"""The hvtune entry point: run a command and turn every failure into an
exit code and one line on standard error.

Exit codes: 0 clean, 1 findings of error severity, 2 unusable input or
usage (including output that cannot be written), 70 an internal error (a bug
in hvtune: the line names the exception; ``--debug`` also prints the
traceback), 130 interrupted.

`hvtune --version` is answered here without importing click or the core, so
it costs little more than starting Python; everything else loads the click
commands (hvtune.cli.app) on demand.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence

from hvtune._version import __version__

INTERNAL_ERROR = 70  # sysexits.h EX_SOFTWARE
INTERRUPTED = 130
# What writing the report can fail with (a full disk, a quota, a dead device).
_OUTPUT_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO))


def _say(line: str) -> None:
    """One line on standard error, control characters escaped."""
    from hvtune.errors import printable

    try:
        sys.stderr.write(f"hvtune: {printable(line)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _undecodable(arguments: Sequence[str]) -> str | None:
    """Which argument is not UTF-8 (Python keeps such bytes as lone
    surrogates), or None."""
    for index, argument in enumerate(arguments):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError as error:
            previous = arguments[index - 1] if index else ""
            owner = f"{previous} value" if previous.startswith("-") and "=" not in previous else f"argument {index + 1}"
            return f"{owner}: not UTF-8 text (byte {error.start})"
    return None


def _flush_stdout() -> str | None:
    """Flush standard output; why it failed, or None. After a failure
    standard output is pointed at /dev/null, so that Python's own flush at
    exit cannot print a second, multi-line complaint."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return None
    except OSError as error:
        _silence_stdout()
        return f"standard output: cannot write: {error.strerror or error}"
    return None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:
        print(f"hvtune, version {__version__}")
        return 0
    debug = "--debug" in arguments[:1] or os.environ.get("HVTUNE_DEBUG", "") not in ("", "0")
    undecodable = _undecodable(arguments)
    if undecodable:
        _say(undecodable)
        return 2
    try:
        code = _run(arguments)
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as error:
        if error.errno not in _OUTPUT_ERRNOS or error.filename is not None:
            return _internal(error, debug)
        _silence_stdout()
        _say(f"standard output: cannot write: {error.strerror}")
        return 2
    except Exception as error:
        return _internal(error, debug)
    problem = _flush_stdout()
    if problem:
        _say(problem)
        return 2
    return code


def _internal(error: BaseException, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(error)
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    hint = "" if debug else "; run with --debug for the traceback"
    _say(f"internal error ({detail}); this is a bug in hvtune{hint}")
    return INTERNAL_ERROR


def _run(arguments: list[str]) -> int:
    """The command's exit code; usage and input problems become one line
    and 2."""
    import click

    from hvtune.cli.app import cli
    from hvtune.cli.options import UsageFailure
    from hvtune.errors import InputError

    try:
        code = cli.main(args=arguments, prog_name="hvtune", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        hint = "" if isinstance(error, UsageFailure) else " (see --help)"
        _say(" ".join(error.format_message().split()) + hint)
        return 2
    except InputError as error:
        _say(str(error))
        return 2
    except click.Abort:
        _say("aborted")
        return INTERRUPTED
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
