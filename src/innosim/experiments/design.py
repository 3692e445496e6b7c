"""Parameter ranges and experimental designs (grid, Latin hypercube, scrambled Sobol').

A range is written ``NAME=LOW:HIGH[:N]`` (``N`` points on a grid) or ``NAME=V1,V2,...`` (listed
values, grid only). ``NAME`` is a declared parameter (:mod:`innosim.params.declarations`):

* a global parameter by its name (``spillover_elasticity=0.05:0.2``);
* a city parameter by its name alone: the same value for *every* city of the scenario
  (``failure_tolerance=0.3:0.9``);
* a city parameter for one city: ``CITY.NAME`` (``SomeCity.failure_tolerance=0.3:0.9:5``), the
  other cities keeping their scenario values.

Bounds are checked against the declaration (:attr:`ParamSpec.low`/``high``); integer parameters
take whole values (designs round them). :func:`make_design` returns one row per design point with
one column per range (its label, e.g. ``failure_tolerance`` or ``SomeCity.failure_tolerance``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import qmc

from innosim.errors import InputError
from innosim.params import space
from innosim.params.declarations import BY_NAME
from innosim.params.scenario import Scenario

__all__ = ["DESIGNS", "ParamRange", "apply_point", "make_design", "parse_range"]

Design = Literal["grid", "lhs", "sobol"]
DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol")
DEFAULT_GRID_POINTS = 5
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class ParamRange:
    """One varied parameter.

    Attributes
    ----------
    name : str
        The declared parameter.
    city : str or None
        The one city it changes (city parameters only); ``None``: every city (or a global).
    low, high : float
        Inclusive range.
    n : int or None
        Grid points (``None``: the design's default).
    values : tuple of float
        Listed values (grid only), instead of ``low:high:n``.
    """

    name: str
    city: str | None
    low: float
    high: float
    n: int | None = None
    values: tuple[float, ...] = ()

    @property
    def label(self) -> str:
        return self.name if self.city is None else f"{self.city}.{self.name}"

    @property
    def integer(self) -> bool:
        return bool(BY_NAME[self.name].integer)

    def grid(self, default_n: int) -> np.ndarray:
        if self.values:
            return np.array(self.values, dtype=float)
        n = self.n or default_n
        x = np.linspace(self.low, self.high, n) if n > 1 else np.array([self.low])
        return np.unique(np.round(x)) if self.integer else x

    def scale(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples onto the range."""
        x = self.low + u * (self.high - self.low)
        return np.clip(np.round(x), self.low, self.high) if self.integer else x


def parse_range(text: str, scenario: Scenario | None = None) -> ParamRange:
    """Parse ``NAME=LOW:HIGH[:N]`` / ``NAME=V1,V2,...`` (the range grammar of
    :mod:`innosim.params.space`, every form but a bare name) and check it against the
    declarations (and, given a scenario, its cities).

    Raises
    ------
    InputError
        Bad syntax, unknown parameter or city, a city prefix on a global parameter, values out
        of the declared bounds, LOW > HIGH, a bad N.
    """
    r = space.parse_range(text, scenario, field="--param", forms=("span", "grid", "list"))
    if r.low is None or r.high is None:  # pragma: no cover - a bare name is not among the forms
        raise InputError("a range is needed", field="--param", value=text, expected="NAME=LOW:HIGH")
    return ParamRange(r.name, r.city, r.low, r.high, r.n, r.values)


def _check_n(n: Any, design: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_POINTS:
        raise InputError(
            "bad number of design points",
            file="command line",
            field="--n",
            value=n,
            expected=f"a whole number in [1, {MAX_POINTS}]"
            + (" (points per parameter for a grid)" if design == "grid" else ""),
        )
    if design == "sobol" and n & (n - 1):
        raise InputError(
            "a Sobol' design needs a power of two points (its balance properties hold only then)",
            file="command line",
            field="--n",
            value=n,
            expected=f"a power of two, e.g. {1 << max(0, int(n).bit_length() - 1)} or "
            f"{1 << int(n).bit_length()}",
        )
    return int(n)


def make_design(
    ranges: Sequence[ParamRange],
    design: str = "grid",
    n: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Design points over the ranges.

    Parameters
    ----------
    ranges : sequence of ParamRange
        Distinct parameters (by label).
    design : {"grid", "lhs", "sobol"}
        ``grid``: the full product of each range's points (``N`` of the range, else ``n``,
        else 5). ``lhs``: a Latin hypercube of ``n`` points (default 20). ``sobol``: a scrambled
        Sobol' sequence of ``n`` points (a power of two, default 16). Both are seeded.
    n : int, optional
        See ``design``.
    seed : int
        Seeds the LHS and Sobol' scrambling (``SeedSequence(seed)``).

    Returns
    -------
    pandas.DataFrame
        One row per design point, one column per range label (float).
    """
    if design not in DESIGNS:
        raise InputError(
            "unknown design",
            file="command line",
            field="--design",
            value=design,
            expected="one of " + ", ".join(DESIGNS),
        )
    if not ranges:
        raise InputError(
            "no parameter to vary",
            file="command line",
            field="--param",
            expected="one or more --param " + space.RANGE_SYNTAX,
        )
    labels = [r.label for r in ranges]
    dup = next((x for i, x in enumerate(labels) if x in labels[:i]), None)
    if dup is not None:
        raise InputError(
            "a parameter is varied twice",
            file="command line",
            field="--param",
            value=dup,
            expected="each parameter once",
        )
    if design == "grid":
        default_n = DEFAULT_GRID_POINTS if n is None else _check_n(n, design)
        axes = [r.grid(default_n) for r in ranges]
        total = math.prod(len(a) for a in axes)
        if total > MAX_POINTS:
            raise InputError(
                "the grid is too large",
                file="command line",
                field="--param",
                value=total,
                expected=f"at most {MAX_POINTS} points",
            )
        rows = list(itertools.product(*axes))
        return pd.DataFrame(rows, columns=labels, dtype=float)
    listed = [r.label for r in ranges if r.values or r.n is not None]
    if listed:
        raise InputError(
            f"':N' and listed values apply to grid designs only, not to '{design}'",
            file="command line",
            field="--param",
            value=listed[0],
            expected="LOW:HIGH with --n N setting the number of points",
        )
    n = _check_n(20 if n is None and design == "lhs" else 16 if n is None else n, design)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    d = len(ranges)
    if design == "lhs":
        u = qmc.LatinHypercube(d, rng=rng).random(n)
    else:
        u = qmc.Sobol(d, scramble=True, rng=rng).random_base2(int(n).bit_length() - 1)
    cols = {r.label: r.scale(u[:, j]) for j, r in enumerate(ranges)}
    return pd.DataFrame(cols, columns=labels, dtype=float)


def apply_point(
    scenario: Scenario, ranges: Sequence[ParamRange], point: Sequence[float]
) -> Scenario:
    """The scenario with one design point's values set (validated by the scenario)."""
    glob: dict[str, float] = {}
    sc = scenario
    pairs = list(zip(ranges, point, strict=True))
    # every-city values first, so that a one-city range of the same parameter wins
    pairs.sort(key=lambda rv: rv[0].city is not None)
    for r, v in pairs:
        value = float(v)
        if BY_NAME[r.name].scope == "global":
            glob[r.name] = value
        elif r.city is not None:
            sc = sc.with_city_params(r.city, **{r.name: value})
        else:
            for c in sc.city_names:
                sc = sc.with_city_params(c, **{r.name: value})
    if glob:
        sc = sc.with_global_params(**glob)
    return sc
