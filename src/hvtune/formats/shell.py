"""Split shell text into words, remembering the line each word starts on.

Enough of POSIX sh for command lines people save in files: blanks separate
words; single quotes keep everything; double quotes keep everything but
backslash escapes of ``$ ` " \\`` and newline; a backslash outside quotes
escapes the next character, and backslash-newline joins lines; ``#`` at the
start of a word begins a comment; ``;``, ``&``, ``|`` (also doubled) are
words of their own. No expansion happens.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATORS = ";&|"
_DOUBLE_QUOTE_ESCAPES = '$`"\\\n'


@dataclass(frozen=True)
class Word:
    """A word, the line it starts on, and where it stands in the text
    (quotes included), so that it can be replaced."""

    text: str
    line: int
    start: int = 0
    end: int = 0


class ShellSyntaxError(ValueError):
    def __init__(self, line: int, problem: str):
        super().__init__(problem)
        self.line = line


def split_words(text: str) -> list[Word]:
    words: list[Word] = []
    index, line, length = 0, 1, len(text)
    current: list[str] | None = None
    start_line = start_offset = 1

    def finish() -> None:
        nonlocal current
        if current is not None:
            words.append(Word("".join(current), start_line, start_offset, index))
            current = None

    def begin() -> list[str]:
        nonlocal current, start_line, start_offset
        if current is None:
            current, start_line, start_offset = [], line, index
        return current

    while index < length:
        char = text[index]
        if char == "\\" and index + 1 < length and text[index + 1] == "\n":
            index, line = index + 2, line + 1
            continue
        if char in " \t\r\n":
            finish()
            line += char == "\n"
            index += 1
        elif char == "#" and current is None:
            while index < length and text[index] != "\n":
                index += 1
        elif char in SEPARATORS:
            finish()
            doubled = text[index : index + 2] in ("&&", "||", ";;")
            words.append(Word(text[index : index + 1 + doubled], line, index, index + 1 + doubled))
            index += 1 + doubled
        elif char == "\\":
            begin().append(text[index + 1 : index + 2])
            index += 2
        elif char == "'":
            end = text.find("'", index + 1)
            if end < 0:
                raise ShellSyntaxError(line, "a single quote is never closed")
            begin().append(text[index + 1 : end])
            line += text.count("\n", index, end)
            index = end + 1
        elif char == '"':
            buffer, opened, index = begin(), line, index + 1
            while index < length and text[index] != '"':
                if text[index] == "\\" and index + 1 < length and text[index + 1] in _DOUBLE_QUOTE_ESCAPES:
                    if text[index + 1] != "\n":
                        buffer.append(text[index + 1])
                    line += text[index + 1] == "\n"
                    index += 2
                    continue
                line += text[index] == "\n"
                buffer.append(text[index])
                index += 1
            if index >= length:
                raise ShellSyntaxError(opened, "a double quote is never closed")
            index += 1
        else:
            begin().append(char)
            index += 1
    finish()
    return words
