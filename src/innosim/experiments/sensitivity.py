"""Global sensitivity analysis: Sobol indices of model outputs to parameters (``innosim
sensitivity``).

Design (``docs/sensitivity_calibration.md``):

* **Factors** are model parameters varied uniformly over a range: by default the levers
  :data:`DEFAULT_FACTORS` of one city, each over ``value ± 50%`` of the scenario's value (a
  tenth of the declared range either side when the value is 0), clipped to the declared bounds;
  ``NAME=LOW:HIGH`` gives a range explicitly.
* **Sampling** is Saltelli's scheme (SALib's ``sobol`` sampler, scrambled Sobol' sequence,
  ``n * (k + 2)`` points for ``k`` factors, no second-order terms).
* **Seed noise.** Every sample point is run with the *same* ``R`` replicate seeds
  (``innosim.replicate_seeds(seed, R)``, common random numbers) and the output analysed is the
  mean over the replicates, a deterministic function of the parameters; the indices are those of
  that function. The replicate variance measures the part of the analysed variance that is seed
  noise: ``noise_share = mean_x Var_r(Y) / R / Var_x(mean_r Y)`` (and ``noise_share_run``, the
  same share for a single run). A factor whose total index does not exceed the noise share
  cannot be told apart from noise.
* **Analysis** is SALib's ``sobol.analyze`` (Jansen/Saltelli estimators) with bootstrap
  confidence intervals. :func:`sobol_indices` runs sampling, evaluation and analysis for any
  ``evaluate(X) -> Y[point, replicate, output]``, so a test can pass an analytic function
  through exactly the code path the simulations use.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from innosim.atomic import atomic_write
from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.ensemble import REPLICATES, SEED, check_year, prepare_scenario
from innosim.experiments.executor import (
    Executor,
    RunTask,
    StatRequest,
    check_workers,
    map_runs,
)
from innosim.outdir import json_value as _json_value
from innosim.outdir import prepare_out, write_atomic
from innosim.params import space
from innosim.params.declarations import BY_NAME
from innosim.params.scenario import Scenario
from innosim.stats import CATALOG, check_args
from innosim.stats.cities import METRICS as CITY_METRICS
from innosim.validation import Arg, Satisfies, check_value, validate_params

__all__ = [
    "DEFAULT_FACTORS",
    "RELATIVE_RANGE",
    "RESULT_COLUMNS",
    "Factor",
    "Output",
    "apply_factors",
    "parse_factors",
    "parse_outputs",
    "sensitivity",
    "sensitivity_figure",
    "sobol_indices",
    "write_sensitivity",
]

DEFAULT_FACTORS: tuple[str, ...] = space.SENSITIVITY_FACTORS
"""City parameters varied by default (for the city of ``--city``), each picked from its declared
group: see :data:`innosim.params.space.SENSITIVITY_FACTORS`."""

RELATIVE_RANGE = 0.5
"""Default half-range of a factor, relative to the scenario's value (``value * (1 ± 0.5)``)."""

ZERO_RANGE = 0.1
"""Default half-range of a factor whose scenario value is 0, as a share of its declared range."""

RESULT_COLUMNS: tuple[str, ...] = (
    "output",
    "factor",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "low",
    "high",
    "value",
)
"""Columns of the table :func:`sensitivity` returns (one row per output and factor)."""

CONF_LEVEL = 0.95
"""Confidence level of the bootstrap intervals of the indices."""

Progress = Callable[[int, int], None]
Evaluate = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class Factor:
    """A parameter varied uniformly over ``[low, high]``.

    Attributes
    ----------
    name : str
        Its label: ``"City.param"`` for a city parameter, ``"param"`` for a global one.
    param : str
        The declared parameter.
    city : str or None
        The city whose value changes (None for a global parameter).
    low, high : float
        The range.
    value : float
        The scenario's value.
    """

    name: str
    param: str
    city: str | None
    low: float
    high: float
    value: float


def _default_range(param: str, value: float) -> tuple[float, float]:
    spec = BY_NAME[param]
    half = abs(value) * RELATIVE_RANGE if value != 0 else ZERO_RANGE * (spec.high - spec.low)
    return max(spec.low, value - half), min(spec.high, value + half)


