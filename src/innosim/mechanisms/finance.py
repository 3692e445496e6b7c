"""Venture finance with a risk appetite that feeds back from realised returns (claim C9).

Rule. Each city has ``funds_per_city`` funds whose starting capital is the city's
``vc_capital_per_person`` times its pool. Every tick:

1. *Feedback.* A fund's track record is its realised proceeds over the amounts they came from,
   both discounted with a half-life of ``track_record_years`` (a running multiple, like the
   TVPI limited partners read). Every tick it moves the fund's appetite:
   ``a_f += eta * sens * clip(log(M_f / M), -3, 3)``, clipped to [0, 1], where ``M`` is the
   median fund's multiple — a portfolio that returns more than the typical fund makes the
   fund bolder, one that does worse makes it cautious (venture performance is judged against
   peer funds, not in absolute terms: Kaplan and Schoar 2005). (Venture returns are
   skewed: most realisations are losses and a few winners pay for them, so the fund reads its
   pooled record, not each realisation.) Between outcomes appetite returns to the city's
   ``risk_appetite`` lever at rate ``appetite_reversion``. The city's fund performance is a moving
   average of pooled multiples.
2. *Commitments.* Limited partners commit ``K0_f * lp_inflow_rate / 4 * min((perf_c /
   perf)^e, 10)``, ``perf`` the nation's performance (the cities', weighted by their funds'
   starting capital; Kaplan and Schoar 2005: flows follow performance relative to peers) —
   C9's loop: losses shrink both appetite and capital.
3. *Deals.* A firm that is not listed, has raised fewer than ``max_rounds`` rounds and holds less
   than two quarters of costs in cash pitches one fund, drawn with probability ∝ capital ×
   exp(-d / ``fund_reach_km``). The fund reads a noisy signal

       S = log a + 0.5 clip(growth, -1, 3) + r [founder succeeded before] + N(0, sigma_s^2)

   and invests if ``S > h0 - h1 a_f + h2 (1 - a_f) [To C]``: bold funds accept more and riskier
   (To C) bets; cautious funds prefer steady To B/To G projects (C9). *Pricing on progress*: the
   fund takes the firm's current valuation as the pre-money value V (never below the seed
   round's, ``seed_round (1 - d) / d`` with ``d = round_dilution``); the k-th round raises
   ``min(seed_round * round_step^k, V d / (1 - d))`` — a firm without progress gets a smaller,
   flat round — and buys the stake amount / (V + amount) <= d; earlier investors are diluted. A fund
   never invests more than its dry powder (deals are taken in random order until it runs out).

Money is conserved: for every fund, capital = start + commitments - invested + returned
(checked by the engine).

References: Landier (2005); Kerr, Nanda, Rhodes-Kropf (2014); Gompers et al. (2010);
Sorenson and Stuart (2001) on local VC; Kaplan and Schoar (2005).

Implementation. One kernel call per tick, in this order:

1. feedback: the funds' track records decay and take in the realisations the exits mechanism
   left on the state (summed per fund first, as ``np.bincount`` does), appetites move with the
   clipped log multiple, the cities' fund performance with their pooled multiple, and appetites
   revert to the city's lever;
2. commitments per fund (summed per city into the ``lp_inflow`` flow);
3. deals: one pass over the firms finds those seeking money, draws the fund each pitches from
   its city's row of probabilities (reach x dry powder, computed in the kernel), reads the
   signal against the fund's hurdle and prices the round; the accepted candidates are ordered
   by fund and a random key (one argsort of ``fund + u``), taken while each fund's running sum
   stays within its dry powder, and then applied to the firms, the funds and the flows, with
   one ledger row each.

The ledger rows are written by the kernel into the free rows of the ledger's columns: if there
are fewer free rows than deals, nothing of step 3 is applied, the stream is rewound and ``-k``
is returned; the caller makes room and calls again with ``deals_only`` set (steps 1 and 2 are
not repeated; the same draws are taken again). The float32 arithmetic of the oracle
(tests/oracle/finance.py: the firm's cost and the float32 part of its signal) is done in float32
here too.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import (
    FL,
    LV,
    F,
    L,
    U,
    b1,
    blank,
    constants,
    direct,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    record,
)
from innosim.engine.kernels.rng import categorical, normal, seed_state, uniform
from innosim.engine.state import TOC
from innosim.mechanisms.climate import fund_reach
from innosim.schema import TICKS_PER_YEAR

NAME = "finance"

FinanceConstants = record(
    "FinanceConstants",
    __name__,
    (
        "appetite_reversion", "lp_inflow_rate", "lp_performance_elasticity", "max_rounds",
        "success_reputation", "signal_noise", "investment_hurdle", "appetite_hurdle_relief",
        "toc_variance_aversion", "seed_round", "round_step", "round_dilution",
    ),
    ("track_record_keep", "appetite_learning", "fixed_cost_per_tick", "fund_reach"),
)  # fmt: skip
"""The kernel's constants (``kp``): the declared parameters of that name, then the weight a
fund's track record keeps per tick (half-life ``track_record_years``), ``appetite_learning_rate
* appetite_sensitivity``, ``fixed_cost`` per tick and ``fund_reach[c, c2] = exp(-dist(c, c2) /
fund_reach_km)`` (float64, cities by cities)."""
NO_CONSTANTS = blank(FinanceConstants, fund_reach=np.zeros((1, 1)))

NO_FUND = np.zeros(0, np.int64)  # what the step leaves on the state once it read realisations
NO_PROCEEDS = np.zeros(0, np.float64)
NO_AMOUNT = np.zeros(0, np.float64)


@njit(cache=True)
def kernel(
    ks, kp, t, deals_only, r_fund, r_proceeds, r_amount, levers, fund_performance, flows,
    ub, uo, n_funds, fb, fo, f_n, lb, lo, led_n, room,
):  # fmt: skip
    """One tick of finance; returns the number k of deals (ledger rows written at ``led_n``).

    If k exceeds the free ledger rows (``room``) the deals are not applied, the stream is
    rewound and -k is returned; call again with ``deals_only`` (feedback and commitments are
    done).
    """
    risk_appetite = levers[LV.risk_appetite]
    fu_city, base_capital = i8(ub, uo, U.city), f64(ub, uo, U.base_capital)
    capital, committed, invested = (
        f64(ub, uo, U.capital),
        f64(ub, uo, U.committed),
        f64(ub, uo, U.invested),
    )
    appetite, deals = f32(ub, uo, U.appetite), i32(ub, uo, U.deals)
    track_proceeds, track_invested = f64(ub, uo, U.track_proceeds), f64(ub, uo, U.track_invested)
    id_, city, listed, rounds = (
        i64(fb, fo, F.id),
        i8(fb, fo, F.city),
        b1(fb, fo, F.listed),
        i8(fb, fo, F.rounds),
    )
    cash, wages, revenue = f32(fb, fo, F.cash), f32(fb, fo, F.wages), f32(fb, fo, F.revenue)
    revenue_year, capability = f32(fb, fo, F.revenue_year), f32(fb, fo, F.capability)
    founder_history, orientation = i8(fb, fo, F.founder_history), i8(fb, fo, F.orientation)
    valuation, raised, post_money = (
        f32(fb, fo, F.valuation),
        f32(fb, fo, F.raised),
        f32(fb, fo, F.post_money),
    )
    last_round, retained = i16(fb, fo, F.last_round), f32(fb, fo, F.retained)
    l_fund, l_firm_id, l_firm_city = (
        i16(lb, lo, L.fund),
        i64(lb, lo, L.firm_id),
        i8(lb, lo, L.firm_city),
    )
    l_tick, l_round, l_amount = i16(lb, lo, L.tick), i8(lb, lo, L.round), f32(lb, lo, L.amount)
    l_stake, l_retained_entry = f32(lb, lo, L.stake), f32(lb, lo, L.retained_entry)
    l_proceeds, l_realised = f32(lb, lo, L.proceeds), b1(lb, lo, L.realised)
    l_realised_tick = i16(lb, lo, L.realised_tick)
    n_c = fund_performance.shape[0]
    cw = np.zeros((3, n_c))  # per city: commitments, dry powder in reach, invested
    if not deals_only:
        # 1. feedback -----------------------------------------------------------------------
        track_record_keep = kp.track_record_keep
        n_r = r_fund.shape[0]
        if n_r:
            got = np.zeros((2, n_funds + n_c))  # proceeds, amounts: per fund, then per city
            for r in range(n_r):
                j = r_fund[r]
                got[0, j] += r_proceeds[r]
                got[1, j] += r_amount[r]
                c = n_funds + fu_city[j]
                got[0, c] += r_proceeds[r]
                got[1, c] += r_amount[r]
        logs = np.empty(n_funds)
        n_rec = 0
        for j in range(n_funds):
            tp = track_proceeds[j] * track_record_keep
            ti = track_invested[j] * track_record_keep
            if n_r:
                tp += got[0, j]
                ti += got[1, j]
            track_proceeds[j] = tp
            track_invested[j] = ti
            if ti > 0.0:
                logs[n_rec] = math.log(max(tp, 1e-12) / ti)
                n_rec += 1
        if n_rec:  # each fund against the median fund's multiple
            median = np.median(logs[:n_rec])
            for j in range(n_funds):
                ti = track_invested[j]
                if ti > 0.0:
                    logm = math.log(max(track_proceeds[j], 1e-12) / ti) - median
                    logm = min(max(logm, -3.0), 3.0)
                    a = np.float64(appetite[j]) + kp.appetite_learning * logm
                    appetite[j] = min(max(a, 0.0), 1.0)
        if n_r:
            for c in range(n_c):
                paid = got[1, n_funds + c]
                if paid > 0.0:
                    mult = min(got[0, n_funds + c] / max(paid, 1e-12), 20.0)
                    fund_performance[c] = 0.9 * fund_performance[c] + 0.1 * mult
        # 2. reversion and commitments ------------------------------------------------------
        perf = cw[1]  # scratch until the deals
        # the nation's performance: the cities' weighted by their funds' starting capital
        wsum = np.zeros(n_c)
        for j in range(n_funds):
            wsum[fu_city[j]] += base_capital[j]
        num = 0.0
        den = 0.0
        for c in range(n_c):
            num += wsum[c] * fund_performance[c]
            den += wsum[c]
        nation = num / den if den > 0.0 else 1.0
        for c in range(n_c):
            rel = max(fund_performance[c], 0.0) / nation if nation > 0.0 else 1.0
            perf[c] = min(rel**kp.lp_performance_elasticity, 10.0)
        for j in range(n_funds):
            c = fu_city[j]
            a = np.float64(appetite[j])
            a = a + (risk_appetite[c] - a) * kp.appetite_reversion / 4.0
            appetite[j] = min(max(a, 0.0), 1.0)
            inflow = base_capital[j] * kp.lp_inflow_rate / 4.0 * perf[c]
            capital[j] = capital[j] + inflow
            committed[j] = committed[j] + inflow
            cw[0, c] += inflow
        for c in range(n_c):
            flows[FL.lp_inflow, c] += cw[0, c]

    # 3. deals ------------------------------------------------------------------------------
    if f_n == 0:
        return 0
    # the fund a firm of each city pitches: probability ∝ reach x dry powder
    probs = np.empty((n_c, n_funds))
    total = cw[1]
    for c in range(n_c):
        s = 0.0
        for j in range(n_funds):
            w = kp.fund_reach[c, fu_city[j]] * max(capital[j], 0.0)
            probs[c, j] = w
            s += w
        total[c] = s
        if s > 0.0:
            for j in range(n_funds):
                probs[c, j] /= s
    s0, s1, s2, s3 = ks[0], ks[1], ks[2], ks[3]
    fixed_cost_per_tick = np.float32(kp.fixed_cost_per_tick)
    eps32 = np.float32(1e-12)
    half32 = np.float32(0.5)
    signal_noise = kp.signal_noise
    round_dilution = kp.round_dilution
    pre_min = kp.seed_round * (1.0 - round_dilution) / round_dilution
    ci = np.empty((2, f_n), np.int64)  # candidate firm row, fund
    cf = np.empty((3, f_n))  # amount, pre-money value, sort key
    m = 0
    for i in range(f_n):
        if listed[i] or rounds[i] >= kp.max_rounds:
            continue
        cost = wages[i] + fixed_cost_per_tick  # float32, as the NumPy step computes it
        if not cash[i] < np.float32(2.0) * cost:
            continue
        c = city[i]
        if not total[c] > 0.0:
            continue
        j = categorical(ks, probs[c])
        app = np.float64(appetite[j])
        if revenue_year[i] > 0:
            growth = revenue[i] / max(revenue_year[i], eps32) - np.float32(1.0)
        else:
            growth = np.float32(0.0)
        growth = min(max(growth, np.float32(-1.0)), np.float32(3.0))
        s32 = np.log(max(capability[i], eps32)) + half32 * growth
        signal = np.float64(s32) + kp.success_reputation * (1.0 if founder_history[i] == 2 else 0.0)
        if signal_noise != 0.0:
            signal += signal_noise * normal(ks)
        hurdle = kp.investment_hurdle - kp.appetite_hurdle_relief * app
        if orientation[i] == TOC:
            hurdle += kp.toc_variance_aversion * (1.0 - app)
        if not signal > hurdle:
            continue
        size = kp.seed_round * kp.round_step ** np.float64(rounds[i])
        pre = max(np.float64(valuation[i]), pre_min)
        ci[0, m] = i
        ci[1, m] = j
        cf[0, m] = min(size, pre * round_dilution / (1.0 - round_dilution))
        cf[1, m] = pre
        cf[2, m] = j + uniform(ks)  # by fund, in random order within a fund
        m += 1
    if m == 0:
        return 0
    order = np.argsort(cf[2, :m])
    # budget: within each fund, the running sum (deals taken and refused) within its dry
    # powder at the start of the deals; once over, the rest of the fund's list is refused
    k = 0
    run = 0.0
    prev = -1
    for q in range(m):
        x = order[q]
        j = ci[1, x]
        if j != prev:
            run = 0.0
            prev = j
        run += cf[0, x]
        if run <= capital[j]:
            k += 1
        else:
            order[q] = -1
    if k > room:
        ks[0], ks[1], ks[2], ks[3] = s0, s1, s2, s3
        return -k
    # apply, in the order of the ledger rows
    invested_c = cw[2]
    r = led_n
    for q in range(m):
        x = order[q]
        if x < 0:
            continue
        i = ci[0, x]
        j = ci[1, x]
        amount = cf[0, x]
        post = cf[1, x] + amount
        stake = amount / post
        amount32 = np.float32(amount)
        cash[i] = cash[i] + amount32
        raised[i] = raised[i] + amount32
        rnd = rounds[i]
        rounds[i] = rnd + 1
        post_money[i] = post
        valuation[i] = max(np.float64(valuation[i]), post)
        last_round[i] = t
        retained[i] = retained[i] * np.float32(1.0 - stake)
        capital[j] -= amount
        invested[j] += amount
        deals[j] += 1
        c = city[i]
        invested_c[c] += amount
        l_fund[r] = j
        l_firm_id[r] = id_[i]
        l_firm_city[r] = c
        l_tick[r] = t
        l_round[r] = rnd
        l_amount[r] = amount32
        l_stake[r] = stake
        l_retained_entry[r] = retained[i]
        l_proceeds[r] = 0.0
        l_realised[r] = False
        l_realised_tick[r] = -1
        r += 1
    for c in range(n_c):
        flows[FL.vc_invested, c] += invested_c[c]
    return k


def make(params, rng):
    g = params.g
    kp = constants(
        FinanceConstants,
        g,
        derived={
            "track_record_keep": 0.5 ** (1.0 / (TICKS_PER_YEAR * g.track_record_years)),
            "appetite_learning": g.appetite_learning_rate * g.appetite_sensitivity,
            "fixed_cost_per_tick": g.fixed_cost / TICKS_PER_YEAR,
            "fund_reach": fund_reach(params),
        },
    )
    ks = seed_state(rng)
    call = direct(kernel)

    def step(state, params, rng) -> None:
        fu, f, led = state.funds, state.firms, state.ledger
        r_fund = state.realised_fund
        k = call(
            ks, kp, state.t, False, r_fund, state.realised_proceeds, state.realised_amount,
            state.lever_array, state.city.fund_performance, state.flows.array, fu.block,
            fu.offsets, fu.n, f.block, f.offsets, f.n, led.block, led.offsets, led.n,
            led.capacity - led.n,
        )  # fmt: skip
        realisations_read(state)
        if k < 0:  # not enough free ledger rows: grow, then the same draws again (deals only)
            led.reserve(led.n - k)
            k = call(
                ks, kp, state.t, True, NO_FUND, NO_PROCEEDS, NO_AMOUNT, state.lever_array,
                state.city.fund_performance, state.flows.array, fu.block, fu.offsets, fu.n,
                f.block, f.offsets, f.n, led.block, led.offsets, led.n, led.capacity - led.n,
            )  # fmt: skip
        if k:
            led.claim(k)  # the kernel wrote the rows

    step.parts = (ks, kp)  # for the fused tick (fast.tick)
    return step


def realisations_read(state) -> None:
    """The kernel read last tick's realisations: leave none for the next tick."""
    if state.realised_fund.shape[0]:
        state.realised_fund = NO_FUND
        state.realised_proceeds = NO_PROCEEDS
        state.realised_amount = NO_AMOUNT


__all__ = ["make", "realisations_read"]
