"""Parameter sweeps: many design points x replicates, resumable, on any executor.

:func:`sweep` varies parameters over a design (:mod:`innosim.experiments.design`: grid, Latin
hypercube or scrambled Sobol'), runs ``replicates`` seeds at every design point and returns one
row per run (and city) with the design point's values, the replicate, its seed and the outcomes
in the year asked for. Replicate ``r`` of every design point uses the same seed
(``innosim.replicate_seeds(seed, replicates)[r]``): common random numbers across the design, so
neighbouring points differ by their parameters, not by luck.

With ``out``, every finished run is written to a :class:`~innosim.store.sweeps.SweepStore` under
``out`` as soon as its batch finishes; a sweep started again with the same arguments (after a
crash or ``kill -9``) computes only the runs the store lacks, and ends with the same table as an
uninterrupted sweep. Results do not depend on the executor or the number of workers.

:func:`sweep_summary` reduces the table to one row per design point: mean, standard deviation and
90% interval over replicates, and the share of replicates in the *high state* (above a threshold
that splits all runs' values into two groups, Otsu's method), which shows where an outcome is
bistable: a mean between the two states with a large spread and a high-state share strictly
between 0 and 1 marks a tipping region.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.compare import Figure
from innosim.experiments.design import ParamRange, apply_point, make_design, parse_range
from innosim.experiments.ensemble import (
    DEFAULT_WINDOW,
    INTERVAL,
    METRICS,
    REPLICATES,
    SEED,
    check_metrics,
    check_year,
    prepare_scenario,
)
from innosim.experiments.executor import Executor, iter_batches
from innosim.model.runner import run, yearly
from innosim.outdir import prepare_out, write_atomic
from innosim.params.scenario import Scenario
from innosim.store.sweeps import SweepStore, run_key
from innosim.validation import validate_params

__all__ = [
    "SweepTask",
    "high_state_threshold",
    "run_outcomes",
    "sweep",
    "sweep_summary",
    "write_sweep",
]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SweepTask:
    """One run of a sweep: the design point's scenario (ending in the year read) and its seed."""

    scenario: Scenario
    seed: np.random.SeedSequence
    run_id: str


def run_outcomes(task: SweepTask) -> pd.DataFrame:
    """Run a task and return its final year's outcomes: one row per city, ``run_id``, ``city``
    and every metric of :data:`innosim.experiments.ensemble.METRICS` (float64). What a worker
    does."""
    sc = task.scenario
    res = run(sc, task.seed)
    window = int(sc.glob.get("volatility_window_years", DEFAULT_WINDOW))
    y = yearly(res.series, window)
    y = y.loc[y["year"] == sc.end_year, ["city", *METRICS]].reset_index(drop=True)
    out = pd.DataFrame({"run_id": task.run_id, "city": y["city"].astype(str)})
    for m in METRICS:
        out[m] = y[m].to_numpy(dtype=np.float64)
    return out


