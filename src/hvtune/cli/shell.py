"""hvtune in the shell: the completion script and the manual page."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> int:
    """Print the script that lets SHELL complete hvtune's commands, options
    and their values (guest OS names, host profiles, every spelling explain
    takes). Load it from the shell's start-up file or completion folder:
    eval "$(hvtune completion bash)" in ~/.bashrc, or save it as
    ~/.local/share/bash-completion/completions/hvtune; for zsh as _hvtune
    in a folder on $fpath; for fish as ~/.config/fish/completions/hvtune.fish."""
    from click.shell_completion import get_completion_class

    root = click.get_current_context().find_root()
    complete = get_completion_class(shell)
    assert complete is not None  # every name in SHELLS is one of click's
    script = complete(root.command, {}, root.info_name or "hvtune", "_HVTUNE_COMPLETE").source()
    click.echo(script, nl=False)
    return 0


@click.command("man")
def manual() -> int:
    """Print hvtune's manual page (roff, written from this help): save it as
    hvtune.1 in a man1 folder on the manual path (e.g.
    ~/.local/share/man/man1), or read it now with `hvtune man | man -l -`."""
    from hvtune.cli.manpage import manual_page

    click.echo(manual_page(click.get_current_context().find_root()), nl=False)
    return 0
