"""Compiled orientation at founding (rule: :mod:`innosim.mechanisms.orientation`).

One kernel walks the firms, and each firm founded this tick (orientation still -1) draws To C,
To B or To G from its city's demand mix and its wave's consumer share.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from innosim.mechanisms.fast._layout import LV, F, direct, i8
from innosim.mechanisms.fast._rng import categorical, seed_state


@njit(cache=True)
def _kernel(ks, fb, fo, f_n, wave_toc, levers):
    f_city, f_wave, f_orientation = (
        i8(fb, fo, F.city),
        i8(fb, fo, F.wave),
        i8(fb, fo, F.orientation),
    )
    consumer, enterprise = levers[LV.demand_consumer], levers[LV.demand_enterprise]
    government, budget = levers[LV.demand_government], levers[LV.procurement_budget]
    w = np.empty(3)
    chosen = 0
    for i in range(f_n):
        if f_orientation[i] >= 0:
            continue
        c = f_city[i]
        t = wave_toc[f_wave[i]]
        w[0] = consumer[c] * t
        w[1] = enterprise[c] * (1.0 - t)
        w[2] = government[c] * budget[c]
        s = w[0] + w[1] + w[2]
        if s > 0:
            w[0], w[1], w[2] = w[0] / s, w[1] / s, w[2] / s
        else:
            w[0], w[1], w[2] = 0.0, 1.0, 0.0
        f_orientation[i] = categorical(ks, w)
        chosen += 1
    return chosen


def make(params, rng):
    ks = seed_state(rng)
    toc = params.wave_toc.astype(np.float64)

    kernel = direct(_kernel)

    def step(state, params, rng) -> None:
        f = state.firms
        kernel(ks, f.block, f.offsets, f.n, toc, state.lever_array)

    step.parts = (ks, toc)  # for the fused tick (fast.tick)
    return step


__all__ = ["make"]
