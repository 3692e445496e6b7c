"""Run many simulations in a local process pool and bring back small payloads.

A :class:`RunTask` names a scenario, the replicate's ``SeedSequence`` and the statistics to
compute on the run. The worker runs the simulation, computes the statistics from
:data:`innosim.stats.CATALOG` on its :class:`~innosim.RunResult` and returns only the floats
(plus, on request, two small arrays for figures), so nothing large crosses a process boundary.

Determinism: seeds travel with the tasks (never derived from a worker's id or the order in which
workers finish), and results come back in task order, so the output is identical whatever the
number of workers. Paired statistics run their counterfactual arm inside the same task with the
*same* seed (common random numbers).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from innosim.engine.run import RunResult, run
from innosim.errors import InputError
from innosim.params.scenario import Scenario

__all__ = ["RunPayload", "RunTask", "StatRequest", "check_workers", "execute", "map_runs"]

StatRequest = tuple[str, tuple[tuple[str, Any], ...]]
"""A statistic to compute: its catalog name and its arguments as sorted ``(name, value)`` pairs."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunTask:
    """One replicate of one scenario and what to compute on it.

    Attributes
    ----------
    scenario : Scenario
        The scenario simulated.
    seed : numpy.random.SeedSequence
        The replicate's root seed (one of :func:`innosim.replicate_seeds`).
    statistics : tuple of StatRequest
        Unpaired statistics, computed on the run.
    paired : tuple of (Scenario, StatRequest)
        Paired statistics with the scenario of their counterfactual arm; each distinct
        counterfactual scenario is run once, with ``seed``.
    optional : tuple of StatRequest
        Statistics for figures only: an error while computing one gives NaN.
    arrays : bool
        Also return the firm sizes of living firms and the multiples of realised investments.
    """

    scenario: Scenario
    seed: np.random.SeedSequence
    statistics: tuple[StatRequest, ...] = ()
    paired: tuple[tuple[Scenario, StatRequest], ...] = ()
    optional: tuple[StatRequest, ...] = ()
    arrays: bool = False


@dataclass
class RunPayload:
    """What a worker returns for a task: statistic values in the task's order, small arrays."""

    values: list[float]
    paired: list[float]
    optional: list[float]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def _stat(name: str, results: Sequence[RunResult], args: tuple[tuple[str, Any], ...]) -> float:
    from innosim.stats import CATALOG

    return float(CATALOG[name](*results, **dict(args)))


def _safe(name: str, result: RunResult, args: tuple[tuple[str, Any], ...]) -> float:
    try:
        return _stat(name, (result,), args)
    except Exception:  # figure data only: a statistic undefined on this run is drawn as missing
        return math.nan


def _arrays(result: RunResult) -> dict[str, np.ndarray]:
    firms = result.firms
    sizes = firms.loc[firms["alive"].astype(bool), "employment"].to_numpy(dtype=float)
    inv = result.investments
    done = inv[inv["realised"].astype(bool) & (inv["amount"] > 0)]
    multiples = (done["proceeds"] / done["amount"]).to_numpy(dtype=float)
    return {"firm_sizes": sizes[sizes > 0], "multiples": multiples}


def execute(task: RunTask) -> RunPayload:
    """Run one task in this process (what a pool worker does)."""
    base = run(task.scenario, task.seed)
    values = [_stat(name, (base,), args) for name, args in task.statistics]
    arms: dict[str, RunResult] = {}
    paired = []
    for cf, (name, args) in task.paired:
        if cf.hash not in arms:
            arms[cf.hash] = run(cf, task.seed)  # the same seed: common random numbers
        paired.append(_stat(name, (base, arms[cf.hash]), args))
    optional = [_safe(name, base, args) for name, args in task.optional]
    return RunPayload(values, paired, optional, _arrays(base) if task.arrays else {})


def check_workers(workers: Any) -> int:
    """The number of worker processes: ``None`` means ``os.cpu_count()``; else a whole number
    >= 1 (InputError otherwise)."""
    if workers is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InputError(
            "bad number of workers",
            file="command line",
            field="--workers",
            value=workers,
            expected="a whole number >= 1",
        )
    return int(workers)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def map_runs(
    tasks: Sequence[RunTask],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    fn: Callable[[Any], Any] = execute,
) -> list[Any]:
    """Run tasks, in a local process pool unless ``workers`` is 1, and return their payloads.

    Parameters
    ----------
    tasks : sequence of RunTask
        Picklable tasks; each carries its own seed.
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``; never more than there are tasks). With 1
        the tasks run one after another in this process.
    progress : callable, optional
        Called as ``progress(tasks_done, n_tasks)`` whenever a task finishes.
    fn : callable
        The function applied to each task (an importable, module-level function).

    Returns
    -------
    list
        ``fn(task)`` for every task, in the order of ``tasks`` (identical whatever ``workers``).
    """
    tasks = list(tasks)
    n = len(tasks)
    workers = min(check_workers(workers), max(n, 1))
    if workers == 1:
        out = []
        for i, task in enumerate(tasks):
            out.append(fn(task))
            if progress:
                progress(i + 1, n)
        return out
    results: list[Any] = [None] * n
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        try:
            for done, fut in enumerate(as_completed(futures), 1):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(done, n)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return results
