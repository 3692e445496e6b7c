"""Calibrate free parameters to the statistics of a targets file (``innosim calibrate``).

Two methods (``docs/sensitivity_calibration.md``):

* ``abc`` — approximate Bayesian computation by sequential Monte Carlo (ABC-SMC, pyabc): a
  population of weighted particles approximates the posterior of the free parameters under
  uniform priors. Each particle is simulated ``R`` times with *fresh* replicate seeds (so the
  posterior includes the model's own noise); its summary is the mean of every target's
  statistic over the replicates, its distance :func:`distance`. The tolerance falls from
  generation to generation (the median distance of the last population) until the budget of
  simulations is spent. Reported per parameter: posterior mean, median and 90% credible interval
  (weighted 5% and 95% quantiles of the last population).
* ``smm`` — simulated method of moments (optuna, TPE sampler): minimises the same distance with
  common replicate seeds for every candidate; candidates are asked in batches and the batch runs
  in the process pool. The objective ``J`` is the sum of squared z-scores, reading each target's
  ``[low, high]`` as a 90% interval (``J = k * (1.645 * distance)**2`` for ``k`` targets).
  Reported: the best point and an approximate 90% interval per parameter around it from the
  curvature of a quadratic fitted to ``J`` near the minimum (:func:`_quadratic_interval`); when
  that fit is not convex, the profile range instead: the range of the parameter over the candidates
  whose ``J`` lies within ``chi2_{0.90}(p)`` of the minimum (``p`` free parameters).

Distance: ``sqrt(mean_k ((s_k - t_k) / h_k)**2)`` with ``t_k`` the target's numeric ``value``
(the centre of ``[low, high]`` when the value is missing or a text) and ``h_k = (high - low) /
2`` (``|t_k| / 10`` when the range is a point, 1 when that is zero too); a statistic that is NaN
on the runs (e.g. a ratio whose denominator is zero) counts as :data:`NAN_PENALTY` (10)
half-ranges.

Determinism: pyabc's priors and transitions draw from numpy's global generator and its
multi-core samplers reseed it from the operating system. Here the prior and the perturbation
kernel (:mod:`innosim.experiments.pyabc_priors`) draw from a generator that is reset for every slot
of a generation from ``(seed, generation, slot)``; a slot proposes and simulates until it accepts a
particle, and the slots of a generation run through :func:`map_runs`. The particles, and hence the
posterior, are therefore reproducible for a given seed (and innosim and pyabc versions) whatever
the number of workers, without touching numpy's global state. Each generation starts a process
pool whose workers import pyabc (seconds); with a fast model, ``workers=1`` runs the slots in
this process. SMM is deterministic for a given seed and batch size whatever the number of
workers.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.ensemble import REPLICATES, SEED, prepare_scenario
from innosim.experiments.executor import (
    RunTask,
    StatRequest,
    check_workers,
    execute,
    map_runs,
)
from innosim.experiments.sensitivity import Factor, apply_factors, parse_factors
from innosim.experiments.validate import (
    Target,
    Targets,
    check_target,
    load_targets,
)
from innosim.outdir import json_value as _json_value
from innosim.outdir import prepare_out, write_atomic
from innosim.params.scenario import Scenario
from innosim.stats import CATALOG
from innosim.validation import Arg, Interval, StrOptions, validate_params

__all__ = [
    "METHODS",
    "RESULT_COLUMNS",
    "TargetSet",
    "calibrate",
    "distance",
    "target_set",
    "weighted_quantile",
    "write_calibration",
]

METHODS: tuple[str, ...] = ("abc", "smm")
"""Calibration methods."""

RESULT_COLUMNS: tuple[str, ...] = (
    "parameter",
    "prior_low",
    "prior_high",
    "scenario_value",
    "estimate",
    "mean",
    "median",
    "lo",
    "hi",
)
"""Columns of the table :func:`calibrate` returns: ``estimate`` is the posterior mean (abc) or
the best point (smm); ``lo``/``hi`` the 90% credible (abc) or profile (smm) interval."""

INTERVAL = (0.05, 0.5, 0.95)

Z90 = 1.6448536269514722
"""Standard normal 95% quantile: a target's ``[low, high]`` read as a 90% interval gives its
standard error ``(high - low) / 2 / Z90`` (SMM profile intervals)."""

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class TargetSet:
    """The statistics a calibration computes on every run and how each target reads them.

    Attributes
    ----------
    requests : tuple of StatRequest
        Unpaired statistics computed on each run.
    paired : tuple of StatRequest
        Paired statistics (their counterfactual arm is derived from the run's scenario).
    reads : tuple
        Per target: ``("values", i)``, ``("ratio", i_num, i_den)`` or ``("paired", i)``.
    centre, half : ndarray
        Target values ``t_k`` and scales ``h_k`` of :func:`distance`.
    labels : tuple of str
    """

    requests: tuple[StatRequest, ...]
    paired: tuple[StatRequest, ...]
    reads: tuple[tuple[Any, ...], ...]
    centre: np.ndarray
    half: np.ndarray
    labels: tuple[str, ...]


def _req(name: str, args: dict[str, Any]) -> StatRequest:
    return (name, tuple(sorted(args.items())))


def _centre_half(t: Target) -> tuple[float, float]:
    centre = float(t.value) if isinstance(t.value, int | float) else (t.low + t.high) / 2
    half = (t.high - t.low) / 2
    if half <= 0:
        half = abs(centre) / 10 or 1.0
    return centre, half


def target_set(targets: Targets, sc: Scenario) -> TargetSet:
    """Check the targets against the scenario and plan the statistics to compute.

    Raises
    ------
    InputError
        A target naming another scenario, or arguments the scenario does not accept (e.g. an
        unknown city).
    """
    file = str(targets.path) if targets.path else "<targets>"
    requests: list[StatRequest] = []
    paired: list[StatRequest] = []
    reads: list[tuple[Any, ...]] = []
    centres, halves, labels = [], [], []

    def index(r: StatRequest) -> int:
        if r not in requests:
            requests.append(r)
        return requests.index(r)

    for i, t in enumerate(targets.targets):
        if t.scenario is not None and t.scenario not in (sc.name, sc.path):
            raise InputError(
                "the target names another scenario",
                file=file,
                field=f"target[{i}].scenario",
                value=t.scenario,
                expected=f"no scenario (every target is computed on {sc.name})",
            )
        args = check_target(t, i, file, cities=sc.city_names)
        stat = CATALOG[t.statistic]
        req = _req(t.statistic, args)
        if stat.paired:
            paired.append(req)
            reads.append(("paired", len(paired) - 1))
        elif stat.ratio_parts is not None:
            (n1, a1), (n2, a2) = stat.ratio_parts(**args)
            reads.append(("ratio", index(_req(n1, a1)), index(_req(n2, a2))))
        else:
            reads.append(("values", index(req)))
        c, h = _centre_half(t)
        centres.append(c)
        halves.append(h)
        shown = ", ".join(f"{k}={v}" for k, v in args.items() if v is not None)
        labels.append(f"{t.statistic}({shown})")
    return TargetSet(
        tuple(requests),
        tuple(paired),
        tuple(reads),
        np.array(centres, dtype=float),
        np.array(halves, dtype=float),
        tuple(labels),
    )


def _tasks(sc: Scenario, ts: TargetSet, seeds: Sequence[np.random.SeedSequence]) -> list[RunTask]:
    paired = tuple(
        (CATALOG[name].counterfactual(sc, **dict(args)), (name, args)) for name, args in ts.paired
    )
    return [RunTask(sc, ss, ts.requests, paired) for ss in seeds]


def _summary(ts: TargetSet, payloads: Sequence[Any]) -> np.ndarray:
    """Per target, the ensemble value over the replicates (mean; ratio of means for ratios)."""
    values = np.array([p.values for p in payloads], dtype=float).reshape(len(payloads), -1)
    pairs = np.array([p.paired for p in payloads], dtype=float).reshape(len(payloads), -1)
    out = []
    with np.errstate(all="ignore"):
        for read in ts.reads:
            if read[0] == "values":
                out.append(float(np.mean(values[:, read[1]])))
            elif read[0] == "paired":
                out.append(float(np.mean(pairs[:, read[1]])))
            else:
                den = float(np.mean(values[:, read[2]]))
                num = float(np.mean(values[:, read[1]]))
                out.append(num / den if den != 0 else math.nan)
    return np.array(out, dtype=float)


NAN_PENALTY = 10.0
"""Deviation, in half-ranges, counted for a statistic that is undefined (NaN) on the runs."""


def distance(simulated: np.ndarray, centre: np.ndarray, half: np.ndarray) -> float:
    """Normalised RMS distance ``sqrt(mean(((s - t) / h)**2))``; a NaN ``s`` (a statistic
    undefined on the runs, e.g. a ratio whose denominator is zero) counts as
    :data:`NAN_PENALTY` half-ranges from its target."""
    s = np.asarray(simulated, dtype=float)
    z = np.abs((s - centre) / half)
    z = np.where(np.isfinite(z), z, NAN_PENALTY)
    return float(np.sqrt(np.mean(z**2)))


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoint rule)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    keep = w > 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, x)


# --------------------------------------------------------------------------- inputs


BUDGET = Arg(
    [Interval(Integral, 10, 10_000_000)],
    field="--budget",
    problem="bad budget",
    expected="a whole number of simulated parameter points in [10, 10000000]",
)
"""Constraint of ``budget`` (simulated parameter points)."""

METHOD = Arg([StrOptions(METHODS)], field="--method", problem="unknown calibration method")
"""Constraint of ``method``."""


# --------------------------------------------------------------------------- ABC (pyabc)


class _Streams:
    """The random streams of one ABC slot: a generator for the prior and the perturbation
    kernel, and the root of the replicate seeds of the simulations. Reset for every slot by
    :func:`_abc_slot`, so a slot's draws depend only on (seed, generation, slot)."""

    def __init__(self) -> None:
        self.gen = np.random.default_rng(0)
        self.seeds = np.random.SeedSequence(0)

    def reset(self, entropy: int, t: int, j: int) -> None:
        ss = np.random.SeedSequence(entropy, spawn_key=(t, j))
        a, b = ss.spawn(2)
        self.gen = np.random.default_rng(a)
        self.seeds = b


def _abc_slot(slot: tuple[bytes, int, int, int]) -> tuple[Any, int]:
    """One ABC slot (what a pool worker does): reset the streams for (seed, generation, slot),
    then propose and simulate until a particle is accepted. Returns the sample and the number
    of simulations."""
    blob, entropy, t, j = slot
    simulate_one, streams, factory = pickle.loads(blob)
    streams.reset(entropy, t, j)
    sample = factory()
    n = 0
    while True:
        particle = simulate_one()
        n += 1
        sample.append(particle)
        if particle.accepted:
            return sample, n


def _sampler(
    streams: _Streams,
    entropy: int,
    workers: int | None,
    budget: int,
    progress: Progress | None,
) -> Any:
    """A pyabc sampler that runs the ``n`` slots of a generation through :func:`map_runs`;
    slot ``j`` of generation ``t`` draws from streams seeded by ``(entropy, t, j)``, so the
    population does not depend on the number of workers or the order in which they finish.
    ``progress(simulations, budget)`` is called as slots finish (a slot's accepted particle
    counts as one simulation until the generation's true count is known)."""
    import cloudpickle  # the calibrate extra (pyabc) brings it
    from pyabc.sampler import Sampler  # the calibrate extra

    class SlotSampler(Sampler):
        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Callable[[], Any],
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            blob = cloudpickle.dumps((simulate_one, streams, self.sample_factory))
            slots = [(blob, entropy, t + 1, j) for j in range(n)]  # t = -1: calibration sample
            before = done[0]

            def tick(d: int, _n: int) -> None:
                if progress:
                    progress(min(before + d, budget), budget)

            results = map_runs(slots, workers=workers, progress=tick, fn=_abc_slot)
            sample = self._create_empty_sample()
            total = 0
            for part, k in results:
                sample += part
                total += k
            self.nr_evaluations_ = total
            done[0] += total
            if progress:
                progress(min(done[0], budget), budget)
            return sample

    done = [0]
    return SlotSampler()


def _abc(
    base: Scenario,
    factors: Sequence[Factor],
    ts: TargetSet,
    *,
    budget: int,
    replicates: int,
    root: int,
    population: int,
    db_dir: Path,
    workers: int | None,
    progress: Progress | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyabc  # the calibrate extra

    from innosim.experiments.pyabc_priors import SeededKernel, SeededUniform  # imports pyabc

    streams = _Streams()
    keys = [f"p{i}" for i in range(len(factors))]
    prior = pyabc.Distribution(
        **{k: SeededUniform(f.low, f.high, streams) for k, f in zip(keys, factors, strict=True)}
    )
    centre, half = ts.centre, ts.half

    def model(par: Any) -> dict[str, Any]:
        x = [float(par[k]) for k in keys]
        sc = apply_factors(base, factors, x)
        seeds = streams.seeds.spawn(replicates)  # fresh seeds for every simulated point
        payloads = [execute(t) for t in _tasks(sc, ts, seeds)]
        return {"s": _summary(ts, payloads)}

    def dist(x: dict[str, Any], x0: dict[str, Any]) -> float:
        return distance(x["s"], centre, half)

    logger = logging.getLogger("ABC")
    level = logger.level
    logger.setLevel(logging.WARNING)
    sampler = _sampler(streams, root, workers, budget, progress)
    try:
        abc = pyabc.ABCSMC(
            model,
            prior,
            dist,
            population_size=population,
            transitions=SeededKernel(streams),
            sampler=sampler,
        )
        db = db_dir / "calibration.db"
        db.unlink(missing_ok=True)
        abc.new("sqlite:///" + str(db), {"s": ts.centre})
        history = abc.run(minimum_epsilon=0.0, max_total_nr_simulations=budget)
    finally:
        logger.setLevel(level)
    particles, w = history.get_distribution(m=0, t=history.max_t)
    w = np.asarray(w, dtype=float)
    w = w / w.sum()
    pops = history.get_all_populations()
    eps = pops[pops["t"] >= 0]["epsilon"].to_numpy(dtype=float)
    post = pd.DataFrame(
        {f.name: particles[k].to_numpy(float) for k, f in zip(keys, factors, strict=True)}
    )
    post["weight"] = w
    info = {
        "generations": int(history.max_t + 1),
        "simulations": int(history.total_nr_simulations),
        "population": population,
        "epsilon": [float(e) for e in eps],
        "ess": float(1.0 / np.sum(w**2)),
        "database": str(db),
    }
    rows = []
    for k, f in zip(keys, factors, strict=True):
        x = particles[k].to_numpy(float)
        lo, med, hi = weighted_quantile(x, w, INTERVAL)
        mean = float(np.sum(w * x))
        rows.append(_row(f, mean, mean, med, lo, hi))
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS)), {**info, "posterior": post}


