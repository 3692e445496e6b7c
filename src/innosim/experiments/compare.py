"""Baseline versus a policy: paired ensembles with common random numbers (``innosim compare``).

Both arms run the same replicate seeds (``innosim.replicate_seeds(seed, R)``), so replicate
``r`` of the policy arm differs from replicate ``r`` of the baseline only by the policy; the
paired differences ``policy_r - baseline_r`` cancel most of the run-to-run noise that two
independent ensembles would carry. Both arms stop at the year read (the run loop is causal).

Intervals (docs/compare_explain.md):

* ``diff_lo``, ``diff_hi``: a 90% Student-t interval for the *mean* paired difference,
  ``mean ± t(0.95, R-1) · sd / sqrt(R)`` (NaN with one replicate). This is the interval to read
  for "does the policy change the expected outcome, and by how much?".
* ``diff_q05``, ``diff_q95``: the 5% and 95% quantiles of the paired differences over replicates
  (the spread of the policy's effect from one history to another, as in
  :func:`innosim.counterfactual`).

This module also holds the execution helper :func:`run_grid` that
:mod:`innosim.experiments.explain` reuses; output files are written atomically by
:mod:`innosim.outdir`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.ensemble import METRICS, REPLICATES, SEED, as_scenario, check_year
from innosim.experiments.executor import Executor, RunTask, check_workers, map_runs
from innosim.experiments.policy import PolicyFile, apply_policy, load_policy
from innosim.model.runner import run, yearly
from innosim.outdir import check_out, write_outputs
from innosim.params.scenario import Scenario
from innosim.validation import validate_params

__all__ = [
    "COMPARE_COLUMNS",
    "DEFAULT_OUTCOMES",
    "Figure",
    "check_out",
    "compare",
    "json_file",
    "paired_stats",
    "prepare",
    "run_grid",
    "write_compare",
]

Progress = Callable[[int, int], None]
Figure = Callable[[pd.DataFrame, Path], object]
"""A figure drawn from a result table into a file: ``draw(table, path)`` (the report layer's
figure functions, passed in by the caller: experiments compute, the report layer draws)."""

DEFAULT_OUTCOMES: tuple[str, ...] = (
    "unicorns",
    "value_added",
    "firms",
    "entries",
    "exits",
    "employment",
    "chain_masters",
    "talent_net_inflow_rate",
    "graduates",
    "vc_invested",
    "fund_capital",
    "risk_appetite",
)
"""Outcomes :func:`compare` reports by default (every one per city, at the year read)."""

COMPARE_COLUMNS: tuple[str, ...] = (
    "city",
    "metric",
    "baseline_mean",
    "policy_mean",
    "diff_mean",
    "diff_lo",
    "diff_hi",
    "diff_q05",
    "diff_q95",
    "diff_se",
    "rel_change",
)
"""Columns of :func:`compare`."""

CONFIDENCE = 0.90
"""Coverage of the t intervals of means (``_lo``/``_hi``)."""


# --------------------------------------------------------------------------- execution


def outcomes_at_end(task: RunTask) -> np.ndarray:
    """Run one task and return every yearly outcome (:data:`innosim.experiments.ensemble.METRICS`)
    of its scenario's last year, as an array ``(n_cities, len(METRICS))`` in scenario city order.

    Module-level so that a process pool can pickle it (``map_runs(..., fn=outcomes_at_end)``).
    """
    sc = task.scenario
    res = run(sc, task.seed)
    y = yearly(res.series, int(sc.glob["volatility_window_years"]))
    last = y.loc[y["year"] == sc.end_year].set_index("city")
    return last.loc[list(sc.city_names), list(METRICS)].to_numpy(dtype=float)


def run_grid(
    scenarios: Sequence[Scenario],
    seeds: Sequence[np.random.SeedSequence],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> np.ndarray:
    """Run every scenario with every seed (common random numbers across scenarios).

    Scenarios with the same content (:attr:`Scenario.hash`) run once and share their results
    (a run is a deterministic function of scenario and seed).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(scenarios), len(seeds), n_cities, len(METRICS))``.
    """
    unique: dict[str, int] = {}
    index = []
    for sc in scenarios:
        index.append(unique.setdefault(sc.hash, len(unique)))
    first = {}
    for k, sc in zip(index, scenarios, strict=True):
        first.setdefault(k, sc)
    tasks = [RunTask(first[k], ss) for k in range(len(unique)) for ss in seeds]
    payloads = map_runs(
        tasks, workers=workers, progress=progress, fn=outcomes_at_end, executor=executor
    )
    n = len(seeds)
    arr = np.stack(payloads).reshape(len(unique), n, *payloads[0].shape)
    return arr[np.asarray(index)]


def mean_interval(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard error and half-width of the 90% t interval along ``axis`` (NaN for n=1)."""
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        nan = np.full_like(mean, np.nan, dtype=float)
        return mean, nan, nan
    se = x.std(axis=axis, ddof=1) / math.sqrt(n)
    half = student_t.ppf(0.5 + CONFIDENCE / 2, n - 1) * se
    return mean, se, half


