"""Careers and migration: where people work and live (claims C3, C5, C11).

Rule. Each tick every fresh graduate and each other worker or employee (not founders) with
probability ``1 - exp(-search_rate/4)`` searches. A searcher living in city o chooses city c with
the logit probability

    P(c | o) ∝ exp( beta_w log y_c + beta_o J_c - chi log(N_c / N_c0) + tp_c + amenity_c
                    - kappa [c != o] ),

where y_c is the city's background productivity (expected pay, C11), J_c the share of the city's
pool in innovative jobs or open positions (lead firms attract talent, C3), ``chi = congestion``
prices the city's growth since the start (housing, the Rosen-Roback spatial equilibrium),
``tp_c`` its talent programmes (a policy lever), and ``kappa`` the moving cost
(``graduate_moving_cost`` for fresh graduates, ``moving_cost`` otherwise) plus
``migration_distance_cost`` per 1,000 km between the two cities (the distance decay of gravity
models of migration; Tombe and Zhu 2019 estimate China's migration costs rising with distance).
Movers leave their employer.

Hiring. Firms post ``ceil(target) - employment`` vacancies; a chain master posts a share
``branch_share`` of them at its branch R&D city (C4). In every city, searchers without a job
after the moves (graduates, background workers, movers), ranked by skill, fill that city's
vacancies, taken in random order, until one side runs out; the others work in
the background economy. Moves in and out are counted per city (talent flows), and among them
the moves of fresh graduates choosing the city of their first job (``graduate_moves_in/out``).

References: Tombe and Zhu (2019) on migration frictions in China; Moretti (2012) on high-tech
jobs and city choice; Zhaopin and Zeping talent-attraction reports (net inflow rates).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.ops import release_people
from innosim.engine.state import EMPLOYEE, FOUNDER, ModelParams, State
from innosim.mechanisms.sampling import categorical_rows, count_codes, rank_within, sample_rows

NAME = "careers"


def city_utility(state: State, params: ModelParams) -> np.ndarray:
    """Utility of each city for a searcher, before moving costs (n_cities,)."""
    g, cs = params.g, state.city
    p = state.people
    n_c = params.n_cities
    pool = np.maximum(cs.pool, 1)
    innov = count_codes(p.city, n_c, p.employer >= 0)
    jobs = (innov + cs.vacancies) / pool
    growth = np.log(pool / np.maximum(cs.pool0, 1.0))
    return (
        g.wage_weight * np.log(np.maximum(cs.productivity, 1e-9))
        + g.opportunity_weight * jobs
        - g.congestion * growth
        + state.levers.talent_programme
        + params.c.amenity
    )


def vacancies(state: State, params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """Open positions as (firm row, city) pairs, one entry per position."""
    f = state.firms
    vac = np.maximum(np.ceil(f.target).astype(np.int64) - f.employment, 0)
    branch_vac = np.zeros_like(vac)
    has_branch = f.branch >= 0
    if has_branch.any():
        branch_vac[has_branch] = np.floor(vac[has_branch] * params.g.branch_share).astype(np.int64)
    home_vac = vac - branch_vac
    firm = np.concatenate(
        [np.repeat(np.arange(f.n), home_vac), np.repeat(np.arange(f.n), branch_vac)]
    )
    city = np.concatenate([np.repeat(f.city, home_vac), np.repeat(f.branch, branch_vac)]).astype(
        np.int64
    )
    return firm, city


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, p, f, fl = params.g, state.people, state.firms, state.flows
    n_c = params.n_cities
    state.city.pool[:] = count_codes(p.city, n_c)

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
    if moved.any():
        movers = seekers[moved]
        release_people(state, movers[p.employer[movers] >= 0])
        fl.moves_out += np.bincount(origin[moved], minlength=n_c)
        fl.moves_in += np.bincount(dest[moved], minlength=n_c)
        grad = p.fresh[movers]
        fl.graduate_moves_out += np.bincount(origin[moved][grad], minlength=n_c)
        fl.graduate_moves_in += np.bincount(dest[moved][grad], minlength=n_c)
        pair = origin[moved] * n_c + dest[moved]
        state.pairs["movers"] += np.bincount(pair, minlength=n_c * n_c).reshape(n_c, n_c)
        state.pairs["graduate_movers"] += np.bincount(pair[grad], minlength=n_c * n_c).reshape(
            n_c, n_c
        )
        p.city[movers] = dest[moved].astype(np.int8)

    # hiring ------------------------------------------------------------------------------
    if f.n == 0:
        state.city.vacancies[:] = 0
        return
    vfirm, vcity = vacancies(state, params)
    state.city.vacancies[:] = np.bincount(vcity, minlength=n_c)
    if vfirm.size == 0:
        return
    job_seekers = seekers[p.employer[seekers] < 0]
    if job_seekers.size == 0:
        return
    # seekers by city, most skilled first
    s_city = p.city[job_seekers].astype(np.int64)
    order = np.lexsort((-p.skill[job_seekers], s_city))
    js, js_city = job_seekers[order], s_city[order]
    js_rank = rank_within(js_city)
    # vacancies by city, random order
    vorder = np.lexsort((rng.random(vfirm.size), vcity))
    vf, vc = vfirm[vorder], vcity[vorder]
    v_start = np.searchsorted(vc, np.arange(n_c))
    n_vac = np.bincount(vc, minlength=n_c)
    hired = js_rank < n_vac[js_city]
    if not hired.any():
        return
    who = js[hired]
    slot = v_start[js_city[hired]] + js_rank[hired]
    firm = vf[slot]
    p.employer[who] = firm.astype(np.int32)
    p.status[who] = EMPLOYEE
    np.add.at(f.employment, firm, 1)
    fl.hires += np.bincount(p.city[who], minlength=n_c)
