"""hvtune's manual page in roff (man(7) macros), written from click's own
help: the command group's description, then every command (and a group's
commands) with its usage, its help and each option's help record, so the
page says what `--help` says and cannot drift from it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click

from hvtune._version import __version__


def roff_text(text: str) -> str:
    """Text safe in a roff line: backslashes escaped, and a line that
    would start with a control character ('.' or ') guarded."""
    escaped = text.replace("\\", "\\e")
    return re.sub(r"^(?=[.'])", r"\\&", escaped, flags=re.M)


def _bold_option(text: str) -> str:
    return "\\fB" + roff_text(text).replace("-", "\\-") + "\\fR"


def _paragraphs(help_text: str) -> list[str]:
    """click's help as paragraphs: blank lines separate them; the lines of
    one are joined (the page is refilled to the reader's width)."""
    return [" ".join(chunk.split()) for chunk in re.split(r"\n\s*\n", help_text) if chunk.strip()]


def _walk(ctx: click.Context) -> Iterator[click.Context]:
    """The context of every command under this group, depth first, in
    the order `--help` lists them."""
    command = ctx.command
    if not isinstance(command, click.Group):
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        child = click.Context(sub, info_name=name, parent=ctx)
        yield child
        yield from _walk(child)


def _options(ctx: click.Context) -> list[str]:
    lines = []
    for param in ctx.command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            lines += [".TP", _bold_option(record[0]), roff_text(record[1])]
    return lines


def _body(ctx: click.Context) -> list[str]:
    lines = []
    for index, paragraph in enumerate(_paragraphs(ctx.command.help or "")):
        lines += ([".PP"] if index else []) + [roff_text(paragraph)]
    return lines


def manual_page(root: click.Context) -> str:
    """The page (section 1) of the command group `root` runs."""
    name = root.command_path
    summary = _paragraphs(root.command.help or "")[0]
    lines = [
        f'.TH {name.upper()} 1 "" "{name} {__version__}" "User Commands"',
        ".SH NAME",
        f"{name} \\- {roff_text(summary)}",
        ".SH SYNOPSIS",
        f".B {name}",
        roff_text(" ".join(root.command.collect_usage_pieces(root))),
        ".SH DESCRIPTION",
        *_body(root),
        ".SH OPTIONS",
        *_options(root),
        ".SH COMMANDS",
    ]
    for ctx in _walk(root):
        usage = " ".join([ctx.command_path, *ctx.command.collect_usage_pieces(ctx)])
        lines += [f'.SS "{roff_text(usage)}"', *_body(ctx), *_options(ctx)]
    lines += [".SH SEE ALSO", ".BR virsh (1),", ".BR qemu-system-x86_64 (1)"]
    return "\n".join(lines) + "\n"
