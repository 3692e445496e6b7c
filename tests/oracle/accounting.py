"""Oracle: outcome accounting per city and tick (claims C11, C12).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.accounting` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.kernels.layout import CL
from innosim.engine.state import TOC, ModelParams, State
from innosim.mechanisms.accounting import LABOUR_SHARE
from innosim.mechanisms.climate import culture
from innosim.schema import RECORDED_FLOWS, TICKS_PER_YEAR

NAME = "accounting"


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, p, f, cs, fl, rec = (
        params.g,
        state.people,
        state.firms,
        state.city,
        state.flows,
        state.record,
    )
    n_c = params.n_cities
    pool = np.bincount(p.city, weights=p.weight, minlength=n_c)  # real people
    cs.pool[:] = pool
    safe_pool = np.maximum(pool, 1.0)
    b = g.branch_share  # a branch R&D city employs this share of its firm's staff
    away = np.where(f.branch >= 0, b, 0.0)
    there = np.maximum(f.branch, 0).astype(np.int64)
    emp = f.employment.astype(np.float64)
    innov = np.bincount(f.city, weights=emp * (1 - away), minlength=n_c) + np.bincount(
        there, weights=emp * away, minlength=n_c
    )

    # value added --------------------------------------------------------------------------
    bg = (pool - innov) * cs.productivity / TICKS_PER_YEAR
    if f.n:
        wg = f.wages.astype(np.float64)
        wages_here = np.bincount(f.city, weights=wg * (1 - away), minlength=n_c) + np.bincount(
            there, weights=wg * away, minlength=n_c
        )
        surplus = f.revenue - f.procurement_out - f.wages
        hq = f.city.astype(np.int64)
        surplus_here = np.bincount(hq, weights=surplus, minlength=n_c)
    else:
        wages_here = surplus_here = np.zeros(n_c)
    innov_va = wages_here + surplus_here
    va = bg + innov_va
    share = np.clip(innov_va / np.where(va > 0, va, 1.0), 0.0, 1.0)
    cs.innovation_share[:] = share
    mean_share = float(np.average(share, weights=safe_pool))
    cs.productivity *= np.exp(
        (g.productivity_growth + g.spillover_elasticity * (share - mean_share)) / TICKS_PER_YEAR
    )
    cs.graduate_rate[:] = 0.9 * cs.graduate_rate + 0.1 * fl.graduates * TICKS_PER_YEAR / safe_pool

    yuan = TICKS_PER_YEAR / 1e4  # model CNY (万元) per tick -> 亿元 per year
    rec["population"][:] = pool
    rec["agents"][:] = np.bincount(p.city, minlength=n_c)
    rec["graduates"][:] = fl.graduates * TICKS_PER_YEAR
    for k in RECORDED_FLOWS:
        rec[k][:] = getattr(fl, k)
    net = (fl.moves_in - fl.graduate_moves_in) - (fl.moves_out - fl.graduate_moves_out)
    rec["talent_net_inflow_rate"][:] = net * TICKS_PER_YEAR / safe_pool
    rec["graduate_net_inflow_rate"][:] = np.where(
        fl.graduates > 0,
        (fl.graduate_moves_in - fl.graduate_moves_out) / np.maximum(fl.graduates, 1),
        0.0,
    )
    rec["employment"][:] = innov
    rec["value_added"][:] = va * yuan
    rec["innovation_value_added"][:] = innov_va * yuan
    rec["value_added_per_capita"][:] = va * TICKS_PER_YEAR / safe_pool
    rec["income_per_capita"][:] = (LABOUR_SHARE * bg + wages_here) * TICKS_PER_YEAR / safe_pool
    rec["productivity"][:] = cs.productivity
    faced = np.empty((2, n_c))  # what founders faced this tick (climate mechanism)
    culture(state.lever_array, cs.climate, faced)
    rec["failure_tolerance"][:], rec["stigma"][:] = faced
    rec["capital_in_reach"][:] = cs.climate[CL.capital]
    rec["vc_invested"][:] = fl.vc_invested * yuan
    rec["vc_returned"][:] = fl.vc_returned * yuan
    fu = state.funds
    fcity = fu.city.astype(np.int64)
    rec["fund_capital"][:] = np.bincount(fcity, weights=fu.capital, minlength=n_c) / 1e4
    nf = np.bincount(fcity, minlength=n_c)
    rec["risk_appetite"][:] = np.bincount(fcity, weights=fu.appetite, minlength=n_c) / np.maximum(
        nf, 1
    )

    # firms ---------------------------------------------------------------------------------
    if f.n:
        hq = f.city.astype(np.int64)
        o = f.orientation
        firms = np.bincount(hq, minlength=n_c).astype(np.float64)
        uni = f.valuation >= g.unicorn_valuation
        rec["firms"][:] = firms
        rec["unicorns"][:] = np.bincount(hq[uni], minlength=n_c)
        rec["unicorns_toc"][:] = np.bincount(hq[uni & (o == TOC)], minlength=n_c)
        cm = f.chain_master
        rec["chain_masters"][:] = np.bincount(hq[cm], minlength=n_c)
        rec["chain_masters_toc"][:] = np.bincount(hq[cm & (o == TOC)], minlength=n_c)
        safe_f = np.maximum(firms, 1.0)
        for k, code in (("share_toc", 0), ("share_tob", 1), ("share_tog", 2)):
            rec[k][:] = np.bincount(hq[o == code], minlength=n_c) / safe_f
    else:
        for k in (
            "firms",
            "unicorns",
            "unicorns_toc",
            "chain_masters",
            "chain_masters_toc",
            "share_toc",
            "share_tob",
            "share_tog",
        ):
            rec[k][:] = 0.0