def paired_stats(baseline: np.ndarray, policy: np.ndarray) -> dict[str, np.ndarray]:
    """Statistics of paired replicates (first axis = replicate): the means of both arms, the
    mean paired difference with its 90% t interval and standard error, the 5%/95% quantiles of
    the differences."""
    d = policy - baseline
    mean, se, half = mean_interval(d)
    return {
        "baseline_mean": baseline.mean(axis=0),
        "policy_mean": policy.mean(axis=0),
        "diff_mean": mean,
        "diff_lo": mean - half,
        "diff_hi": mean + half,
        "diff_q05": np.quantile(d, 0.05, axis=0),
        "diff_q95": np.quantile(d, 0.95, axis=0),
        "diff_se": se,
    }


@validate_params({"replicates": REPLICATES, "seed": SEED})
def prepare(
    scenario: str | os.PathLike[str] | Scenario,
    scale: float | None,
    replicates: Any,
    seed: Any,
    workers: Any,
) -> tuple[Scenario, int, int]:
    """Resolve the common arguments: (scaled scenario, replicates, root seed)."""
    sc = as_scenario(scenario)
    if scale is not None:
        sc = sc.with_scale(float(scale) if isinstance(scale, np.floating | np.integer) else scale)
    check_workers(workers)
    return sc, int(replicates), sc.seed if seed is None else int(seed)


def _check_outcomes(metrics: Iterable[str] | None) -> list[str]:
    out = list(DEFAULT_OUTCOMES) if metrics is None else [str(m) for m in metrics]
    bad = [m for m in out if m not in METRICS]
    if bad or not out:
        raise InputError(
            "unknown metric",
            file="command line",
            field="--metrics",
            value=",".join(bad),
            expected="a comma-separated list of " + ", ".join(METRICS),
        )
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- compare


