"""Experiments over ensembles of runs: a local process-pool executor and target validation."""

from __future__ import annotations

from innosim.experiments.executor import RunTask, map_runs
from innosim.experiments.validate import Target, Targets, load_targets, validate

__all__ = ["RunTask", "Target", "Targets", "load_targets", "map_runs", "validate"]
