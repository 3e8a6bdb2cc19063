"""What the shell offers for an option's value (click's shell completion):
guest OS names, host profiles, the catalog's spellings. Each completer
answers the value typed so far with the candidates it starts."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click
from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _starting(candidates: Iterable[str], incomplete: str) -> list[CompletionItem]:
    typed = incomplete.lower()
    return [CompletionItem(name) for name in candidates if name.lower().startswith(typed)]


def guest_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--os: the catalog's guest OS names."""
    from hvtune.catalog import load_catalog

    return _starting((guest.name for guest in load_catalog().guests), incomplete)


def spellings(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """explain NAME: every spelling of every property and neighbour."""
    from hvtune.catalog import load_catalog

    return _starting(load_catalog().spellings, incomplete)


def hosts(*keywords: str) -> Completer:
    """--host: files (a saved profile), the bundled profiles and these
    keywords ('this', 'none'). The file item comes first: bash's script
    from click empties its list at a file item, and falls back to file
    names only when no name matches."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from hvtune.host.profile_json import bundled_profile_names

        return [CompletionItem(incomplete, type="file"), *_starting([*bundled_profile_names(), *keywords], incomplete)]

    return complete