def parse_factors(
    sc: Scenario,
    specs: Sequence[str] | str | None,
    *,
    city: str | None = None,
    field: str = "--params",
    bounds: str = "relative",
) -> list[Factor]:
    """Factors from ``NAME`` or ``NAME=LOW:HIGH`` specifications (the range grammar of
    :mod:`innosim.params.space`; a range must have a width).

    Parameters
    ----------
    sc : Scenario
    specs : sequence of str, or a comma-separated str, optional
        ``param`` (a city parameter of ``city``, or a global parameter), ``City.param``, each
        optionally followed by ``=LOW:HIGH``. Default: :data:`DEFAULT_FACTORS` of ``city``.
    city : str, optional
        City of unqualified city parameters (default: the scenario's first city).
    field : str
        Option named in errors.
    bounds : {"relative", "declared"}
        Range of a factor given without one: ``value ± 50%`` clipped to the declared bounds
        (see :data:`RELATIVE_RANGE`), or the declared bounds.

    Raises
    ------
    InputError
        Unknown parameter or city, a factor named twice, a malformed or empty range, or a range
        outside the declared bounds.
    """
    default_city = sc.city_names[0] if city is None else city
    sc.city_index(default_city)
    ranges = space.parse_ranges(
        list(DEFAULT_FACTORS) if specs is None else specs,
        sc,
        field=field,
        forms=("name", "span"),
        strict=True,
    )
    out: list[Factor] = []
    for r in ranges:
        p, spec = r.name, r.spec
        if spec.scope == "global":
            fcity, label, value = None, p, float(sc.glob[p])
        else:
            fcity = r.city or default_city
            label = f"{fcity}.{p}"
            value = float(sc.city[p][sc.city_index(fcity)])
        if r.low is not None and r.high is not None:
            lo, hi = r.low, r.high
        elif bounds == "declared":
            lo, hi = float(spec.low), float(spec.high)
        else:
            lo, hi = _default_range(p, value)
            if not lo < hi:
                lo, hi = float(spec.low), float(spec.high)
        if any(f.name == label for f in out):
            raise InputError(
                "parameter named twice",
                file="command line",
                field=field,
                value=label,
                expected="each parameter once",
            )
        out.append(Factor(label, p, fcity, float(lo), float(hi), value))
    return out


def apply_factors(sc: Scenario, factors: Sequence[Factor], x: Sequence[float]) -> Scenario:
    """The scenario with each factor set to its value in ``x`` (whole-number parameters are
    rounded)."""
    glob: dict[str, float] = {}
    by_city: dict[str, dict[str, float]] = {}
    for f, v in zip(factors, x, strict=True):
        v = float(v)
        if BY_NAME[f.param].integer:
            v = float(round(v))
        v = min(max(v, f.low), f.high)
        if f.city is None:
            glob[f.param] = v
        else:
            by_city.setdefault(f.city, {})[f.param] = v
    if glob:
        sc = sc.with_global_params(**glob)
    for c, values in by_city.items():
        sc = sc.with_city_params(c, **values)
    return sc


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Output:
    """An output: its label and the catalog statistic computing it on a run."""

    name: str
    request: StatRequest


