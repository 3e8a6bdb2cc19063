"""The one error type for unusable input: it names the source, the place and
the problem, and the CLI prints it as one line and exits 2."""

from __future__ import annotations


class InputError(Exception):
    """Input hvtune cannot use: a bad file, value or option.

    ``source`` is a file name or an option (``--cpu``); ``place`` says where in
    it (``line 3``, ``-cpu token 4``); ``problem`` says what is wrong.
    """

    def __init__(self, source: str, place: str | None, problem: str):
        self.source = source
        self.place = place
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.source}: {self.located}"

    @property
    def located(self) -> str:
        """The place and the problem, without the source."""
        return f"{self.place}: {self.problem}" if self.place else self.problem

    def within(self, source: str, place: str | None = None) -> InputError:
        """The same problem, reported against an enclosing source and place
        (a -cpu value found on line 12 of a file, say)."""
        places = ", ".join(p for p in (place, self.place) if p)
        return InputError(source, places or None, self.problem)
