"""Expected results of one step of a compiled mechanism on a fixed stream.

Each function below is written from the rule in its mechanism's docstring, with plain Python
loops over a small state, and draws from a copy of the kernel's xoshiro256** state
(``step.parts[0]``, copied before the step) in the order the kernel documents: the same random
numbers decide the same events, so a test compares the kernel's result with these exactly
(equal categories and counts, equal float32 columns). None of them calls a kernel or an oracle
of ``tests/oracle``; they use only the stream's own functions (``uniform``, ``normal``,
``skip``), which ``test_fast.py`` checks against the reference outputs.
"""

from __future__ import annotations

import math

import numpy as np

from innosim.engine.kernels import rng as _rng
from innosim.engine.kernels.layout import CL
from innosim.engine.state import FOUNDER
from innosim.mechanisms.climate import culture
from innosim.mechanisms.founding import logistic as _logistic


def pick(u: float, probs) -> int:
    """Inverse of the cumulative probabilities at ``u``: the first j with u < p_0 + ... + p_j
    (the last index when the row sums to less than one)."""
    c = 0.0
    for j in range(len(probs) - 1):
        c += probs[j]
        if u < c:
            return j
    return len(probs) - 1


def per_tick(yearly_rate: float) -> float:
    """Per-tick probability of an event at ``yearly_rate`` per year (four ticks a year)."""
    return -math.expm1(-yearly_rate / 4.0)


