"""Ensembles: replicates of a scenario, their per-city summaries and intervals, counterfactuals.

The experiments' common machinery, below the public API module (which re-exports the
public names): what outcomes an ensemble can report (:data:`METRICS`), the interval it reports
(:data:`INTERVAL`), how a scenario argument is resolved (:func:`as_scenario`,
:func:`prepare_scenario`), the constraints of the ``seed`` and ``replicates`` arguments every
experiment shares (:data:`SEED`, :data:`REPLICATES`), and :func:`ensemble`,
:func:`ensemble_stats`, :func:`counterfactual` and :func:`gap_closed`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.executor import map_runs
from innosim.model.runner import run, yearly
from innosim.params import space
from innosim.params.declarations import BY_NAME, PARAMS
from innosim.params.scenario import Scenario, load_scenario
from innosim.schema import SERIES, SUMMARY_COLUMNS
from innosim.validation import Arg, Hidden, Interval, check_value, validate_params

__all__ = [
    "DEFAULT_WINDOW",
    "GROUPS",
    "INTERVAL",
    "METRICS",
    "REPLICATES",
    "SEED",
    "SUMMARY_COLUMNS",
    "as_scenario",
    "check_cities",
    "check_metrics",
    "check_year",
    "counterfactual",
    "ensemble",
    "ensemble_stats",
    "gap_closed",
    "interval_stats",
    "prepare_scenario",
    "resolve_year",
    "run_ensemble",
    "summary_of_year",
]


GROUPS: tuple[str, ...] = space.GROUPS
"""Parameter groups a counterfactual can transplant (the declared ``ParamSpec.group``)."""

METRICS: tuple[str, ...] = (*(name for name, _, _ in SERIES), "va_growth", "growth_volatility")
"""Per-city yearly outcomes an ensemble can report (see :func:`innosim.yearly`)."""

INTERVAL = (0.05, 0.95)
"""Quantiles of the replicate distribution reported as a 90% interval."""

DEFAULT_WINDOW = int(BY_NAME["volatility_window_years"].default)
"""Years of the growth-volatility window when a scenario or run does not say."""

SEED = Arg(
    [Hidden(None), Interval(Integral, 0, 2**63, closed="left")],
    field="--seed",
    problem="bad seed",
)
"""Constraint of a root ``seed`` argument (``None``: the scenario's seed)."""

REPLICATES = Arg(
    [Interval(Integral, 1, 100_000)], field="--replicates", problem="bad number of replicates"
)
"""Constraint of a ``replicates`` argument."""

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- scenarios


def as_scenario(scenario: str | os.PathLike[str] | Scenario) -> Scenario:
    """A resolved scenario from a Scenario, a scenario name or a path to a TOML file."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def prepare_scenario(
    scenario: str | os.PathLike[str] | Scenario, scale: float | None, until: int | None
) -> Scenario:
    """:func:`as_scenario`, ending in ``until`` and scaled by ``scale`` where given."""
    sc = as_scenario(scenario)
    if until is not None:
        sc = sc.with_end_year(int(until) if isinstance(until, np.integer) else until)
    if scale is not None:
        sc = sc.with_scale(float(scale) if isinstance(scale, np.floating | np.integer) else scale)
    return sc


def check_year(year: Any, sc: Scenario, default: int) -> int:
    """``year`` (default ``default``) checked to be a whole year within the scenario's horizon."""
    if year is None:
        return int(default)
    arg = Arg(
        [Interval(Integral, sc.start_year, sc.end_year)],
        field="--year",
        problem="year outside the scenario",
        expected=f"a whole year in [{sc.start_year}, {sc.end_year}]",
    )
    return int(check_value("year", year, arg))


# --------------------------------------------------------------------------- summaries


def resolve_year(y: pd.DataFrame, year: int | None) -> int:
    """``year`` checked against a yearly table (default: its last year)."""
    years = y["year"]
    if year is None:
        return int(years.max())
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or year not in set(years):
        raise InputError(
            "year outside the run",
            field="--year",
            value=year,
            expected=f"a year in [{int(years.min())}, {int(years.max())}]",
        )
    return int(year)


def summary_of_year(y: pd.DataFrame, year: int | None, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Rows of one year of a yearly table, with the summary columns (plus ``extra``)."""
    cols = [*SUMMARY_COLUMNS, *(c for c in extra if c not in SUMMARY_COLUMNS)]
    return y.loc[y["year"] == resolve_year(y, year), cols].reset_index(drop=True)


# --------------------------------------------------------------------------- ensembles


def check_metrics(metrics: Iterable[str]) -> list[str]:
    """``metrics`` as a list of names, each checked to be one of :data:`METRICS`."""
    out = [str(m) for m in metrics]
    for m in out:
        if m not in METRICS:
            raise InputError(
                "unknown metric",
                file="command line",
                field="--metric",
                value=m,
                expected="one of " + ", ".join(METRICS),
            )
    return out


def _summary_task(task: tuple[Scenario, np.random.SeedSequence, int | None, tuple[str, ...]]):
    """One replicate's per-city summary (a module-level function: it runs in pool workers)."""
    sc, ss, year, metrics = task
    window = int(sc.glob.get("volatility_window_years", DEFAULT_WINDOW))
    return summary_of_year(yearly(run(sc, ss).series, window), year, metrics)


def run_ensemble(
    sc: Scenario,
    seeds: Sequence[np.random.SeedSequence],
    year: int | None,
    metrics: Sequence[str],
    progress: Progress | None,
    done: int = 0,
    total: int | None = None,
    workers: int | None = 1,
) -> pd.DataFrame:
    total = len(seeds) if total is None else total
    tasks = [(sc, ss, year, tuple(metrics)) for ss in seeds]
    report = (lambda k, _n: progress(done + k, total)) if progress else None
    parts = map_runs(tasks, workers=workers, progress=report, fn=_summary_task)
    frames = []
    for i, part in enumerate(parts):
        part.insert(0, "replicate", i)
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


@validate_params({"replicates": REPLICATES, "seed": SEED})
def ensemble(
    scenario: str | os.PathLike[str] | Scenario,
    *,
    replicates: int = 10,
    seed: int | None = None,
    year: int | None = None,
    scale: float | None = None,
    until: int | None = None,
    metrics: Sequence[str] = (),
    progress: Progress | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Run replicates of a scenario and stack their per-city summaries.

    Replicate ``i`` is seeded with ``innosim.replicate_seeds(seed, replicates)[i]`` (independent
    ``SeedSequence`` children, never ``seed + i``), so two ensembles with the same ``seed`` use
    common random numbers. Replicates run in a local process pool (``workers``, default one per
    CPU; 1 runs them in this process); the result does not depend on ``workers``.

    Parameters
    ----------
    scenario : str, path or Scenario
    replicates : int
        Number of runs (>= 1).
    seed : int, optional
        Root seed of the ensemble (default: the scenario's seed).
    year : int, optional
        Year summarised (default: the last simulated year).
    scale : float, optional
        Agent scale (see :func:`simulate`).
    until : int, optional
        Last simulated year (default: the scenario's ``end_year``).
    metrics : sequence of str
        Extra yearly columns to report besides :data:`SUMMARY_COLUMNS` (any of :data:`METRICS`).
    progress : callable, optional
        Called as ``progress(runs_done, replicates)`` as runs finish.
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``).

    Returns
    -------
    pandas.DataFrame
        ``replicate`` (0-based), then the summary columns, one row per replicate and city.
        ``attrs`` holds ``scenario``, ``seed``, ``replicates``, ``year``.
    """
    n = int(replicates)
    extra = check_metrics(metrics)
    sc = prepare_scenario(scenario, scale, until)
    root = sc.seed if seed is None else int(seed)
    out = run_ensemble(sc, replicate_seeds(int(root), n), year, extra, progress, workers=workers)
    out.attrs.update(
        scenario=sc.name,
        seed=int(root),
        replicates=n,
        year=sc.end_year if year is None else int(year),
    )
    return out


def check_cities(known: pd.Index, names: Iterable[str], field: str) -> None:
    """Raise InputError for the first of ``names`` not in ``known``."""
    for name in names:
        if name not in known:
            raise InputError(
                "unknown city",
                field=field,
                value=name,
                expected="one of " + ", ".join(map(str, known)),
            )


def ensemble_stats(df: pd.DataFrame, ratio: tuple[str, str] | None = None) -> pd.DataFrame:
    """Ensemble mean and 90% interval of every outcome per city.

    Parameters
    ----------
    df : pandas.DataFrame
        The output of :func:`ensemble`.
    ratio : (str, str), optional
        Cities ``(a, b)``: add a row ``"a/b"`` holding the ratio of their ensemble means.

    Returns
    -------
    pandas.DataFrame
        One row per city (and the ratio row), columns ``<metric>_mean``, ``<metric>_lo`` and
        ``<metric>_hi`` for every metric of ``df``; the 5% and 95% quantiles of the replicates
        bound the interval.
    """
    metrics = [c for c in df.columns if c not in ("replicate", "city")]
    parts = [interval_stats(df, m, m) for m in metrics]
    out = pd.concat(parts, axis=1)
    if ratio is not None:
        a, b = ratio
        check_cities(out.index, (a, b), "ratio")
        row = {
            f"{m}_mean": out.at[a, f"{m}_mean"] / out.at[b, f"{m}_mean"]
            if out.at[b, f"{m}_mean"] != 0
            else float("nan")
            for m in metrics
        }
        out.loc[f"{a}/{b}"] = pd.Series(row)
    out.index.name = "city"
    out = out.reset_index()
    out.attrs.update(df.attrs)
    return out


def interval_stats(values: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    g = values.groupby("city", sort=False)[column]
    return pd.DataFrame(
        {
            f"{prefix}_mean": g.mean(),
            f"{prefix}_lo": g.quantile(INTERVAL[0]),
            f"{prefix}_hi": g.quantile(INTERVAL[1]),
        }
    )


@validate_params({"replicates": REPLICATES, "seed": SEED})
def counterfactual(
    scenario: str | os.PathLike[str] | Scenario,
    *,
    city: str,
    like: str,
    groups: Iterable[str] = ("culture", "demand"),
    replicates: int = 10,
    seed: int | None = None,
    year: int = 2024,
    metric: str = "unicorns",
    scale: float | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """What if ``city`` had ``like``'s values of the parameters in some groups?

    Builds the counterfactual scenario in which ``city`` takes ``like``'s value of every city
    parameter whose :attr:`ParamSpec.group` is in ``groups`` (the policy timeline is left as it
    is), then runs a baseline and a counterfactual ensemble with the same replicate seeds (common
    random numbers, so the paired difference is sharper than either mean). Both ensembles stop at
    ``year``: the run loop is causal, so later years would not change the outcome.

    Parameters
    ----------
    scenario : str, path or Scenario
    city : str
        The city that changes (a name from the scenario).
    like : str
        The city whose values it takes.
    groups : iterable of str
        Parameter groups transplanted (see :data:`GROUPS`).
    replicates : int
        Runs per ensemble.
    seed : int, optional
        Root seed of both ensembles (default: the scenario's seed).
    year : int
        Year at which the metric is read.
    metric : str
        A yearly outcome (:data:`METRICS`), e.g. ``"unicorns"`` or ``"value_added"``.
    scale : float, optional
        Agent scale (see :func:`simulate`).
    progress : callable, optional
        Called as ``progress(runs_done, 2 * replicates)``.
    workers : int, optional
        Worker processes for the replicates (default: ``os.cpu_count()``; the result does not
        depend on it).

    Returns
    -------
    pandas.DataFrame
        One row per city: ``city``, ``baseline_mean``, ``baseline_lo``, ``baseline_hi``,
        ``counterfactual_mean``, ``counterfactual_lo``, ``counterfactual_hi`` and the paired
        change ``change_mean``, ``change_lo``, ``change_hi``; ``_lo``/``_hi`` are the 5% and 95%
        quantiles over replicates (a 90% interval). ``attrs`` records ``scenario, city, like,
        groups, metric, year, replicates, seed`` and ``changes`` (parameter -> [from, to]).

    Raises
    ------
    InputError
        Unknown city, group or metric, the same city twice, or a year outside the scenario.
    """
    sc = prepare_scenario(scenario, scale, None)
    n = int(replicates)
    (metric,) = check_metrics([metric])
    groups = tuple(dict.fromkeys(str(g) for g in groups))
    bad = [g for g in groups if g not in GROUPS]
    if bad or not groups:
        raise InputError(
            "unknown parameter group",
            file="command line",
            field="--groups",
            value=",".join(bad) if bad else "",
            expected="a comma-separated list of " + ", ".join(GROUPS),
        )
    i_city, i_like = sc.city_index(city), sc.city_index(like)
    if i_city == i_like:
        raise InputError(
            "the city and the city it is made like are the same",
            field="--like",
            value=like,
            expected="another city of the scenario",
        )
    year = check_year(year, sc, sc.end_year)
    root = sc.seed if seed is None else int(seed)

    values = {
        p.name: float(sc.city[p.name][i_like])
        for p in PARAMS
        if p.scope == "city" and p.group in groups
    }
    changes = {
        k: [float(sc.city[k][i_city]), v] for k, v in values.items() if sc.city[k][i_city] != v
    }
    base = sc.with_end_year(int(year))
    cf = base.with_city_params(city, **values)
    seeds = replicate_seeds(root, n)
    b = run_ensemble(base, seeds, int(year), [metric], progress, 0, 2 * n, workers)
    c = run_ensemble(cf, seeds, int(year), [metric], progress, n, 2 * n, workers)
    paired = b[["city", "replicate"]].copy()
    paired["change"] = c[metric].to_numpy() - b[metric].to_numpy()
    out = pd.concat(
        [
            interval_stats(b, metric, "baseline"),
            interval_stats(c, metric, "counterfactual"),
            interval_stats(paired, "change", "change"),
        ],
        axis=1,
    ).reset_index()
    out.attrs.update(
        scenario=sc.name,
        city=city,
        like=like,
        groups=list(groups),
        metric=metric,
        year=int(year),
        replicates=n,
        seed=root,
        changes=changes,
    )
    return out


def gap_closed(df: pd.DataFrame, a: str, b: str) -> float:
    """Share of the baseline gap between cities ``a`` and ``b`` closed in the counterfactual.

    Parameters
    ----------
    df : pandas.DataFrame
        The result of :func:`counterfactual`.
    a, b : str
        The cities; the baseline gap is ``a - b`` (``a`` the leader, ``b`` the city that changed).

    Returns
    -------
    float
        ``(gap_baseline - gap_counterfactual) / gap_baseline`` from the replicate means: 1 when
        the gap closes completely, 0 when it is unchanged, above 1 when ``b`` overtakes ``a``,
        negative when it widens; NaN when the baseline gap is zero.
    """
    by_city = df.set_index("city")
    check_cities(by_city.index, (a, b), "city")
    g0 = by_city.at[a, "baseline_mean"] - by_city.at[b, "baseline_mean"]
    g1 = by_city.at[a, "counterfactual_mean"] - by_city.at[b, "counterfactual_mean"]
    if g0 == 0 or not math.isfinite(g0):
        return math.nan
    return float((g0 - g1) / g0)
