"""innosim: measure, simulate, explain and plan a city's innovation ecosystem.

The public API (everything the CLI does is a thin layer over these):

>>> import innosim
>>> sc = innosim.load_scenario("demo")
>>> result = innosim.run(sc, seed=1)
>>> result.summary()          # per-city table (pandas)

``import innosim`` is lazy (PEP 562): each name of ``__all__`` is imported from the module that
defines it (:data:`_LAZY`) on first access, so the package itself loads no numerical library;
submodules (``innosim.data``, ``innosim.report``, ...) are likewise imported when first used.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from innosim.version import SOURCE_VERSION

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
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

_LAZY: dict[str, tuple[str, str]] = {
    "PARAMS": ("innosim.params.declarations", "PARAMS"),
    "Executor": ("innosim.experiments.executor", "Executor"),
    "InnosimError": ("innosim.errors", "InnosimError"),
    "InputError": ("innosim.errors", "InputError"),
    "InvariantError": ("innosim.errors", "InvariantError"),
    "RunResult": ("innosim.model.runner", "RunResult"),
    "Scenario": ("innosim.params.scenario", "Scenario"),
    "ScenarioError": ("innosim.errors", "ScenarioError"),
    "StoreError": ("innosim.errors", "StoreError"),
    "calibrate": ("innosim.experiments.calibrate", "calibrate"),
    "compare": ("innosim.experiments.compare", "compare"),
    "conflicts": ("innosim.data", "conflicts"),
    "counterfactual": ("innosim.api", "counterfactual"),
    "coverage": ("innosim.data", "coverage"),
    "ensemble": ("innosim.api", "ensemble"),
    "ensemble_stats": ("innosim.api", "ensemble_stats"),
    "explain": ("innosim.experiments.explain", "explain"),
    "gap_closed": ("innosim.api", "gap_closed"),
    "list_scenarios": ("innosim.params.scenario", "list_scenarios"),
    "load_dataset": ("innosim.data", "load_dataset"),
    "load_scenario": ("innosim.params.scenario", "load_scenario"),
    "load_summary": ("innosim.api", "load_summary"),
    "load_targets": ("innosim.experiments", "load_targets"),
    "params_table": ("innosim.api", "params_table"),
    "replicate_seeds": ("innosim.engine.rng", "replicate_seeds"),
    "resolve": ("innosim.data", "resolve"),
    "run": ("innosim.model.runner", "run"),
    "save_run": ("innosim.api", "save_run"),
    "sensitivity": ("innosim.experiments.sensitivity", "sensitivity"),
    "simulate": ("innosim.api", "simulate"),
    "sweep": ("innosim.report.outputs", "sweep"),
    "sweep_summary": ("innosim.experiments.sweep", "sweep_summary"),
    "validate": ("innosim.report.outputs", "validate"),
    "write_report": ("innosim.report.html", "report"),
    "yearly": ("innosim.model.runner", "yearly"),
}
"""Public name -> (module that defines it, its name there); imported on first access."""


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first access and cached in the package; else
    a submodule (``innosim.data``, ...), imported as the eager package once did."""
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
