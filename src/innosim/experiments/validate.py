"""Hold simulated statistics against a targets file (``innosim validate``).

A targets file (TOML, format in ``docs/validation.md``) lists named statistics of the catalog
(:data:`innosim.stats.CATALOG`) with an accepted range. :func:`validate` runs an ensemble of
every scenario the targets need — one run per (scenario, replicate seed), shared by all targets
on that scenario, paired statistics adding their counterfactual arm with the same seed — and
reports, per target, the ensemble mean, a 90% interval over replicates and whether the mean lies
in the accepted range.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.ensemble import INTERVAL, REPLICATES, SEED
from innosim.experiments.executor import Executor, RunTask, StatRequest, map_runs
from innosim.inputs import dotted, pydantic_issue, read_toml
from innosim.outdir import json_value as _json_value
from innosim.outdir import prepare_out, write_atomic
from innosim.params.scenario import Scenario, load_scenario
from innosim.schema import FOUNDER_HISTORY
from innosim.stats import CATALOG, check_args
from innosim.validation import check_value, validate_params

__all__ = [
    "RESULT_COLUMNS",
    "SURVIVAL_AGES",
    "Target",
    "Targets",
    "check_target",
    "default_targets_path",
    "load_targets",
    "results_json",
    "validate",
    "write_results",
]

RESULT_COLUMNS: tuple[str, ...] = (
    "statistic",
    "args",
    "scenario",
    "value",
    "lo",
    "hi",
    "low",
    "high",
    "reference",
    "passed",
    "source",
)
"""Columns of the table :func:`validate` returns."""

SURVIVAL_AGES: tuple[int, ...] = tuple(range(1, 11))
"""Ages (years) of the survival curve drawn in the firms figure."""


Progress = Callable[[int, int], None]
DrawFigures = Callable[[pd.DataFrame, dict[str, Any], Path], list[Path]]
"""Draws a validation's figures: ``figures(df, data, out_dir)`` returns the files written."""


# --------------------------------------------------------------------------- the file


class _Validation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str | None = None
    replicates: int | None = Field(default=None, ge=1, le=100_000)
    seed: int | None = Field(default=None, ge=0, lt=2**63)


class Target(BaseModel):
    """One target: a catalog statistic, its arguments and the accepted range (inclusive)."""

    model_config = ConfigDict(extra="forbid")
    statistic: str
    args: dict[str, Any] = Field(default_factory=dict)
    low: float
    high: float
    value: float | str | None = None
    source: str = ""
    scenario: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    validation: _Validation = Field(default_factory=_Validation)
    target: list[Target] = Field(min_length=1)


@dataclass(frozen=True)
class Targets:
    """A loaded targets file: the [validation] defaults and the targets, arguments checked."""

    path: Path | None
    targets: tuple[Target, ...]
    scenario: str | None = None
    replicates: int | None = None
    seed: int | None = None


_EXPECTED = {
    "statistic": "a statistic name of the catalog (see docs/statistics.md)",
    "args": "a table of the statistic's arguments, e.g. { age_years = 5 }",
    "low": "a number: the lower end of the accepted range",
    "high": "a number: the upper end of the accepted range",
    "value": "a number or a short text: the reference value",
    "source": "a text naming the source",
    "scenario": "a scenario name or path",
    "replicates": "a whole number in [1, 100000]",
    "seed": "a whole number in [0, 2**63)",
    "target": "one or more [[target]] tables",
    "validation": "a [validation] table with scenario, replicates, seed",
}


def _pydantic_error(path: str, err: ValidationError, data: dict[str, Any]) -> InputError:
    # union members appear in the location (e.g. value.float): keep the field path only
    loc, value, kind, msg = pydantic_issue(err, data, drop=("float", "str", "int", "none"))
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "missing":
        return InputError(
            "required field is missing",
            file=path,
            field=dotted(loc),
            expected=_EXPECTED.get(name, "see docs/validation.md"),
        )
    if kind == "extra_forbidden":
        model = _Validation if loc and loc[0] == "validation" else Target
        known = ", ".join(model.model_fields) if len(loc) > 1 else "validation, target"
        return InputError(
            "unknown field", file=path, field=dotted(loc), value=value, expected="one of " + known
        )
    return InputError(
        msg,
        file=path,
        field=dotted(loc),
        value=value,
        expected=_EXPECTED.get(name, "see docs/validation.md"),
    )


