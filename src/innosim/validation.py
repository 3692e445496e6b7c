"""Argument constraints, declared once per public function.

:func:`validate_params` is the pattern of scikit-learn's
``sklearn.utils._param_validation.validate_params``: a public function states, in its decorator,
which values each argument accepts, and the decorator checks every call before the body runs.
A value that satisfies none of an argument's constraints raises an
:class:`~innosim.errors.InputError` whose one paragraph names the field (the command-line
option the value came from), the value and what was expected, generated from the constraints:

>>> from numbers import Integral
>>> @validate_params({"replicates": Arg([Interval(Integral, 1, 100)], field="--replicates")})
... def f(replicates=10):
...     return replicates
>>> f(replicates=0)
Traceback (most recent call last):
...
innosim.errors.InputError: In command line field '--replicates': bad replicates; got 0; \
expected a whole number in [1, 100].

Constraints (a list per argument; the value must satisfy one of them):

* :class:`Interval` ``(Integral | Real, low, high, closed=...)``: a number in a range (``None``
  for an open end; booleans are never numbers);
* :class:`Options` / :class:`StrOptions`: one of a set of values;
* a type (any instance of it, e.g. ``numpy.random.SeedSequence``) or :class:`InstanceOf`;
* ``None``: the value ``None``;
* ``"callable"``, ``"boolean"``: anything callable, a ``bool``;
* :class:`Satisfies` ``(predicate, description)``: any other test;
* :class:`Hidden` ``(constraint)``: accepted but left out of the message (e.g. ``None`` meaning
  "the default", which users never type).

This module sits at the bottom of the package: it imports only :mod:`innosim.errors`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from numbers import Integral, Real
from typing import Any, Literal, TypeVar

from innosim.errors import InputError

__all__ = [
    "Arg",
    "Constraint",
    "Hidden",
    "InstanceOf",
    "Interval",
    "Options",
    "Satisfies",
    "StrOptions",
    "check_value",
    "validate_params",
]

F = TypeVar("F", bound=Callable[..., Any])


class Constraint:
    """A set of accepted values: :meth:`is_satisfied_by` tests one, :meth:`describe` names them
    for an error message ("a whole number in [1, 100]")."""

    hidden = False

    def is_satisfied_by(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _is_integral(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _fmt_bound(x: float) -> str:
    """A bound as users read it: ``2**63`` rather than its 19 digits, else ``%g``-like."""
    if isinstance(x, int) and x >= 2**32 and x & (x - 1) == 0:
        return f"2**{x.bit_length() - 1}"
    if isinstance(x, int):
        return str(x)
    return f"{x:g}"


@dataclass(frozen=True)
class Interval(Constraint):
    """Numbers of a type in a range.

    Parameters
    ----------
    type : numbers.Integral or numbers.Real
        ``Integral``: whole numbers (Python or NumPy integers); ``Real``: any finite real
        number (integers included). Booleans are neither.
    left, right : number or None
        The bounds (``None``: unbounded on that side).
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval.
    """

    type: type
    left: float | None
    right: float | None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def __post_init__(self) -> None:
        if self.type not in (Integral, Real):
            raise TypeError("Interval type must be numbers.Integral or numbers.Real")
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both, left, right or neither, not {self.closed!r}")
        if self.left is not None and self.right is not None and self.left > self.right:
            raise ValueError(f"empty interval: {self.left} > {self.right}")

    def is_satisfied_by(self, value: Any) -> bool:
        if self.type is Integral:
            if not _is_integral(value):
                return False
        elif not _is_real(value) or not math.isfinite(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def describe(self) -> str:
        kind = "a whole number" if self.type is Integral else "a number"
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.left is None and self.right is None:
            return kind
        if self.right is None:
            return f"{kind} {'>=' if lo_in else '>'} {_fmt_bound(self.left)}"
        if self.left is None:
            return f"{kind} {'<=' if hi_in else '<'} {_fmt_bound(self.right)}"
        return (
            f"{kind} in {'[' if lo_in else '('}{_fmt_bound(self.left)}, "
            f"{_fmt_bound(self.right)}{']' if hi_in else ')'}"
        )


@dataclass(frozen=True)
class Options(Constraint):
    """One of a finite set of values of a type (listed in the message in the order given)."""

    type: type
    options: tuple[Any, ...]

    def __init__(self, type: type, options: Iterable[Any]) -> None:
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "options", tuple(options))

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type) and value in self.options

    def describe(self) -> str:
        return "one of " + ", ".join(map(str, self.options))


class StrOptions(Options):
    """One of a set of strings."""

    def __init__(self, options: Iterable[str]) -> None:
        super().__init__(str, options)


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """Any instance of a type."""

    type: type

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type)

    def describe(self) -> str:
        name = f"{self.type.__module__}.{self.type.__qualname__}"
        if self.type.__module__ == "builtins":
            name = self.type.__qualname__
        return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


class _NoneConstraint(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


class _Callables(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return callable(value)

    def describe(self) -> str:
        return "a callable"


class _Booleans(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Satisfies(Constraint):
    """Values for which ``predicate(value)`` is true, described as ``description``."""

    predicate: Callable[[Any], bool]
    description: str

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True)
class Hidden(Constraint):
    """A constraint that accepts values but is not listed in error messages."""

    constraint: Any
    hidden = True

    def is_satisfied_by(self, value: Any) -> bool:
        return make_constraint(self.constraint).is_satisfied_by(value)

    def describe(self) -> str:
        return make_constraint(self.constraint).describe()


def make_constraint(c: Any) -> Constraint:
    """A :class:`Constraint` from its short form (``None``, a type, ``"callable"``,
    ``"boolean"``) or itself."""
    if isinstance(c, Constraint):
        return c
    if c is None:
        return _NoneConstraint()
    if isinstance(c, type):
        return InstanceOf(c)
    if c == "callable":
        return _Callables()
    if c == "boolean":
        return _Booleans()
    raise TypeError(f"unknown constraint {c!r}")


@dataclass(frozen=True)
class Arg:
    """An argument's constraints and how its errors read.

    Attributes
    ----------
    constraints : list
        The value must satisfy one (see the module docstring for the forms).
    field : str, optional
        What the error names as the field (default: the argument's name), e.g. ``"--seed"``.
    problem : str, optional
        The error's statement (default: ``"bad <argument>"``).
    expected : str, optional
        What the error says was expected (default: generated from the visible constraints).
    file : str
        Where the value came from (default ``"command line"``).
    """

    constraints: list[Any] = field(default_factory=list)
    field: str | None = None
    problem: str | None = None
    expected: str | None = None
    file: str = "command line"

    def also(self, *constraints: Any) -> Arg:
        """This argument, also accepting ``constraints`` (hidden from its message: e.g.
        ``SEED.also(None)`` where ``None`` means "the default")."""
        return replace(self, constraints=[*(Hidden(c) for c in constraints), *self.constraints])

    def expected_text(self) -> str:
        if self.expected is not None:
            return self.expected
        shown = [make_constraint(c) for c in self.constraints]
        words = [c.describe() for c in shown if not c.hidden]
        if not words:
            return ""
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def check_value(name: str, value: Any, arg: Arg | list[Any]) -> Any:
    """``value`` itself if it satisfies one of the constraints, else an :class:`InputError`
    naming ``arg.field`` (or ``name``), the value and what was expected."""
    arg = arg if isinstance(arg, Arg) else Arg(list(arg))
    for c in arg.constraints:
        if make_constraint(c).is_satisfied_by(value):
            return value
    raise InputError(
        arg.problem or f"bad {name}",
        file=arg.file,
        field=arg.field or name,
        value=value,
        expected=arg.expected_text() or None,
    )


def validate_params(parameter_constraints: Mapping[str, Arg | list[Any]]) -> Callable[[F], F]:
    """Decorate a function so every call checks its arguments against ``parameter_constraints``
    (argument name -> :class:`Arg` or list of constraints) before the body runs.

    Arguments left out of the mapping are not checked. The decorated function keeps its name,
    signature and docstring; its constraints are in ``__innosim_constraints__``.

    Raises
    ------
    TypeError
        At decoration: a constrained name is not a parameter of the function.
    InputError
        At a call: a value satisfies none of its argument's constraints.
    """
    args = {k: v if isinstance(v, Arg) else Arg(list(v)) for k, v in parameter_constraints.items()}
    for a in args.values():  # fail at import, not at the first bad call
        for c in a.constraints:
            make_constraint(c)

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        unknown = set(args) - set(sig.parameters)
        if unknown:
            raise TypeError(f"{func.__qualname__} has no parameter {', '.join(sorted(unknown))}")

        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            bound = sig.bind(*a, **kw)
            bound.apply_defaults()
            for name, arg in args.items():
                check_value(name, bound.arguments[name], arg)
            return func(*a, **kw)

        wrapper.__innosim_constraints__ = args  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
