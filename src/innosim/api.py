"""The public Python API: run, store, reload and compare simulations.

Every ``innosim`` command is a thin layer over these functions; they take plain Python values,
return pandas DataFrames and raise :class:`~innosim.errors.InnosimError` subclasses for anything
a user can get wrong (the CLI turns those into one-paragraph messages and exit status 2).

>>> import innosim
>>> result = innosim.simulate("demo", seed=1, until=2005)          # doctest: +SKIP
>>> run_id, path = innosim.save_run(result, "results")             # doctest: +SKIP
>>> innosim.load_summary(run_id, "results")                        # doctest: +SKIP
>>> a, b = innosim.load_scenario("demo").city_names[:2]            # doctest: +SKIP
>>> cf = innosim.counterfactual("demo", city=b, like=a)            # doctest: +SKIP
>>> innosim.gap_closed(cf, a, b)                                   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
import pandas as pd

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError, StoreError
from innosim.model.runner import RunResult, run, yearly
from innosim.params.declarations import BY_NAME, PARAMS
from innosim.params.scenario import Scenario, load_scenario
from innosim.params.spec import Group
from innosim.schema import SERIES

if TYPE_CHECKING:
    from innosim.store import RunStore

__all__ = [
    "GROUPS",
    "METRICS",
    "PARAMS_COLUMNS",
    "SUMMARY_COLUMNS",
    "check_out_dir",
    "counterfactual",
    "ensemble",
    "ensemble_stats",
    "gap_closed",
    "load_summary",
    "params_table",
    "run_id_of",
    "save_run",
    "simulate",
]

SUMMARY_COLUMNS: tuple[str, ...] = (
    "city",
    "value_added",
    "firms",
    "entries",
    "exits",
    "unicorns",
    "chain_masters",
    "talent_net_inflow_rate",
    "graduates",
)
"""Columns of a per-city summary (the same as :meth:`innosim.RunResult.summary`)."""

PARAMS_COLUMNS: tuple[str, ...] = (
    "name",
    "scope",
    "city",
    "unit",
    "low",
    "high",
    "default",
    "value",
    "source",
    "group",
    "lever",
)
"""Columns of :func:`params_table`."""

GROUPS: tuple[str, ...] = get_args(Group)
"""Parameter groups a counterfactual can transplant (``ParamSpec.group``)."""

METRICS: tuple[str, ...] = (*(name for name, _, _ in SERIES), "va_growth", "growth_volatility")
"""Per-city yearly outcomes an ensemble can report (see :func:`innosim.yearly`)."""

INTERVAL = (0.05, 0.95)
"""Quantiles of the replicate distribution reported as a 90% interval."""

_DEFAULT_WINDOW = int(BY_NAME["volatility_window_years"].default)

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- single runs


def _as_scenario(scenario: str | os.PathLike[str] | Scenario) -> Scenario:
    """A resolved scenario from a Scenario, a scenario name or a path to a TOML file."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def _check_seed(seed: Any) -> int | np.random.SeedSequence | None:
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise InputError(
            "bad seed",
            file="command line",
            field="--seed",
            value=seed,
            expected="a whole number in [0, 2**63)",
        )
    return int(seed)


def _prepare(
    scenario: str | os.PathLike[str] | Scenario, scale: float | None, until: int | None
) -> Scenario:
    sc = _as_scenario(scenario)
    if until is not None:
        sc = sc.with_end_year(int(until) if isinstance(until, np.integer) else until)
    if scale is not None:
        sc = sc.with_scale(float(scale) if isinstance(scale, np.floating | np.integer) else scale)
    return sc


