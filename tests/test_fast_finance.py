"""The compiled finance step (innosim.mechanisms.finance) against its NumPy oracle (tests/oracle)
(innosim.mechanisms.finance): feedback and commitments exactly, the deals exactly where no draw
decides them, and where the fund drawn, the signal noise and the order within a fund's budget do,
against the rule on the kernel's own stream (tests/_exact.py); its ledger rows, the retry when the ledger is full, determinism and conservation of money in whole runs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import _exact
import innosim
from _fast import CORE_OFF, both, clone, compiled_step, next_tick, scenario, state_at
from innosim.engine.state import LEDGER_COLUMNS, TOC
from innosim.mechanisms import finance as fast_finance

FIRM_COLS = ("cash", "raised", "rounds", "post_money", "valuation", "last_round", "retained")


@pytest.fixture(scope="module")
def sc():
    return scenario(10000, 12)


def _at(sc, **overrides):
    """(state, params) at the start of tick 40, with every firm short of cash (they all pitch
    unless listed or out of rounds) and some realisations to learn from."""
    state, params = state_at(sc, 40, disable=CORE_OFF, overrides=overrides)
    next_tick(state)
    state.firms.cash[:] = 0.0
    rng = np.random.default_rng(5)
    k = 12
    state.realised_fund = np.concatenate(
        [state.realised_fund, rng.integers(0, state.funds.n, k).astype(np.int64)]
    )
    amount = rng.uniform(100.0, 2000.0, k)
    state.realised_amount = np.concatenate([state.realised_amount, amount])
    proceeds = amount * rng.choice([0.0, 0.3, 1.0, 8.0], k)
    state.realised_proceeds = np.concatenate([state.realised_proceeds, proceeds])
    return state, params


def _new_ledger(state, start):
    led = state.ledger
    rows = {c: getattr(led, c)[start:].copy() for c in LEDGER_COLUMNS}
    order = np.argsort(rows["firm_id"], kind="stable")
    return {c: v[order] for c, v in rows.items()}


# ---------------------------------------------------------------- feedback and commitments
def test_feedback_and_commitments_match_numpy(sc):
    state, params = _at(sc)
    assert state.realised_fund.size >= 12
    a, b = both(state, params, "finance")
    fa, fb = a.funds, b.funds
    for col in ("track_proceeds", "track_invested", "committed"):
        np.testing.assert_allclose(getattr(fb, col), getattr(fa, col), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fb.appetite, fa.appetite, rtol=1e-6, atol=1e-7)
    assert not np.array_equal(fb.appetite, state.funds.appetite)  # the feedback moved them
    np.testing.assert_allclose(b.city.fund_performance, a.city.fund_performance, rtol=1e-12)
    assert not np.array_equal(b.city.fund_performance, state.city.fund_performance)
    np.testing.assert_allclose(b.flows.lp_inflow, a.flows.lp_inflow, rtol=1e-12)
    # money: what a fund did not invest is still its capital
    np.testing.assert_allclose(fb.capital + fb.invested, fa.capital + fa.invested, rtol=1e-12)
    # the realisations are consumed (the compiled step leaves its shared empty arrays)
    for s in (a, b):
        assert s.realised_fund.size == s.realised_proceeds.size == s.realised_amount.size == 0
    assert b.realised_fund is fast_finance.NO_FUND


def test_no_realisations_leave_the_arrays_alone(sc):
    state, params = _at(sc)
    state.realised_fund = np.zeros(0, np.int64)
    state.realised_proceeds = np.zeros(0)
    state.realised_amount = np.zeros(0)
    before = state.realised_fund
    s = clone(state)
    s.realised_fund = before
    compiled_step("finance", params, np.random.default_rng(1))(s, params, None)
    assert s.realised_fund is before
    a, b = both(state, params, "finance")
    np.testing.assert_allclose(b.funds.appetite, a.funds.appetite, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b.funds.track_invested, a.funds.track_invested, rtol=1e-12)


# ---------------------------------------------------------------------------------- deals
def test_deals_match_numpy_when_no_draw_decides(sc):
    """No noise, a hurdle that does not depend on the fund, money enough everywhere: the deals
    (firms, amounts, prices, dilution, ledger rows) are the NumPy step's exactly."""
    state, params = _at(
        sc, signal_noise=0.0, appetite_hurdle_relief=0.0, toc_variance_aversion=0.0,
        investment_hurdle=0.5,
    )  # fmt: skip
    state.funds.capital[:] += 1e9
    n0 = state.ledger.n
    a, b = both(state, params, "finance")
    k = a.ledger.n - n0
    assert k >= 20 and b.ledger.n - n0 == k
    for col in FIRM_COLS:
        np.testing.assert_array_equal(getattr(b.firms, col), getattr(a.firms, col), err_msg=col)
    np.testing.assert_allclose(b.flows.vc_invested, a.flows.vc_invested, rtol=1e-12)
    np.testing.assert_allclose(b.funds.invested.sum(), a.funds.invested.sum(), rtol=1e-12)
    assert b.funds.deals.sum() == a.funds.deals.sum()
    la, lb = _new_ledger(a, n0), _new_ledger(b, n0)
    for col in LEDGER_COLUMNS:
        if col != "fund":
            np.testing.assert_array_equal(lb[col], la[col], err_msg=col)
    assert (lb["tick"] == state.t).all() and (lb["realised_tick"] == -1).all()
    assert (lb["proceeds"] == 0).all() and not lb["realised"].any()
    assert ((lb["fund"] >= 0) & (lb["fund"] < b.funds.n)).all()
    # each fund's deals are in its ledger rows
    got = np.bincount(b.ledger.fund[n0:], minlength=b.funds.n)
    np.testing.assert_array_equal(got, b.funds.deals - state.funds.deals)