def _with_file(exc: InputError, path: str) -> InputError:
    if exc.file:
        return exc
    return type(exc)(
        exc.problem, file=path, field=exc.field, value=exc.value, expected=exc.expected
    )


def check_target(
    t: Target, i: int, path: str, cities: Sequence[str] | None = None
) -> dict[str, Any]:
    """The target's arguments checked against the catalog (InputError naming target[i])."""
    if t.statistic not in CATALOG:
        raise InputError(
            "unknown statistic",
            file=path,
            field=f"target[{i}].statistic",
            value=t.statistic,
            expected="one of " + ", ".join(CATALOG),
        )
    try:
        args = check_args(t.statistic, dict(t.args), cities=cities, where=f"target[{i}].")
    except InputError as exc:
        raise _with_file(exc, path) from None
    for name in ("low", "high"):
        v = getattr(t, name)
        if not math.isfinite(v):
            raise InputError(
                "the range must be finite",
                file=path,
                field=f"target[{i}].{name}",
                value=v,
                expected=_EXPECTED[name],
            )
    if t.low > t.high:
        raise InputError(
            "the accepted range is empty (low > high)",
            file=path,
            field=f"target[{i}].low",
            value=t.low,
            expected=f"a number <= high ({t.high:g})",
        )
    return dict(args)


def _project_root() -> Path:
    # the project checkout (editable install): src/innosim/experiments/validate.py -> repo root
    return Path(__file__).resolve().parents[3]


def default_targets_path() -> Path:
    """The default targets file: ``./validation/targets.toml`` if it exists, else the project's
    ``validation/targets.toml``."""
    local = Path.cwd() / "validation" / "targets.toml"
    if local.is_file():
        return local
    return _project_root() / "validation" / "targets.toml"


def load_targets(path: str | os.PathLike[str] | None = None) -> Targets:
    """Read and check a targets file.

    Parameters
    ----------
    path : str or path, optional
        The TOML file (default: :func:`default_targets_path`).

    Returns
    -------
    Targets
        Every target with its arguments checked against the catalog (defaults filled in).

    Raises
    ------
    InputError
        Missing or unreadable file, malformed TOML, unknown fields, an unknown statistic (the
        message lists the catalog), bad or missing arguments, a missing bound or low > high —
        naming the file, the field (e.g. ``target[3].low``), the value and what was expected.
    """
    p = Path(path) if path is not None else default_targets_path()
    name = str(p)
    data = read_toml(
        p, "targets file", missing="an existing TOML targets file (see docs/validation.md)"
    )
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(name, exc, data) from None
    targets = []
    for i, t in enumerate(parsed.target):
        targets.append(t.model_copy(update={"args": check_target(t, i, name)}))
    v = parsed.validation
    return Targets(p, tuple(targets), v.scenario, v.replicates, v.seed)


# --------------------------------------------------------------------------- running


def _request(name: str, args: dict[str, Any]) -> StatRequest:
    return (name, tuple(sorted(args.items())))


def _format_args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in args.items() if v is not None)


@dataclass
class _Group:
    """The targets computed on one scenario."""

    scenario: Scenario
    requests: list[StatRequest]
    paired: list[tuple[Scenario, StatRequest]]


def _ratio_of_means(num: np.ndarray, den: np.ndarray) -> float:
    """Ensemble ratio estimator: mean numerator over mean denominator, over the replicates
    where both are finite; NaN when the mean denominator is zero."""
    ok = np.isfinite(num) & np.isfinite(den)
    if not ok.any():
        return math.nan
    d = float(den[ok].mean())
    return float(num[ok].mean()) / d if d != 0 else math.nan


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    lo, hi = np.quantile(x, INTERVAL)
    return float(x.mean()), float(lo), float(hi)


