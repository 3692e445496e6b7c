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
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innosim.errors import InputError, StoreError  # noqa: F401  (InputError: api.InputError)
from innosim.experiments.ensemble import (
    DEFAULT_WINDOW,
    GROUPS,
    INTERVAL,
    METRICS,
    SEED,
    SUMMARY_COLUMNS,
    as_scenario,
    counterfactual,
    ensemble,
    ensemble_stats,
    gap_closed,
    prepare_scenario,
    resolve_year,
    summary_of_year,
)
from innosim.model.runner import RunResult, run, yearly
from innosim.params.declarations import PARAMS
from innosim.params.scenario import Scenario
from innosim.store import RunStore
from innosim.validation import validate_params
from innosim.version import version

__all__ = [
    "GROUPS",
    "INTERVAL",
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

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- single runs


@validate_params({"seed": SEED.also(np.random.SeedSequence)})
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
        Agent scale: ``scale`` times as many people rows as the scenario asks for
        (``persons_per_agent / scale`` people per row). Firms are real firms and every output
        a real count or amount at any scale; the scale sets only how finely the population
        is sampled.
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
    if seed is not None and not isinstance(seed, np.random.SeedSequence):
        seed = int(seed)
    sc = prepare_scenario(scenario, scale, until)
    result = run(sc, seed, check=check, progress=progress, disable=disable)
    result.meta["scale"] = 1.0 if scale is None else float(scale)
    result.meta["until"] = sc.end_year
    if isinstance(seed, np.random.SeedSequence):
        result.meta["spawn_key"] = [int(k) for k in seed.spawn_key]
    return result


def _innosim_version() -> str:
    return version()


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
            result.scenario.glob.get("volatility_window_years", DEFAULT_WINDOW)
        ),
        title=result.scenario.title,
    )
    store.write_run(meta, result.tables(), overwrite=True)
    return run_id, store.runs_dir / run_id


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
    stored = RunStore(out_dir).load_run(run_ref)
    window = int(stored.meta.get("volatility_window_years", DEFAULT_WINDOW))
    y = yearly(stored.table("series"), window)
    year = resolve_year(y, year)
    out = summary_of_year(y, year)
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
    sc = None if scenario is None else as_scenario(scenario)
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
