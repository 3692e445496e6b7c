"""Oracle: orientation at founding: To C, To B or To G from the local demand mix (claims C6, C7).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.orientation` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import ModelParams, State
from innosim.mechanisms.sampling import categorical_rows

NAME = "orientation"


def mix(state: State, params: ModelParams, city: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """Orientation probabilities (k, 3) for firms in ``city`` entering ``wave``."""
    lv = state.levers
    t = params.wave_toc[wave]
    w = np.stack(
        [
            lv.demand_consumer[city] * t,
            lv.demand_enterprise[city] * (1.0 - t),
            lv.demand_government[city] * lv.procurement_budget[city],
        ],
        axis=1,
    )
    s = w.sum(axis=1, keepdims=True)
    out = np.where(s > 0, w / np.where(s > 0, s, 1.0), np.array([[0.0, 1.0, 0.0]]))
    return out


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    f = state.firms
    new = np.flatnonzero(f.orientation < 0)
    if new.size == 0:
        return
    probs = mix(state, params, f.city[new].astype(np.int64), f.wave[new].astype(np.int64))
    f.orientation[new] = categorical_rows(rng, probs, np.arange(new.size)).astype(np.int8)