def test_each_deal_clears_its_funds_hurdle(sc):
    """Without noise a deal goes through only if the signal clears the hurdle of the fund drawn
    (its appetite after this tick's feedback), within the fund's dry powder."""
    state, params = _at(sc, signal_noise=0.0, investment_hurdle=1.0)
    n0 = state.ledger.n
    a, b = both(state, params, "finance")
    g, f0 = params.g, state.firms
    led = _new_ledger(b, n0)
    assert led["fund"].size >= 10
    rows = np.searchsorted(f0.id, led["firm_id"])
    app = a.funds.appetite[led["fund"]].astype(np.float64)  # the NumPy feedback's appetites
    ry = f0.revenue_year[rows]
    growth = np.where(ry > 0, f0.revenue[rows] / np.maximum(ry, 1e-12) - 1.0, 0.0)
    signal = (
        np.log(np.maximum(f0.capability[rows], 1e-12))
        + 0.5 * np.clip(growth, -1.0, 3.0)
        + g.success_reputation * (f0.founder_history[rows] == 2)
    )
    hurdle = (
        g.investment_hurdle
        - g.appetite_hurdle_relief * app
        + g.toc_variance_aversion * (1.0 - app) * (f0.orientation[rows] == TOC)
    )
    assert (signal > hurdle).all()
    spent = np.bincount(led["fund"], weights=led["amount"].astype(np.float64), minlength=b.funds.n)
    cap0 = b.funds.capital + (b.funds.invested - state.funds.invested)  # before the deals
    assert (spent <= cap0 * (1 + 1e-6)).all()


def _quiet_feedback(sc, **overrides):
    """``_at`` with feedback and commitments that change nothing (no track record, no
    realisations, no reversion, no LP inflow): the deals start from the state's funds."""
    state, params = _at(sc, appetite_reversion=0.0, lp_inflow_rate=0.0, **overrides)
    state.funds.track_invested[:] = 0.0
    state.funds.track_proceeds[:] = 0.0
    state.realised_fund = fast_finance.NO_FUND
    state.realised_proceeds = fast_finance.NO_PROCEEDS
    state.realised_amount = fast_finance.NO_AMOUNT
    return state, params


def _check_deals(state, params, seed):
    """The compiled step's deals are the rule's (tests/_exact.py) on the kernel's stream:
    which firms get money from which fund, in which ledger order, at which price."""
    b = clone(state)
    step = compiled_step("finance", params, np.random.default_rng(seed))
    ks = step.parts[0].copy()
    step(b, params, None)
    e = _exact.finance_deals(state, params, ks)
    assert np.array_equal(step.parts[0], e["stream"]), seed
    n0, f0, t = state.ledger.n, state.firms, state.t
    deals = e["deals"]
    k = len(deals)
    assert b.ledger.n == n0 + k, seed
    rows = np.array([x[0] for x in deals], np.int64)
    fund = np.array([x[1] for x in deals], np.int64)
    rnd = np.array([x[2] for x in deals], np.int64)
    amount = np.array([x[3] for x in deals])
    pre = np.array([x[4] for x in deals])
    post = pre + amount
    stake = amount / post
    led = b.ledger
    assert np.array_equal(led.fund[n0:], fund), seed
    assert np.array_equal(led.firm_id[n0:], f0.id[rows]), seed
    assert np.array_equal(led.firm_city[n0:], f0.city[rows]), seed
    assert np.array_equal(led.round[n0:], rnd) and (led.tick[n0:] == t).all(), seed
    assert np.array_equal(led.amount[n0:], amount.astype(np.float32)), seed
    assert np.array_equal(led.stake[n0:], stake.astype(np.float32)), seed
    retained = (f0.retained[rows] * (1.0 - stake).astype(np.float32)).astype(np.float32)
    assert np.array_equal(led.retained_entry[n0:], retained), seed
    # the firms: the money, one more round, the post-money price, dilution (a firm gets at
    # most one deal a tick)
    assert np.unique(rows).size == k
    f = b.firms
    expected = {
        "cash": f0.cash[rows] + amount.astype(np.float32),
        "raised": f0.raised[rows] + amount.astype(np.float32),
        "rounds": rnd + 1,
        "post_money": post.astype(np.float32),
        "valuation": np.maximum(f0.valuation[rows].astype(np.float64), post).astype(np.float32),
        "last_round": np.full(k, t),
        "retained": retained,
    }
    for col, x in expected.items():
        assert np.array_equal(getattr(f, col)[rows], x), (seed, col)
    others = np.setdiff1d(np.arange(f0.n), rows)
    for col in expected:
        assert np.array_equal(getattr(f, col)[others], getattr(f0, col)[others]), (seed, col)
    # the funds and the flows
    n_f, n_c = state.funds.n, state.flows.vc_invested.size
    per_fund = np.zeros(n_f)
    np.add.at(per_fund, fund, amount)
    np.testing.assert_allclose(
        b.funds.capital, state.funds.capital - per_fund, rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        b.funds.invested, state.funds.invested + per_fund, rtol=1e-12, atol=1e-9
    )
    assert np.array_equal(b.funds.deals - state.funds.deals, np.bincount(fund, minlength=n_f))
    per_city = np.bincount(f0.city[rows], weights=amount, minlength=n_c)
    np.testing.assert_allclose(
        b.flows.vc_invested - state.flows.vc_invested, per_city, rtol=1e-12, atol=1e-9
    )
    return k, e["pitched"]