def simulate(
    scenario: str | os.PathLike[str] | Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    scale: float | None = None,
    until: int | None = None,
    check: bool = False,
    progress: Progress | None = None,
    disable: Iterable[str] = (),
) -> RunResult:
    """Run one simulation of a scenario.

    Parameters
    ----------
    scenario : str, path or Scenario
        A scenario name (``"demo"``), a path to a scenario TOML file, or a loaded
        :class:`~innosim.Scenario`.
    seed : int or numpy.random.SeedSequence, optional
        Root seed (default: the scenario's ``seed``). A ``SeedSequence`` (one of
        :func:`innosim.replicate_seeds`) is used as the root directly.
    scale : float, optional
        Agent scale: ``scale`` times as many person-agents as the scenario asks for
        (``persons_per_agent / scale``); outputs stay in real-equivalent units.
    until : int, optional
        Last simulated year (default: the scenario's ``end_year``).
    check : bool
        Check conservation laws and bounds after every tick (slower; raises
        :class:`~innosim.InvariantError` on a violation).
    progress : callable, optional
        Called as ``progress(ticks_done, n_ticks)`` after every tick.
    disable : iterable of str
        Mechanisms to switch off (names in :data:`innosim.model.NAMES`; ``accounting``
        cannot be). Switching off every mechanism outside
        :data:`innosim.model.CORE_MECHANISMS` gives the core model that the Mesa reference
        benchmark implements (``innosim run --core-only``).

    Returns
    -------
    RunResult
        ``result.meta`` additionally records ``scale`` (1.0 when not given) and ``until``;
        ``meta["disabled"]`` lists the mechanisms switched off.

    Raises
    ------
    ScenarioError
        The scenario cannot be found or is invalid, or ``scale`` / ``until`` is out of range.
    InputError
        The seed is not a whole number in [0, 2**63).
    """
    seed = _check_seed(seed)
    sc = _prepare(scenario, scale, until)
    result = run(sc, seed, check=check, progress=progress, disable=disable)
    result.meta["scale"] = 1.0 if scale is None else float(scale)
    result.meta["until"] = sc.end_year
    if isinstance(seed, np.random.SeedSequence):
        result.meta["spawn_key"] = [int(k) for k in seed.spawn_key]
    return result


def _innosim_version() -> str:
    try:
        return metadata.version("innosim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        from innosim import __version__

        return __version__


def run_id_of(result: RunResult) -> str:
    """The content-derived id of a run: first 16 hex digits of a SHA-256 over the scenario hash,
    seed (and replicate spawn key), innosim version, scale, final year, disabled mechanisms and
    the implementation (``meta["backend"]``: always "numba" since the NumPy twin was removed).

    The same scenario, seed and options give the same id, so re-running overwrites the run.
    """
    meta = result.meta
    material = {
        "scenario_hash": result.scenario.hash,
        "seed": int(result.seed),
        "spawn_key": meta.get("spawn_key", []),
        "version": _innosim_version(),
        "scale": float(meta.get("scale", 1.0)),
        "until": int(meta.get("until", result.scenario.end_year)),
        "disabled": list(meta.get("disabled", [])),
    }
    if meta.get("backend", "numpy") != "numpy":  # runs of the removed NumPy twin had none
        material["backend"] = meta["backend"]
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _store(out_dir: str | os.PathLike[str]) -> RunStore:
    """A RunStore at ``out_dir``, after checking the path can hold one (StoreError if not)."""
    from innosim.store import RunStore  # DuckDB and Arrow load only when a store is used

    root = Path(out_dir).expanduser().absolute()
    for path in (root, root / "runs"):
        if path.exists() and not path.is_dir():
            raise StoreError(
                "the results directory exists but is not a directory",
                file=str(path),
                field="--out",
                expected="a directory (or a path where one can be created)",
            )
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is not None and (
        not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK)
    ):
        raise StoreError(
            "the results directory is not writable",
            file=str(root),
            field="--out",
            expected=f"a writable directory ({existing} cannot be written to)",
        )
    return RunStore(root)


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Check before a long run that ``out_dir`` can hold a results store.

    Returns
    -------
    pathlib.Path
        The absolute store root.

    Raises
    ------
    StoreError
        The path is a file, or neither it nor its nearest existing parent is writable.
    """
    return _store(out_dir).root


def save_run(result: RunResult, out_dir: str | os.PathLike[str] = "results") -> tuple[str, Path]:
    """Write a run to the results store.

    Parameters
    ----------
    result : RunResult
        A finished run (:func:`simulate` or :func:`innosim.run`).
    out_dir : str or path
        Root of the results store (created if missing).

    Returns
    -------
    run_id : str
        16 hex digits derived from the scenario hash, seed, innosim version, scale and final year
        (:func:`run_id_of`); the same run saved twice replaces itself.
    path : pathlib.Path
        The run directory ``<out_dir>/runs/<run_id>``.

    Raises
    ------
    StoreError
        The directory is a file, cannot be created or cannot be written.
    """
    store = _store(out_dir)
    run_id = run_id_of(result)
    meta = dict(result.meta)
    meta.update(
        run_id=run_id,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        scale=float(meta.get("scale", 1.0)),
        volatility_window_years=int(
            result.scenario.glob.get("volatility_window_years", _DEFAULT_WINDOW)
        ),
        title=result.scenario.title,
    )
    store.write_run(meta, result.tables(), overwrite=True)
    return run_id, store.runs_dir / run_id


def _resolve_year(y: pd.DataFrame, year: int | None) -> int:
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


def _summary(y: pd.DataFrame, year: int | None, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Rows of one year of a yearly table, with the summary columns (plus ``extra``)."""
    cols = [*SUMMARY_COLUMNS, *(c for c in extra if c not in SUMMARY_COLUMNS)]
    return y.loc[y["year"] == _resolve_year(y, year), cols].reset_index(drop=True)


