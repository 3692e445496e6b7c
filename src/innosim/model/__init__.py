"""The model: which mechanisms run, in what order, and the run loop over them.

``innosim.model.runner(scenario, seed)`` compiles the scenario's parameters, builds the state and
advances it tick by tick through :data:`MECHANISMS` (fusing consecutive compiled mechanisms into
one kernel call per tick, :mod:`innosim.model.fuse`); it returns a :class:`RunResult` whose
tables follow :mod:`innosim.schema`.
"""

from __future__ import annotations

from innosim.model.order import CORE_MECHANISMS, MECHANISMS, NAMES
from innosim.model.runner import RunResult, init_state, run, yearly
from innosim.model.warmup import warm_up

__all__ = [
    "CORE_MECHANISMS",
    "MECHANISMS",
    "NAMES",
    "RunResult",
    "init_state",
    "run",
    "warm_up",
    "yearly",
]
