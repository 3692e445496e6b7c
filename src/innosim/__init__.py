"""innosim: measure, simulate, explain and plan a city's innovation ecosystem.

The public API (everything the CLI does is a thin layer over these):

>>> import innosim
>>> sc = innosim.load_scenario("demo")
>>> result = innosim.run(sc, seed=1)
>>> result.summary()          # per-city table (pandas)
"""

from __future__ import annotations

from innosim.api import (
    counterfactual,
    ensemble,
    ensemble_stats,
    gap_closed,
    load_summary,
    params_table,
    save_run,
    simulate,
)
from innosim.data import conflicts, coverage, load_dataset, resolve
from innosim.engine.rng import replicate_seeds
from innosim.errors import InnosimError, InputError, InvariantError, ScenarioError, StoreError
from innosim.experiments import load_targets
from innosim.experiments.calibrate import calibrate
from innosim.experiments.compare import compare
from innosim.experiments.executor import Executor
from innosim.experiments.explain import explain
from innosim.experiments.sensitivity import sensitivity
from innosim.experiments.sweep import sweep_summary
from innosim.model.runner import RunResult, run, yearly
from innosim.params.declarations import PARAMS
from innosim.params.scenario import Scenario, list_scenarios, load_scenario
from innosim.report.html import report as write_report
from innosim.report.outputs import sweep, validate  # the experiments, with their figures
from innosim.version import SOURCE_VERSION

__version__ = SOURCE_VERSION

__all__ = [
    "PARAMS",
    "Executor",
    "InnosimError",
    "InputError",
    "InvariantError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StoreError",
    "__version__",
    "calibrate",
    "compare",
    "conflicts",
    "counterfactual",
    "coverage",
    "ensemble",
    "ensemble_stats",
    "explain",
    "gap_closed",
    "list_scenarios",
    "load_dataset",
    "load_scenario",
    "load_summary",
    "load_targets",
    "params_table",
    "replicate_seeds",
    "resolve",
    "run",
    "save_run",
    "sensitivity",
    "simulate",
    "sweep",
    "sweep_summary",
    "validate",
    "write_report",
    "yearly",
]