def load_summary(
    run_ref: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] = "results",
    year: int | None = None,
) -> pd.DataFrame:
    """Per-city summary of a stored run, recomputed from its ``series`` table.

    Parameters
    ----------
    run_ref : str or path
        A run id, a unique prefix of at least 4 characters, ``"latest"``, or a run directory.
    out_dir : str or path
        Root of the results store.
    year : int, optional
        Year to summarise (default: the last simulated year).

    Returns
    -------
    pandas.DataFrame
        One row per city with :data:`SUMMARY_COLUMNS` (as :meth:`RunResult.summary`).
        ``attrs`` holds ``run_id``, ``path``, ``scenario``, ``seed``, ``created``, ``year`` and
        ``units``.

    Raises
    ------
    StoreError
        The reference matches no run (or several), or the run cannot be read.
    InputError
        ``year`` lies outside the run.
    """
    from innosim.store import RunStore

    stored = RunStore(out_dir).load_run(run_ref)
    window = int(stored.meta.get("volatility_window_years", _DEFAULT_WINDOW))
    y = yearly(stored.table("series"), window)
    year = _resolve_year(y, year)
    out = _summary(y, year)
    out.attrs.update(
        run_id=stored.run_id,
        path=str(stored.path),
        scenario=stored.meta.get("scenario"),
        seed=stored.meta.get("seed"),
        created=stored.meta.get("created"),
        year=year,
        units=dict(stored.meta.get("units", {})),
    )
    return out


# --------------------------------------------------------------------------- parameters


def params_table(scenario: str | os.PathLike[str] | Scenario | None = None) -> pd.DataFrame:
    """Every declared parameter with unit, bounds, default, value and source.

    Parameters
    ----------
    scenario : str, path or Scenario, optional
        Without it: one row per parameter, ``value`` = ``default``. With it: one row per global
        parameter and one per (city parameter, city), ``value`` being the scenario's.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARAMS_COLUMNS`: ``name, scope, city`` ('' for global rows), ``unit, low,
        high, default, value``, ``source`` (the scenario's source where the scenario sets the
        value with one, else the declaration's), ``group``, ``lever`` (policy may change it).
    """
    sc = None if scenario is None else _as_scenario(scenario)
    rows: list[dict[str, Any]] = []

    def row(spec: Any, city: str, value: float, source: str) -> None:
        rows.append(
            {
                "name": spec.name,
                "scope": spec.scope,
                "city": city,
                "unit": spec.unit,
                "low": spec.low,
                "high": spec.high,
                "default": spec.default,
                "value": float(value),
                "source": source,
                "group": spec.group,
                "lever": spec.lever,
            }
        )

    for spec in PARAMS:
        if sc is None:
            row(spec, "", spec.default, spec.source)
        elif spec.scope == "global":
            row(spec, "", sc.glob[spec.name], sc.sources.get(spec.name) or spec.source)
        else:
            for i, name in enumerate(sc.city_names):
                src = sc.sources.get(f"{name}.{spec.name}") or spec.source
                row(spec, name, sc.city[spec.name][i], src)
    return pd.DataFrame(rows, columns=list(PARAMS_COLUMNS))


