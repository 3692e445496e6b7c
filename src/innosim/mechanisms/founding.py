"""Founding and the fear of failure (claims C8, C9, C10; C1, C6 for where founders look).

Rule. Each tick every real person who is not already leading a firm perceives an opportunity with
probability

    p_c = 1 - exp(-(rho/4) * O_c^eta * (K_c / K)^eps_K),   O_c = sum_w fit_{c,w} * gshare_w,

where ``K_c / K`` is the venture money within reach of the city's founders per person relative
to the nation's (climate mechanism) and ``eps_K = capital_entry_elasticity`` (Samila and
Sorenson 2011: founders start where capital is at hand), ``rho = opportunity_rate`` for people
who never founded and ``serial_opportunity_rate``
for those who did (entrepreneurial alertness: founders keep seeing opportunities; Kirzner 1973,
Westhead and Wright 1998), ``gshare_w`` the wave's share of all market growth this year and
``fit`` the city's cost advantage in it (place mechanism); ``eta`` is
``opportunity_market_elasticity``. A perceiver with skill s and v earlier ventures values the
opportunity at

    V = q + a_s s + a_v v - theta,   q ~ Logistic(0, sqrt(3) / pi)  (unit variance),

and pays a failure penalty set by the city (C8, C9, C10; Landier 2005):

    F = phi (1 - tau_c) + pc_c - ps_c + [failed before] (stigma_c + restart_c),

with ``phi = failure_cost``, ``pc = process_control`` and ``ps = private_support``; ``tau`` and
``stigma`` are the ``failure_tolerance`` and ``stigma`` levers plus what the city learned from
its ventures' outcomes (climate mechanism, C8: the culture is state, the scenario sets where it
starts). The person founds if V - F > 0: a logit choice (random utility with extreme-value
errors; McFadden 1974), so a penalty higher by dF lowers a perceiver's odds of founding by at
most exp(dF / s_q), s_q = sqrt(3)/pi: no lever has a cliff (with a normal q the fall steepened
without bound in the tail). A perceiver with V > 0 >= V - F saw an
opportunity worth taking but was deterred by the penalty: these are counted for the GEM-style
``fear_of_failure_share``. Restart candidates (perceivers who failed before) and restarts are
counted for ``restart_response_to_stigma_removal``.

*Spinoffs* (Klepper 2007, 2010; Klepper and Sleeper 2005; Gompers, Lerner and Scharfstein
2005). Firm i's employees perceive a spinoff opportunity at ``spinoff_rate * L_i * (a_i /
F_w)^spinoff_quality_elasticity`` per year (``F_w`` the wave's frontier capability; times
``spinoff_toc_premium`` for a To C firm). Staff are headcounts, so the city's spinoff hazard
per person ``s_c`` (their sum over its firms / 4 / pool) joins everyone's hazard ``h_c`` (the
opportunity rate above): ``p_c = 1 - exp(-(h_c + s_c))``, and a perceiver is a spinoff with
probability ``s_c / (h_c + s_c)``, its parent drawn among the city's firms by weight. The
founder decides as anyone does; the firm records its ``parent``, enters the parent's wave, keeps
the parent's orientation with probability ``spinoff_orientation_inheritance`` and starts at
``log a ~ N((1 - h) log(0.5 + s) + h log a_parent + k [succeeded before], 0.5)``, ``h =
spinoff_inheritance``.

Founders are real people and their firms real firms at any agent scale: a founder from a row
that stands for several people (the sampled population) splits off as a row of their own
(weight one: their history is theirs); the row keeps the others. A founder starts a firm in their
city with their own capital, lognormal with median
``founder_capital`` and log-sd ``founder_capital_dispersion`` (most ventures start on little
money, a few on a lot: the spread that makes young firms' failure hazard fall with age — the
Jovanovic 1982 / BLS pattern — instead of all running dry at the same age), capability
``log a ~ N(log(0.5 + s) + k [succeeded before], 0.5)`` (``k = success_capability_premium``:
Gompers et al. 2010 find performance persistence in serial founders — skill and access to
customers and suppliers) and a wave drawn with probability ∝ fit_{c,w} gshare_w. The
orientation is set by the orientation mechanism that runs next. Founder history at founding
(first time, after a failure, after a success) is recorded on the firm.

References: Landier (2005); Cahn, Girotti, Landier (2021); Armour and Cumming (2008); GEM
reports (fear of failure); Kerr, Nanda, Rhodes-Kropf (2014).

Implementation. One pass over the rows picks the perceivers among the real people they stand for at
the largest city's rate (geometric skips over people: O(perceivers) random numbers) and thins them
to each city's own, values each opportunity against the city's failure penalty and counts
perceivers, deterred, restart candidates and restarts. A second pass writes the founders' rows
(split off or taken over) and links them to the new firm rows; the tables then take the new rows."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import (
    CL,
    FIRM_ITEMSIZE,
    FL,
    LV,
    PEOPLE_ITEMSIZE,
    F,
    P,
    blank,
    constants,
    direct,
    f32,
    i8,
    i16,
    i32,
    i64,
    memmove,
    record,
    u8,
)
from innosim.engine.kernels.rng import categorical, normal, seed_state, skip, uniform
from innosim.engine.state import FOUNDER, new_firms_table
from innosim.mechanisms.climate import culture

NAME = "founding"

FoundingConstants = record(
    "FoundingConstants",
    __name__,
    (
        "opportunity_rate", "serial_opportunity_rate", "opportunity_market_elasticity",
        "founder_skill_weight",
        "founder_experience_weight", "founding_threshold", "failure_cost",
        "success_capability_premium", "founder_capital", "founder_capital_dispersion",
        "capital_entry_elasticity", "spinoff_rate", "spinoff_quality_elasticity",
        "spinoff_inheritance", "spinoff_toc_premium", "spinoff_orientation_inheritance",
    ),
    ("new_row", "new_row_offsets"),
)  # fmt: skip
"""The kernel's constants (``kp``): the declared parameters of that name, then a new firm's row
before its founder, city, wave, capability and cash are written (``new_row``, the byte buffer of
a one-row firm table: the table's fill values, one employee, a target of one, no round yet, and
``new_row_offsets``, its column offsets)."""
NO_CONSTANTS = blank(
    FoundingConstants,
    new_row=np.zeros(1, np.uint8),
    new_row_offsets=np.zeros(len(FIRM_ITEMSIZE) + 1, np.int64),
)


VALUE_SCALE = math.sqrt(3.0) / math.pi
"""Scale of the logistic opportunity value q (unit variance)."""


@njit(cache=True)
def logistic(ks):
    """q ~ Logistic(0, VALUE_SCALE): unit variance, one uniform. A logit choice (random utility
    with extreme-value errors, McFadden 1974): entry falls at most by exp(dF / VALUE_SCALE) when
    the penalty rises by dF, so no lever has a cliff (a normal q's hazard grows with depth)."""
    u = uniform(ks)
    u = min(max(u, 1e-300), 1.0 - 1e-16)
    return VALUE_SCALE * math.log(u / (1.0 - u))


@njit(cache=True)
def kernel(
    ks, kp, t, next_id, next_pid, market, market_growth, fit, pool, pb, po, n_people, p_room, fb,
    fo, f_n, room, levers, climate, flows, split,
):  # fmt: skip
    """Founders of this tick, written as new firm rows ``f_n ...``; returns their number k.

    Founders split off a row of several people are written as new people rows ``n_people ...``
    (ids from ``next_pid``); their number goes to ``split[0]``. If k exceeds ``room`` or
    ``p_room`` (free rows in the firm or people columns) nothing is changed, the stream is
    rewound and -k is returned: the caller makes room for k more of each and calls again (same
    draws).
    """
    city, status, employer = i8(pb, po, P.city), i8(pb, po, P.status), i32(pb, po, P.employer)
    skill, ventures = f32(pb, po, P.skill), u8(pb, po, P.ventures)
    failures, last_outcome = u8(pb, po, P.failures), i8(pb, po, P.last_outcome)
    weight, p_id = i32(pb, po, P.weight), i64(pb, po, P.id)
    process_control, private_support = levers[LV.process_control], levers[LV.private_support]
    restart_cost = levers[LV.restart_cost]
    n_c, n_w = fit.shape
    faced = np.empty((2, n_c))  # the tolerance and stigma founders face (lever + learned)
    culture(levers, climate, faced)
    failure_tolerance, stigma = faced[0], faced[1]
    # opportunity per city and the probability of each wave (founding.opportunity)
    total = 0.0
    for w in range(n_w):
        total += market_growth[w]
    share = np.zeros(n_w)
    if total <= 0.0:
        k_open = 0.0
        for w in range(n_w):
            if market[w] > 0.0:
                share[w] = 1.0
                k_open += 1.0
        for w in range(n_w):
            share[w] /= max(k_open, 1.0)
    else:
        for w in range(n_w):
            share[w] = market_growth[w] / total
    o = np.zeros(n_c)
    probs = np.zeros((n_c, n_w))
    o_sum = 0.0
    for c in range(n_c):
        for w in range(n_w):
            probs[c, w] = fit[c, w] * share[w]
            o[c] += probs[c, w]
        for w in range(n_w):
            probs[c, w] /= max(o[c], 1e-300)
        o_sum += o[c]
    if o_sum <= 0.0:
        return 0
    # spinoffs: each firm's employees perceive at spinoff_rate x quality; per city, the firms'
    # weights in city order (a counting sort) for drawing the parent of a spinoff perceiver
    f_city, f_wave = i8(fb, fo, F.city), i8(fb, fo, F.wave)
    f_cap, f_emp = f32(fb, fo, F.capability), i32(fb, fo, F.employment)
    f_orient = i8(fb, fo, F.orientation)
    spin = np.zeros(n_c)  # spinoff hazard per person and tick
    seg = np.zeros(n_c + 1, np.int64)  # city c's firms: positions seg[c] .. seg[c + 1]
    by_city = np.empty(f_n, np.int64)
    cum = np.empty(f_n)  # running weight within the city's segment
    if kp.spinoff_rate > 0.0 and f_n > 0:
        frontier = np.zeros(n_w)
        for j in range(f_n):
            frontier[f_wave[j]] = max(frontier[f_wave[j]], np.float64(f_cap[j]))
        for j in range(f_n):
            seg[f_city[j] + 1] += 1
        for c in range(n_c):
            seg[c + 1] += seg[c]
        fill = seg[:n_c].copy()
        for j in range(f_n):
            c = f_city[j]
            by_city[fill[c]] = j
            fill[c] += 1
        for c in range(n_c):
            run = 0.0
            for q in range(seg[c], seg[c + 1]):
                j = by_city[q]
                rel = np.float64(f_cap[j]) / max(frontier[f_wave[j]], 1e-30)
                w = f_emp[j] * rel**kp.spinoff_quality_elasticity
                if f_orient[j] == 0:
                    w *= kp.spinoff_toc_premium
                run += max(w, 0.0)
                cum[q] = run
            spin[c] = kp.spinoff_rate / 4.0 * run / max(pool[c], 1.0)
    p_c = np.zeros(n_c)
    p_s = np.zeros(n_c)  # people who have founded before
    h_c = np.zeros(n_c)  # hazards per tick without spinoffs
    h_s = np.zeros(n_c)
    pmax = 0.0
    smax = 0.0
    for c in range(n_c):
        pull = max(o[c], 0.0) ** kp.opportunity_market_elasticity
        # venture money within reach relative to the nation's (climate mechanism)
        pull *= max(climate[CL.capital_index, c], 1e-6) ** kp.capital_entry_elasticity
        h_c[c] = (kp.opportunity_rate / 4.0) * pull
        h_s[c] = (kp.serial_opportunity_rate / 4.0) * pull
        p_c[c] = -math.expm1(-(h_c[c] + spin[c]))
        p_s[c] = -math.expm1(-(h_s[c] + spin[c]))
        pmax = max(pmax, p_c[c])
        smax = max(smax, p_s[c])
    if (pmax <= 0.0 and smax <= 0.0) or n_people == 0:
        return 0
    saved = ks.copy()
    # pass 1: perceivers and their decisions (counts kept aside until we know there is room)
    counts = np.zeros((4, n_c))  # perceivers, deterred, restart candidates, restarts
    founders = np.empty(16, np.int64)
    parents = np.empty(16, np.int64)  # the parent firm's row of a spinoff founder, else -1
    k = 0
    log1m = math.log1p(-pmax) if pmax < 1.0 else -math.inf
    # people to pass over before the next perceiver (none perceives when pmax is 0)
    gap = skip(ks, log1m) if 0.0 < pmax < 1.0 else (0 if pmax >= 1.0 else 1 << 62)
    i = 0
    while i < n_people:
        c = city[i]
        r = i
        if ventures[i] > 0:  # has founded before (a row of one): their own rate, one uniform
            seen = status[i] != FOUNDER and uniform(ks) < p_s[c]
            i += 1
        elif gap >= weight[i]:  # nobody in this row perceives
            gap -= weight[i]
            i += 1
            continue
        else:  # one of the row's people perceives (the next may be in this row too)
            seen = (p_c[c] >= pmax or uniform(ks) < p_c[c] / pmax) and status[i] != FOUNDER
            gap += 1 + (skip(ks, log1m) if 0.0 < pmax < 1.0 else 0)
        if not seen:
            continue
        parent = -1
        if spin[c] > 0.0:  # a spinoff (one uniform), its parent drawn by weight in the city
            h = (h_s[c] if ventures[r] > 0 else h_c[c]) + spin[c]
            u = uniform(ks)
            if u < spin[c] / h:
                target = uniform(ks) * cum[seg[c + 1] - 1]
                a, b = seg[c], seg[c + 1] - 1
                while a < b:  # first position whose running weight exceeds the target
                    m = (a + b) >> 1
                    if cum[m] <= target:
                        a = m + 1
                    else:
                        b = m
                parent = by_city[a]
        failed = failures[r] > 0
        value = (
            logistic(ks)
            + kp.founder_skill_weight * skill[r]
            + kp.founder_experience_weight * ventures[r]
            - kp.founding_threshold
        )
        penalty = (
            kp.failure_cost * (1.0 - failure_tolerance[c])
            + process_control[c]
            - private_support[c]
            + (stigma[c] + restart_cost[c] if failed else 0.0)
        )
        found = value - penalty > 0.0
        counts[0, c] += 1.0
        if value > 0.0 and not found:
            counts[1, c] += 1.0
        if failed:
            counts[2, c] += 1.0
            if found:
                counts[3, c] += 1.0
        if found:
            if k == founders.shape[0]:
                grown = np.empty(2 * k, np.int64)
                grown[:k] = founders
                founders = grown
                grown_p = np.empty(2 * k, np.int64)
                grown_p[:k] = parents
                parents = grown_p
            founders[k] = r
            parents[k] = parent
            k += 1
    if k > room or k > p_room:
        ks[:] = saved
        return -k
    # pass 2: apply
    id_, f_parent = i64(fb, fo, F.id), i64(fb, fo, F.parent)
    born, founder = i16(fb, fo, F.born), i32(fb, fo, F.founder)
    founder_history, capability = i8(fb, fo, F.founder_history), f32(fb, fo, F.capability)
    cash = f32(fb, fo, F.cash)
    new_row, new_row_offsets = kp.new_row, kp.new_row_offsets
    for c in range(n_c):
        flows[FL.perceivers, c] += counts[0, c]
        flows[FL.deterred, c] += counts[1, c]
        flows[FL.restart_candidates, c] += counts[2, c]
        flows[FL.restarts, c] += counts[3, c]
    n_split = 0
    for j in range(k):
        i = founders[j]
        c = city[i]
        if weight[i] > 1:  # one of the row's people: a row of their own (weight one)
            weight[i] -= 1
            q = n_people + n_split
            for col in range(PEOPLE_ITEMSIZE.shape[0]):
                size = PEOPLE_ITEMSIZE[col]
                memmove(pb, po[col] + q * size, pb, po[col] + i * size, size)
            weight[q] = 1
            p_id[q] = next_pid + n_split
            n_split += 1
            i = q
        history = last_outcome[i]
        own = math.log(0.5 + np.float64(skill[i]))
        q = parents[j]
        if q >= 0:  # a spinoff inherits part of its parent's capability (Klepper and Sleeper)
            h = kp.spinoff_inheritance
            own = (1.0 - h) * own + h * math.log(max(np.float64(f_cap[q]), 1e-30))
        log_cap = own + (kp.success_capability_premium if history == 2 else 0.0)
        r = f_n + j
        for col in range(FIRM_ITEMSIZE.shape[0]):  # every column starts as the new row's
            size = FIRM_ITEMSIZE[col]
            memmove(fb, fo[col] + r * size, new_row, new_row_offsets[col], size)
        id_[r] = next_id + j
        f_city[r] = c
        if q >= 0:  # the parent's wave; its kind of client with some probability
            f_parent[r] = id_[q]
            f_wave[r] = f_wave[q]
            if uniform(ks) < kp.spinoff_orientation_inheritance:
                f_orient[r] = f_orient[q]
            flows[FL.spinoffs, c] += 1.0
        else:
            f_wave[r] = categorical(ks, probs[c])
        born[r] = t
        founder[r] = i
        founder_history[r] = history
        capability[r] = math.exp(log_cap + 0.5 * normal(ks))
        cash[r] = kp.founder_capital * math.exp(kp.founder_capital_dispersion * normal(ks))
        status[i] = FOUNDER
        employer[i] = r
        ventures[i] = min(int(ventures[i]) + 1, 255)
        flows[FL.entries, c] += 1.0
    split[0] = n_split
    return k


def make(params, rng):
    new_row = new_firms_table(1)
    new_row.append(1, employment=1, target=1.0, last_round=-1)
    kp = constants(
        FoundingConstants,
        params.g,
        derived={"new_row": new_row.block, "new_row_offsets": new_row.offsets},
    )
    ks = seed_state(rng)

    entry = direct(kernel)
    split = np.zeros(1, np.int64)

    def step(state, params, rng) -> None:
        p, f = state.people, state.firms

        def call() -> int:
            return entry(
                ks, kp, state.t, state.next_firm_id, state.next_person_id, state.market,
                state.market_growth, state.city.fit, state.city.pool, p.block, p.offsets, p.n,
                p.capacity - p.n,
                f.block, f.offsets, f.n, f.capacity - f.n, state.lever_array,
                state.city.climate, state.flows.array, split,
            )  # fmt: skip

        k = call()
        if k < 0:  # not enough free rows: grow, then the same draws again (the stream rewound)
            f.reserve(f.n - k)
            p.reserve(p.n - k)
            k = call()
        founded(state, k, int(split[0]))

    step.parts = (ks, kp)  # for the fused tick (fast.tick)
    return step


def founded(state, k: int, split: int) -> None:
    """The kernel wrote ``k`` new firm rows and ``split`` new people rows: the tables and the id
    counters take them."""
    if k:
        state.firms.claim(k)
        state.next_firm_id += k
    if split:
        state.people.claim(split)
        state.next_person_id += split


__all__ = ["founded", "make"]
