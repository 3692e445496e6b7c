"""Careers and migration: where people work and live (claims C3, C5, C11).

Rule. Each tick every fresh graduate and each other person who is not leading a firm with
probability ``1 - exp(-search_rate/4)`` searches. A searcher living in city o chooses city c with
the logit probability

    P(c | o) ∝ exp( beta_w log y_c + beta_o J_c - chi log(N_c / N_c0) + tp_c + amenity_c
                    - kappa [c != o] ),

where y_c is the city's background productivity (expected pay, C11), J_c the share of the city's
people in innovative jobs or open positions (lead firms attract talent, C3), ``chi = congestion``
prices the city's growth since the start (housing, the Rosen-Roback spatial equilibrium),
``tp_c`` its talent programmes (a policy lever), and ``kappa`` the moving cost
(``graduate_moving_cost`` for fresh graduates, ``moving_cost`` otherwise) plus
``migration_distance_cost`` per 1,000 km between the two cities (the distance decay of gravity
models of migration; Tombe and Zhu 2019 estimate China's migration costs rising with distance).
A row that moves moves all the people it stands for. Innovative firms lose staff with the people
who leave: a firm's paid staff each quit with the probability that a person of the city where
they work moved away this tick.

Hiring. Firms post ``ceil(target) - employment`` vacancies; a chain master posts a share
``branch_share`` of them at its branch R&D city (C4). In every city the searchers after the moves
(real people: the rows' weights) fill that city's vacancies: if there are fewer searchers than
vacancies, every firm fills the same share of its vacancies (stochastically rounded). Staff are
headcounts: innovative firms are real firms whatever the agent scale, and the people table is a
sample of the population. Moves in and out are counted per city (talent flows, real people), and
among them the moves of fresh graduates choosing the city of their first job
(``graduate_moves_in/out``).

References: Tombe and Zhu (2019) on migration frictions in China; Moretti (2012) on high-tech
jobs and city choice; Zhaopin and Zeping talent-attraction reports (net inflow rates).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import FOUNDER, ModelParams, State
from innosim.mechanisms.sampling import (
    categorical_rows,
    people_per_city,
    sample_rows,
    stochastic_round,
)

NAME = "careers"


def staff_by_city(state: State, params: ModelParams) -> np.ndarray:
    """Innovative firms' staff (founders included) by the city where they work (n_cities,):
    a firm with a branch R&D city employs a share ``branch_share`` of its staff there."""
    f, n_c = state.firms, params.n_cities
    emp = f.employment.astype(np.float64)
    branch = f.branch >= 0
    away = np.where(branch, emp * params.g.branch_share, 0.0)
    out = np.bincount(f.city, weights=emp - away, minlength=n_c)
    if branch.any():
        out += np.bincount(f.branch[branch], weights=away[branch], minlength=n_c)
    return out


def city_utility(state: State, params: ModelParams) -> np.ndarray:
    """Utility of each city for a searcher, before moving costs (n_cities,)."""
    g, cs = params.g, state.city
    pool = np.maximum(cs.pool, 1.0)
    jobs = (staff_by_city(state, params) + cs.vacancies) / pool
    growth = np.log(pool / np.maximum(cs.pool0, 1.0))
    return (
        g.wage_weight * np.log(np.maximum(cs.productivity, 1e-9))
        + g.opportunity_weight * jobs
        - g.congestion * growth
        + state.levers.talent_programme
        + params.c.amenity
    )


def vacancies(state: State, params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """Open positions of every firm at its headquarters and at its branch (two int64 arrays)."""
    f = state.firms
    vac = np.maximum(np.ceil(f.target).astype(np.int64) - f.employment, 0)
    branch_vac = np.zeros_like(vac)
    has_branch = f.branch >= 0
    if has_branch.any():
        branch_vac[has_branch] = np.floor(vac[has_branch] * params.g.branch_share).astype(np.int64)
    return vac - branch_vac, branch_vac


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, p, f, fl = params.g, state.people, state.firms, state.flows
    n_c = params.n_cities
    pool = people_per_city(p, n_c)
    state.city.pool[:] = pool

    # who searches ------------------------------------------------------------------------
    sampled = sample_rows(rng, p.n, float(-np.expm1(-g.search_rate / 4)))
    searching = p.fresh.copy()
    searching[sampled] = True
    seekers = np.flatnonzero(searching)  # sorted, unique: as np.union1d, without hashing
    seekers = seekers[p.status[seekers] != FOUNDER]
    if seekers.size == 0:
        return

    # city choice -------------------------------------------------------------------------
    u = city_utility(state, params)
    stay = np.eye(n_c, dtype=bool)
    probs = []
    distance = g.migration_distance_cost * params.dist_km / 1000.0
    for kappa in (g.moving_cost, g.graduate_moving_cost):
        v = u[None, :] - (kappa + distance) * (~stay)
        v = v - v.max(axis=1, keepdims=True)
        e = np.exp(v)
        probs.append(e / e.sum(axis=1, keepdims=True))
    probs_all = np.concatenate(probs, axis=0)  # rows: origin (workers), origin + n_c (graduates)
    origin = p.city[seekers].astype(np.int64)
    row = origin + n_c * p.fresh[seekers]
    dest = categorical_rows(rng, probs_all, row)
    moved = dest != origin
    left = np.zeros(n_c)
    if moved.any():
        movers = seekers[moved]
        w = p.weight[movers].astype(np.float64)
        o, d = origin[moved], dest[moved]
        left = np.bincount(o, weights=w, minlength=n_c)
        fl.moves_out += left
        fl.moves_in += np.bincount(d, weights=w, minlength=n_c)
        grad = p.fresh[movers]
        fl.graduate_moves_out += np.bincount(o[grad], weights=w[grad], minlength=n_c)
        fl.graduate_moves_in += np.bincount(d[grad], weights=w[grad], minlength=n_c)
        pair = o * n_c + d
        state.pairs["movers"] += np.bincount(pair, weights=w, minlength=n_c * n_c).reshape(n_c, n_c)
        state.pairs["graduate_movers"] += np.bincount(
            pair[grad], weights=w[grad], minlength=n_c * n_c
        ).reshape(n_c, n_c)
        p.city[movers] = d.astype(np.int8)
    if f.n == 0:
        state.city.vacancies[:] = 0
        return

    # staff who leave with the movers -------------------------------------------------------
    if left.any():
        quit_share = left / np.maximum(pool, 1.0)
        q = quit_share[f.city]
        has_branch = f.branch >= 0
        if has_branch.any():
            b = g.branch_share
            q = np.where(has_branch, (1 - b) * q + b * quit_share[np.maximum(f.branch, 0)], q)
        paid = np.maximum(f.employment - (f.founder >= 0), 0)
        quits = rng.binomial(paid, np.clip(q, 0.0, 1.0))
        f.employment[:] -= quits.astype(f.employment.dtype)
        fl.separations += np.bincount(f.city, weights=quits, minlength=n_c)

    # hiring ------------------------------------------------------------------------------
    home, away = vacancies(state, params)
    at_branch = f.branch >= 0
    open_c = np.bincount(f.city, weights=home, minlength=n_c)
    if at_branch.any():
        open_c += np.bincount(f.branch[at_branch], weights=away[at_branch], minlength=n_c)
    state.city.vacancies[:] = open_c
    if not open_c.any():
        return
    supply = np.bincount(p.city[seekers], weights=p.weight[seekers], minlength=n_c)
    fill = np.minimum(supply / np.maximum(open_c, 1.0), 1.0)
    hired = stochastic_round(rng, home * fill[f.city])
    fl.hires += np.bincount(f.city, weights=hired, minlength=n_c)
    if at_branch.any():  # firms without a branch post no vacancy there: they hire 0
        hired_away = stochastic_round(rng, away * fill[np.maximum(f.branch, 0)])
        fl.hires += np.bincount(f.branch[at_branch], weights=hired_away[at_branch], minlength=n_c)
        hired = hired + hired_away
    f.employment[:] += hired.astype(f.employment.dtype)
