"""Technology waves: market S-curves, decline, and incumbents' adaptation (claims C1, C6, C7).

Rule. Wave w opens at tick ``s_w`` and its demand per tick follows a logistic S-curve that
declines once the wave is older than ``wave_life_years``:

    M_w(t) = weight_w * m * N(t) / 4 * S_w(a) * exp(-delta * max(0, a - life)),
    S_w(a) = 1 / (1 + exp(-g_w (a - 4/g_w))),   a = (t - s_w)/4 years  (a >= 0),

where ``m = market_per_person`` and N(t) the number of real people in the system at the start of
the tick (the cities' pools: the same market at any agent scale). ``market_growth`` is the
positive change of M_w over the last year, the signal founders and incumbents follow.
``market_lagged`` is M_w(t - 4 L) with ``L = procurement_lag_years``, evaluated with the current
N(t): the wave's demand as enterprise and government clients see it (they buy what was new L
years ago; the growth mechanism, C6).

Adaptation (C1, C7: firms tied to a wave adapt to the next with a probability set by their
market sensitivity, or decline). While a newer wave is within ``adaptation_window_years`` of its
start, each living firm of an older wave moves to the best open wave of its city (largest
``fit * market_growth``) with per-tick probability ``1 - exp(-rho_o / 4)``, where ``rho_o`` is
the ``adaptation_rate`` of its orientation (To C firms read the market; To B and To G firms
are buffered by clients and adapt rarely). A move costs a share ``adaptation_capability_loss``
of capability. Firms that stay behind see their wave's market decline and shrink or fail.

References: Christensen (1997); Gans (2016); Tushman and Anderson (1986); Klepper (1996).

Implementation. One kernel computes every wave's demand now and a year ago (the S-curve with
decline), the market and its growth, each city's best open wave, and moves the firms of older waves
that adapt this tick (a uniform per candidate firm at its orientation's per-tick rate)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import F, blank, constants, direct, f32, i8, record
from innosim.engine.kernels.rng import seed_state, uniform

NAME = "waves"

WavesConstants = record(
    "WavesConstants",
    __name__,
    (
        "market_per_person", "wave_decline_rate", "wave_life_years", "adaptation_window_years",
        "adaptation_capability_loss", "procurement_lag_years",
    ),
    ("adaptation_per_tick_toc", "adaptation_per_tick_tob", "adaptation_per_tick_tog"),
)  # fmt: skip
"""The kernel's constants (``kp``): the declared parameters of that name, then the probability
per tick of adapting (``adaptation_rate_*`` as a per-tick probability) by orientation."""
NO_CONSTANTS = blank(WavesConstants)


@njit(cache=True, error_model="numpy")
def _demand(kp, wave_start, wave_growth, wave_weight, t, people, out):
    """``innosim.mechanisms.waves.demand`` into ``out`` (same operations, same order)."""
    for w in range(out.shape[0]):
        age = (t - wave_start[w]) / 4.0
        gr = wave_growth[w]
        s = 1.0 / (1.0 + math.exp(-gr * (age - 4.0 / gr)))
        decline = math.exp(-kp.wave_decline_rate * max(0.0, age - kp.wave_life_years))
        m = wave_weight[w] * kp.market_per_person * people / 4.0 * s * decline
        out[w] = m if age >= 0 else 0.0


@njit(cache=True, error_model="numpy")
def kernel(
    ks, kp, t, people, wave_start, wave_growth, wave_weight, market, market_growth,
    market_lagged, fit, fb, fo, f_n,
):  # fmt: skip
    """Market, growth and lagged market of every wave; adaptation of incumbents. Returns firms
    that moved."""
    f_city, f_wave, f_orientation = (
        i8(fb, fo, F.city),
        i8(fb, fo, F.wave),
        i8(fb, fo, F.orientation),
    )
    capability = f32(fb, fo, F.capability)
    n_c, n_w = fit.shape
    ago = np.empty(n_w)
    _demand(kp, wave_start, wave_growth, wave_weight, t, people, market)
    _demand(kp, wave_start, wave_growth, wave_weight, t - 4, people, ago)
    lag = t - 4.0 * kp.procurement_lag_years
    _demand(kp, wave_start, wave_growth, wave_weight, lag, people, market_lagged)
    for w in range(n_w):
        market_growth[w] = max(market[w] - ago[w], 0.0)
    if f_n == 0:
        return 0
    any_open = False
    open_w = np.zeros(n_w, np.bool_)
    for w in range(n_w):
        age = (t - wave_start[w]) / 4.0
        open_w[w] = age >= 0 and age <= kp.adaptation_window_years
        any_open = any_open or open_w[w]
    if not any_open:
        return 0
    # best open wave per city (first of equal scores, as argmax), and whether it grows
    best = np.zeros(n_c, np.int64)
    has_best = np.zeros(n_c, np.bool_)
    for c in range(n_c):
        top = -np.inf
        for w in range(n_w):
            score = fit[c, w] * market_growth[w] if open_w[w] else -1.0
            if score > top:
                top = score
                best[c] = w
        has_best[c] = top > 0
    adaptation_per_tick = np.array(
        [kp.adaptation_per_tick_toc, kp.adaptation_per_tick_tob, kp.adaptation_per_tick_tog]
    )
    keep = np.float32(1.0 - kp.adaptation_capability_loss)
    moved = 0
    for i in range(f_n):
        c = f_city[i]
        target = best[c]
        w = f_wave[i]
        if has_best[c] and wave_start[w] < wave_start[target] and w != target:
            if uniform(ks) < adaptation_per_tick[f_orientation[i]]:
                f_wave[i] = target
                capability[i] *= keep
                moved += 1
    return moved


def make(params, rng):
    g = params.g
    rates = np.array([g.adaptation_rate_toc, g.adaptation_rate_tob, g.adaptation_rate_tog])
    per_tick = -np.expm1(-rates / 4.0)  # per_tick
    kp = constants(
        WavesConstants,
        g,
        derived={
            "adaptation_per_tick_toc": per_tick[0],
            "adaptation_per_tick_tob": per_tick[1],
            "adaptation_per_tick_tog": per_tick[2],
        },
    )
    ks = seed_state(rng)
    start = params.wave_start.astype(np.int64)
    growth = params.wave_growth.astype(np.float64)
    weight = params.wave_weight.astype(np.float64)

    call = direct(kernel)

    def step(state, params, rng) -> None:
        f = state.firms
        call(
            ks, kp, state.t, float(state.city.pool.sum()), start, growth, weight, state.market,
            state.market_growth, state.market_lagged, state.city.fit, f.block, f.offsets, f.n,
        )  # fmt: skip

    step.parts = (ks, kp, start, growth, weight)  # for the fused tick (fast.tick)
    return step


__all__ = ["make"]
