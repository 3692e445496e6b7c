"""Oracle: technology waves: market S-curves, decline, and incumbents' adaptation (claims C1, C6, C7).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.waves` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import ModelParams, State
from innosim.mechanisms.sampling import per_tick
from innosim.schema import TICKS_PER_YEAR

NAME = "waves"


def demand(params: ModelParams, t: int, people: float) -> np.ndarray:
    """Demand per tick of every wave at tick ``t`` (model CNY)."""
    g = params.g
    age = (t - params.wave_start) / TICKS_PER_YEAR
    gr = params.wave_growth
    s = 1.0 / (1.0 + np.exp(-gr * (age - 4.0 / gr)))
    decline = np.exp(-g.wave_decline_rate * np.maximum(0.0, age - g.wave_life_years))
    m = params.wave_weight * g.market_per_person * people / TICKS_PER_YEAR * s * decline
    return np.where(age >= 0, m, 0.0)


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g = params.g
    people = float(state.city.pool.sum())  # real people at the start of the tick
    now = demand(params, state.t, people)
    year_ago = demand(params, state.t - TICKS_PER_YEAR, people)
    state.market[:] = now
    state.market_growth[:] = np.maximum(now - year_ago, 0.0)
    state.market_lagged[:] = demand(
        params, state.t - TICKS_PER_YEAR * g.procurement_lag_years, people
    )

    f = state.firms
    if f.n == 0:
        return
    age_w = (state.t - params.wave_start) / TICKS_PER_YEAR
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
