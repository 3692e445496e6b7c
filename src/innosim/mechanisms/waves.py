"""Technology waves: market S-curves, decline, and incumbents' adaptation (claims C1, C6, C7).

Rule. Wave w opens at tick ``s_w`` and its demand per tick follows a logistic S-curve that
declines once the wave is older than ``wave_life_years``:

    M_w(t) = weight_w * m * N(t) / 4 * S_w(a) * exp(-delta * max(0, a - life)),
    S_w(a) = 1 / (1 + exp(-g_w (a - 4/g_w))),   a = (t - s_w)/4 years  (a >= 0),

where ``m = market_per_agent`` and N(t) the number of person-agents in the system (so firm
sizes do not depend on the agent scale). ``market_growth`` is the positive change of M_w over the
last year, the signal founders and incumbents follow.

Adaptation (C1, C7: firms tied to a wave adapt to the next with a probability set by their
market sensitivity, or decline). While a newer wave is within ``adaptation_window_years`` of its
start, each living firm of an older wave moves to the best open wave of its city (largest
``fit * market_growth``) with per-tick probability ``1 - exp(-rho_o / 4)``, where ``rho_o`` is
the ``adaptation_rate`` of its orientation (To C firms read the market; To B and To G firms
are buffered by clients and adapt rarely). A move costs a share ``adaptation_capability_loss``
of capability. Firms that stay behind see their wave's market decline and shrink or fail.

References: Christensen (1997); Gans (2016); Tushman and Anderson (1986); Klepper (1996).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import ModelParams, State
from innosim.mechanisms._util import TPY, per_tick

NAME = "waves"


def demand(params: ModelParams, t: int, n_agents: int) -> np.ndarray:
    """Demand per tick of every wave at tick ``t`` (model CNY)."""
    g = params.g
    age = (t - params.wave_start) / TPY
    gr = params.wave_growth
    s = 1.0 / (1.0 + np.exp(-gr * (age - 4.0 / gr)))
    decline = np.exp(-g.wave_decline_rate * np.maximum(0.0, age - g.wave_life_years))
    m = params.wave_weight * g.market_per_agent * n_agents / TPY * s * decline
    return np.where(age >= 0, m, 0.0)


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g = params.g
    n_agents = state.people.n
    now = demand(params, state.t, n_agents)
    year_ago = demand(params, state.t - TPY, n_agents)
    state.market[:] = now
    state.market_growth[:] = np.maximum(now - year_ago, 0.0)

    f = state.firms
    if f.n == 0:
        return
    age_w = (state.t - params.wave_start) / TPY
    open_w = (age_w >= 0) & (age_w <= g.adaptation_window_years)
    if not open_w.any():
        return
    # best open wave per city
    score = state.city.fit * state.market_growth[None, :]
    score = np.where(open_w[None, :], score, -1.0)
    best = score.argmax(axis=1)  # (n_cities,)
    has_best = score.max(axis=1) > 0
    target = best[f.city]
    older = params.wave_start[f.wave] < params.wave_start[target]
    cand = has_best[f.city] & older & (f.wave != target)
    if not cand.any():
        return
    rate = np.array([g.adaptation_rate_toc, g.adaptation_rate_tob, g.adaptation_rate_tog])
    p = per_tick(rate)[f.orientation]
    move = cand & (rng.random(f.n) < p)
    f.wave[move] = target[move]
    f.capability[move] *= np.float32(1.0 - g.adaptation_capability_loss)
