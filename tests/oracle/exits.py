"""Oracle: failure, exit and the recycling of founders and staff (claims C8, C9).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.exits` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import (
    DEATH_ACQUIRED,
    DEATH_CLOSURE,
    DEATH_FAILURE,
    WORKER,
    ModelParams,
    State,
)
from innosim.mechanisms.sampling import per_tick
from innosim.schema import TICKS_PER_YEAR

NAME = "exits"


def _credit_founders(state: State, firms: np.ndarray) -> None:
    """The ventures ``firms`` succeeded: credit their founders and count them in their cities'
    ``successes`` (and ``restart_successes`` for founders who had failed before)."""
    f, p, fl = state.firms, state.people, state.flows
    n_c = fl.successes.shape[0]
    city = f.city[firms].astype(np.int64)
    fl.successes += np.bincount(city, minlength=n_c)
    fl.restart_successes += np.bincount(city[f.founder_history[firms] == 1], minlength=n_c)
    fo = f.founder[firms]
    fo = fo[fo >= 0]
    if fo.size:
        p.successes[fo] = np.minimum(p.successes[fo].astype(np.int64) + 1, 255).astype(np.uint8)
        p.last_outcome[fo] = 2


def _realise(
    state: State,
    firm_rows: np.ndarray,
    value: np.ndarray | None,
    recovery: float,
    preference: float = 0.0,
) -> None:
    """Realise every open investment in ``firm_rows``; ``value`` None means liquidation
    (each investment returns ``recovery`` times its amount), otherwise a sale or listing at
    ``value`` with a liquidation ``preference`` (multiple of the amount)."""
    led, f, fu, fl = state.ledger, state.firms, state.funds, state.flows
    if firm_rows.size == 0 or led.n == 0:
        return
    ids = f.id[firm_rows]
    open_ = np.flatnonzero(~led.realised)
    if open_.size == 0:
        return
    pos = np.searchsorted(ids, led.firm_id[open_])
    pos = np.minimum(pos, ids.size - 1)
    hit = ids[pos] == led.firm_id[open_]
    rows, pos = open_[hit], pos[hit]
    if rows.size == 0:
        return
    amount = led.amount[rows].astype(np.float64)
    if value is None:
        proceeds = amount * recovery
    else:
        frac = (
            led.stake[rows].astype(np.float64)
            * f.retained[firm_rows[pos]].astype(np.float64)
            / np.maximum(led.retained_entry[rows].astype(np.float64), 1e-12)
        )
        v = value[pos]
        proceeds = frac * v
        if preference > 0:
            # non-participating liquidation preference, pari passu across rounds: each
            # investment takes the larger of its converted share and its preference, the
            # preferences sharing the sale price pro rata when it cannot pay them all
            owed = amount * preference
            owed_firm = np.bincount(pos, weights=owed, minlength=firm_rows.size)
            pref = owed * np.minimum(1.0, v / np.maximum(owed_firm[pos], 1e-12))
            proceeds = np.maximum(proceeds, pref)
            paid = np.bincount(pos, weights=proceeds, minlength=firm_rows.size)
            over = paid[pos] > v
            proceeds[over] *= v[over] / paid[pos][over]
    led.proceeds[rows] = proceeds
    led.realised[rows] = True
    led.realised_tick[rows] = state.t
    fund = led.fund[rows].astype(np.int64)
    np.add.at(fu.capital, fund, proceeds)
    np.add.at(fu.returned, fund, proceeds)
    fl.vc_returned += np.bincount(fu.city[fund].astype(np.int64), weights=proceeds, minlength=fl.n)
    state.realised_fund = np.concatenate([state.realised_fund, fund])
    state.realised_proceeds = np.concatenate([state.realised_proceeds, proceeds])
    state.realised_amount = np.concatenate([state.realised_amount, amount])


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, f, p, fl = params.g, state.firms, state.people, state.flows
    n_c = params.n_cities
    if f.n == 0:
        return
    t = state.t

    # unicorns and listings ---------------------------------------------------------------
    uni = (f.valuation >= g.unicorn_valuation) & ~f.unicorn_ever
    if uni.any():
        f.unicorn_ever[uni] = True
        first = uni & ~f.success
        f.success[first] = True
        _credit_founders(state, np.flatnonzero(first))
    age_years = (t - f.born) / TICKS_PER_YEAR
    eligible = (~f.listed) & (f.valuation >= g.listing_valuation) & (age_years >= g.exit_min_age)
    lists = eligible & (rng.random(f.n) < per_tick(g.exit_rate))
    if lists.any():
        rows = np.flatnonzero(lists)
        f.listed[rows] = True
        good = rows[(f.valuation[rows] > f.raised[rows]) & ~f.success[rows]]
        f.success[good] = True
        _credit_founders(state, good)
        _realise(state, rows, f.valuation[rows].astype(np.float64), g.liquidation_recovery)
        fl.listings += np.bincount(f.city[rows].astype(np.int64), minlength=n_c)

    # acquisitions (venture-backed firms absorbed by a buyer) ------------------------------
    can_buy = (~f.listed) & (f.rounds > 0) & (age_years >= 2.0)
    bought = can_buy & (rng.random(f.n) < per_tick(g.acquisition_rate))
    if bought.any():
        rows = np.flatnonzero(bought)
        good = rows[(f.valuation[rows] > f.raised[rows]) & ~f.success[rows]]
        f.success[good] = True
        _credit_founders(state, good)
        _realise(
            state,
            rows,
            f.valuation[rows].astype(np.float64),
            g.liquidation_recovery,
            g.liquidation_preference,
        )

    # failures ----------------------------------------------------------------------------
    broke = (f.cash < 0) & ~bought
    hazard = rng.random(f.n) < per_tick(g.base_hazard)
    empty = (f.employment <= 0) & (f.founder < 0)
    dead = broke | hazard | empty | bought
    if not dead.any():
        return
    rows = np.flatnonzero(dead)
    f.died[rows] = t
    f.death_kind[rows] = np.where(
        bought[rows], DEATH_ACQUIRED, np.where(broke[rows], DEATH_FAILURE, DEATH_CLOSURE)
    )
    _realise(state, rows, None, g.liquidation_recovery)
    fcity = f.city[rows].astype(np.int64)
    fl.exits += np.bincount(fcity, minlength=n_c)
    fl.failures += np.bincount(fcity[broke[rows]], minlength=n_c)
    unsuccessful = ~f.success[rows]
    fl.unsuccessful += np.bincount(fcity[unsuccessful], minlength=n_c)
    restarter = unsuccessful & (f.founder_history[rows] == 1)
    fl.restart_unsuccessful += np.bincount(fcity[restarter], minlength=n_c)

    # recycle people
    # (one gather over everyone: index -1, no employer, reads the appended False / -1)
    emp = p.employer
    out = np.flatnonzero(np.append(dead, False)[emp])
    if out.size:
        was_founder = out[f.founder[emp[out]] == out]
        p.skill[out] += np.float32(g.failure_learning / 2)
        if was_founder.size:
            p.skill[was_founder] += np.float32(g.failure_learning / 2)
            fail_f = was_founder[~f.success[emp[was_founder]]]
            p.failures[fail_f] = np.minimum(p.failures[fail_f].astype(np.int64) + 1, 255).astype(
                np.uint8
            )
            p.last_outcome[fail_f] = 1
        fl.separations += np.bincount(p.city[out].astype(np.int64), minlength=n_c)
        emp[out] = -1
        p.status[out] = WORKER
    # founders no longer linked to a firm but whose venture failed keep their record as is;
    # the staff (a headcount) return to the labour market
    staff = f.employment[rows].astype(np.int64) - (f.founder[rows] >= 0)
    fl.separations += np.bincount(fcity, weights=np.maximum(staff, 0), minlength=n_c)
    f.employment[rows] = 0

    # archive and compact
    state.archive.append(f.take(rows))
    mapping = f.compact(~dead)
    emp[:] = np.append(mapping, np.int32(-1))[emp]
