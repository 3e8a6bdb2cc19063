"""Shell word splitting for saved command lines."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hvtune.formats.shell import ShellSyntaxError, split_words


def test_words_know_the_line_and_place_they_start_on() -> None:
    text = (
        "#!/bin/sh\n# a comment\nexec qemu-system-x86_64 \\\n  -cpu 'host,hv-vendor-id=KVM Hv' \\\n  -m 4G # trailing\n"
    )
    words = split_words(text)
    assert [(w.text, w.line) for w in words] == [
        ("exec", 3),
        ("qemu-system-x86_64", 3),
        ("-cpu", 4),
        ("host,hv-vendor-id=KVM Hv", 4),
        ("-m", 5),
        ("4G", 5),
    ]
    assert [text[w.start : w.end] for w in words][3] == "'host,hv-vendor-id=KVM Hv'"


def test_quotes_escapes_and_separators() -> None:
    words = [w.text for w in split_words('a "b \\"c\\" \\$d" e\\ f;g&&h|i # x')]
    assert words == ["a", 'b "c" $d', "e f", ";", "g", "&&", "h", "|", "i"]
    assert [w.text for w in split_words("a#b 'c#d'")] == ["a#b", "c#d"]


@pytest.mark.parametrize("text", ["a 'b", 'a "b'])
def test_unclosed_quotes_are_refused(text: str) -> None:
    with pytest.raises(ShellSyntaxError):
        split_words(text)


@given(st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1), max_size=6))
def test_agrees_with_shlex_on_quoted_words(words: list[str]) -> None:
    assert [w.text for w in split_words(" ".join(shlex.quote(word) for word in words))] == words
