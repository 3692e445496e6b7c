"""The statistics registry: names, arguments, units and argument checking.

Every statistic of the catalog (``/work/shared/validation/STATISTICS.md``; documented in
``docs/statistics.md``) is a pure function of one :class:`~innosim.model.runner.RunResult`
(two for the paired counterfactual statistic) returning a float, NaN when undefined. The
family modules register them with :func:`statistic`; :data:`CATALOG` maps each name to its
:class:`Statistic`, and :func:`check_args` validates a target's name and arguments.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from innosim.errors import InputError
from innosim.schema import TICKS_PER_YEAR

if TYPE_CHECKING:
    from innosim.model.runner import RunResult
    from innosim.params.scenario import Scenario

__all__ = [
    "BURN_IN_YEARS",
    "CATALOG",
    "REQUIRED",
    "ArgSpec",
    "Statistic",
    "check_args",
    "statistic",
]

BURN_IN_YEARS = 5
"""Years after ``start_year`` excluded from the measured window. The simulated economy starts
with no firms (the empty 1999 economy); the first cohorts, their growth and their exits are a
transient of that initial condition, not the steady behaviour the catalog measures. Firms
founded at or after ``start_year + BURN_IN_YEARS`` (tick ``4 * BURN_IN_YEARS``), and years at or
after that year, form the measured window."""


class _Required:
    """Sentinel type of :data:`REQUIRED`."""

    _instance: _Required | None = None

    def __new__(cls) -> _Required:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"

    def __reduce__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default of an :class:`ArgSpec` that has none: the argument must be given."""

Kind = Literal["float", "int", "str", "city", "choice"]
Family = Literal["firms", "finance", "founders", "cities"]