def test_deals_are_the_rule_on_the_same_stream(sc):
    """With the noisy signal and the fund drawn by reach x dry powder."""
    state, params = _quiet_feedback(sc, investment_hurdle=1.0)
    assert params.g.signal_noise > 0
    taken = [_check_deals(state, params, seed)[0] for seed in range(5)]
    assert min(taken) > 10, taken


def test_budget_is_the_rule_on_the_same_stream(sc):
    """Little dry powder: the funds' budgets decide which deals go through."""
    state, params = _quiet_feedback(sc, investment_hurdle=0.5)
    # about two seed rounds per fund; start + commitments - invested + returned is not checked
    state.funds.capital[:] = 2.5 * params.g.seed_round
    for seed in range(5):
        taken, accepted = _check_deals(state, params, seed)
        assert 5 < taken < 0.8 * accepted, (taken, accepted)  # the budget binds
    # money never goes below zero
    _, b = both(state, params, "finance", seed=1)
    assert (b.funds.capital >= -1e-9).all()


def test_full_ledger_is_grown_and_the_same_deals_taken(sc):
    state, params = _at(sc, investment_hurdle=0.5)
    led = state.ledger
    tight = clone(state)
    tl = tight.ledger
    tl._cols = {c: a[: tl.n].copy() for c, a in tl._cols.items()}  # no free rows
    tl.capacity = tl.n
    roomy, n0 = clone(state), led.n
    for s in (tight, roomy):
        compiled_step("finance", params, np.random.default_rng(8))(s, params, None)
    assert roomy.ledger.n - n0 > 0 and tight.ledger.n == roomy.ledger.n
    assert tight.ledger.capacity >= tight.ledger.n
    for c in LEDGER_COLUMNS:
        np.testing.assert_array_equal(getattr(tight.ledger, c), getattr(roomy.ledger, c), c)
    for c in FIRM_COLS:
        np.testing.assert_array_equal(getattr(tight.firms, c), getattr(roomy.firms, c), c)
    for c in ("capital", "committed", "invested", "appetite", "deals"):
        np.testing.assert_array_equal(getattr(tight.funds, c), getattr(roomy.funds, c), c)
    np.testing.assert_array_equal(tight.flows.array, roomy.flows.array)


def test_the_step_follows_tables_that_grow(sc):
    """The step keeps the column arrays between ticks: after a table has grown (new arrays)
    it must write into the new ones."""
    state, params = _at(sc, investment_hurdle=0.5)
    step = compiled_step("finance", params, np.random.default_rng(3))
    step(state, params, None)
    n0 = state.ledger.n
    for table in (state.firms, state.funds, state.ledger):
        table.reserve(table.capacity + 100)
    rounds0 = state.firms.rounds.copy()
    invested0 = state.funds.invested.copy()
    state.firms.cash[:] = 0.0
    step(state, params, None)
    k = state.ledger.n - n0
    assert k > 0
    assert (state.firms.rounds - rounds0).sum() == k
    np.testing.assert_allclose(
        (state.funds.invested - invested0).sum(),
        state.ledger.amount[n0:].astype(np.float64).sum(),
        rtol=1e-6,
    )
    assert (state.ledger.firm_id[n0:] >= 0).all()


# ---------------------------------------------------------------------------- whole runs
def test_runs_are_deterministic_and_conserve_money():
    sc = scenario(3000, 12)
    r1 = innosim.run(sc, 5, disable=CORE_OFF, check=True)
    r2 = innosim.run(sc, 5, disable=CORE_OFF)
    assert r1.meta["backend"] == "numba"
    assert r1.series.equals(r2.series)
    assert r1.investments.equals(r2.investments)
    assert len(r1.investments) > 10


def test_full_model_conserves_money():
    sc = scenario(3000, 8)
    r = innosim.run(sc, 7, check=True)
    assert len(r.investments) > 0