@validate_params({"replicates": REPLICATES.also(None), "seed": SEED})
def validate(
    targets_or_path: Targets | str | os.PathLike[str] | None = None,
    *,
    scenario: str | os.PathLike[str] | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    out: str | os.PathLike[str] | None = None,
    executor: Executor | None = None,
    figures: DrawFigures | None = None,
) -> pd.DataFrame:
    """Compute every target's statistic over an ensemble and judge it against its range.

    Parameters
    ----------
    targets_or_path : Targets, str or path, optional
        Loaded targets or a targets file (default: the project's ``validation/targets.toml``).
    scenario : str or path, optional
        Scenario of targets that do not name one (default: the file's ``[validation]
        scenario``).
    replicates : int, optional
        Ensemble size (default: the file's, else 20).
    seed : int, optional
        Root seed; replicate ``i`` is ``innosim.replicate_seeds(seed, replicates)[i]`` for every
        scenario (default: the file's, else each scenario's own seed).
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``); results do not depend on it.
    progress : callable, optional
        Called as ``progress(runs_done, n_runs)``.
    out : str or path, optional
        Directory to write ``validation.csv``, ``validation.json`` (and the figures) into.
    executor : Executor, optional
        Where the runs go (:class:`innosim.experiments.executor.Executor`: a local pool, a Dask
        LocalCluster or a Dask scheduler); overrides ``workers``. Results do not depend on it.
    figures : callable, optional
        With ``out``: ``figures(df, data, out_dir)`` draws the figures from the table and the
        figure inputs and returns the files it wrote (:func:`innosim.validate` passes the
        report layer's ``validation_figures``, which draws ``validation_<family>.png``).

    Returns
    -------
    pandas.DataFrame
        One row per target, columns :data:`RESULT_COLUMNS`: ``value`` is the ensemble mean (NaN
        replicates ignored; for a ratio statistic such as ``city_ratio``, the ratio of the two
        ensemble means, see ``Statistic.ratio_parts``), ``lo``/``hi`` the 5% and 95% quantiles over
        replicates, ``low`` and ``high`` the accepted range, ``reference`` the source's value,
        ``passed`` whether ``low <= value <= high``. ``attrs`` holds ``targets`` (the file),
        ``replicates``, ``seed``, ``passed``, ``total`` and, with ``out``, ``files``.

    Raises
    ------
    InputError
        A bad targets file, scenario, number of replicates, seed or workers.
    """
    if isinstance(targets_or_path, Targets):
        targets = targets_or_path
    else:
        targets = load_targets(targets_or_path)
    file = str(targets.path) if targets.path else "<targets>"
    n = replicates if replicates is not None else (targets.replicates or 20)
    n = int(check_value("replicates", n, REPLICATES))
    root = check_value("seed", seed if seed is not None else targets.seed, SEED)
    root = None if root is None else int(root)
    default_ref = scenario if scenario is not None else targets.scenario
    out_dir = prepare_out(out) if out is not None else None

    groups: dict[str, _Group] = {}
    # per target: group key, kind, index in the group (then numerator and denominator indices
    # for a ratio statistic)
    where: list[tuple[Any, ...]] = []
    scenarios: dict[str, Scenario] = {}
    for i, t in enumerate(targets.targets):
        ref = t.scenario if t.scenario is not None else default_ref
        if ref is None:
            raise InputError(
                "no scenario to compute the target on",
                file=file,
                field=f"target[{i}].scenario",
                expected="a scenario in the target, in [validation] or given with --scenario",
            )
        key = str(ref)
        if key not in scenarios:
            scenarios[key] = load_scenario(ref)
        sc = scenarios[key]
        args = check_target(t, i, file, cities=sc.city_names)
        g = groups.setdefault(key, _Group(sc, [], []))
        stat = CATALOG[t.statistic]
        req = _request(t.statistic, args)
        if stat.paired:
            cf = stat.counterfactual(sc, **args)
            g.paired.append((cf, req))
            where.append((key, "paired", len(g.paired) - 1))
        else:
            parts: list[int] = []
            reqs = [req]
            if stat.ratio_parts is not None:
                reqs += [_request(n, a) for n, a in stat.ratio_parts(**args)]
            for r in reqs:
                if r not in g.requests:
                    g.requests.append(r)
                parts.append(g.requests.index(r))
            where.append((key, "values", *parts))

    draw = out_dir is not None and figures is not None
    main_key = str(default_ref) if default_ref is not None and str(default_ref) in groups else None
    main_key = main_key or next(iter(groups))
    extras = _figure_requests() if draw else ()
    tasks: list[RunTask] = []
    index: dict[str, list[int]] = {}
    for key, g in groups.items():
        r0 = int(g.scenario.seed) if root is None else int(root)
        for k, ss in enumerate(replicate_seeds(r0, n)):
            index.setdefault(key, []).append(len(tasks))
            tasks.append(
                RunTask(
                    g.scenario,
                    ss,
                    tuple(g.requests),
                    tuple(g.paired),
                    extras if key == main_key else (),
                    arrays=draw and key == main_key and k == 0,
                )
            )
    payloads = map_runs(tasks, workers=workers, progress=progress, executor=executor)

    rows = []
    for t, (key, kind, j, *parts) in zip(targets.targets, where, strict=True):
        vals = np.array([getattr(payloads[k], kind)[j] for k in index[key]], dtype=float)
        mean, lo, hi = _quantiles(vals)
        if parts:
            num, den = (
                np.array([payloads[k].values[i] for k in index[key]], dtype=float) for i in parts
            )
            mean = _ratio_of_means(num, den)
        rows.append(
            {
                "statistic": t.statistic,
                "args": _format_args(t.args),
                "scenario": groups[key].scenario.name,
                "value": mean,
                "lo": lo,
                "hi": hi,
                "low": float(t.low),
                "high": float(t.high),
                "reference": t.value,
                "passed": bool(math.isfinite(mean) and t.low <= mean <= t.high),
                "source": t.source,
                "_values": vals,
            }
        )
    df = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "_values"])
    per_replicate = df.pop("_values").tolist()
    df.attrs.update(
        targets=str(targets.path) if targets.path else None,
        replicates=n,
        seed=None if root is None else int(root),
        scenario=groups[main_key].scenario.name,
        passed=int(df["passed"].sum()),
        total=len(df),
    )
    if out_dir is not None:
        main = [payloads[k] for k in index[main_key]]
        files = write_results(df, out_dir)
        if figures is not None:
            files += figures(df, _figure_data(main, extras, per_replicate), out_dir)
        df.attrs["files"] = [str(f) for f in files]
    return df


