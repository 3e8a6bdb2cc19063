"""The hvtune entry point: run a command and turn every failure into an
exit code and one line on standard error.

`hvtune --version` is answered here without importing click or the core, so
it costs little more than starting Python; everything else loads the click
commands (hvtune.commands) on demand.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hvtune._version import __version__


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:
        print(f"hvtune, version {__version__}")
        return 0

    import click

    from hvtune.commands import UsageFailure, cli
    from hvtune.errors import InputError

    try:
        code = cli.main(args=arguments, prog_name="hvtune", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        hint = "" if isinstance(error, UsageFailure) else " (see --help)"
        message = " ".join(error.format_message().split())
        click.echo(f"hvtune: {message}{hint}", err=True)
        return 2
    except InputError as error:
        click.echo(f"hvtune: {error}", err=True)
        return 2
    except click.Abort:
        click.echo("hvtune: aborted", err=True)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
