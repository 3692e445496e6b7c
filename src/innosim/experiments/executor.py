"""Run many simulations on a local process pool or a Dask cluster and bring back small payloads.

A :class:`RunTask` names a scenario, the replicate's ``SeedSequence`` and the statistics to
compute on the run. The worker runs the simulation, computes the statistics from
:data:`innosim.stats.CATALOG` on its :class:`~innosim.RunResult` and returns only the floats
(plus, on request, two small arrays for figures), so nothing large crosses a process boundary.

Where the tasks run is an :class:`Executor`: a local process pool (the default), a Dask
``distributed.LocalCluster`` started for the call (``Executor(kind="dask", dask_local=N)``) or an
existing Dask cluster (``Executor(kind="dask", scheduler="tcp://HOST:PORT")``). Tasks travel in
batches (several runs per pool or Dask task when there are many) so per-task overhead stays small;
:func:`iter_batches` yields each batch's results as it finishes (what a resumable sweep writes to
its store), :func:`map_runs` gathers them in task order.

Determinism: seeds travel with the tasks (never derived from a worker's id or the order in which
workers finish), and results come back in task order, so the output is identical whatever the
executor and the number of workers. Paired statistics run their counterfactual arm inside the
same task with the *same* seed (common random numbers).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from numbers import Integral
from typing import Any, Literal

import numpy as np

from innosim.errors import InputError
from innosim.model.runner import RunResult, run
from innosim.params.scenario import Scenario
from innosim.stats import CATALOG
from innosim.validation import Arg, Hidden, Interval, check_value

__all__ = [
    "Executor",
    "RunPayload",
    "RunTask",
    "StatRequest",
    "apply_batch",
    "batch_size",
    "check_workers",
    "execute",
    "iter_batches",
    "map_runs",
]

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


WORKERS = Arg(
    [Hidden(None), Interval(Integral, 1, None)], field="--workers", problem="bad number of workers"
)
"""Constraint of a ``workers`` argument (``None``: one per CPU)."""


def check_workers(workers: Any, field: str = "--workers") -> int:
    """The number of worker processes: ``None`` means ``os.cpu_count()``; else a whole number
    >= 1 (InputError otherwise)."""
    if workers is None:
        return max(1, os.cpu_count() or 1)
    return int(check_value("workers", workers, replace(WORKERS, field=field)))


_ADDRESS_RE = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


@dataclass(frozen=True)
class Executor:
    """Where and how tasks run.

    Attributes
    ----------
    kind : {"local", "dask"}
        ``local``: a process pool on this machine (one process when ``workers`` is 1). ``dask``:
        Dask distributed, on the cluster at ``scheduler`` or on a ``LocalCluster`` of
        ``dask_local`` worker processes started for the call and closed after it.
    workers : int, optional
        Local worker processes (default: ``os.cpu_count()``); local executor only.
    scheduler : str, optional
        Address of a running Dask scheduler, ``tcp://HOST:PORT`` (or ``tls://``). Its workers
        must have the same innosim installed; they need no shared filesystem (results come back
        to this process, which writes the store).
    dask_local : int, optional
        Start a ``distributed.LocalCluster`` with this many worker processes (one thread each,
        no dashboard).
    batch : int, optional
        Runs per pool or Dask task (default: :func:`batch_size`).
    timeout : float
        Seconds to wait for a scheduler (and for a local cluster's workers) before giving up.

    Results never depend on the executor: see the module docstring.
    """

    kind: Literal["local", "dask"] = "local"
    workers: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None
    batch: int | None = None
    timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.kind not in ("local", "dask"):
            raise InputError(
                "unknown executor",
                field="executor.kind",
                value=self.kind,
                expected="'local' or 'dask'",
            )
        if self.kind == "local":
            if self.scheduler is not None or self.dask_local is not None:
                raise InputError(
                    "a local executor takes no Dask scheduler or local cluster",
                    field="executor",
                    value=self.scheduler or self.dask_local,
                    expected="kind='dask' for --scheduler or --dask-local",
                )
            check_workers(self.workers)
        else:
            if self.workers is not None:
                raise InputError(
                    "--workers applies to the local process pool only",
                    file="command line",
                    field="--workers",
                    value=self.workers,
                    expected="--workers without --scheduler and --dask-local",
                )
            if (self.scheduler is None) == (self.dask_local is None):
                raise InputError(
                    "a Dask executor needs exactly one of a scheduler address and a local "
                    "cluster size",
                    file="command line",
                    field="--scheduler" if self.scheduler is not None else "--dask-local",
                    value=self.scheduler or self.dask_local,
                    expected="either --scheduler tcp://HOST:PORT or --dask-local N",
                )
            if self.scheduler is not None:
                check_address(self.scheduler)
            else:
                check_workers(self.dask_local, "--dask-local")
        if self.batch is not None:
            check_workers(self.batch, "batch")
        if not (isinstance(self.timeout, int | float) and self.timeout > 0):
            raise InputError(
                "bad timeout", field="executor.timeout", value=self.timeout, expected="seconds > 0"
            )

    @classmethod
    def from_options(
        cls,
        *,
        workers: int | None = None,
        scheduler: str | None = None,
        dask_local: int | None = None,
        batch: int | None = None,
    ) -> Executor:
        """The executor the command-line options ``--workers``, ``--scheduler`` and
        ``--dask-local`` ask for (InputError when they conflict or are malformed)."""
        given = [
            name
            for name, v in (
                ("--workers", workers),
                ("--scheduler", scheduler),
                ("--dask-local", dask_local),
            )
            if v is not None
        ]
        if len(given) > 1:
            raise InputError(
                "conflicting executor options",
                file="command line",
                field=" and ".join(given),
                value=[v for v in (workers, scheduler, dask_local) if v is not None],
                expected="at most one of --workers, --scheduler and --dask-local",
            )
        if scheduler is not None or dask_local is not None:
            return cls("dask", scheduler=scheduler, dask_local=dask_local, batch=batch)
        return cls("local", workers=workers, batch=batch)

    @property
    def slots(self) -> int:
        """Tasks that can run at once (for a remote cluster: unknown until connected, 1)."""
        if self.kind == "local":
            return check_workers(self.workers)
        return int(self.dask_local) if self.dask_local is not None else 1

    def describe(self) -> str:
        """A short human description (``"2 local processes"``, ``"Dask at tcp://..."``)."""
        if self.kind == "local":
            n = check_workers(self.workers)
            return f"{n} local process{'es' if n != 1 else ''}"
        if self.dask_local is not None:
            plural = "s" if self.dask_local != 1 else ""
            return f"Dask LocalCluster of {self.dask_local} worker{plural}"
        return f"Dask scheduler {self.scheduler}"


def check_address(address: Any) -> str:
    """A Dask scheduler address ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` (InputError else)."""
    m = _ADDRESS_RE.match(address) if isinstance(address, str) else None
    if m is None or not 0 < int(m.group(3)) < 65536:
        raise InputError(
            "bad Dask scheduler address",
            file="command line",
            field="--scheduler",
            value=address,
            expected="tcp://HOST:PORT (or tls://HOST:PORT) with a port in [1, 65535], "
            "e.g. tcp://127.0.0.1:8786",
        )
    return address


def batch_size(n_tasks: int, slots: int) -> int:
    """Runs per task: about four tasks per worker slot, at most 16 runs per task, so a pool or
    cluster stays busy to the end while per-task overhead is spread over several runs."""
    if n_tasks <= 0:
        return 1
    return max(1, min(16, n_tasks // (4 * max(slots, 1))))


def apply_batch(fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
    """``[fn(t) for t in tasks]`` (what one pool or Dask task does)."""
    return [fn(t) for t in tasks]


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


Batch = tuple[list[int], list[Any]]


def iter_batches(
    tasks: Sequence[Any],
    *,
    fn: Callable[[Any], Any] = execute,
    executor: Executor | None = None,
    workers: int | None = None,
) -> Iterator[Batch]:
    """Run tasks in batches and yield each batch as it finishes.

    Parameters
    ----------
    tasks : sequence
        Picklable tasks; each carries its own seed.
    fn : callable
        An importable, module-level function applied to each task.
    executor : Executor, optional
        Where to run (default: ``Executor("local", workers=workers)``).
    workers : int, optional
        Local worker processes when no ``executor`` is given.

    Yields
    ------
    (indices, results)
        The positions of a batch's tasks in ``tasks`` (consecutive, ascending) and ``fn`` of
        each, in completion order of the batches. Every task appears in exactly one batch.

    Raises
    ------
    InputError
        Bad executor options, an unreachable Dask scheduler or a local cluster that cannot start.
    """
    tasks = list(tasks)
    ex = executor if executor is not None else Executor("local", workers=workers)
    n = len(tasks)
    if n == 0:
        return
    if ex.kind == "local":
        slots = min(check_workers(ex.workers), n)
    else:
        slots = ex.slots
    size = ex.batch or batch_size(n, slots)
    chunks = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    if ex.kind == "dask":
        yield from _iter_dask(tasks, chunks, fn, ex)
        return
    if slots == 1:
        for idx in chunks:
            yield idx, apply_batch(fn, [tasks[i] for i in idx])
        return
    pool = ProcessPoolExecutor(max_workers=min(slots, len(chunks)), mp_context=_context())
    try:
        futures = {pool.submit(apply_batch, fn, [tasks[i] for i in idx]): idx for idx in chunks}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _iter_dask(
    tasks: list[Any], chunks: list[list[int]], fn: Callable[[Any], Any], ex: Executor
) -> Iterator[Batch]:
    try:
        import distributed  # the distributed extra
    except ImportError:  # pragma: no cover - dask is a dev and extras dependency
        raise InputError(
            "Dask distributed is not installed",
            field="--scheduler" if ex.scheduler else "--dask-local",
            expected="pip install 'dask[distributed]' (or use --workers)",
        ) from None

    cluster = None
    client = None
    try:
        if ex.scheduler is not None:
            try:
                client = distributed.Client(
                    ex.scheduler, timeout=f"{ex.timeout}s", set_as_default=False
                )
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(
                    f"cannot reach the Dask scheduler ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:200]})",
                    file="command line",
                    field="--scheduler",
                    value=ex.scheduler,
                    expected="the address of a running scheduler (start one with "
                    "'dask scheduler' and workers with 'dask worker ADDRESS'), or "
                    "--dask-local N / --workers N",
                ) from None
        else:
            try:
                cluster = distributed.LocalCluster(
                    n_workers=int(ex.dask_local or 1),
                    processes=True,
                    threads_per_worker=1,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                client = distributed.Client(cluster, set_as_default=False)
            except (OSError, TimeoutError, RuntimeError) as exc:
                raise InputError(
                    f"cannot start a Dask LocalCluster ({type(exc).__name__}: {exc})",
                    file="command line",
                    field="--dask-local",
                    value=ex.dask_local,
                    expected="a cluster size this machine can start, or --workers N",
                ) from None
        token = uuid.uuid4().hex[:12]
        futures = {}
        for k, idx in enumerate(chunks):
            fut = client.submit(
                apply_batch, fn, [tasks[i] for i in idx], key=f"innosim-{token}-{k}", pure=False
            )
            futures[fut.key] = (fut, idx)
        try:
            pending = [f for f, _ in futures.values()]
            for fut in distributed.as_completed(pending, loop=client.loop):
                yield futures[fut.key][1], fut.result()
        finally:
            client.cancel([f for f, _ in futures.values()])
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def map_runs(
    tasks: Sequence[Any],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    fn: Callable[[Any], Any] = execute,
    executor: Executor | None = None,
) -> list[Any]:
    """Run tasks, in a local process pool unless ``workers`` is 1, and return their payloads.

    Parameters
    ----------
    tasks : sequence of RunTask
        Picklable tasks; each carries its own seed.
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``; never more than there are tasks). With 1
        the tasks run one after another in this process. Ignored when ``executor`` is given.
    progress : callable, optional
        Called as ``progress(tasks_done, n_tasks)`` whenever a batch of tasks finishes.
    fn : callable
        The function applied to each task (an importable, module-level function).
    executor : Executor, optional
        Where to run (a local pool, a Dask LocalCluster or a Dask scheduler).

    Returns
    -------
    list
        ``fn(task)`` for every task, in the order of ``tasks`` (identical whatever the executor
        and the number of workers).
    """
    tasks = list(tasks)
    n = len(tasks)
    results: list[Any] = [None] * n
    done = 0
    for idx, out in iter_batches(tasks, fn=fn, executor=executor, workers=workers):
        for i, r in zip(idx, out, strict=True):
            results[i] = r
        done += len(idx)
        if progress:
            progress(done, n)
    return results
