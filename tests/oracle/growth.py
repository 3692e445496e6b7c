"""Oracle: learning and growth: capability, market shares, revenue, hiring and cash (claims C6, C7, C12).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.growth` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import TOB, TOC, TOG, ModelParams, State
from innosim.mechanisms.growth import MAX_HEADCOUNT
from innosim.schema import TICKS_PER_YEAR

NAME = "growth"


def _by_orientation(o: np.ndarray, toc: float, tob: float, tog: float) -> np.ndarray:
    return np.array([toc, tob, tog], dtype=np.float64)[o]


def segments(state: State, params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """Segment of every firm and demand per tick of every segment.

    To C of wave w -> segment w (one national market: traffic knows no city limits);
    To B of wave w in city c -> n_w + w * n_c + c (enterprise clients buy from nearby suppliers,
    so each city holds its share of the enterprise market, in proportion to its pool);
    To G of wave w in city c -> n_w + n_w * n_c + w * n_c + c (the city's procurement budget
    spread over the waves by their lagged enterprise markets). Enterprise and government
    demand follow the waves ``procurement_lag_years`` late (``state.market_lagged``).
    """
    f, n_w, n_c = state.firms, params.n_waves, params.n_cities
    o = f.orientation.astype(np.int64)
    wave, city = f.wave.astype(np.int64), f.city.astype(np.int64)
    seg = np.where(
        o == TOC,
        wave,
        np.where(o == TOB, n_w + wave * n_c + city, n_w + n_w * n_c + wave * n_c + city),
    )
    pool = state.city.pool
    local = pool / max(float(pool.sum()), 1.0)
    enterprise = state.market_lagged * (1.0 - params.wave_toc)
    tob = enterprise[:, None] * local[None, :]
    total = float(enterprise.sum())
    weight = enterprise / total if total > 0 else np.zeros_like(enterprise)
    budget = state.levers.procurement_budget * pool / TICKS_PER_YEAR
    tog = weight[:, None] * budget[None, :]
    d = np.concatenate([state.market * params.wave_toc, tob.reshape(-1), tog.reshape(-1)])
    return seg, d


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, f, p, lv = params.g, state.firms, state.people, state.levers
    # skill grows for the founders leading innovative firms
    # (a masked add over every row: adding 0 leaves the others bit for bit, and it avoids the
    # gather-scatter of boolean indexing, about 10x faster on 10^6 people)
    working = p.employer >= 0
    skill, tenure = p.skill, p.tenure  # views into the table's columns
    np.add(skill, working * np.float32(g.skill_growth / TICKS_PER_YEAR), out=skill)
    np.add(tenure, working, out=tenure)
    if f.n == 0:
        return
    n = f.n
    o = f.orientation.astype(np.int64)
    wave = f.wave.astype(np.int64)
    city = f.city.astype(np.int64)

    # learning ----------------------------------------------------------------------------
    loga = np.log(np.maximum(f.capability.astype(np.float64), 1e-12))
    frontier = np.full(params.n_waves, -np.inf)
    np.maximum.at(frontier, wave, loga)
    lam = _by_orientation(o, g.learning_rate_toc, g.learning_rate_tob, g.learning_rate_tog)
    sig = _by_orientation(o, g.capability_noise_toc, g.capability_noise_tob, g.capability_noise_tog)
    loga += lam / TICKS_PER_YEAR * (frontier[wave] - loga) + sig * np.sqrt(
        1.0 / TICKS_PER_YEAR
    ) * rng.standard_normal(n)
    loga = np.clip(loga, -20.0, 20.0)
    f.capability[:] = np.exp(loga)

    # demand ------------------------------------------------------------------------------
    seg, seg_demand = segments(state, params)
    alpha = _by_orientation(
        o, g.increasing_returns_toc, g.increasing_returns_tob, g.increasing_returns_tog
    )
    fit = np.where(o == TOG, 1.0, state.city.fit[city, wave])
    log_attr = (
        g.capability_weight * loga
        + alpha * np.log1p(f.employment / g.size_reference)
        + np.log(np.maximum(fit, 1e-12))
    )
    log_attr -= log_attr.max()
    attr = np.exp(log_attr)
    total = np.bincount(seg, weights=attr, minlength=seg_demand.size)
    demand = seg_demand[seg] * attr / np.maximum(total[seg], 1e-300)
    f.demand[:] = demand
    pin = f.procurement_in.astype(np.float64)
    emp = f.employment.astype(np.float64)
    # revenue per employee; consumer platforms gain user-side economies of scale (C6)
    size = 1.0 + emp / g.size_reference
    per_head = g.labour_productivity * np.where(o == TOC, size**g.toc_scale_economies, 1.0)
    capacity = 1.5 * np.maximum(emp, 1.0) * per_head / TICKS_PER_YEAR
    revenue = np.minimum(demand + pin, capacity)

    # costs, cash -------------------------------------------------------------------------
    young = (state.t - f.born) < 3 * TICKS_PER_YEAR
    wage_rate = g.innovation_wage / TICKS_PER_YEAR * (1.0 - np.where(young, lv.subsidy[city], 0.0))
    paid = np.maximum(emp - (f.founder >= 0), 0.0)  # founders draw no salary
    wages = paid * wage_rate
    fixed = g.fixed_cost / TICKS_PER_YEAR
    purchases = f.procurement_out.astype(np.float64)
    profit = revenue - wages - fixed - purchases
    f.revenue[:] = revenue
    f.wages[:] = wages
    f.profit[:] = profit
    f.cash[:] = f.cash + profit
    prev = f.revenue_year.astype(np.float64)
    growth_rate = np.where(prev > 0, revenue / np.maximum(prev, 1e-12) - 1.0, 0.0)
    f.revenue_year[:] = np.where(prev > 0, 0.8 * prev + 0.2 * revenue, revenue)

    # valuation ---------------------------------------------------------------------------
    mult = _by_orientation(
        o, g.valuation_multiple_toc, g.valuation_multiple_tob, g.valuation_multiple_tog
    )
    val = TICKS_PER_YEAR * revenue * (mult + g.growth_premium * np.clip(growth_rate, 0.0, 3.0))
    recent = (f.last_round >= 0) & (state.t - f.last_round < 2 * TICKS_PER_YEAR)
    f.valuation[:] = np.where(recent, np.maximum(val, f.post_money), val)

    # target employment -------------------------------------------------------------------
    rho = np.where(f.chain_master, g.procurement_share, 0.0)
    need = TICKS_PER_YEAR * demand * (1.0 - rho) / per_head
    need += TICKS_PER_YEAR * pin * (1.0 - g.supplier_margin) / max(g.innovation_wage, 1e-9)
    quarterly_cost = wages + fixed
    spare = np.maximum(f.cash - 2.0 * quarterly_cost, 0.0)
    need += spare / max(g.innovation_wage * g.runway_years, 1e-9)
    people = max(float(state.city.pool.sum()), 1.0)
    need = np.clip(need, 1.0, min(people, MAX_HEADCOUNT))  # nor beyond the whole labour force
    f.target[:] = emp + g.hiring_speed * (need - emp)

    # layoffs -----------------------------------------------------------------------------
    excess = np.floor(emp - np.maximum(np.ceil(f.target), 1.0)).astype(np.int64)
    if (excess > 0).any():  # staff are headcounts
        cut = np.maximum(excess, 0)
        f.employment[:] -= cut.astype(f.employment.dtype)
        state.flows.separations += np.bincount(city, weights=cut, minlength=state.flows.n)
