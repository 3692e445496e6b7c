"""Outcome accounting per city and tick (claims C11, C12).

Rule. *Value added* of city c per tick is its background economy plus the value added of
innovative firms, split by where it arises:

    VA_c = (N_c - E_c) y_c / 4 + sum_{people in c at firms} w_i + sum_{firms HQ in c} (R - P - W),

with N_c the pool, E_c people working in innovative firms, y_c background productivity, w_i the
wage cost of each employee (paid where they work: a chain master's branch R&D city employs a share
``branch_share`` of its staff, and their wages count there),
and revenue R minus purchases from suppliers P minus wages W (operating surplus) in the
headquarters city: the lead firm's home captures the profit (C4, C11). Background productivity
grows at ``productivity_growth`` plus ``spillover_elasticity`` times the city's innovative share of
value added above the system's average (local spillovers, Jaffe et al. 1993): a city's
development lifts the income of most of its residents (C11).

Reported series (``SERIES``) are per city and tick, in real units at any agent scale: people are
the rows' weights summed, firms are real firms with real headcounts and money (model CNY = 万元),
money series are 亿元 per year, and firm counts (firms, entries, exits, unicorns, chain masters)
are counts of real firms.
Growth volatility (C12) is computed from the yearly value-added series after the run.

References: claims C11, C12; Jaffe, Trajtenberg, Henderson (1993); Bettencourt et al. (2007).

Implementation. One kernel makes one pass over the people (the pool: the rows' weights by city), one
over the firms (staff and wages where they work, operating surplus at headquarters and the firm
counts) and one over the funds, then writes this tick's row of every series into the engine's record
buffer (``state.record_array``, rows in the order of ``innosim.schema.SERIES``). Sums run in row
order, as ``np.bincount`` does."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import (
    CL,
    F,
    P,
    U,
    b1,
    blank,
    constants,
    direct,
    f32,
    f64,
    i8,
    i32,
    record,
)
from innosim.mechanisms.climate import culture
from innosim.schema import FLOW_NAMES, RECORDED_FLOWS, SERIES

NAME = "accounting"

LABOUR_SHARE = 0.5  # share of background value added paid as labour income (China ~0.5, NBS)

_S = {name: i for i, (name, _, _) in enumerate(SERIES)}
_F = {name: i for i, name in enumerate(FLOW_NAMES)}
# (record row, flow row) of the flows recorded as they are
COPY_ROWS = np.array([(_S[k], _F[k]) for k in RECORDED_FLOWS], dtype=np.int64)

(
    POPULATION, AGENTS, GRADUATES, TNIR, GNIR, EMPLOYMENT, VA, IVA, VAPC, IPC, PRODUCTIVITY,
    VC_IN, VC_OUT, FUND_CAPITAL, RISK_APPETITE, FIRMS, UNICORNS, UNICORNS_TOC, MASTERS,
    MASTERS_TOC, SHARE_TOC, SHARE_TOB, SHARE_TOG, TOLERANCE, STIGMA, CAPITAL,
) = (
    _S[k]
    for k in (
        "population", "agents", "graduates", "talent_net_inflow_rate",
        "graduate_net_inflow_rate", "employment", "value_added", "innovation_value_added",
        "value_added_per_capita", "income_per_capita", "productivity", "vc_invested",
        "vc_returned", "fund_capital", "risk_appetite", "firms", "unicorns", "unicorns_toc",
        "chain_masters", "chain_masters_toc", "share_toc", "share_tob", "share_tog",
        "failure_tolerance", "stigma", "capital_in_reach",
    )
)  # fmt: skip
(F_GRAD, F_MIN, F_MOUT, F_GMIN, F_GMOUT, F_VCI, F_VCR) = (
    _F[k]
    for k in (
        "graduates", "moves_in", "moves_out", "graduate_moves_in", "graduate_moves_out",
        "vc_invested", "vc_returned",
    )
)  # fmt: skip
AccountingConstants = record(
    "AccountingConstants",
    __name__,
    ("productivity_growth", "spillover_elasticity", "unicorn_valuation", "branch_share"),
    ("labour_share",),
)
"""The kernel's constants (``kp``): the declared parameters of that name, then
:data:`LABOUR_SHARE`."""
NO_CONSTANTS = blank(AccountingConstants)


@njit(cache=True)
def kernel(
    kp, copy_rows, pb, po, n_people, fb, fo, f_n, ub, uo, n_funds, pool_out, productivity,
    innovation_share, graduate_rate, levers, climate, flows, rec,
):  # fmt: skip
    p_city, weight = i8(pb, po, P.city), i32(pb, po, P.weight)
    f_city, wages, employment = i8(fb, fo, F.city), f32(fb, fo, F.wages), i32(fb, fo, F.employment)
    f_branch = i8(fb, fo, F.branch)
    revenue, procurement_out = f32(fb, fo, F.revenue), f32(fb, fo, F.procurement_out)
    valuation, orientation = f32(fb, fo, F.valuation), i8(fb, fo, F.orientation)
    chain_master = b1(fb, fo, F.chain_master)
    fu_city, capital, appetite = i8(ub, uo, U.city), f64(ub, uo, U.capital), f32(ub, uo, U.appetite)
    n_c = pool_out.shape[0]
    # the people: real people (the rows' weights) and rows per city
    pool = np.zeros(n_c)
    rows_c = np.zeros(n_c)
    for i in range(n_people):
        c = p_city[i]
        pool[c] += weight[i]
        rows_c[c] += 1.0
    # staff and their wages where they work (a branch employs a share branch_share)
    innov = np.zeros(n_c)
    wages_here = np.zeros(n_c)
    surplus_here = np.zeros(n_c)
    b = kp.branch_share
    for j in range(f_n):
        emp = np.float64(employment[j])
        wg = np.float64(wages[j])
        c = f_city[j]
        if f_branch[j] >= 0:
            d = f_branch[j]
            innov[c] += emp * (1.0 - b)
            innov[d] += emp * b
            wages_here[c] += wg * (1.0 - b)
            wages_here[d] += wg * b
        else:
            innov[c] += emp
            wages_here[c] += wg
    for c in range(n_c):
        pool_out[c] = pool[c]
    # NumPy compares the float32 column in float32
    unicorn_valuation = np.float32(kp.unicorn_valuation)
    # value added ----------------------------------------------------------------------------
    firms = np.zeros(n_c)
    uni = np.zeros(n_c)
    uni_toc = np.zeros(n_c)
    cm = np.zeros(n_c)
    cm_toc = np.zeros(n_c)
    by_o = np.zeros((3, n_c))
    for j in range(f_n):
        c = f_city[j]
        surplus_here[c] += np.float64(revenue[j] - procurement_out[j] - wages[j])  # float32
        firms[c] += 1.0
        o = orientation[j]
        if valuation[j] >= unicorn_valuation:
            uni[c] += 1.0
            if o == 0:
                uni_toc[c] += 1.0
        if chain_master[j]:
            cm[c] += 1.0
            if o == 0:
                cm_toc[c] += 1.0
        if 0 <= o <= 2:
            by_o[o, c] += 1.0
    bg = np.empty(n_c)
    va = np.empty(n_c)
    innov_va = np.empty(n_c)
    share = np.empty(n_c)
    num = 0.0
    den = 0.0
    for c in range(n_c):
        bg[c] = (pool[c] - innov[c]) * productivity[c] / 4.0
        innov_va[c] = wages_here[c] + surplus_here[c]
        va[c] = bg[c] + innov_va[c]
        s = innov_va[c] / (va[c] if va[c] > 0 else 1.0)
        share[c] = min(max(s, 0.0), 1.0)
        innovation_share[c] = share[c]
        w = max(pool[c], 1.0)
        num += share[c] * w
        den += w
    mean_share = num / den
    for c in range(n_c):
        productivity[c] *= math.exp(
            (kp.productivity_growth + kp.spillover_elasticity * (share[c] - mean_share)) / 4.0
        )
    # records ----------------------------------------------------------------------------------
    yuan = 4.0 / 1e4  # model CNY (万元) per tick -> 亿元 per year
    fund_cap = np.zeros(n_c)
    app = np.zeros(n_c)
    nf = np.zeros(n_c)
    for j in range(n_funds):
        c = fu_city[j]
        fund_cap[c] += capital[j]
        app[c] += np.float64(appetite[j])
        nf[c] += 1.0
    faced = np.empty((2, n_c))  # what founders faced this tick (climate mechanism)
    culture(levers, climate, faced)
    for c in range(n_c):
        rec[TOLERANCE, c] = faced[0, c]
        rec[STIGMA, c] = faced[1, c]
        rec[CAPITAL, c] = climate[CL.capital, c]
        safe_pool = max(pool[c], 1.0)
        grads = flows[F_GRAD, c]
        graduate_rate[c] = 0.9 * graduate_rate[c] + 0.1 * grads * 4.0 / safe_pool
        rec[POPULATION, c] = pool[c]
        rec[AGENTS, c] = rows_c[c]
        rec[GRADUATES, c] = grads * 4.0
        for r in range(copy_rows.shape[0]):
            rec[copy_rows[r, 0], c] = flows[copy_rows[r, 1], c]
        net = (flows[F_MIN, c] - flows[F_GMIN, c]) - (flows[F_MOUT, c] - flows[F_GMOUT, c])
        rec[TNIR, c] = net * 4.0 / safe_pool
        rec[GNIR, c] = (
            (flows[F_GMIN, c] - flows[F_GMOUT, c]) / max(grads, 1.0) if grads > 0 else 0.0
        )
        rec[EMPLOYMENT, c] = innov[c]
        rec[VA, c] = va[c] * yuan
        rec[IVA, c] = innov_va[c] * yuan
        rec[VAPC, c] = va[c] * 4.0 / safe_pool
        rec[IPC, c] = (kp.labour_share * bg[c] + wages_here[c]) * 4.0 / safe_pool
        rec[PRODUCTIVITY, c] = productivity[c]
        rec[VC_IN, c] = flows[F_VCI, c] * yuan
        rec[VC_OUT, c] = flows[F_VCR, c] * yuan
        rec[FUND_CAPITAL, c] = fund_cap[c] / 1e4
        rec[RISK_APPETITE, c] = app[c] / max(nf[c], 1.0)
        safe_f = max(firms[c], 1.0)
        rec[FIRMS, c] = firms[c]
        rec[UNICORNS, c] = uni[c]
        rec[UNICORNS_TOC, c] = uni_toc[c]
        rec[MASTERS, c] = cm[c]
        rec[MASTERS_TOC, c] = cm_toc[c]
        rec[SHARE_TOC, c] = by_o[0, c] / safe_f
        rec[SHARE_TOB, c] = by_o[1, c] / safe_f
        rec[SHARE_TOG, c] = by_o[2, c] / safe_f


def make(params, rng):
    kp = constants(
        AccountingConstants,
        params.g,
        derived={"labour_share": LABOUR_SHARE},
    )

    call = direct(kernel)

    def step(state, params, rng) -> None:
        p, f, fu, cs = state.people, state.firms, state.funds, state.city
        call(
            kp, COPY_ROWS, p.block, p.offsets, p.n, f.block, f.offsets, f.n, fu.block, fu.offsets,
            fu.n, cs.pool, cs.productivity, cs.innovation_share, cs.graduate_rate,
            state.lever_array, cs.climate, state.flows.array, state.record_array,
        )  # fmt: skip

    step.parts = (kp, COPY_ROWS)  # for the fused tick (fast.tick)
    return step


__all__ = ["make"]