@validate_params({"replicates": REPLICATES, "seed": SEED})
def sweep(
    scenario: str | os.PathLike[str] | Scenario,
    params: Sequence[str | ParamRange],
    *,
    design: str = "grid",
    n: int | None = None,
    replicates: int = 1,
    metrics: Sequence[str] = ("unicorns",),
    year: int | None = None,
    city: str | None = None,
    seed: int | None = None,
    scale: float | None = None,
    out: str | os.PathLike[str] | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    figures: Mapping[str, Figure] | None = None,
) -> pd.DataFrame:
    """Run a parameter sweep.

    Parameters
    ----------
    scenario : str, path or Scenario
    params : sequence of str or ParamRange
        Ranges such as ``"failure_tolerance=0.3:0.9:5"`` (every city), ``"CITY.demand_consumer=
        0.5:2"`` (one city) or ``"spillover_elasticity=0.05,0.1,0.2"`` (listed values); see
        :func:`~innosim.experiments.design.parse_range`.
    design : {"grid", "lhs", "sobol"}
        See :func:`~innosim.experiments.design.make_design`.
    n : int, optional
        Grid: points per parameter without ``:N`` (default 5); LHS: points (default 20); Sobol':
        points, a power of two (default 16).
    replicates : int
        Runs per design point.
    metrics : sequence of str
        Outcomes reported (any of :data:`innosim.experiments.ensemble.METRICS`; the store keeps them
        all).
    year : int, optional
        Year the outcomes are read in (default: the scenario's last); runs stop there.
    city : str, optional
        Report this city only (one row per run); default: every city (one row per run and city).
    seed : int, optional
        Root seed of the replicates and of the LHS/Sobol' design (default: the scenario's).
    scale : float, optional
        Agent scale (see :func:`innosim.simulate`).
    out : str or path, optional
        Directory of a resumable store (finished runs are skipped) and of ``sweep.csv``,
        ``summary.csv``, ``sweep.json`` (and the ``figures``), written atomically.
    executor : Executor, optional
        Where runs execute (default: a local pool of ``workers`` processes).
    workers : int, optional
        Local worker processes when no ``executor`` is given (default: one per CPU).
    progress : callable, optional
        Called as ``progress(runs_done, n_runs)``; runs found in the store count as done.
    figures : mapping, optional
        With ``out``, figures drawn from :func:`sweep_summary`'s table (file name ->
        ``draw(summary, path)``; :func:`innosim.sweep` with ``figure=True`` draws ``phase.png``
        with the report layer's ``phase_figure``).

    Returns
    -------
    pandas.DataFrame
        Columns ``point`` (0-based design point), one column per range label, ``replicate``,
        ``seed`` (the root seed), ``run_id``, ``city`` and the metrics; sorted by point,
        replicate and the scenario's city order. ``attrs`` records the scenario, design, ranges,
        replicates, seed, year, city, metrics, executor, ``computed`` and ``reused`` run
        counts, ``wall_seconds`` and, with ``out``, ``store`` and ``files``.

    Raises
    ------
    InputError
        A bad range, design, number of points, replicates, metric, year, city, seed, executor
        option or output directory (all checked before anything runs).
    """
    t0 = time.perf_counter()
    sc = prepare_scenario(scenario, scale, None)
    ranges = [p if isinstance(p, ParamRange) else parse_range(p, sc) for p in params]
    reps = int(replicates)
    mets = check_metrics(metrics)
    if not mets:
        raise InputError(
            "no metric to report",
            file="command line",
            field="--metrics",
            expected="one or more of " + ", ".join(METRICS),
        )
    y = check_year(year, sc, sc.end_year)
    if city is not None and city not in sc.city_names:
        raise InputError(
            "unknown city",
            file="command line",
            field="--city",
            value=city,
            expected=f"a city of {sc.name}: " + ", ".join(sc.city_names),
        )
    root = sc.seed if seed is None else int(seed)
    ex = executor if executor is not None else Executor("local", workers=workers)
    points = make_design(ranges, design, n, seed=root)
    store = SweepStore(out).open() if out is not None else None

    base = sc.with_end_year(y)
    seeds = replicate_seeds(root, reps)
    plan_rows = []
    tasks: dict[str, SweepTask] = {}
    for k, values in enumerate(points.itertuples(index=False, name=None)):
        psc = apply_point(base, ranges, values)
        for r, ss in enumerate(seeds):
            rid = run_key(psc, ss)
            plan_rows.append((k, r, rid))
            tasks.setdefault(rid, SweepTask(psc, ss, rid))
    total = len(tasks)
    done_ids = store.finished(tasks) if store is not None else set()
    pending = [t for rid, t in tasks.items() if rid not in done_ids]
    done = total - len(pending)
    if progress:
        progress(done, total)
    frames: list[pd.DataFrame] = []
    for _, outs in iter_batches(pending, fn=run_outcomes, executor=ex):
        rows = pd.concat(outs, ignore_index=True)
        if store is not None:
            store.write_shard(rows)
        else:
            frames.append(rows)
        done += len(outs)
        if progress:
            progress(done, total)
    if store is not None:
        outcomes = store.rows(tasks)
    else:
        outcomes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    plan = pd.DataFrame(plan_rows, columns=["point", "replicate", "run_id"])
    plan = plan.join(points, on="point")
    plan.insert(plan.columns.get_loc("run_id"), "seed", root)
    cols = ["point", *points.columns, "replicate", "seed", "run_id"]
    plan = plan[cols]
    order = {c: i for i, c in enumerate(sc.city_names)}
    res = outcomes[["run_id", "city", *mets]].copy()
    for m in mets:
        res[m] = res[m].astype(np.float64)
    df = plan.merge(res, on="run_id", how="left", validate="one_to_many")
    df["_o"] = df["city"].map(order)
    df = df.sort_values(["point", "replicate", "_o"], kind="stable").drop(columns="_o")
    if city is not None:
        df = df[df["city"] == city]
    df = df.reset_index(drop=True)
    df.attrs.update(
        scenario=sc.name,
        design=design,
        n_points=len(points),
        params=[
            {"label": r.label, "name": r.name, "city": r.city, "low": r.low, "high": r.high}
            for r in ranges
        ],
        replicates=reps,
        seed=root,
        year=y,
        city=city,
        metrics=list(mets),
        runs=total,
        computed=len(pending),
        reused=total - len(pending),
        executor=ex.describe(),
        persons_per_agent=sc.persons_per_agent,
        wall_seconds=round(time.perf_counter() - t0, 3),
    )
    if out is not None:
        df.attrs["store"] = str(store.root) if store is not None else None
        df.attrs["files"] = [str(f) for f in write_sweep(df, out, figures=figures)]
    return df