def _split_top(text: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _arg_value(text: str) -> Any:
    text = text.strip().strip("'\"")
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            continue
    return text


_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?$", re.S)


def parse_outputs(
    sc: Scenario,
    specs: Sequence[str] | str,
    *,
    city: str | None = None,
    year: int | None = None,
    field: str = "--outputs",
) -> list[Output]:
    """Outputs from their specifications.

    ``metric`` (a city metric of :data:`innosim.stats.cities.METRICS`: the value of ``city`` in
    ``year``), ``City.metric``, or a catalog statistic ``name`` / ``name(arg=value, ...)``
    (a ``city`` or ``year`` argument it takes and is not given defaults to ``city`` and
    ``year``). Paired statistics are not accepted.
    """

    default_city = sc.city_names[0] if city is None else city
    items = _split_top(specs) if isinstance(specs, str) else [str(s).strip() for s in specs]
    items = [i for i in items if i]
    expected = (
        "comma-separated city metrics (" + ", ".join(CITY_METRICS) + "), 'City.metric' or "
        "catalog statistics 'name(arg=value, ...)' (docs/statistics.md)"
    )
    if not items:
        raise InputError(
            "no output named", file="command line", field=field, value=specs, expected=expected
        )
    out: list[Output] = []
    for item in items:
        c, dot, m = item.partition(".")
        if dot and "(" not in c and m in CITY_METRICS:
            if c not in sc.city_names:
                raise InputError(
                    "unknown city",
                    file="command line",
                    field=field,
                    value=c,
                    expected="one of " + ", ".join(sc.city_names),
                )
            args: dict[str, Any] = {"city": c, "metric": m, "year": year}
            req = ("city_value", args)
        elif item in CITY_METRICS:
            req = ("city_value", {"city": default_city, "metric": item, "year": year})
        else:
            match = _CALL.match(item)
            if match is None or match.group(1) not in CATALOG:
                raise InputError(
                    "unknown output", file="command line", field=field, value=item,
                    expected=expected,
                )  # fmt: skip
            name, body = match.group(1), match.group(2)
            stat = CATALOG[name]
            if stat.paired:
                raise InputError(
                    "paired statistics are not supported here",
                    file="command line",
                    field=field,
                    value=item,
                    expected="an unpaired statistic of the catalog",
                )
            args = {}
            for part in _split_top(body or ""):
                k, eq, v = part.partition("=")
                if not eq:
                    raise InputError(
                        "malformed statistic argument",
                        file="command line",
                        field=field,
                        value=item,
                        expected="name(arg=value, ...)",
                    )
                args[k.strip()] = _arg_value(v)
            names = {a.name for a in stat.args}
            if "city" in names and "city" not in args:
                args["city"] = default_city
            if "year" in names and "year" not in args and year is not None:
                args["year"] = year
            req = (name, args)
        full = check_args(req[0], req[1], cities=sc.city_names, where=f"{field} {item}: ")
        if any(o.name == item for o in out):
            raise InputError(
                "output named twice", file="command line", field=field, value=item,
                expected="each output once",
            )  # fmt: skip
        out.append(Output(item, (req[0], tuple(sorted(full.items())))))
    return out


# --------------------------------------------------------------------------- analysis


def _is_base_size(n: Any) -> bool:
    return (
        not isinstance(n, bool)
        and isinstance(n, int | np.integer)
        and 2 <= n <= 2**20
        and (n & (n - 1)) == 0
    )


BASE_SIZE = Arg(
    [
        Satisfies(
            _is_base_size, "a power of 2 in [2, 1048576] (n * (k + 2) sample points for k factors)"
        )
    ],
    field="--n",
    problem="bad base sample size",
)
"""Constraint of the Saltelli base sample size ``n``."""


def _check_n(n: Any) -> int:
    return int(check_value("n", n, BASE_SIZE))


def _problem(factors: Sequence[Factor]) -> dict[str, Any]:
    return {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }


def sample_points(factors: Sequence[Factor], n: int, seed: int) -> np.ndarray:
    """Saltelli sample (``n * (k + 2)`` rows, scrambled Sobol' sequence seeded by ``seed``)."""
    return sobol_sample.sample(
        _problem(factors), _check_n(n), calc_second_order=False, scramble=True, seed=seed
    )


def _noise(Y: np.ndarray) -> tuple[float, float]:
    """(noise share of the replicate mean's variance, noise share of one run's variance)."""
    r = Y.shape[1]
    if r < 2:
        return math.nan, math.nan
    within = float(np.nanmean(np.nanvar(Y, axis=1, ddof=1)))
    var_mean = float(np.nanvar(np.nanmean(Y, axis=1)))
    var_run = float(np.nanvar(Y))
    share = min(1.0, within / r / var_mean) if var_mean > 0 else math.nan
    share_run = min(1.0, within / var_run) if var_run > 0 else math.nan
    return share, share_run


def analyze(
    factors: Sequence[Factor],
    Y: np.ndarray,
    outputs: Sequence[str],
    *,
    seed: int = 0,
    num_resamples: int = 200,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sobol indices of replicate-averaged outputs.

    Parameters
    ----------
    factors : sequence of Factor
    Y : ndarray, shape (points, replicates, outputs)
        Outputs at the Saltelli points of :func:`sample_points`, per replicate.
    outputs : sequence of str
        Output names.

    Returns
    -------
    (indices, noise) : (DataFrame, DataFrame)
        ``indices`` has :data:`RESULT_COLUMNS` (confidence half-widths at :data:`CONF_LEVEL`);
        ``noise`` one row per output: ``output, mean, sd, noise_share, noise_share_run,
        n_missing`` (points whose replicate mean is NaN; indices are NaN when there are any).
    """
    problem = _problem(factors)
    rows, noise_rows = [], []
    for j, name in enumerate(outputs):
        y_rep = Y[:, :, j].astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN points are counted below
            y = np.nanmean(y_rep, axis=1)
        missing = int((~np.isfinite(y)).sum())
        share, share_run = _noise(y_rep)
        noise_rows.append(
            {
                "output": name,
                "mean": float(np.nanmean(y)) if missing < len(y) else math.nan,
                "sd": float(np.nanstd(y)) if missing < len(y) else math.nan,
                "noise_share": share,
                "noise_share_run": share_run,
                "n_missing": missing,
            }
        )
        if missing or np.var(y) == 0.0:
            fill = math.nan if missing else 0.0
            res = {k: [fill] * len(factors) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                res = sobol_analyze.analyze(
                    problem,
                    y,
                    calc_second_order=False,
                    num_resamples=num_resamples,
                    conf_level=CONF_LEVEL,
                    print_to_console=False,
                    seed=seed,
                )
        for k, f in enumerate(factors):
            rows.append(
                {
                    "output": name,
                    "factor": f.name,
                    "S1": float(res["S1"][k]),
                    "S1_conf": float(res["S1_conf"][k]),
                    "ST": float(res["ST"][k]),
                    "ST_conf": float(res["ST_conf"][k]),
                    "low": f.low,
                    "high": f.high,
                    "value": f.value,
                }
            )
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS)), pd.DataFrame(noise_rows)


def sobol_indices(
    evaluate: Callable[[np.ndarray], np.ndarray],
    factors: Sequence[Factor],
    outputs: Sequence[str],
    *,
    n: int = 64,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Sample, evaluate and analyse: the whole analysis for any model.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(X)`` for the ``(points, k)`` Saltelli sample returns ``Y`` of shape
        ``(points, replicates, outputs)`` (``(points, outputs)`` is read as one replicate).
    factors, outputs, n, seed
        As in :func:`sensitivity`.

    Returns
    -------
    (indices, noise, X, Y)
        See :func:`analyze`; ``X`` and ``Y`` the sample and the outputs.
    """
    X = sample_points(factors, n, seed)
    Y = np.asarray(evaluate(X), dtype=float)
    if Y.ndim == 2:
        Y = Y[:, None, :]
    if Y.shape[0] != X.shape[0] or Y.shape[2] != len(outputs):
        raise ValueError(f"evaluate returned shape {Y.shape} for {X.shape[0]} points")
    indices, noise = analyze(factors, Y, outputs, seed=seed)
    return indices, noise, X, Y


# --------------------------------------------------------------------------- simulations


def _simulated(
    sc: Scenario,
    factors: Sequence[Factor],
    outputs: Sequence[Output],
    seeds: Sequence[np.random.SeedSequence],
    workers: int | None,
    progress: Progress | None,
    executor: Executor | None = None,
) -> Evaluate:
    def evaluate(X: np.ndarray) -> np.ndarray:
        requests = tuple(o.request for o in outputs)
        tasks = [RunTask(apply_factors(sc, factors, x), ss, requests) for x in X for ss in seeds]
        payloads = map_runs(tasks, workers=workers, progress=progress, executor=executor)
        values = np.array([p.values for p in payloads], dtype=float)
        return values.reshape(len(X), len(seeds), len(outputs))

    return evaluate


@validate_params({"n": BASE_SIZE, "replicates": REPLICATES, "seed": SEED})
def sensitivity(
    scenario: str | os.PathLike[str] | Scenario,
    *,
    outputs: Sequence[str] | str,
    params: Sequence[str] | str | None = None,
    city: str | None = None,
    n: int = 64,
    replicates: int = 2,
    year: int | None = None,
    seed: int | None = None,
    scale: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    out: str | os.PathLike[str] | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Sobol indices (first-order and total) of model outputs to parameters.

    Parameters
    ----------
    scenario : str, path or Scenario
    outputs : sequence of str or comma-separated str
        City metrics (``unicorns``: the value for ``city``; ``City.unicorns``) or catalog
        statistics ``name(arg=value, ...)`` (see :func:`parse_outputs`).
    params : sequence of str or comma-separated str, optional
        Factors ``NAME`` or ``NAME=LOW:HIGH`` (see :func:`parse_factors`; default
        :data:`DEFAULT_FACTORS` of ``city`` over ``value ± 50%``).
    city : str, optional
        City of unqualified city parameters and metrics (default: the scenario's first city).
    n : int
        Base sample size, a power of 2: ``n * (k + 2)`` parameter points.
    replicates : int
        Runs per point, with the same replicate seeds at every point; the output analysed is
        their mean. With ``replicates >= 2`` the seed-noise share is reported.
    year : int, optional
        Year at which outputs are read; runs stop there (default: the scenario's end year).
    seed : int, optional
        Root seed of the replicate seeds and of the Sobol' scrambling (default: the
        scenario's). Results do not depend on ``workers``.
    scale : float, optional
        Agent scale (see :func:`innosim.simulate`).
    workers : int, optional
        Worker processes (default: one per CPU).
    progress : callable, optional
        Called as ``progress(runs_done, n_runs)``.
    out : str or path, optional
        Directory to write ``sensitivity.csv``, ``sensitivity.json``, ``samples.csv`` and
        ``sensitivity.png`` into.
    executor : Executor, optional
        Where the runs go (:class:`innosim.experiments.executor.Executor`: a local pool, a Dask
        LocalCluster or a Dask scheduler); overrides ``workers``. Results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`, one row per (output, factor), sorted by output then total index
        (largest first); ``S1_conf``/``ST_conf`` are 95% bootstrap half-widths. ``attrs``:
        ``scenario, city, year, n, replicates, seed, scale, runs, points, factors`` (name ->
        [low, high, value]), ``noise`` (per output: ``mean, sd, noise_share, noise_share_run,
        n_missing``) and, with ``out``, ``files``.

    Raises
    ------
    InputError
        Unknown output, parameter or city, bad range, ``n`` not a power of 2, bad replicates,
        seed, year or workers, or an output directory that cannot be written.
    """
    base = prepare_scenario(scenario, scale, None)
    if year is not None:
        base = base.with_end_year(check_year(year, base, base.end_year))
    year_read = base.end_year
    if city is not None and city not in base.city_names:
        raise InputError(
            "unknown city",
            file="command line",
            field="--city",
            value=city,
            expected="one of " + ", ".join(base.city_names),
        )
    the_city = base.city_names[0] if city is None else city
    factors = parse_factors(base, params, city=the_city)
    outs = parse_outputs(base, outputs, city=the_city, year=year_read)
    n = int(n)
    r = int(replicates)
    root = int(base.seed if seed is None else seed)
    check_workers(workers)
    out_dir = prepare_out(out) if out is not None else None

    seeds = replicate_seeds(root, r)
    evaluate = _simulated(base, factors, outs, seeds, workers, progress, executor)
    sobol_seed = int(np.random.SeedSequence(root).generate_state(1)[0])
    indices, noise, X, Y = sobol_indices(
        evaluate, factors, [o.name for o in outs], n=n, seed=sobol_seed
    )
    order = {o.name: i for i, o in enumerate(outs)}
    indices = (
        indices.assign(_o=indices["output"].map(order), _st=indices["ST"].fillna(-1.0))
        .sort_values(["_o", "_st"], ascending=[True, False], kind="stable")
        .drop(columns=["_o", "_st"])
        .reset_index(drop=True)
    )
    indices.attrs.update(
        scenario=base.name,
        city=the_city,
        year=year_read,
        n=n,
        replicates=r,
        seed=root,
        scale=1.0 if scale is None else float(scale),
        points=int(X.shape[0]),
        runs=int(X.shape[0] * r),
        factors={f.name: [f.low, f.high, f.value] for f in factors},
        noise=noise.to_dict(orient="records"),
    )
    if out_dir is not None:
        samples = pd.DataFrame(X, columns=[f.name for f in factors])
        for j, o in enumerate(outs):
            for k in range(r):
                samples[f"{o.name}[{k}]"] = Y[:, k, j]
        files = write_sensitivity(indices, out_dir, samples=samples)
        indices.attrs["files"] = [str(f) for f in files]
    return indices


# --------------------------------------------------------------------------- files and figure


def results_json(df: pd.DataFrame) -> dict[str, Any]:
    """The table and its ``attrs`` as a JSON-ready dict (NaN becomes null)."""
    rows = [{k: _json_value(v) for k, v in r.items()} for r in df.to_dict(orient="records")]
    meta = {k: _json_value(v) for k, v in df.attrs.items() if k != "files"}
    return {**meta, "rows": rows}


def write_sensitivity(
    df: pd.DataFrame, out: str | os.PathLike[str], *, samples: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``sensitivity.csv``, ``sensitivity.json``, ``samples.csv`` (when given) and the
    figure ``sensitivity.png`` into ``out`` (each atomically). Returns the files written."""
    d = prepare_out(out)
    try:
        files = [
            write_atomic(d / "sensitivity.csv", df.to_csv(index=False)),
            write_atomic(
                d / "sensitivity.json",
                json.dumps(results_json(df), indent=2, ensure_ascii=False) + "\n",
            ),
        ]
        if samples is not None:
            files.append(write_atomic(d / "samples.csv", samples.to_csv(index=False)))
        files.append(sensitivity_figure(df, d / "sensitivity.png"))
    except OSError as exc:
        raise InputError(
            f"cannot write the results ({exc.strerror})",
            file=str(d),
            field="--out",
            expected="a writable directory",
        ) from None
    return files


def sensitivity_figure(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Ranked horizontal bars of S1 and ST with their confidence intervals, one panel per
    output; a grey line marks the output's seed-noise share when it is known."""
    path = Path(path)
    outputs = list(dict.fromkeys(df["output"]))
    noise = {r["output"]: r for r in df.attrs.get("noise", [])}
    k = int(df.groupby("output").size().max()) if len(df) else 1
    cols = min(len(outputs), 3) or 1
    rows = math.ceil(max(len(outputs), 1) / cols)
    fig = Figure(figsize=(5.5 * cols, (0.45 * k + 1.6) * rows))
    FigureCanvasAgg(fig)
    for i, name in enumerate(outputs):
        ax = fig.add_subplot(rows, cols, i + 1)
        part = df[df["output"] == name].sort_values("ST", ascending=True, na_position="first")
        y = np.arange(len(part))
        h = 0.38
        ax.barh(
            y + h / 2, part["ST"].fillna(0), h, xerr=part["ST_conf"].fillna(0),
            label="total (ST)", color="#1f77b4", capsize=2,
        )  # fmt: skip
        ax.barh(
            y - h / 2, part["S1"].fillna(0), h, xerr=part["S1_conf"].fillna(0),
            label="first order (S1)", color="#ff7f0e", capsize=2,
        )  # fmt: skip
        ax.set_yticks(y, part["factor"].tolist(), fontsize=8)
        share = noise.get(name, {}).get("noise_share")
        if share is not None and math.isfinite(share):
            ax.axvline(share, color="grey", ls="--", lw=1, label=f"seed noise ({share:.0%})")
        ax.axvline(0, color="black", lw=0.6)
        lows = (part["S1"] - part["S1_conf"]).to_numpy(dtype=float)
        highs = (part["ST"] + part["ST_conf"]).to_numpy(dtype=float)
        right = min(2.0, max(1.05, float(np.nanmax(highs, initial=0.0)) + 0.05))
        ax.set_xlim(max(-1.0, min(-0.05, float(np.nanmin(lows, initial=0.0)))), right)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("Sobol index")
        ax.legend(fontsize=7, loc="lower right")
    a = df.attrs
    if a:
        fig.suptitle(
            f"{a.get('scenario', '')}: Sobol indices, year {a.get('year', '')}, "
            f"n={a.get('n', '')}, {a.get('replicates', '')} replicates per point "
            f"(95% bootstrap intervals)",
            fontsize=10,
        )
    fig.tight_layout()
    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120), suffix=".png")