# --------------------------------------------------------------------------- figures and files


def _figure_requests() -> tuple[StatRequest, ...]:
    """Extra per-replicate statistics for the figures (survival curve, founder success)."""
    reqs = [_request("survival_rate", {"age_years": a}) for a in SURVIVAL_AGES]
    reqs += [_request("founder_success_rate", {"history": h}) for h in FOUNDER_HISTORY]
    reqs.append(_request("firm_size_tail_exponent", {"top_share": 0.05}))
    return tuple(reqs)


def _figure_data(
    payloads: Sequence[Any], extras: Sequence[StatRequest], per_replicate: list[np.ndarray]
) -> dict[str, Any]:
    """Figure inputs: extras per replicate (rows) by request (columns), replicate 0's arrays."""
    table = np.array([p.optional for p in payloads], dtype=float).reshape(len(payloads), -1)
    n_age = len(SURVIVAL_AGES)
    return {
        "survival_ages": np.array(SURVIVAL_AGES),
        "survival": table[:, :n_age],
        "histories": FOUNDER_HISTORY,
        "founder_success": table[:, n_age : n_age + len(FOUNDER_HISTORY)],
        "tail_exponent": table[0, -1] if table.size else math.nan,
        "firm_sizes": payloads[0].arrays.get("firm_sizes", np.array([])),
        "multiples": payloads[0].arrays.get("multiples", np.array([])),
        "per_replicate": per_replicate,
    }


def results_json(df: pd.DataFrame) -> dict[str, Any]:
    """The validation table and its ``attrs`` as a JSON-ready dict (NaN becomes null)."""
    rows = [{k: _json_value(v) for k, v in r.items()} for r in df.to_dict(orient="records")]
    meta = {k: v for k, v in df.attrs.items() if k != "files"}
    return {**meta, "rows": rows}


def write_results(df: pd.DataFrame, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``validation.csv`` and ``validation.json`` into ``out`` (atomically: temporary file,
    then rename). Returns the files written."""
    d = prepare_out(out)
    try:
        csv = write_atomic(d / "validation.csv", df.to_csv(index=False))
        js = write_atomic(
            d / "validation.json",
            json.dumps(results_json(df), indent=2, ensure_ascii=False) + "\n",
        )
    except OSError as exc:
        raise InputError(
            f"cannot write the results ({exc.strerror})",
            file=str(d),
            field="--out",
            expected="a writable directory",
        ) from None
    return [csv, js]
