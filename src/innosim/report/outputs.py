"""Experiment results written with their figures.

The experiments (:mod:`innosim.experiments`) compute and write their tables; they draw nothing
and never import this package. Their writers take the figures to add as functions
(``file name -> draw(table, path)``); this module passes the report layer's figure functions, so
the CLI and :mod:`innosim` write the same files as before the split:

* :func:`write_compare`: ``compare.csv``, ``compare.json`` and ``compare.png``
  (:func:`innosim.report.waterfall.compare_figure`);
* :func:`write_explain`: ``explain.csv``, ``explain.json``, ``coalitions.csv`` and
  ``waterfall.png`` (:func:`innosim.report.waterfall.waterfall_figure`);
* :func:`sweep`: :func:`innosim.experiments.sweep.sweep`, with ``phase.png``
  (:func:`innosim.report.phase.phase_figure`) when ``figure`` is set;
* :func:`validate`: :func:`innosim.experiments.validate.validate`, with the four
  ``validation_<family>.png`` (:func:`innosim.report.validation_figures.validation_figures`)
  in ``out``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from innosim.experiments.compare import write_compare as write_compare_tables
from innosim.experiments.design import ParamRange
from innosim.experiments.executor import Executor
from innosim.experiments.explain import write_explain as write_explain_tables
from innosim.experiments.sweep import sweep as sweep_tables
from innosim.experiments.validate import Targets
from innosim.experiments.validate import validate as validate_tables
from innosim.params.scenario import Scenario
from innosim.report.phase import phase_figure
from innosim.report.validation_figures import validation_figures
from innosim.report.waterfall import compare_figure, waterfall_figure

__all__ = ["sweep", "validate", "write_compare", "write_explain"]

Progress = Callable[[int, int], None]


def write_compare(df: pd.DataFrame, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``compare.csv``, ``compare.json`` (the table with the run's attributes and
    per-replicate values) and ``compare.png`` (relative change of every outcome per city with
    its 90% interval) into ``out_dir``, atomically."""
    return write_compare_tables(df, out_dir, figures={"compare.png": compare_figure})


def write_explain(df: pd.DataFrame, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``explain.csv`` (the table), ``explain.json`` (table and attributes: coalitions,
    per-replicate Shapley values), ``coalitions.csv`` and ``waterfall.png`` into ``out_dir``,
    atomically."""
    return write_explain_tables(df, out_dir, figures={"waterfall.png": waterfall_figure})


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
    figure: bool = False,
) -> pd.DataFrame:
    """:func:`innosim.experiments.sweep.sweep`; with ``out`` and ``figure``, also draw the phase
    diagram ``phase.png`` (:func:`innosim.report.phase.phase_figure`)."""
    return sweep_tables(
        scenario,
        params,
        design=design,
        n=n,
        replicates=replicates,
        metrics=metrics,
        year=year,
        city=city,
        seed=seed,
        scale=scale,
        out=out,
        executor=executor,
        workers=workers,
        progress=progress,
        figures={"phase.png": phase_figure} if figure else None,
    )


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
) -> pd.DataFrame:
    """:func:`innosim.experiments.validate.validate`; with ``out``, also draw the four
    validation figures ``validation_<family>.png``
    (:func:`innosim.report.validation_figures.validation_figures`) there."""
    return validate_tables(
        targets_or_path,
        scenario=scenario,
        replicates=replicates,
        seed=seed,
        workers=workers,
        progress=progress,
        out=out,
        executor=executor,
        figures=validation_figures,
    )