@dataclass(frozen=True)
class ArgSpec:
    """One argument of a statistic.

    Attributes
    ----------
    name : str
    kind : {"float", "int", "str", "city", "choice"}
        ``float`` accepts int or float (not bool); ``int`` accepts int only (not bool);
        ``str`` any string; ``city`` a city name (checked against the run's cities);
        ``choice`` one of ``choices``.
    default : object
        :data:`REQUIRED` when the argument must be given. ``None`` defaults mean "not given"
        (e.g. all cities, the last year).
    choices : tuple of str
        Accepted values of a ``choice`` argument.
    low, high : float or None
        Inclusive bounds of a numeric argument.
    """

    name: str
    kind: Kind
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        """What the argument accepts, in words (for error messages)."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "city":
            return "a city name"
        if self.kind == "str":
            return "a string"
        what = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{what} >= {self.low:g}"
        if self.high is not None:
            return f"{what} <= {self.high:g}"
        return what


@dataclass(frozen=True)
class Statistic:
    """A catalog entry.

    Attributes
    ----------
    name : str
    family : {"firms", "finance", "founders", "cities"}
    unit : str
    doc : str
        First paragraph of the function's docstring.
    args : tuple of ArgSpec
    paired : bool
        True when the statistic compares a baseline run with a counterfactual run (then it is
        called with two results and :meth:`counterfactual` gives the second arm's scenario).
    func : callable
        ``func(result, **args)`` (``func(baseline, counterfactual, **args)`` when paired).
    ratio_parts : callable, optional
        For a statistic that is a ratio of two other catalog statistics: ``ratio_parts(**args)``
        returns the (numerator, denominator) requests as ``(name, args)`` pairs. An ensemble
        then reports the ratio of the two ensemble means (the ratio estimator), which is not
        pulled up by replicates with a small denominator as the mean of per-replicate ratios
        is; the interval stays the quantiles of per-replicate ratios.
    """

    name: str
    family: Family
    unit: str
    doc: str
    args: tuple[ArgSpec, ...]
    paired: bool
    func: Callable[..., float]
    counterfactual_func: Callable[..., Scenario] | None = None
    ratio_parts: (
        Callable[..., tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] | None
    ) = None

    @property
    def n_results(self) -> int:
        """Number of run results the statistic reads (2 when paired)."""
        return 2 if self.paired else 1

    def __call__(self, *results: RunResult, **args: Any) -> float:
        """Compute the statistic: one result, or (baseline, counterfactual) when paired.
        Arguments are checked (:func:`check_args`, cities of the first result) and defaults
        filled in."""
        if len(results) != self.n_results:
            raise TypeError(f"{self.name} takes {self.n_results} run result(s), got {len(results)}")
        cities = results[0].meta.get("cities") or list(results[0].scenario.city_names)
        full = check_args(self.name, args, cities=cities)
        return float(self.func(*results, **full))

    def counterfactual(self, scenario: Scenario, **args: Any) -> Scenario:
        """Scenario of the counterfactual arm of a paired statistic (see its documentation)."""
        if not self.paired or self.counterfactual_func is None:
            raise TypeError(f"{self.name} is not a paired statistic")
        full = check_args(self.name, args, cities=scenario.city_names)
        return self.counterfactual_func(scenario, **full)


CATALOG: dict[str, Statistic] = {}
"""Every statistic of the catalog, by name (in the order of STATISTICS.md)."""


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    text = inspect.cleandoc(doc)
    return " ".join(text.split("\n\n", 1)[0].split())


def statistic(
    family: Family,
    unit: str,
    *args: ArgSpec,
    paired: bool = False,
    counterfactual: Callable[..., Scenario] | None = None,
    ratio_parts: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator registering a statistic function in :data:`CATALOG` under its own name."""

    def register(func: Callable[..., float]) -> Callable[..., float]:
        name = func.__name__
        if name in CATALOG:
            raise RuntimeError(f"statistic {name} registered twice")
        CATALOG[name] = Statistic(
            name=name,
            family=family,
            unit=unit,
            doc=_first_paragraph(func.__doc__),
            args=tuple(args),
            paired=paired,
            func=func,
            counterfactual_func=counterfactual,
            ratio_parts=ratio_parts,
        )
        return func

    return register


def _check_one(spec: ArgSpec, value: Any, field: str, cities: Sequence[str] | None) -> Any:
    if value is None and spec.default is None:
        return None
    kind = spec.kind
    if kind in ("float", "int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if kind == "float":
            ok = ok or isinstance(value, float)
        if not ok:
            raise InputError("wrong type", field=field, value=value, expected=spec.describe())
        if kind == "float" and not math.isfinite(value):
            raise InputError(
                "not a finite number", field=field, value=value, expected=spec.describe()
            )
        if (spec.low is not None and value < spec.low) or (
            spec.high is not None and value > spec.high
        ):
            raise InputError("out of range", field=field, value=value, expected=spec.describe())
        return float(value) if kind == "float" else int(value)
    if not isinstance(value, str):
        raise InputError("wrong type", field=field, value=value, expected=spec.describe())
    if kind == "choice" and value not in spec.choices:
        raise InputError(
            "not one of the choices", field=field, value=value, expected=spec.describe()
        )
    if kind == "city" and cities is not None and value not in cities:
        raise InputError(
            "unknown city", field=field, value=value, expected="one of " + ", ".join(cities)
        )
    return value


def check_args(
    name: str,
    args: dict[str, Any] | None,
    *,
    cities: Sequence[str] | None = None,
    where: str = "",
) -> dict[str, Any]:
    """Validate a statistic's name and arguments; return the arguments with defaults filled.

    Parameters
    ----------
    name : str
        A catalog name.
    args : dict
        The arguments given (``None`` or empty for none).
    cities : sequence of str, optional
        City names that ``city`` arguments must be among (unchecked when None).
    where : str
        Prefix of the field named in errors, e.g. ``"target[3]."``.

    Raises
    ------
    InputError
        Unknown statistic (``field=f"{where}statistic"``, expected lists the whole catalog);
        unknown, missing, mistyped, out-of-range, bad-choice or unknown-city argument
        (``field=f"{where}args.{arg}"``).
    """
    stat = CATALOG.get(name) if isinstance(name, str) else None
    if stat is None:
        raise InputError(
            "unknown statistic",
            field=f"{where}statistic",
            value=name,
            expected="one of " + ", ".join(sorted(CATALOG)),
        )
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise InputError(
            "arguments must be a table",
            field=f"{where}args",
            value=args,
            expected="a table of argument names to values",
        )
    specs = {a.name: a for a in stat.args}
    accepted = ", ".join(specs) if specs else "no arguments"
    for key in args:
        if key not in specs:
            raise InputError(
                "unknown argument",
                field=f"{where}args.{key}",
                value=key,
                expected=f"arguments of {name}: {accepted}",
            )
    out: dict[str, Any] = {}
    for spec in stat.args:
        field = f"{where}args.{spec.name}"
        if spec.name not in args:
            if spec.required:
                raise InputError(
                    "missing required argument",
                    field=field,
                    expected=f"{spec.describe()} (arguments of {name}: {accepted})",
                )
            out[spec.name] = spec.default
            continue
        out[spec.name] = _check_one(spec, args[spec.name], field, cities)
    return out


# --------------------------------------------------------------------------- shared helpers


def start_year(result: RunResult) -> int:
    """First simulated year of a run."""
    return int(result.meta.get("start_year", result.scenario.start_year))


def end_year(result: RunResult) -> int:
    """Last simulated year of a run."""
    return int(result.meta.get("end_year", result.scenario.end_year))


def window_year(result: RunResult) -> int:
    """First year of the measured window (``start_year + BURN_IN_YEARS``)."""
    return start_year(result) + BURN_IN_YEARS


def window_tick(result: RunResult) -> int:
    """First tick of the measured window."""
    return BURN_IN_YEARS * TICKS_PER_YEAR


def n_ticks(result: RunResult) -> int:
    """Number of ticks of the run (the last tick is ``n_ticks - 1``)."""
    return (end_year(result) - start_year(result) + 1) * TICKS_PER_YEAR


def city_code(result: RunResult, city: str) -> int:
    """Index of a city name in the run's cities (raises InputError when unknown)."""
    cities = list(result.meta.get("cities") or result.scenario.city_names)
    if city not in cities:
        raise InputError(
            "unknown city", field="city", value=city, expected="one of " + ", ".join(cities)
        )
    return cities.index(city)


def ratio(num: float, den: float) -> float:
    """``num / den`` as a float, NaN when the denominator is zero or not finite."""
    num, den = float(num), float(den)
    if den == 0 or not math.isfinite(den) or not math.isfinite(num):
        return math.nan
    return num / den