# --------------------------------------------------------------------------- ensembles


def _check_replicates(replicates: Any) -> int:
    if (
        isinstance(replicates, bool)
        or not isinstance(replicates, int | np.integer)
        or not 1 <= replicates <= 100_000
    ):
        raise InputError(
            "bad number of replicates",
            file="command line",
            field="--replicates",
            value=replicates,
            expected="a whole number in [1, 100000]",
        )
    return int(replicates)


def _check_metrics(metrics: Iterable[str]) -> list[str]:
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
    window = int(sc.glob.get("volatility_window_years", _DEFAULT_WINDOW))
    return _summary(yearly(run(sc, ss).series, window), year, metrics)


def _ensemble(
    sc: Scenario,
    seeds: Sequence[np.random.SeedSequence],
    year: int | None,
    metrics: Sequence[str],
    progress: Progress | None,
    done: int = 0,
    total: int | None = None,
    workers: int | None = 1,
) -> pd.DataFrame:
    from innosim.experiments.executor import map_runs

    total = len(seeds) if total is None else total
    tasks = [(sc, ss, year, tuple(metrics)) for ss in seeds]
    report = (lambda k, _n: progress(done + k, total)) if progress else None
    parts = map_runs(tasks, workers=workers, progress=report, fn=_summary_task)
    frames = []
    for i, part in enumerate(parts):
        part.insert(0, "replicate", i)
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


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
    n = _check_replicates(replicates)
    extra = _check_metrics(metrics)
    sc = _prepare(scenario, scale, until)
    root = _check_seed(seed)
    root = sc.seed if root is None else root
    out = _ensemble(sc, replicate_seeds(int(root), n), year, extra, progress, workers=workers)
    out.attrs.update(
        scenario=sc.name,
        seed=int(root),
        replicates=n,
        year=sc.end_year if year is None else int(year),
    )
    return out


def _check_cities(known: pd.Index, names: Iterable[str], field: str) -> None:
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
    parts = [_interval_stats(df, m, m) for m in metrics]
    out = pd.concat(parts, axis=1)
    if ratio is not None:
        a, b = ratio
        _check_cities(out.index, (a, b), "ratio")
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


def _interval_stats(values: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    g = values.groupby("city", sort=False)[column]
    return pd.DataFrame(
        {
            f"{prefix}_mean": g.mean(),
            f"{prefix}_lo": g.quantile(INTERVAL[0]),
            f"{prefix}_hi": g.quantile(INTERVAL[1]),
        }
    )


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
    sc = _prepare(scenario, scale, None)
    n = _check_replicates(replicates)
    (metric,) = _check_metrics([metric])
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
    if (
        isinstance(year, bool)
        or not isinstance(year, int | np.integer)
        or not sc.start_year <= year <= sc.end_year
    ):
        raise InputError(
            "year outside the scenario",
            file="command line",
            field="--year",
            value=year,
            expected=f"a year in [{sc.start_year}, {sc.end_year}]",
        )
    root = _check_seed(seed)
    root = sc.seed if root is None else int(root)

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
    b = _ensemble(base, seeds, int(year), [metric], progress, 0, 2 * n, workers)
    c = _ensemble(cf, seeds, int(year), [metric], progress, n, 2 * n, workers)
    paired = b[["city", "replicate"]].copy()
    paired["change"] = c[metric].to_numpy() - b[metric].to_numpy()
    out = pd.concat(
        [
            _interval_stats(b, metric, "baseline"),
            _interval_stats(c, metric, "counterfactual"),
            _interval_stats(paired, "change", "change"),
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
    _check_cities(by_city.index, (a, b), "city")
    g0 = by_city.at[a, "baseline_mean"] - by_city.at[b, "baseline_mean"]
    g1 = by_city.at[a, "counterfactual_mean"] - by_city.at[b, "counterfactual_mean"]
    if g0 == 0 or not math.isfinite(g0):
        return math.nan
    return float((g0 - g1) / g0)
