"""Experiments over ensembles of runs: executors (local pool, Dask), target validation, sweeps."""

from __future__ import annotations

from innosim.experiments.executor import Executor, RunTask, map_runs
from innosim.experiments.validate import Target, Targets, load_targets, validate

__all__ = ["Executor", "RunTask", "Target", "Targets", "load_targets", "map_runs", "validate"]