def _row(f: Factor, estimate: float, mean: float, median: float, lo: float, hi: float) -> dict:
    return {
        "parameter": f.name,
        "prior_low": f.low,
        "prior_high": f.high,
        "scenario_value": f.value,
        "estimate": float(estimate),
        "mean": float(mean),
        "median": float(median),
        "lo": float(lo),
        "hi": float(hi),
    }


# --------------------------------------------------------------------------- SMM (optuna)


def _smm(
    base: Scenario,
    factors: Sequence[Factor],
    ts: TargetSet,
    *,
    budget: int,
    replicates: int,
    root: int,
    batch: int,
    workers: int | None,
    progress: Progress | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        import optuna  # the calibrate extra
    except ImportError:  # pragma: no cover - optuna is a dev dependency
        raise InputError(
            "the smm method needs optuna, which is not installed",
            file="command line",
            field="--method",
            value="smm",
            expected="pip install 'innosim[calibrate]', or --method abc",
        ) from None
    seeds = replicate_seeds(root, replicates)  # common random numbers for every candidate
    sampler_seed = int(np.random.SeedSequence(root).generate_state(1)[0])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(
            seed=sampler_seed, n_startup_trials=min(20, budget // 4)
        ),
    )
    done = 0
    xs: list[list[float]] = []
    ds: list[float] = []
    while done < budget:
        k = min(batch, budget - done)
        trials = [study.ask() for _ in range(k)]
        points = [
            [t.suggest_float(f"p{i}", f.low, f.high) for i, f in enumerate(factors)] for t in trials
        ]
        tasks = [
            task for x in points for task in _tasks(apply_factors(base, factors, x), ts, seeds)
        ]

        def tick(d: int, n: int, _done: int = done) -> None:
            if progress:
                progress(_done + d // replicates, budget)

        payloads = map_runs(tasks, workers=workers, progress=tick)
        for j, (t, x) in enumerate(zip(trials, points, strict=True)):
            d = distance(
                _summary(ts, payloads[j * replicates : (j + 1) * replicates]), ts.centre, ts.half
            )
            study.tell(t, d if math.isfinite(d) else 1e12)
            xs.append(x)
            ds.append(d)
        done += k
    X = np.array(xs, dtype=float)
    D = np.array(ds, dtype=float)
    J = len(ts.labels) * (Z90 * D) ** 2  # sum of squared z-scores, sigma_k = h_k / 1.645
    J = np.where(np.isfinite(J), J, np.nan)
    best = int(np.nanargmin(J))
    lows = np.array([f.low for f in factors])
    highs = np.array([f.high for f in factors])
    fit = _quadratic_interval(X, J, lows, highs)
    within = J <= J[best] + chi2.ppf(0.90, len(factors))
    rows = []
    for i, f in enumerate(factors):
        if fit is not None:
            rows.append(_row(f, X[best, i], X[best, i], X[best, i], fit[1][i], fit[2][i]))
        else:
            inside = X[within, i]
            rows.append(
                _row(
                    f,
                    X[best, i],
                    float(inside.mean()),
                    float(np.median(inside)),
                    float(inside.min()),
                    float(inside.max()),
                )
            )
    trials_df = pd.DataFrame(X, columns=[f.name for f in factors])
    trials_df["distance"] = D
    trials_df["J"] = J
    trials_df["in_profile"] = within
    info = {
        "simulations": len(D),
        "best_distance": float(D[best]),
        "batch": batch,
        "interval_method": "quadratic" if fit is not None else "profile",
        "trials": trials_df,
    }
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS)), info


