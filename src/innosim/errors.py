"""One exception hierarchy for everything a user can get wrong.

Every error a user can trigger (a scenario file, a data file, a CLI argument, a stored run) is an
:class:`InnosimError`. Its message is one paragraph naming the file, the field, the offending value
and what was expected, so the CLI can print it and exit with status 2 without a traceback.
"""

from __future__ import annotations

__all__ = [
    "InnosimError",
    "InputError",
    "InvariantError",
    "ScenarioError",
    "StoreError",
]


class InnosimError(Exception):
    """Base class of every error innosim raises on purpose."""

    exit_code = 2


class InputError(InnosimError):
    """Bad input: a file, a field inside it, or an argument.

    Parameters
    ----------
    file : str or None
        The file (or ``"command line"``) the value came from.
    field : str or None
        Dotted path of the field inside the file, e.g. ``city[2].params.failure_tolerance``.
    value : object
        The offending value (``None`` when the field is missing).
    expected : str
        What would have been accepted.
    problem : str
        Short statement of what is wrong.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        field: str | None = None,
        value: object = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        where = []
        if self.file:
            where.append(f"in {self.file}")
        if self.field:
            where.append(f"field '{self.field}'")
        head = self.problem if not where else f"{' '.join(where)}: {self.problem}"
        parts.append(head[0].upper() + head[1:] if head else head)
        if self.value is not None:
            shown = repr(self.value)
            if len(shown) > 120:
                shown = shown[:117] + "..."
            parts.append(f"got {shown}")
        if self.expected:
            parts.append(f"expected {self.expected}")
        return _printable("; ".join(parts) + ".")


class ScenarioError(InputError):
    """A scenario file (or its overrides) is missing, malformed or out of bounds."""


class StoreError(InputError):
    """The results store cannot be read or written, or a run reference is unknown."""


class InvariantError(InnosimError):
    """A conservation law or bound was violated during a run (a bug, not bad input)."""

    exit_code = 3


def _printable(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\n``), so a name
    taken from a user's file can never break the message into several lines."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