@validate_params({"replicates": REPLICATES, "seed": SEED})
def compare(
    scenario: str | os.PathLike[str] | Scenario,
    policy: str | os.PathLike[str] | PolicyFile,
    *,
    replicates: int = 10,
    year: int | None = None,
    seed: int | None = None,
    scale: float | None = None,
    metrics: Iterable[str] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Compare a scenario's baseline with a policy (paired ensembles, common random numbers).

    Parameters
    ----------
    scenario : str, path or Scenario
    policy : str, path or PolicyFile
        A policy file (path, or the name of a file in ``policies/``; see
        :mod:`innosim.experiments.policy`) or a loaded :class:`PolicyFile`.
    replicates : int
        Runs per arm; replicate ``r`` of both arms uses ``replicate_seeds(seed, R)[r]``.
    year : int, optional
        Year at which outcomes are read (default: the scenario's ``end_year``); both arms stop
        there.
    seed : int, optional
        Root seed (default: the scenario's).
    scale : float, optional
        Agent scale (see :func:`innosim.simulate`).
    metrics : iterable of str, optional
        Outcomes reported (default :data:`DEFAULT_OUTCOMES`; any of
        :data:`innosim.experiments.ensemble.METRICS`).
    workers : int, optional
        Worker processes (default: one per CPU; 1 runs in this process).
    progress : callable, optional
        Called as ``progress(runs_done, runs_total)``.
    executor : Executor, optional
        Where the runs go (:class:`innosim.experiments.executor.Executor`: a local pool, a Dask
        LocalCluster or a Dask scheduler); overrides ``workers``. Results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per (city, metric), columns :data:`COMPARE_COLUMNS`: both arms' means, the mean
        paired difference ``diff_mean`` with its 90% t interval ``diff_lo``/``diff_hi`` and
        standard error ``diff_se``, the 5%/95% quantiles of the paired differences
        ``diff_q05``/``diff_q95``, and ``rel_change = diff_mean / |baseline_mean|`` (its sign is
        the change's; NaN when the baseline mean is 0). ``attrs``: ``scenario, policy`` (the policy
        file's content), ``year, replicates, seed, scale, runs, seconds``, ``inactive`` (timeline
        entries that start after the end of the year read, which therefore change nothing) and
        ``replicate_values`` (``{"baseline"|"policy": {metric: {city: [per replicate]}}}``).

    Raises
    ------
    InputError
        A bad policy file (unknown city or lever, out-of-bounds value, year outside the
        scenario's horizon; naming the file and field), or bad arguments.
    """
    sc, n, root = prepare(scenario, scale, replicates, seed, workers)
    pf = policy if isinstance(policy, PolicyFile) else load_policy(policy)
    mets = _check_outcomes(metrics)
    treated = apply_policy(sc, pf)  # checked against the full horizon
    y = check_year(year, sc, sc.end_year)
    t0 = time.perf_counter()
    base, pol = sc.with_end_year(y), treated.with_end_year(y)
    seeds = replicate_seeds(root, n)
    arr = run_grid([base, pol], seeds, workers=workers, progress=progress, executor=executor)
    cols = [METRICS.index(m) for m in mets]
    b, p = arr[0][..., cols], arr[1][..., cols]  # (R, cities, metrics)
    stats = paired_stats(b, p)
    rows = []
    for ci, city in enumerate(sc.city_names):
        for mi, m in enumerate(mets):
            row: dict[str, Any] = {"city": city, "metric": m}
            for k, v in stats.items():
                row[k] = float(v[ci, mi])
            bm = row["baseline_mean"]
            row["rel_change"] = row["diff_mean"] / abs(bm) if bm != 0 else math.nan
            rows.append(row)
    out = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    inactive = [e.model_dump() for e in pf.policy if e.year >= y + 1]
    inactive += [dict(s) for s in pf.sets if s["year"] is not None and s["year"] >= y + 1]
    out.attrs.update(
        scenario=sc.name,
        policy=pf.to_dict(),
        year=y,
        replicates=n,
        seed=root,
        scale=1.0 if scale is None else float(scale),
        runs=n * len({base.hash, pol.hash}),
        seconds=round(time.perf_counter() - t0, 2),
        inactive=inactive,
        interval="90% t interval of the mean paired difference (diff_lo, diff_hi); 5%/95% "
        "quantiles of paired differences over replicates (diff_q05, diff_q95)",
        replicate_values={
            arm: {
                m: {city: a[:, ci, mi].tolist() for ci, city in enumerate(sc.city_names)}
                for mi, m in enumerate(mets)
            }
            for arm, a in (("baseline", b), ("policy", p))
        },
    )
    return out


# --------------------------------------------------------------------------- output files


def json_file(path: Path, df: pd.DataFrame, key: str) -> None:
    """Write ``df``'s ``attrs`` and its rows (under ``key``) as indented JSON to ``path``."""
    payload = {**df.attrs, key: json.loads(df.to_json(orient="records"))}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def write_compare(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    figures: Mapping[str, Figure] | None = None,
) -> list[Path]:
    """Write ``compare.csv`` and ``compare.json`` (the table with the run's attributes and
    per-replicate values) into ``out_dir``, all atomically, with the ``figures`` drawn from the
    table (file name -> ``draw(df, path)``; the report layer's ``write_compare`` adds
    ``compare.png``)."""
    return write_outputs(
        out_dir,
        {
            "compare.csv": lambda p: df.to_csv(p, index=False),
            "compare.json": lambda p: json_file(p, df, "rows"),
            **{name: partial(draw, df) for name, draw in (figures or {}).items()},
        },
    )
