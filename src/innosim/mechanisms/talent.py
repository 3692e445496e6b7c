"""Talent supply: graduates, other entrants and retirement (claims C3, C5).

Rule. Universities produce graduates: per tick, city c adds

    G_c(t) = students_enrolled_c * E(t) / study_years / 4

graduates (stochastically rounded), in rows of about ``persons_per_agent`` people each, where E(t)
is the national higher-education expansion, a logistic in calendar years running from
``enrolment_start_ratio`` at the start year to 1 at the reference year (normalised so
E(reference_year) = 1). Graduates enter with skill drawn around ``graduate_skill`` and are flagged
``fresh``: the careers mechanism lets them choose where to work this tick with the lower
``graduate_moving_cost`` (C5: a university city exports talent if its firms do not hold it).
Non-graduate entrants arrive at ``labour_entry_rate`` per year of the pool (real people, in rows as
above) with skill around ``nongraduate_skill``. Each row leaves the labour force with yearly hazard
``retirement_rate`` (a row is a sample of people who share their fate: the expected outflow is the
rate times the pool at any agent scale); a leaving founder is released from their firm first, so
every link stays valid.

People entries (``people_in``), exits (``people_out``) and graduates are counted per city, so
the engine can check that people are conserved: pool(t+1) = pool(t) + in - out + moves_in -
moves_out, all in real people.

References: Zhaopin and Zeping talent-attraction reports; MoE statistical communiqués on
enrolment; claim C3 (a university city out-trains the consumer-internet city) and C5 (outflow).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.ops import remove_people, weighted_rows
from innosim.engine.state import WORKER, ModelParams, State
from innosim.mechanisms.sampling import people_per_city, per_tick, sample_rows, stochastic_round
from innosim.schema import TICKS_PER_YEAR

NAME = "talent"


def enrolment_ratio(params: ModelParams, year: float) -> float:
    """Enrolment relative to the reference year (logistic expansion)."""
    g = params.g

    def raw(y: float) -> float:
        return 1.0 / (1.0 + np.exp(-g.enrolment_growth_rate * (y - g.enrolment_mid_year)))

    lo = raw(params.start_year)
    hi = raw(params.reference_year)
    if hi - lo <= 1e-12:
        return 1.0
    # map the logistic so that start -> enrolment_start_ratio and reference -> 1
    x = (raw(year) - lo) / (hi - lo)
    return float(max(g.enrolment_start_ratio + (1.0 - g.enrolment_start_ratio) * x, 0.0))


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, p, fl = params.g, state.people, state.flows
    n_c = params.n_cities
    p.fresh[:] = False

    # retirement --------------------------------------------------------------------------
    out = sample_rows(rng, p.n, float(per_tick(g.retirement_rate)))
    if out.size:
        fl.people_out += np.bincount(p.city[out], weights=p.weight[out], minlength=n_c)
        remove_people(state, out)

    # entrants ----------------------------------------------------------------------------
    year = params.start_year + state.t / TICKS_PER_YEAR
    grads = stochastic_round(
        rng, params.c.students_enrolled * enrolment_ratio(params, year) / g.study_years / 4
    )
    pool = people_per_city(p, n_c)
    others = stochastic_round(rng, pool * float(per_tick(g.labour_entry_rate)))
    rows_g, weight_g = weighted_rows(grads, params.persons_per_agent)
    rows_o, weight_o = weighted_rows(others, params.persons_per_agent)
    k_g, k_o = int(rows_g.sum()), int(rows_o.sum())
    k = k_g + k_o
    if k == 0:
        return
    city = np.concatenate(
        [np.repeat(np.arange(n_c), rows_g), np.repeat(np.arange(n_c), rows_o)]
    ).astype(np.int8)
    skill = np.concatenate(
        [
            g.graduate_skill * rng.lognormal(0.0, 0.3, k_g),
            g.nongraduate_skill * rng.lognormal(0.0, 0.3, k_o),
        ]
    ).astype(np.float32)
    fresh = np.zeros(k, dtype=bool)
    fresh[:k_g] = True
    p.append(
        k,
        id=state.new_person_ids(k),
        city=city,
        status=WORKER,
        employer=-1,
        skill=skill,
        fresh=fresh,
        weight=np.concatenate([weight_g, weight_o]),
    )
    fl.graduates += grads
    fl.people_in += grads + others
