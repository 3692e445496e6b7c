"""Orientation at founding: To C, To B or To G from the local demand mix (claims C6, C7).

Rule. A newly founded firm in city c entering wave w chooses its orientation o with probability

    P(To C) ∝ D^C_c * t_w,   P(To B) ∝ D^B_c * (1 - t_w),   P(To G) ∝ D^G_c * B_c,

where D^C, D^B, D^G are the city's demand-mix weights (``demand_consumer``,
``demand_enterprise``, ``demand_government``: consumers and traffic, enterprise clients,
government procurement), ``t_w`` the wave's consumer share and ``B_c`` the city's
``procurement_budget`` lever. A city whose demand comes from clients and procurement ("Party-A
driven", C7) thus founds mostly To B and To G firms; a city that starts from consumer demand
(Taobao, Alipay, live streaming, C6) founds To C firms. Orientation then sets how
the firm learns, grows, is valued and adapts (growth and waves mechanisms).

References: claim C6 and C7 of the source article; Isenberg (2010) on markets as an ecosystem
domain; Stam (2015).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import ModelParams, State
from innosim.mechanisms._util import categorical_rows

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
