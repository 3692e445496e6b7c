"""Oracle: founding and the fear of failure (claims C8, C9, C10; C1, C6 for where founders look).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.founding` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.kernels.layout import CL
from innosim.engine.state import FOUNDER, ModelParams, State
from innosim.mechanisms.climate import culture
from innosim.mechanisms.founding import VALUE_SCALE
from innosim.mechanisms.sampling import categorical_rows

NAME = "founding"


def opportunity(state: State, params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """(O_c per city, probability of entering each wave per city (n_cities, n_waves))."""
    growth = state.market_growth
    total = growth.sum()
    if total <= 0:
        share = (state.market > 0).astype(float)
        share = share / max(share.sum(), 1.0)
    else:
        share = growth / total
    w = state.city.fit * share[None, :]
    o = w.sum(axis=1)
    probs = w / np.maximum(o[:, None], 1e-300)
    return o, probs


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, p, f, fl, lv = params.g, state.people, state.firms, state.flows, state.levers
    n_c = params.n_cities
    o, wave_probs = opportunity(state, params)
    if o.sum() <= 0:
        return
    pull = np.power(np.maximum(o, 0.0), g.opportunity_market_elasticity)
    capital = np.maximum(state.city.climate[CL.capital_index], 1e-6)
    pull = pull * capital**g.capital_entry_elasticity
    faced = np.empty((2, n_c))
    culture(state.lever_array, state.city.climate, faced)  # tolerance, stigma (lever + learned)
    # spinoffs: employees perceive at spinoff_rate x (capability / wave frontier)^elasticity
    # (x spinoff_toc_premium for a To C firm), per person of the city
    weight_f = np.zeros(f.n)
    spin = np.zeros(n_c)
    if g.spinoff_rate > 0 and f.n:
        frontier = np.zeros(params.n_waves)
        np.maximum.at(frontier, f.wave.astype(np.int64), f.capability.astype(np.float64))
        rel = f.capability.astype(np.float64) / np.maximum(frontier[f.wave], 1e-30)
        weight_f = f.employment * rel**g.spinoff_quality_elasticity
        weight_f = np.maximum(np.where(f.orientation == 0, weight_f * g.spinoff_toc_premium,
                                       weight_f), 0.0)  # fmt: skip
        q = np.bincount(f.city.astype(np.int64), weights=weight_f, minlength=n_c)
        spin = g.spinoff_rate / 4 * q / np.maximum(state.city.pool, 1.0)
    h_c = (g.opportunity_rate / 4) * pull
    h_s = (g.serial_opportunity_rate / 4) * pull  # people who founded before
    p_c = -np.expm1(-(h_c + spin))
    p_s = -np.expm1(-(h_s + spin))
    # the perceivers among the real people of every row (a founder's row does not perceive)
    people = np.where(p.status != FOUNDER, p.weight, 0)
    rate = np.where(p.ventures > 0, p_s[p.city], p_c[p.city])
    cand = np.repeat(np.arange(p.n), rng.binomial(people, rate))
    if cand.size == 0:
        return
    city = p.city[cand].astype(np.int64)
    # which perceivers are employees seeing a spinoff, and of which firm of their city
    hazard = np.where(p.ventures[cand] > 0, h_s[city], h_c[city]) + spin[city]
    is_spin = rng.random(cand.size) < spin[city] / np.maximum(hazard, 1e-300)
    parent = np.full(cand.size, -1, np.int64)
    for c in np.unique(city[is_spin]):  # loop over cities
        sel = np.flatnonzero(is_spin & (city == c))
        firms_c = np.flatnonzero(f.city == c)
        w = weight_f[firms_c]
        parent[sel] = firms_c[rng.choice(firms_c.size, size=sel.size, p=w / w.sum())]
    failed = p.failures[cand] > 0
    value = (
        rng.logistic(0.0, VALUE_SCALE, cand.size)
        + g.founder_skill_weight * p.skill[cand]
        + g.founder_experience_weight * p.ventures[cand]
        - g.founding_threshold
    )
    penalty = (
        g.failure_cost * (1.0 - faced[0][city])
        + lv.process_control[city]
        - lv.private_support[city]
        + failed * (faced[1][city] + lv.restart_cost[city])
    )
    found = value - penalty > 0
    deterred = (value > 0) & ~found
    fl.perceivers += np.bincount(city, minlength=n_c)
    fl.deterred += np.bincount(city[deterred], minlength=n_c)
    fl.restart_candidates += np.bincount(city[failed], minlength=n_c)
    fl.restarts += np.bincount(city[failed & found], minlength=n_c)
    sources = cand[found]
    parents = parent[found]
    k = sources.size
    if k == 0:
        return
    fcity = city[found]
    # a founder from a row of several people splits off as a row of one; the last person of a
    # row takes the row itself
    founders = sources.copy()
    for j, i in enumerate(sources):
        if p.weight[i] > 1:
            p.weight[i] -= 1
            row = p.append(1, **{name: p.col(name)[i : i + 1].copy() for name in p.raw})
            founders[j] = row.start
            p.weight[row.start] = 1
            p.id[row.start] = state.new_person_ids(1)[0]
    wave = categorical_rows(rng, wave_probs, fcity)
    spun = parents >= 0
    wave[spun] = f.wave[parents[spun]]  # a spinoff enters its parent's wave
    skill = p.skill[founders].astype(np.float64)
    history = p.last_outcome[founders]
    own = np.log(0.5 + skill)
    if spun.any():  # part of the parent's capability
        parent_cap = f.capability[parents[spun]].astype(np.float64)
        h = g.spinoff_inheritance
        own[spun] = (1 - h) * own[spun] + h * np.log(np.maximum(parent_cap, 1e-30))
    log_cap = own + g.success_capability_premium * (history == 2)
    orientation = np.full(k, -1, np.int8)
    keep = spun & (rng.random(k) < g.spinoff_orientation_inheritance)
    orientation[keep] = f.orientation[parents[keep]]
    parent_id = np.full(k, -1, np.int64)
    parent_id[spun] = f.id[parents[spun]]
    cap = np.exp(rng.normal(log_cap, 0.5)).astype(np.float32)
    own = g.founder_capital * np.exp(g.founder_capital_dispersion * rng.standard_normal(k))
    rows = f.append(
        k,
        id=state.new_firm_ids(k),
        city=fcity.astype(np.int8),
        branch=-1,
        orientation=orientation,
        wave=wave.astype(np.int8),
        parent=parent_id,
        born=state.t,
        founder=founders.astype(np.int32),
        founder_history=history,
        capability=cap,
        employment=1,
        target=1.0,
        cash=own.astype(np.float32),
        retained=1.0,
        died=-1,
        last_round=-1,
    )
    new_rows = np.arange(rows.start, rows.stop, dtype=np.int32)
    p.status[founders] = FOUNDER
    p.employer[founders] = new_rows
    p.ventures[founders] = np.minimum(p.ventures[founders].astype(np.int64) + 1, 255).astype(
        np.uint8
    )
    fl.entries += np.bincount(fcity, minlength=n_c)
    fl.spinoffs += np.bincount(fcity[spun], minlength=n_c)
