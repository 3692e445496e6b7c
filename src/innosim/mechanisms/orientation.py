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

Implementation. One kernel walks the firms, and each firm founded this tick (orientation still -1)
draws To C, To B or To G from its city's demand mix and its wave's consumer share."""

from __future__ import annotations

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import LV, F, direct, i8
from innosim.engine.kernels.rng import categorical, seed_state

NAME = "orientation"


@njit(cache=True)
def kernel(ks, fb, fo, f_n, wave_toc, levers):
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

    call = direct(kernel)

    def step(state, params, rng) -> None:
        f = state.firms
        call(ks, f.block, f.offsets, f.n, toc, state.lever_array)

    step.parts = (ks, toc)  # for the fused tick (fast.tick)
    return step


__all__ = ["make"]