# ------------------------------------------------------------------------------ orientation
def orientation(state, params, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(orientation of every firm, the stream after) for one orientation step: each firm
    without an orientation (-1), in row order, draws To C / To B / To G with probabilities
    proportional to (D^C_c t_w, D^B_c (1 - t_w), D^G_c B_c), one uniform each."""
    s = ks.copy()
    lv, f = state.levers, state.firms
    out = f.orientation.astype(np.int64)
    for i in range(f.n):
        if out[i] >= 0:
            continue
        c, t = int(f.city[i]), float(params.wave_toc[f.wave[i]])
        w = [
            lv.demand_consumer[c] * t,
            lv.demand_enterprise[c] * (1.0 - t),
            lv.demand_government[c] * lv.procurement_budget[c],
        ]
        total = w[0] + w[1] + w[2]
        assert total > 0  # the states of the tests have demand in every city
        out[i] = pick(_rng.uniform(s), [x / total for x in w])
    return out, s


# ------------------------------------------------------------------------------------ waves
def wave_demand(params, t: float, people: float) -> np.ndarray:
    """M_w(t) of the waves docstring: weight * m * N / 4 * S_w(a) * exp(-delta max(0, a - life)),
    a = (t - s_w) / 4 years, zero before the wave opens; N the real people."""
    g = params.g
    out = np.zeros(len(params.wave_start))
    for w in range(out.size):
        a = (t - int(params.wave_start[w])) / 4.0
        if a < 0:
            continue
        gr = float(params.wave_growth[w])
        s_curve = 1.0 / (1.0 + math.exp(-gr * (a - 4.0 / gr)))
        decline = math.exp(-g.wave_decline_rate * max(0.0, a - g.wave_life_years))
        out[w] = (
            float(params.wave_weight[w]) * g.market_per_person * people / 4.0 * s_curve * decline
        )
    return out


def waves(state, params, ks: np.ndarray):
    """(market, market_growth, wave of every firm, capability, the stream after, lagged market)
    for one waves
    step. Each firm of a wave older than its city's best open wave (largest fit * growth, open:
    started at most ``adaptation_window_years`` ago; only a best wave that grows counts) draws
    one uniform, in row order, and moves with probability 1 - exp(-rho_o / 4), losing a share
    ``adaptation_capability_loss`` of its capability."""
    g, t, s = params.g, state.t, ks.copy()
    people = float(state.city.pool.sum())
    market = wave_demand(params, t, people)
    growth = np.maximum(market - wave_demand(params, t - 4, people), 0.0)
    lagged = wave_demand(params, t - 4.0 * g.procurement_lag_years, people)
    start = params.wave_start
    f = state.firms
    wave, cap = f.wave.astype(np.int64), f.capability.copy()
    age = (t - start) / 4.0
    is_open = (age >= 0) & (age <= g.adaptation_window_years)
    rate = [g.adaptation_rate_toc, g.adaptation_rate_tob, g.adaptation_rate_tog]
    keep = np.float32(1.0 - g.adaptation_capability_loss)
    fit = state.city.fit
    if f.n and is_open.any():
        for i in range(f.n):
            c = int(f.city[i])
            scores = [fit[c, w] * growth[w] if is_open[w] else -1.0 for w in range(start.size)]
            best = int(np.argmax(scores))
            if scores[best] <= 0 or start[wave[i]] >= start[best]:
                continue
            if _rng.uniform(s) < per_tick(rate[f.orientation[i]]):
                wave[i] = best
                cap[i] = cap[i] * keep
    return market, growth, wave, cap, s, lagged


# --------------------------------------------------------------------------------- founding
def founding(state, params, ks: np.ndarray) -> dict:
    """Founders, counts and new firms of one founding step, drawn from a copy of ``ks``.

    Perceivers: the real people of the rows in row order (a row stands for ``weight`` people),
    each selected with probability p_max (the largest city's p_c) by geometric skips over
    people (``skip``), then kept with probability p_c / p_max (one uniform, only where p_c <
    p_max); a row of someone who founded before is not in the skips but draws one uniform
    against its city's serial rate p_s (unless they lead a firm now). A kept person whose row is
    not a founder's values the opportunity with one normal (the row's skill and history) and
    founds if V - F > 0. Then each founder, in order, takes a
    row: a new one (weight one, a copy of its row, appended in order) while its row stands for
    more than one person, else its row itself; and draws the firm's wave (one uniform against
    fit * gshare), its capability (one normal) and its capital (one normal). ``founders`` are
    the founders' rows after that, ``sources`` the rows they came from.
    """
    g, s = params.g, ks.copy()
    lv, p = state.levers, state.people
    fit = state.city.fit
    n_c, n_w = fit.shape
    total = float(state.market_growth.sum())
    assert total > 0  # the rule's gshare: the states of the tests have a growing market
    gshare = state.market_growth / total
    o = np.array([sum(fit[c, w] * gshare[w] for w in range(n_w)) for c in range(n_c)])
    pull = np.maximum(o, 0.0) ** g.opportunity_market_elasticity
    index = np.maximum(state.city.climate[CL.capital_index], 1e-6)  # capital in reach
    pull = pull * index**g.capital_entry_elasticity
    faced = np.empty((2, n_c))  # the tolerance and stigma founders face
    culture(state.lever_array, state.city.climate, faced)
    # spinoff hazards and the parents' running weights per city, firms in city order
    f = state.firms
    spin = np.zeros(n_c)
    by_city: list[list[int]] = [[] for _ in range(n_c)]
    cum: list[list[float]] = [[] for _ in range(n_c)]
    if g.spinoff_rate > 0 and f.n:
        frontier = np.zeros(n_w)
        for j in range(f.n):
            frontier[f.wave[j]] = max(frontier[f.wave[j]], float(f.capability[j]))
        for j in range(f.n):
            c = int(f.city[j])
            rel = float(f.capability[j]) / max(frontier[f.wave[j]], 1e-30)
            w = int(f.employment[j]) * rel**g.spinoff_quality_elasticity
            if f.orientation[j] == 0:
                w *= g.spinoff_toc_premium
            by_city[c].append(j)
            cum[c].append((cum[c][-1] if cum[c] else 0.0) + max(w, 0.0))
        for c in range(n_c):
            total_w = cum[c][-1] if cum[c] else 0.0
            spin[c] = g.spinoff_rate / 4.0 * total_w / max(float(state.city.pool[c]), 1.0)
    h_c = (g.opportunity_rate / 4.0) * pull
    h_s = (g.serial_opportunity_rate / 4.0) * pull
    p_c = -np.expm1(-(h_c + spin))
    p_s = -np.expm1(-(h_s + spin))
    pmax = float(p_c.max())
    assert 0 < pmax < 1
    log1m = math.log1p(-pmax)
    counts = np.zeros((4, n_c))  # perceivers, deterred, restart candidates, restarts
    founders, parents = [], []
    gap, i = _rng.skip(s, log1m), 0
    while i < p.n:
        c, r = int(p.city[i]), i
        if p.ventures[i] > 0:  # founded before: their own rate, one uniform (not the skips)
            seen = p.status[i] != FOUNDER and _rng.uniform(s) < p_s[c]
            i += 1
        elif gap >= int(p.weight[i]):
            gap -= int(p.weight[i])
            i += 1
            continue
        else:
            kept = True if p_c[c] >= pmax else _rng.uniform(s) < p_c[c] / pmax
            seen = kept and p.status[i] != FOUNDER
            gap += 1 + _rng.skip(s, log1m)
        if seen:
            parent = -1
            if spin[c] > 0:  # a spinoff? then its parent, by running weight in the city
                h = (h_s[c] if p.ventures[r] > 0 else h_c[c]) + spin[c]
                if _rng.uniform(s) < spin[c] / h:
                    target = _rng.uniform(s) * cum[c][-1]
                    parent = by_city[c][next(q for q, x in enumerate(cum[c]) if x > target)]
            failed = p.failures[r] > 0
            value = (
                _logistic(s)
                + g.founder_skill_weight * float(p.skill[r])
                + g.founder_experience_weight * int(p.ventures[r])
                - g.founding_threshold
            )
            penalty = (
                g.failure_cost * (1.0 - faced[0, c])
                + lv.process_control[c]
                - lv.private_support[c]
                + (faced[1, c] + lv.restart_cost[c] if failed else 0.0)
            )
            found = value - penalty > 0.0
            counts[0, c] += 1
            counts[1, c] += value > 0.0 and not found
            counts[2, c] += failed
            counts[3, c] += failed and found
            if found:
                founders.append(r)
                parents.append(parent)
    firms, rows, weight, split = [], [], p.weight.astype(int).copy(), 0
    for i, q in zip(founders, parents, strict=True):
        if weight[i] > 1:
            weight[i] -= 1
            rows.append(p.n + split)
            split += 1
        else:
            rows.append(i)
        c = int(p.city[i])
        history = int(p.last_outcome[i])
        own = math.log(0.5 + float(p.skill[i]))
        orientation = -1
        if q >= 0:  # a spinoff: the parent's wave, part of its capability, maybe its clients
            h = g.spinoff_inheritance
            own = (1 - h) * own + h * math.log(max(float(f.capability[q]), 1e-30))
            wave = int(f.wave[q])
            if _rng.uniform(s) < g.spinoff_orientation_inheritance:
                orientation = int(f.orientation[q])
        else:
            probs = [fit[c, w] * gshare[w] / o[c] for w in range(n_w)]
            wave = pick(_rng.uniform(s), probs)
        log_cap = own + (g.success_capability_premium if history == 2 else 0.0)
        capability = np.float32(math.exp(log_cap + 0.5 * _rng.normal(s)))
        cash = np.float32(
            g.founder_capital * math.exp(g.founder_capital_dispersion * _rng.normal(s))
        )
        firms.append(
            dict(
                founder=i,
                city=c,
                wave=wave,
                history=history,
                capability=capability,
                cash=cash,
                orientation=orientation,
                parent=int(f.id[q]) if q >= 0 else -1,
            )
        )
    return {
        "counts": counts, "founders": rows, "sources": founders, "weight": weight,
        "split": split, "firms": firms, "stream": s,
    }  # fmt: skip


# ------------------------------------------------------------------------------------ exits
def exits(state, g, ks: np.ndarray) -> dict:
    """The events of one exits step on the firm rows, drawn from a copy of ``ks``.

    In row order: each firm not yet listed, valued at least ``listing_valuation`` and at least
    ``exit_min_age`` years old draws one uniform and lists with probability per_tick(exit_rate);
    then each firm still not listed that raised a round and is at least two years old draws one
    uniform and is acquired with probability per_tick(acquisition_rate); then every firm fails
    for other reasons with probability per_tick(base_hazard) (geometric skips over the rows).
    A firm with negative cash that was not acquired fails; one without staff or founder closes.
    Returns per row: listed this tick, acquired, dead, the death kind (1 failure, 2 closure,
    3 acquired), whether it counts as a failure (negative cash), and the stream after."""
    s, f, t = ks.copy(), state.firms, state.t
    n = f.n
    listed = np.zeros(n, bool)
    acquired = np.zeros(n, bool)
    dead = np.zeros(n, bool)
    p_exit, p_acq, p_haz = (per_tick(x) for x in (g.exit_rate, g.acquisition_rate, g.base_hazard))
    threshold = np.float32(g.listing_valuation)  # valuations are float32
    if p_exit > 0:
        for r in range(n):
            eligible = (
                not f.listed[r]
                and f.valuation[r] >= threshold
                and (t - int(f.born[r])) / 4.0 >= g.exit_min_age
            )
            if eligible and _rng.uniform(s) < p_exit:
                listed[r] = True
    if p_acq > 0:
        for r in range(n):
            eligible = (
                not (f.listed[r] or listed[r])
                and f.rounds[r] > 0
                and (t - int(f.born[r])) / 4.0 >= 2.0
            )
            if eligible and _rng.uniform(s) < p_acq:
                acquired[r] = dead[r] = True
    if p_haz > 0:
        assert p_haz < 1
        log1m = math.log1p(-p_haz)
        r = _rng.skip(s, log1m)
        while r < n:
            dead[r] = True
            r += 1 + _rng.skip(s, log1m)
    broke = (f.cash[:n] < 0) & ~acquired
    closed = (f.employment[:n] <= 0) & (f.founder[:n] < 0)
    dead |= broke | closed
    kind = np.where(acquired, 3, np.where(broke, 1, 2)) * dead
    return {"listed": listed, "acquired": acquired, "dead": dead, "kind": kind, "broke": broke & dead,
            "stream": s}  # fmt: skip


# ---------------------------------------------------------------------------------- finance
def finance_deals(state, params, ks: np.ndarray) -> dict:
    """The deals of one finance step, drawn from a copy of ``ks``, for a state whose feedback
    and commitments change nothing (no track record, no realisations, no reversion, no LP
    inflow): the funds' appetites and dry powder are the state's.

    Each firm that is not listed, has raised fewer than ``max_rounds`` rounds and holds less
    than two quarters of costs (wages + fixed_cost / 4, float32) pitches, in row order, one
    fund: a uniform against the probabilities ∝ exp(-d / fund_reach_km) x dry powder of its
    city's row; the fund reads the signal log a + 0.5 clip(growth, -1, 3) (float32) +
    r [succeeded before] + sigma_s z (one normal) against its hurdle; an accepted deal draws a
    uniform, its place among the fund's deals. Each fund then takes its deals in that order
    while their running sum stays within its dry powder. Returns the deals taken in ledger
    order (firm row, fund, round, amount, pre-money value) and the stream after."""
    g, s, f, fu = params.g, ks.copy(), state.firms, state.funds
    reach = np.exp(-params.dist_km / g.fund_reach_km)
    fcity = fu.city.astype(np.int64)
    capital = fu.capital[: fu.n].copy()
    d = g.round_dilution
    fixed = np.float32(g.fixed_cost / 4.0)
    eps = np.float32(1e-12)
    accepted = []  # (fund, key, row, amount, pre)
    for i in range(f.n):
        if f.listed[i] or f.rounds[i] >= g.max_rounds:
            continue
        if not f.cash[i] < np.float32(2.0) * (f.wages[i] + fixed):
            continue
        c = int(f.city[i])
        weight = [reach[c, fcity[j]] * max(capital[j], 0.0) for j in range(fu.n)]
        total = sum(weight)
        if not total > 0:
            continue
        j = pick(_rng.uniform(s), [w / total for w in weight])
        app = float(fu.appetite[j])
        ry = f.revenue_year[i]
        growth = f.revenue[i] / max(ry, eps) - np.float32(1.0) if ry > 0 else np.float32(0.0)
        growth = min(max(growth, np.float32(-1.0)), np.float32(3.0))
        signal = float(np.log(max(f.capability[i], eps)) + np.float32(0.5) * growth)
        signal += g.success_reputation * (f.founder_history[i] == 2)
        if g.signal_noise != 0.0:
            signal += g.signal_noise * _rng.normal(s)
        hurdle = g.investment_hurdle - g.appetite_hurdle_relief * app
        if f.orientation[i] == 0:  # To C
            hurdle += g.toc_variance_aversion * (1.0 - app)
        if not signal > hurdle:
            continue
        pre = max(float(f.valuation[i]), g.seed_round * (1.0 - d) / d)
        amount = min(g.seed_round * g.round_step ** float(f.rounds[i]), pre * d / (1.0 - d))
        accepted.append((j, _rng.uniform(s), i, amount, pre))
    taken, spent, full = [], {}, set()
    for j, _, i, amount, pre in sorted(accepted):
        if j in full:
            continue
        spent[j] = spent.get(j, 0.0) + amount
        if spent[j] <= capital[j]:
            taken.append((i, j, int(f.rounds[i]), amount, pre))
        else:
            full.add(j)
    return {"deals": taken, "pitched": len(accepted), "stream": s}


# ----------------------------------------------------------------------------------- growth
def growth_learning(state, params, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(capability of every firm, the stream after) for the learning of one growth step:

        log a <- clip(log a + (lambda_o / 4)(log F_w - log a) + (sigma_o / 2) eps, -20, 20),

    F_w the largest capability in the wave before the step. The normals eps are drawn, in row
    order and only for firms whose orientation's sigma is not zero, two at a time by
    Marsaglia's polar method (two uniforms u, v on (-1, 1) until 0 < q = u^2 + v^2 < 1; then
    u sqrt(-2 log q / q) and, for the next firm, v sqrt(-2 log q / q))."""
    g, s, f = params.g, ks.copy(), state.firms
    lam = [g.learning_rate_toc, g.learning_rate_tob, g.learning_rate_tog]
    sig = [g.capability_noise_toc, g.capability_noise_tob, g.capability_noise_tog]
    loga = [math.log(max(float(f.capability[r]), 1e-12)) for r in range(f.n)]
    frontier = {}
    for r in range(f.n):
        w = int(f.wave[r])
        frontier[w] = max(frontier.get(w, -math.inf), loga[r])
    out = f.capability.copy()
    spare = None
    for r in range(f.n):
        o = int(f.orientation[r])  # -1 (not yet oriented) reads the last entry, To G
        z = 0.0
        if sig[o] != 0.0:
            if spare is not None:
                z, spare = spare, None
            else:
                while True:
                    u, v = 2.0 * _rng.uniform(s) - 1.0, 2.0 * _rng.uniform(s) - 1.0
                    q = u * u + v * v
                    if 0.0 < q < 1.0:
                        break
                scale = math.sqrt(-2.0 * math.log(q) / q)
                z, spare = u * scale, v * scale
        x = loga[r] + lam[o] / 4.0 * (frontier[int(f.wave[r])] - loga[r]) + sig[o] * 0.5 * z
        out[r] = np.float32(math.exp(min(max(x, -20.0), 20.0)))
    return out, s
