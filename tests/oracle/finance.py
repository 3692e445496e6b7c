"""Oracle: venture finance with a risk appetite that feeds back from realised returns (claim C9).

The NumPy implementation of the rule of :mod:`innosim.mechanisms.finance` (its docstring states the
rule), kept for the tests only (see :mod:`oracle`).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import TOC, ModelParams, State
from innosim.mechanisms.sampling import categorical_rows
from innosim.schema import TICKS_PER_YEAR

NAME = "finance"


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, f, fu, fl, cs = params.g, state.firms, state.funds, state.flows, state.city
    n_c = params.n_cities
    fcity = fu.city.astype(np.int64)

    # 1. appetite and performance feedback ------------------------------------------------
    # the fund's track record: realised proceeds and the amounts they came from, both
    # discounted with a half-life of track_record_years (a running, TVPI-like multiple)
    keep = 0.5 ** (1.0 / (TICKS_PER_YEAR * g.track_record_years))
    fu.track_proceeds[:] = fu.track_proceeds * keep
    fu.track_invested[:] = fu.track_invested * keep
    if state.realised_fund.size:
        fund_r = state.realised_fund
        fu.track_proceeds[:] += np.bincount(fund_r, weights=state.realised_proceeds, minlength=fu.n)
        fu.track_invested[:] += np.bincount(fund_r, weights=state.realised_amount, minlength=fu.n)
    has = fu.track_invested > 0
    if has.any():  # each fund against the median fund's multiple
        logs = np.log(np.maximum(fu.track_proceeds[has], 1e-12) / fu.track_invested[has])
        logm = np.clip(logs - np.median(logs), -3.0, 3.0)
        fu.appetite[has] = np.clip(
            fu.appetite[has] + g.appetite_learning_rate * g.appetite_sensitivity * logm, 0.0, 1.0
        )
    if state.realised_fund.size:
        fund_r = state.realised_fund
        rc = fcity[fund_r]
        got_c = np.bincount(rc, weights=state.realised_proceeds, minlength=n_c)
        paid_c = np.bincount(rc, weights=state.realised_amount, minlength=n_c)
        mult = np.minimum(got_c / np.maximum(paid_c, 1e-12), 20.0)
        cs.fund_performance[:] = np.where(
            paid_c > 0, 0.9 * cs.fund_performance + 0.1 * mult, cs.fund_performance
        )
        state.realised_fund = np.zeros(0, np.int64)
        state.realised_proceeds = np.zeros(0, np.float64)
        state.realised_amount = np.zeros(0, np.float64)

    base = state.levers.risk_appetite[fcity]
    fu.appetite[:] = np.clip(
        fu.appetite + (base - fu.appetite) * g.appetite_reversion / TICKS_PER_YEAR, 0, 1
    )

    # 2. commitments ----------------------------------------------------------------------
    weight = np.bincount(fcity, weights=fu.base_capital, minlength=n_c)
    nation = (weight * cs.fund_performance).sum() / weight.sum() if weight.sum() > 0 else 1.0
    rel = np.maximum(cs.fund_performance, 0.0) / nation if nation > 0 else np.ones(n_c)
    perf = rel[fcity] ** g.lp_performance_elasticity
    inflow = fu.base_capital * g.lp_inflow_rate / TICKS_PER_YEAR * np.minimum(perf, 10.0)
    fu.capital[:] = fu.capital + inflow
    fu.committed[:] = fu.committed + inflow
    fl.lp_inflow += np.bincount(fcity, weights=inflow, minlength=n_c)

    # 3. deals ----------------------------------------------------------------------------
    if f.n == 0:
        return
    cost = f.wages + g.fixed_cost / TICKS_PER_YEAR
    seeking = (~f.listed) & (f.rounds < g.max_rounds) & (f.cash < 2.0 * cost)
    pitch = np.flatnonzero(seeking)
    if pitch.size == 0:
        return
    reach = np.exp(-params.dist_km / g.fund_reach_km)  # (city, city)
    weight = reach[:, fcity] * np.maximum(fu.capital, 0.0)[None, :]  # (city, fund)
    s = weight.sum(axis=1, keepdims=True)
    probs = np.where(s > 0, weight / np.where(s > 0, s, 1.0), 0.0)
    pcity = f.city[pitch].astype(np.int64)
    has_money = s[pcity, 0] > 0
    pitch, pcity = pitch[has_money], pcity[has_money]
    if pitch.size == 0:
        return
    fund = categorical_rows(rng, probs, pcity)
    app = fu.appetite[fund].astype(np.float64)
    prev = np.maximum(f.revenue_year[pitch], 1e-12)
    growth = np.where(f.revenue_year[pitch] > 0, f.revenue[pitch] / prev - 1.0, 0.0)
    signal = (
        np.log(np.maximum(f.capability[pitch], 1e-12))
        + 0.5 * np.clip(growth, -1.0, 3.0)
        + g.success_reputation * (f.founder_history[pitch] == 2)
        + g.signal_noise * rng.standard_normal(pitch.size)
    )
    hurdle = (
        g.investment_hurdle
        - g.appetite_hurdle_relief * app
        + g.toc_variance_aversion * (1.0 - app) * (f.orientation[pitch] == TOC)
    )
    yes = signal > hurdle
    pitch, fund, pcity = pitch[yes], fund[yes], pcity[yes]
    if pitch.size == 0:
        return
    # price on progress: the fund values the firm at its current valuation (never below the
    # seed round's pre-money) and buys at most ``round_dilution`` of it; a firm that has made
    # no progress gets a smaller round at about the same price (a flat round)
    d = g.round_dilution
    size = g.seed_round * g.round_step ** f.rounds[pitch].astype(np.float64)
    pre = np.maximum(f.valuation[pitch].astype(np.float64), g.seed_round * (1.0 - d) / d)
    amount = np.minimum(size, pre * d / (1.0 - d))
    # budget: random order within each fund, cumulative sum within the dry powder
    order = np.lexsort((rng.random(pitch.size), fund))
    pitch, fund, pcity, amount, pre = (
        pitch[order],
        fund[order],
        pcity[order],
        amount[order],
        pre[order],
    )
    starts = np.r_[0, np.flatnonzero(fund[1:] != fund[:-1]) + 1]
    csum = np.cumsum(amount)
    base = np.repeat(csum[starts] - amount[starts], np.diff(np.r_[starts, fund.size]))
    ok = (csum - base) <= fu.capital[fund]
    pitch, fund, pcity, amount, pre = pitch[ok], fund[ok], pcity[ok], amount[ok], pre[ok]
    if pitch.size == 0:
        return
    post = pre + amount
    stake = amount / post
    f.cash[pitch] += amount.astype(np.float32)
    f.raised[pitch] += amount.astype(np.float32)
    f.rounds[pitch] += 1
    f.post_money[pitch] = post
    f.valuation[pitch] = np.maximum(f.valuation[pitch], post)
    f.last_round[pitch] = state.t
    f.retained[pitch] *= (1.0 - stake).astype(np.float32)
    np.subtract.at(fu.capital, fund, amount)
    np.add.at(fu.invested, fund, amount)
    np.add.at(fu.deals, fund, 1)
    fl.vc_invested += np.bincount(pcity, weights=amount, minlength=n_c)
    state.ledger.append(
        pitch.size,
        fund=fund.astype(np.int16),
        firm_id=f.id[pitch],
        firm_city=pcity.astype(np.int8),
        tick=state.t,
        round=(f.rounds[pitch] - 1).astype(np.int8),
        amount=amount.astype(np.float32),
        stake=stake.astype(np.float32),
        retained_entry=f.retained[pitch],
        proceeds=0.0,
        realised=False,
        realised_tick=-1,
    )