def _quadratic_interval(
    X: np.ndarray, J: np.ndarray, lows: np.ndarray, highs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """90% intervals from the curvature of ``J`` around its best candidate.

    Fits ``J(u) = c + g.d + d'Hd/2`` with ``d = u - u_best`` by least squares (``u`` the
    parameters scaled to [0, 1] by their prior range) to the ``max(3 q, 10)`` candidates with the
    smallest ``J`` (``q`` quadratic terms), reads ``2 H^-1`` as the covariance (``J`` is a sum of
    squared z-scores, i.e. ``-2 log L`` up to a constant) and returns (the best candidate,
    lower, upper bounds) = best ± 1.645 sd, clipped to the prior. None when there are too few
    candidates or the fitted quadratic is not convex.
    """
    ok = np.isfinite(J)
    X, J = X[ok], J[ok]
    p = X.shape[1]
    q = 1 + p + p * (p + 1) // 2
    m = min(len(J), max(3 * q, 10))
    if m < q + 2:
        return None
    span = highs - lows
    near = np.argsort(J, kind="stable")[:m]
    u_best = (X[near[0]] - lows) / span
    d = (X[near] - lows) / span - u_best
    iu = np.triu_indices(p)
    design = np.column_stack([np.ones(m), d, d[:, iu[0]] * d[:, iu[1]]])
    coef, *_ = np.linalg.lstsq(design, J[near], rcond=None)
    H = np.zeros((p, p))
    for k, (i, j) in enumerate(zip(*iu, strict=True)):
        c = coef[1 + p + k]
        if i == j:
            H[i, i] = 2 * c
        else:
            H[i, j] = H[j, i] = c
    if not np.all(np.isfinite(H)) or np.any(np.linalg.eigvalsh(H) <= 0):
        return None
    sd = np.sqrt(np.diag(2 * np.linalg.inv(H)))
    centre = lows + span * u_best
    lo = np.clip(lows + span * (u_best - Z90 * sd), lows, highs)
    hi = np.clip(lows + span * (u_best + Z90 * sd), lows, highs)
    return centre, lo, hi


# --------------------------------------------------------------------------- the API


@validate_params({"method": METHOD, "budget": BUDGET, "replicates": REPLICATES, "seed": SEED})
def calibrate(
    scenario: str | os.PathLike[str] | Scenario,
    *,
    targets: Targets | str | os.PathLike[str],
    free: Sequence[str] | str,
    method: str = "abc",
    budget: int = 400,
    replicates: int = 1,
    seed: int | None = None,
    scale: float | None = None,
    until: int | None = None,
    population: int | None = None,
    batch: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    out: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Estimate free parameters from the statistics of a targets file.

    Parameters
    ----------
    scenario : str, path or Scenario
        The scenario every target is computed on.
    targets : Targets, str or path
        A targets file (format: ``docs/validation.md``).
    free : sequence of str or comma-separated str
        Free parameters ``NAME`` or ``NAME=LOW:HIGH`` (``City.param`` for a city parameter,
        ``param`` for a global one); uniform priors over the declared bounds unless a range is
        given.
    method : {"abc", "smm"}
        ABC-SMC (pyabc) or simulated method of moments (optuna); see the module docstring.
    budget : int
        Parameter points simulated (each ``replicates`` runs). ABC checks it between
        generations, so its last generation may overrun it.
    replicates : int
        Runs per parameter point; statistics are averaged over them.
    seed : int, optional
        Root seed (default: the scenario's): replicate seeds, pyabc's generator, optuna's.
    scale, until : optional
        Agent scale and last simulated year (see :func:`innosim.simulate`).
    population : int, optional
        ABC particles per generation (default: ``budget // 6`` within [8, 200]).
    batch : int, optional
        SMM candidates per batch (default: ``4 * workers``, at least 8; each batch starts a
        process pool).
    workers : int, optional
        Worker processes for SMM (ABC runs in this process).
    progress : callable, optional
        Called as ``progress(points_done, budget)``.
    out : str or path, optional
        Directory for ``calibration.csv``, ``calibration.json``, the posterior particles
        (``posterior.csv``, abc) or the trials (``trials.csv``, smm), and pyabc's database
        ``calibration.db``. Without it the database lives in a temporary directory that is
        removed afterwards (never the working directory).

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`, one row per free parameter. ``attrs``: ``scenario, method,
        targets, budget, replicates, seed, scale, until, free, target_labels, target_values``,
        the method's diagnostics (abc: ``generations, simulations, population, epsilon, ess``;
        smm: ``simulations, best_distance, batch``), ``fit`` (per target: value, simulated at the
        estimate is not re-run, so it is omitted) and, with ``out``, ``files``.
        ``attrs["posterior"]`` (abc) / ``attrs["trials"]`` (smm) hold the particles or trials as
        DataFrames.

    Raises
    ------
    InputError
        A bad targets file, free parameter, method, budget, replicates, seed or output directory.
    """
    method = str(method)
    loaded = targets if isinstance(targets, Targets) else load_targets(targets)
    base = prepare_scenario(scenario, scale, until)
    factors = parse_factors(base, free, field="--free", bounds="declared")
    ts = target_set(loaded, base)
    budget = int(budget)
    r = int(replicates)
    root = int(base.seed if seed is None else seed)
    n_workers = check_workers(workers)
    out_dir = prepare_out(out) if out is not None else None

    if method == "abc":
        try:
            import pyabc  # noqa: F401  (the calibrate extra)
        except ImportError:  # pragma: no cover - pyabc is a dev dependency
            raise InputError(
                "the abc method needs pyabc, which is not installed",
                file="command line",
                field="--method",
                value=method,
                expected="pip install 'innosim[calibrate]', or --method smm",
            ) from None
        pop = population if population is not None else min(200, max(8, budget // 6))
        if isinstance(pop, bool) or not isinstance(pop, int | np.integer) or pop < 2:
            raise InputError(
                "bad population size",
                field="population",
                value=pop,
                expected="a whole number >= 2",
            )
        if out_dir is not None:
            df, info = _abc(
                base, factors, ts, budget=budget, replicates=r, root=root,
                population=int(pop), db_dir=out_dir, workers=workers, progress=progress,
            )  # fmt: skip
        else:
            with tempfile.TemporaryDirectory(prefix="innosim-abc-") as tmp:
                df, info = _abc(
                    base, factors, ts, budget=budget, replicates=r, root=root,
                    population=int(pop), db_dir=Path(tmp), workers=workers, progress=progress,
                )  # fmt: skip
                info["database"] = None
    else:
        b = batch if batch is not None else max(8, 4 * n_workers)
        if isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1:
            raise InputError(
                "bad batch size", field="batch", value=b, expected="a whole number >= 1"
            )
        df, info = _smm(
            base, factors, ts, budget=budget, replicates=r, root=root, batch=int(b),
            workers=workers, progress=progress,
        )  # fmt: skip
    df.attrs.update(
        scenario=base.name,
        method=method,
        targets=str(loaded.path) if loaded.path else None,
        budget=budget,
        replicates=r,
        seed=root,
        scale=1.0 if scale is None else float(scale),
        until=base.end_year,
        free={f.name: [f.low, f.high, f.value] for f in factors},
        target_labels=list(ts.labels),
        target_values=[float(x) for x in ts.centre],
        target_scales=[float(x) for x in ts.half],
        **info,
    )
    if out_dir is not None:
        files = write_calibration(df, out_dir)
        df.attrs["files"] = [str(f) for f in files]
    return df


_TABLES = ("posterior", "trials")


def results_json(df: pd.DataFrame) -> dict[str, Any]:
    """The table and its scalar ``attrs`` as a JSON-ready dict (NaN becomes null)."""
    rows = [{k: _json_value(v) for k, v in r.items()} for r in df.to_dict(orient="records")]
    meta = {k: _json_value(v) for k, v in df.attrs.items() if k not in ("files", *_TABLES)}
    return {**meta, "rows": rows}


def write_calibration(df: pd.DataFrame, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``calibration.csv``, ``calibration.json`` and ``posterior.csv`` (abc) or
    ``trials.csv`` (smm) into ``out`` atomically. Returns the files written."""
    d = prepare_out(out)
    try:
        files = [
            write_atomic(d / "calibration.csv", df.to_csv(index=False)),
            write_atomic(
                d / "calibration.json",
                json.dumps(results_json(df), indent=2, ensure_ascii=False) + "\n",
            ),
        ]
        for name in _TABLES:
            table = df.attrs.get(name)
            if isinstance(table, pd.DataFrame):
                files.append(write_atomic(d / f"{name}.csv", table.to_csv(index=False)))
    except OSError as exc:
        raise InputError(
            f"cannot write the results ({exc.strerror})",
            file=str(d),
            field="--out",
            expected="a writable directory",
        ) from None
    if df.attrs.get("database"):
        files.append(Path(df.attrs["database"]))
    return files
