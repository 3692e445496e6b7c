"""Compiled growth (innosim.mechanisms.growth) against its NumPy oracle (tests/oracle)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("numba")

import innosim
from _fast import CORE_OFF, both, clone, compiled_step, next_tick, scenario, state_at
from innosim.engine.state import EMPLOYEE, WORKER
from oracle import growth

NOISE_OFF = {"capability_noise_toc": 0.0, "capability_noise_tob": 0.0, "capability_noise_tog": 0.0}
FLOATS = ("capability", "demand", "revenue", "wages", "profit", "cash", "revenue_year",
          "valuation", "target")  # fmt: skip


@pytest.fixture(scope="module")
def quiet():
    """A mid-run core state (no careers: no employees) with the learning noise off."""
    state, params = state_at(scenario(), 24, disable=CORE_OFF, overrides=NOISE_OFF)
    next_tick(state)
    state.levers.subsidy[:] = np.linspace(0.1, 0.5, params.n_cities)  # young firms' wages
    return state, params


@pytest.fixture(scope="module")
def staffed():
    """A mid-run state of the full model (firms have employees), noise off, demand cut to a
    fifth and no cash in hand, so that firms shed staff."""
    state, params = state_at(scenario(), 24, overrides=NOISE_OFF)
    next_tick(state)
    state.market *= 0.2
    state.firms.cash[:] = -1.0
    return state, params


def _same_firms(a, b, rtol=1e-5):
    fa, fb = a.firms, b.firms
    assert fa.n == fb.n
    for c in FLOATS:
        np.testing.assert_allclose(getattr(fb, c), getattr(fa, c), rtol=rtol, atol=1e-9, err_msg=c)
    np.testing.assert_array_equal(fb.employment, fa.employment)


def test_same_state_matches_numpy(quiet):
    state, params = quiet
    assert state.firms.n > 20
    t = state.t
    f = state.firms
    assert ((t - f.born) < 12).any() and ((f.last_round >= 0) & (t - f.last_round < 8)).any()
    a, b = both(state, params, "growth")
    _same_firms(a, b)
    np.testing.assert_array_equal(b.people.skill, a.people.skill)
    np.testing.assert_array_equal(b.people.tenure, a.people.tenure)
    np.testing.assert_array_equal(b.flows.array, a.flows.array)
    assert not np.array_equal(a.firms.cash, state.firms.cash)  # the step did something


def test_unassigned_orientation_and_no_firms(quiet):
    state, params = quiet
    s = clone(state)
    s.firms.orientation[::3] = -1  # the NumPy step reads index -1 of its orientation triples
    a, b = both(s, params, "growth")
    _same_firms(a, b)
    s = clone(state)
    s.firms.n = 0  # skill and tenure still grow
    a, b = both(s, params, "growth")
    np.testing.assert_array_equal(b.people.skill, a.people.skill)
    np.testing.assert_array_equal(b.people.tenure, a.people.tenure)
    assert not np.array_equal(b.people.skill, state.people.skill)


def test_layoffs_match_numpy(staffed):
    state, params = staffed
    a, b = both(state, params, "growth")
    _same_firms(a, b)
    cut = state.firms.employment - b.firms.employment
    assert cut.sum() > 5  # firms did lay off staff
    np.testing.assert_array_equal(b.people.tenure, a.people.tenure)
    np.testing.assert_array_equal(b.people.skill, a.people.skill)
    pb, p0 = b.people, state.people
    assert b.flows.separations.sum() == a.flows.separations.sum() == cut.sum()
    # the laid off: employees of the cutting firms, now background workers, counted by city
    out = (p0.employer >= 0) & (pb.employer < 0)
    assert (p0.status[out] == EMPLOYEE).all() and (pb.status[out] == WORKER).all()
    np.testing.assert_array_equal(np.bincount(p0.employer[out], minlength=state.firms.n), cut)
    np.testing.assert_array_equal(
        np.bincount(p0.city[out], minlength=params.n_cities), b.flows.separations
    )
    stay = ~out
    np.testing.assert_array_equal(pb.employer[stay], p0.employer[stay])
    np.testing.assert_array_equal(pb.status[stay], p0.status[stay])
    heads = np.bincount(pb.employer[pb.employer >= 0], minlength=state.firms.n)
    np.testing.assert_array_equal(heads, b.firms.employment)


def test_layoffs_choose_uniformly(staffed):
    state, params = staffed
    p0 = state.people
    runs = 200
    hits = np.zeros(p0.n)
    cut = None
    for seed in range(runs):
        b = clone(state)
        compiled_step("growth", params, np.random.default_rng(seed))(b, params, None)
        hits += (p0.employer >= 0) & (b.people.employer < 0)
        cut = state.firms.employment - b.firms.employment
    staff = np.flatnonzero(p0.status == EMPLOYEE)
    firm = p0.employer[staff]
    m = np.bincount(firm, minlength=state.firms.n)
    partial = (cut[firm] > 0) & (cut[firm] < m[firm])
    assert partial.sum() >= 10
    q = (cut / np.maximum(m, 1))[firm[partial]]  # each employee's chance: k / m
    z = (hits[staff[partial]] - runs * q) / np.sqrt(runs * q * (1 - q))
    assert np.abs(z).max() < 4.5
    assert abs(z.mean()) < 4.0 / np.sqrt(z.size) + 0.1


def _noise_residuals(state, params, steps, seeds):
    """Learning shocks implied by the capabilities after one step, in standard deviations."""
    g0 = SimpleNamespace(**{**vars(params.g), **NOISE_OFF})
    ref = clone(state)
    growth.step(ref, dataclasses.replace(params, g=g0), np.random.default_rng(0))
    sig = np.array([params.g.capability_noise_toc, params.g.capability_noise_tob,
                    params.g.capability_noise_tog])[state.firms.orientation]  # fmt: skip
    base = np.log(ref.firms.capability.astype(np.float64))
    out = []
    for seed in seeds:
        s = clone(state)
        steps(s, seed)
        out.append((np.log(s.firms.capability.astype(np.float64)) - base) / (0.5 * sig))
    return np.concatenate(out)


def test_learning_noise_distribution():
    state, params = state_at(scenario(), 24, disable=CORE_OFF)
    next_tick(state)

    def compiled(s, seed):
        compiled_step("growth", params, np.random.default_rng(seed))(s, params, None)

    def numpy(s, seed):
        growth.step(s, params, np.random.default_rng(seed))

    zc = _noise_residuals(state, params, compiled, range(60))
    zn = _noise_residuals(state, params, numpy, range(60))
    se = np.sqrt(zc.var() / zc.size + zn.var() / zn.size)
    assert abs(zc.mean() - zn.mean()) < 4 * se
    assert abs(zc.mean()) < 4 / np.sqrt(zc.size)
    assert abs(zc.var() - 1.0) < 4 * np.sqrt(2.0 / zc.size)
    assert abs(np.mean(zc**4) - 3.0) < 0.5  # normal tails


def test_deterministic_run():
    sc = scenario(2000, 3)
    r1 = innosim.run(sc, 5, disable=CORE_OFF)
    r2 = innosim.run(sc, 5, disable=CORE_OFF)
    assert "growth" in r1.meta["compiled"]
    assert r1.series.equals(r2.series)
    r3 = innosim.run(sc, 6, disable=CORE_OFF)
    assert not r1.series.equals(r3.series)


@pytest.mark.parametrize("disable", [CORE_OFF, frozenset()])
def test_conservation(disable):
    innosim.run(scenario(2000, 5), 7, check=True, disable=disable)
