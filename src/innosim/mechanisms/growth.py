"""Learning and growth: capability, market shares, revenue, hiring and cash (claims C6, C7, C12).

Rule. *Learning.* A firm's log capability moves toward its wave's frontier (the best firm in
the wave) at the learning rate of its orientation and takes a random step:

    d log a_i = (lambda_o / 4)(log F_w - log a_i) + (sigma_o / 2) eps,   eps ~ N(0, 1),

To C firms learn fastest from direct users and are the most volatile (trial and error, C6);
To B and To G firms learn slowly behind their clients and are steady.

*Demand.* Each wave's demand (waves mechanism) splits into a national consumer segment (share
``t_w`` of M_w(t)) and an enterprise segment held city by city in proportion to the cities'
pools (enterprise clients buy from nearby suppliers: To B firms are bounded by their region, C6,
C7). Enterprise and government clients buy yesterday's technology: the enterprise segment is the
share ``1 - t_w`` of the wave's demand ``procurement_lag_years`` ago, and each city's
procurement budget ``B_c * pool_c / 4`` is spread over the waves in proportion to those lagged
enterprise markets, so To G firms of wave w share the city's government demand for wave w. When
the wind changes, To B and To G firms keep selling the old wave for a while, then lose their
clients with it (C6: "left behind when the industry's wind changes"). Within a segment a firm's
demand is its share of attraction

    A_i = a_i^theta * (1 + L_i / L_0)^alpha_o * fit_{c_i, w_i}     (fit = 1 for To G firms),

with ``theta = capability_weight`` and increasing returns ``alpha_o`` to size L (employment, real
people; ``L_0 = size_reference``, the size from which scale starts to count):
strong for To C (network effects; Ma et al. 2008, a Kesten-type process that yields a Zipf tail),
weak for To B, none for To G. Suppliers add what chain masters buy from them (chains mechanism).

*Revenue and hiring.* Revenue per employee is ``pi_i = pi (1 + L / L_0)^{s [To C]}`` (``pi =
labour_productivity``; consumer platforms serve more users per employee as they grow,
``s = toc_scale_economies``, C6). Revenue is demand capped by capacity ``1.5 L pi_i / 4``. Target
employment is what demand needs, ``4 D_i (1 - rho [master]) / pi_i`` (suppliers:
``4 P_in (1 - m_s) / w``), plus the hiring that cash above two quarters of costs buys over
``runway_years``
(reinvestment, and venture money spent ahead of revenue). Firms close a share ``hiring_speed`` of
the gap each tick: vacancies go to the careers mechanism; excess staff are laid off (staff are a
headcount of real people: firms are real firms at any agent scale).
*Cash*: revenue minus wages of employees (founders draw no salary; less the city's ``subsidy`` for
firms younger than three years), fixed costs and purchases from suppliers. *Valuation*: annualised
revenue times the orientation's multiple plus a growth premium (growth measured against the moving
average ``revenue_year``), floored by the last round's post-money value for two years.

References: Gibrat; Axtell (2001); Ma, Chen, Tong, Di (2008); Haltiwanger, Jarmin, Miranda
(2013); Dosi, Fagiolo, Roventini (2010); Nelson and Winter (1982) on routines and search.

Implementation. One kernel call per tick (two scratch allocations inside). Four passes over the firm
rows: (1) log capability and each wave's frontier; (2) learning (normal steps drawn two at a time by
Marsaglia's polar method, only for orientations whose noise is not zero), the new capability and the
log attraction with its maximum; (3) attraction and its total per segment (segments and their demand
as ``innosim.mechanisms.growth.segments``); (4) demand, revenue, wages, profit, cash,
``revenue_year``, valuation, target employment and the layoffs. Then one pass over the people
adds skill and tenure for everyone leading a firm.

Arithmetic follows the NumPy oracle of the tests (tests/oracle/growth.py): float64 from the float32
columns, the same order of operations, float32 stores; values read back after a store (cash for the
spare-cash hiring, target for the layoffs) are read from the stored float32 value, as there.
``log1p(L / L_0)`` and To C revenue per head ``pi (1 + L / L_0)^s`` are tabulated once per run with
NumPy for employment ``L < 512`` (NumPy's values, as the oracle's; computed directly above that),
and ``log fit`` once per tick per city and wave.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import (
    FL,
    LV,
    F,
    P,
    b1,
    blank,
    constants,
    direct,
    f32,
    i8,
    i16,
    i32,
    record,
)
from innosim.engine.kernels.rng import seed_state, uniform
from innosim.engine.kernels.select import rows_at_least
from innosim.engine.state import TOB, TOC, TOG

NAME = "growth"

_K = 512  # employment tabulated (log1p_staff, toc_revenue_per_head)
MAX_HEADCOUNT = float(2**30)
"""No firm plans beyond a billion people (headcounts are int32; the largest employer on Earth
has about two million): at the declared bounds a city may hold three billion people."""
GrowthConstants = record(
    "GrowthConstants",
    __name__,
    (
        "learning_rate_toc", "learning_rate_tob", "learning_rate_tog",
        "capability_noise_toc", "capability_noise_tob", "capability_noise_tog",
        "increasing_returns_toc", "increasing_returns_tob", "increasing_returns_tog",
        "valuation_multiple_toc", "valuation_multiple_tob", "valuation_multiple_tog",
        "capability_weight", "labour_productivity", "toc_scale_economies", "innovation_wage",
        "fixed_cost", "growth_premium", "procurement_share", "supplier_margin", "runway_years",
        "hiring_speed", "size_reference",
    ),
    ("skill_growth_per_tick", "log1p_staff", "toc_revenue_per_head", "wave_toc"),
)  # fmt: skip
"""The kernel's constants (``kp``): the declared parameters of that name, then ``skill_growth``
per tick and three float64 arrays: ``log1p(L / L_0)`` and ``labour_productivity * (1 + L /
L_0)^toc_scale_economies`` for employment ``L < _K`` (``L_0 = size_reference``; as NumPy computes
them: the same values as the NumPy step's) and the To C share of each wave's market
(``wave_toc``)."""
NO_CONSTANTS = blank(
    GrowthConstants, log1p_staff=np.zeros(1), toc_revenue_per_head=np.zeros(1), wave_toc=np.zeros(1)
)


@njit(cache=True)
def _work(employer, skill, tenure, n_people, skill_growth_per_tick, rows):
    """Skill and tenure grow for everyone leading an innovative firm; their rows, in order, are
    written to ``rows`` (returns their number)."""
    m = rows_at_least(employer, n_people, 0, rows)
    for j in range(m):
        i = rows[j]
        skill[i] += skill_growth_per_tick
        tenure[i] += 1
    return m


@njit(cache=True, error_model="numpy")
def kernel(
    ks, kp, t, market, market_lagged, pool, fit, levers, flows, pb, po, n_people, fb, fo, f_n
):
    """One tick of growth; returns the number of people laid off."""
    subsidy, budget = levers[LV.subsidy], levers[LV.procurement_budget]
    employer = i32(pb, po, P.employer)
    skill, tenure = f32(pb, po, P.skill), i16(pb, po, P.tenure)
    orientation, wave, city = i8(fb, fo, F.orientation), i8(fb, fo, F.wave), i8(fb, fo, F.city)
    born, founder, capability = (
        i16(fb, fo, F.born),
        i32(fb, fo, F.founder),
        f32(fb, fo, F.capability),
    )
    employment, target, demand = (
        i32(fb, fo, F.employment),
        f32(fb, fo, F.target),
        f32(fb, fo, F.demand),
    )
    revenue, revenue_year = f32(fb, fo, F.revenue), f32(fb, fo, F.revenue_year)
    procurement_in, procurement_out = f32(fb, fo, F.procurement_in), f32(fb, fo, F.procurement_out)
    wages, profit, cash = f32(fb, fo, F.wages), f32(fb, fo, F.profit), f32(fb, fo, F.cash)
    valuation, post_money = f32(fb, fo, F.valuation), f32(fb, fo, F.post_money)
    last_round, chain_master = i16(fb, fo, F.last_round), b1(fb, fo, F.chain_master)
    skill_growth_per_tick = np.float32(kp.skill_growth_per_tick)
    laid_off = 0
    rows = np.empty(n_people, np.int32)  # the founders
    if f_n == 0:
        _work(employer, skill, tenure, n_people, skill_growth_per_tick, rows)
        return 0
    n_c, n_w = fit.shape
    n_seg = n_w + 2 * n_w * n_c
    tpy = 4.0
    # scratch (two allocations): log capability, attraction, frontier, segment demand and
    # attraction totals; segment, excess staff, reservoir offsets and counts
    fbuf = np.empty(2 * f_n + n_w + 2 * n_seg + n_c * n_w)
    loga = fbuf[:f_n]
    att = fbuf[f_n : 2 * f_n]  # log attraction, then attraction
    frontier = fbuf[2 * f_n : 2 * f_n + n_w]
    seg_d = fbuf[2 * f_n + n_w : 2 * f_n + n_w + n_seg]
    total = fbuf[2 * f_n + n_w + n_seg : 2 * f_n + n_w + 2 * n_seg]
    log_fit = fbuf[2 * f_n + n_w + 2 * n_seg :].reshape((n_c, n_w))
    seg = np.zeros(f_n, np.int64)

    # learning: frontier per wave, then the step toward it ---------------------------------
    frontier[:] = -np.inf
    for c in range(n_c):
        for w in range(n_w):
            log_fit[c, w] = math.log(max(fit[c, w], 1e-12))
    for r in range(f_n):
        x = math.log(max(np.float64(capability[r]), 1e-12))
        loga[r] = x
        w = wave[r]
        if x > frontier[w]:
            frontier[w] = x
    # the parameters by orientation (To C, To B, To G), indexed by k below
    learning_rate = (kp.learning_rate_toc, kp.learning_rate_tob, kp.learning_rate_tog)
    capability_noise = (kp.capability_noise_toc, kp.capability_noise_tob, kp.capability_noise_tog)
    increasing_returns = (
        kp.increasing_returns_toc,
        kp.increasing_returns_tob,
        kp.increasing_returns_tog,
    )
    top = -np.inf
    have = False  # the second normal of the last pair is waiting
    z_spare = 0.0
    for r in range(f_n):
        o = orientation[r]
        k = o + 3 if o < 0 else o  # the NumPy step indexes a 3-array by o (-1: the last)
        w = wave[r]
        c = city[r]
        x = loga[r]
        sig = capability_noise[k]
        z = 0.0
        if sig != 0.0:
            if have:
                z = z_spare
                have = False
            else:  # Marsaglia's polar method: two independent normals, no trigonometry
                while True:
                    u = 2.0 * uniform(ks) - 1.0
                    v = 2.0 * uniform(ks) - 1.0
                    q = u * u + v * v
                    if 0.0 < q < 1.0:
                        break
                scale = math.sqrt(-2.0 * math.log(q) / q)
                z = u * scale
                z_spare = v * scale
                have = True
        x += learning_rate[k] / tpy * (frontier[w] - x) + sig * 0.5 * z
        x = min(max(x, -20.0), 20.0)
        loga[r] = x
        capability[r] = math.exp(x)
        if o == TOC:
            seg[r] = w
        elif o == TOB:
            seg[r] = n_w + w * n_c + c
        else:
            seg[r] = n_w + n_w * n_c + w * n_c + c
        staff = employment[r]
        l1p = (
            kp.log1p_staff[staff]
            if 0 <= staff < _K
            else math.log1p(np.float64(staff) / kp.size_reference)
        )
        la = (
            kp.capability_weight * x
            + increasing_returns[k] * l1p
            + (0.0 if o == TOG else log_fit[c, w])
        )
        att[r] = la
        if la > top:
            top = la

    # segments: demand per tick, attraction totals ------------------------------------------
    pool_sum = 0.0
    for c in range(n_c):
        pool_sum += pool[c]
    pool_sum = max(pool_sum, 1.0)
    for w in range(n_w):
        share = kp.wave_toc[w]
        seg_d[w] = market[w] * share
        m_b = market_lagged[w] * (1.0 - share)
        for c in range(n_c):
            seg_d[n_w + w * n_c + c] = m_b * (pool[c] / pool_sum)
    # government demand: each city's budget, spread over the waves as clients see them
    lagged = 0.0
    for w in range(n_w):
        lagged += market_lagged[w] * (1.0 - kp.wave_toc[w])
    for w in range(n_w):
        weight = market_lagged[w] * (1.0 - kp.wave_toc[w]) / lagged if lagged > 0.0 else 0.0
        for c in range(n_c):
            seg_d[n_w + n_w * n_c + w * n_c + c] = budget[c] * pool[c] / tpy * weight
    total[:] = 0.0
    for r in range(f_n):
        a = math.exp(att[r] - top)
        att[r] = a
        total[seg[r]] += a

    # revenue, costs, cash, valuation, target; excess staff ---------------------------------
    labour_productivity = kp.labour_productivity
    innovation_wage = kp.innovation_wage
    fixed = kp.fixed_cost / tpy
    d_pin = max(innovation_wage, 1e-9)
    d_spare = max(innovation_wage * kp.runway_years, 1e-9)
    valuation_multiple = (
        kp.valuation_multiple_toc,
        kp.valuation_multiple_tob,
        kp.valuation_multiple_tog,
    )
    cap_n = min(pool_sum, MAX_HEADCOUNT)
    for r in range(f_n):
        o = orientation[r]
        k = o + 3 if o < 0 else o
        s = seg[r]
        d = seg_d[s] * att[r] / max(total[s], 1e-300)
        demand[r] = d
        pin = np.float64(procurement_in[r])
        emp = np.float64(employment[r])
        if o != TOC:
            per_head = labour_productivity
        elif 0 <= employment[r] < _K:
            per_head = kp.toc_revenue_per_head[employment[r]]
        else:
            per_head = labour_productivity * (1.0 + emp / kp.size_reference) ** (
                kp.toc_scale_economies
            )
        capacity = 1.5 * max(emp, 1.0) * per_head / tpy
        rev = min(d + pin, capacity)
        sub = subsidy[city[r]] if (t - born[r]) < 3 * 4 else 0.0
        wage_rate = innovation_wage / tpy * (1.0 - sub)
        paid = max(emp - (1.0 if founder[r] >= 0 else 0.0), 0.0)
        wg = paid * wage_rate
        pr = rev - wg - fixed - np.float64(procurement_out[r])
        revenue[r] = rev
        wages[r] = wg
        profit[r] = pr
        cash[r] = np.float64(cash[r]) + pr
        prev = np.float64(revenue_year[r])
        if prev > 0.0:
            growth = rev / max(prev, 1e-12) - 1.0
            revenue_year[r] = 0.8 * prev + 0.2 * rev
        else:
            growth = 0.0
            revenue_year[r] = rev
        val = tpy * rev * (valuation_multiple[k] + kp.growth_premium * min(max(growth, 0.0), 3.0))
        lr = last_round[r]
        if lr >= 0 and (t - lr) < 2 * 4:
            val = max(val, np.float64(post_money[r]))
        valuation[r] = val
        rho = kp.procurement_share if chain_master[r] else 0.0
        need = tpy * d * (1.0 - rho) / per_head
        need += tpy * pin * (1.0 - kp.supplier_margin) / d_pin
        spare = max(np.float64(cash[r]) - 2.0 * (wg + fixed), 0.0)
        need += spare / d_spare
        need = min(max(need, 1.0), cap_n)
        target[r] = emp + kp.hiring_speed * (need - emp)
        cut_r = math.floor(emp - max(math.ceil(np.float64(target[r])), 1.0))
        if cut_r > 0:  # layoffs
            employment[r] -= cut_r
            flows[FL.separations, city[r]] += cut_r
            laid_off += cut_r

    # people: skill and tenure of the founders ------------------------------------------------
    _work(employer, skill, tenure, n_people, skill_growth_per_tick, rows)
    return laid_off


def make(params, rng):
    g = params.g
    staff = np.arange(_K, dtype=np.float64)
    kp = constants(
        GrowthConstants,
        g,
        derived={
            "skill_growth_per_tick": g.skill_growth / 4,
            "log1p_staff": np.log1p(staff / g.size_reference),
            "toc_revenue_per_head": g.labour_productivity
            * (1.0 + staff / g.size_reference) ** g.toc_scale_economies,
            "wave_toc": np.asarray(params.wave_toc, dtype=np.float64).copy(),
        },
    )
    ks = seed_state(rng)
    call = direct(kernel)

    def step(state, params, rng) -> None:
        p, f = state.people, state.firms
        call(
            ks, kp, state.t, state.market, state.market_lagged, state.city.pool, state.city.fit,
            state.lever_array,
            state.flows.array, p.block, p.offsets, p.n, f.block, f.offsets, f.n,
        )  # fmt: skip

    step.parts = (ks, kp)  # for the fused tick (fast.tick)
    return step


__all__ = ["make"]