def high_state_threshold(values: np.ndarray) -> float:
    """The value that best splits ``values`` into a low and a high group (Otsu's method: the
    split maximising the between-group variance); NaN with fewer than two distinct values."""
    x = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    if x.size < 2 or x[0] == x[-1]:
        return math.nan
    n = x.size
    c = np.cumsum(x)
    k = np.arange(1, n)  # split after k values
    m0 = c[:-1] / k
    m1 = (c[-1] - c[:-1]) / (n - k)
    between = k * (n - k) * (m0 - m1) ** 2
    between[x[1:] == x[:-1]] = -1.0  # split only between distinct values
    j = int(np.argmax(between))
    return float((x[j] + x[j + 1]) / 2)


def sweep_summary(df: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per design point (and city): replicate statistics of each metric.

    Returns
    -------
    pandas.DataFrame
        ``point``, the range columns, ``city``, ``replicates`` and for every metric
        ``<m>_mean``, ``<m>_sd`` (over replicates, ddof 1; NaN for one replicate), ``<m>_lo``,
        ``<m>_hi`` (5% and 95% quantiles: a 90% interval) and ``<m>_high`` (share of replicates
        above :func:`high_state_threshold` of all runs of that city). ``attrs`` holds the
        sweep's attrs plus ``thresholds`` ({metric: {city: value}}).
    """
    mets = list(metrics) if metrics is not None else list(df.attrs.get("metrics", []))
    if not mets:
        mets = [c for c in df.columns if c in METRICS]
    labels = [p["label"] for p in df.attrs.get("params", [])] or [
        c for c in df.columns if c not in ("point", "replicate", "seed", "run_id", "city", *mets)
    ]
    keys = ["point", *labels, "city"]
    thresholds: dict[str, dict[str, float]] = {}
    parts = []
    g = df.groupby(keys, sort=False, dropna=False)
    base = g.size().rename("replicates")
    parts.append(base)
    for m in mets:
        thr = {c: high_state_threshold(v.to_numpy()) for c, v in df.groupby("city")[m]}
        thresholds[m] = thr
        col = g[m]
        parts.append(col.mean().rename(f"{m}_mean"))
        parts.append(col.std(ddof=1).rename(f"{m}_sd"))
        parts.append(col.quantile(INTERVAL[0]).rename(f"{m}_lo"))
        parts.append(col.quantile(INTERVAL[1]).rename(f"{m}_hi"))
        t = df["city"].map(thr).astype(float)
        high = (df[m] > t).astype(float).where(t.notna())
        parts.append(high.groupby([df[k] for k in keys], sort=False).mean().rename(f"{m}_high"))
    out = pd.concat(parts, axis=1).reset_index()
    out.attrs.update(df.attrs)
    out.attrs["thresholds"] = thresholds
    return out


def _json_ready(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_ready(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_ready(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_sweep(
    df: pd.DataFrame,
    out: str | os.PathLike[str],
    *,
    figures: Mapping[str, Figure] | None = None,
) -> list[Path]:
    """Write ``sweep.csv`` (runs), ``summary.csv`` (per design point), ``sweep.json`` (what was
    run) and the ``figures`` (file name -> ``draw(summary, path)``, drawn from
    :func:`sweep_summary`'s table) into ``out``, each atomically. Returns the files."""
    d = prepare_out(out)
    summary = sweep_summary(df)
    files = []
    try:
        files.append(write_atomic(d / "sweep.csv", df.to_csv(index=False)))
        files.append(write_atomic(d / "summary.csv", summary.to_csv(index=False)))
        meta = {k: v for k, v in summary.attrs.items() if k != "files"}
        text = json.dumps(_json_ready(meta), indent=2, ensure_ascii=False) + "\n"
        files.append(write_atomic(d / "sweep.json", text))
    except OSError as exc:
        raise InputError(
            f"cannot write the sweep results ({exc.strerror})",
            file=str(d),
            field="--out",
            expected="a writable directory",
        ) from None
    for name, draw in (figures or {}).items():
        draw(summary, d / name)
        files.append(d / name)
    return files
