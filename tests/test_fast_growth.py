"""Compiled growth (innosim.mechanisms.growth) against its NumPy oracle (tests/oracle), and its
learning noise and layoffs against the rule on the kernel's own stream (tests/_exact.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import _exact
import innosim
from _fast import CORE_OFF, both, clone, compiled_step, next_tick, scenario, state_at

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
    """Staff are headcounts: a firm above its target sheds the excess, counted as separations
    in its city; no person row changes (only founders are rows linked to firms)."""
    state, params = staffed
    a, b = both(state, params, "growth")
    _same_firms(a, b)
    cut = state.firms.employment - b.firms.employment
    assert cut.sum() > 5  # firms did lay off staff
    assert (cut >= 0).all()
    excess = np.floor(state.firms.employment - np.maximum(np.ceil(b.firms.target), 1.0)).astype(
        np.int64
    )
    np.testing.assert_array_equal(cut, np.maximum(excess, 0))
    np.testing.assert_array_equal(b.people.tenure, a.people.tenure)
    np.testing.assert_array_equal(b.people.skill, a.people.skill)
    assert b.flows.separations.sum() == a.flows.separations.sum() == cut.sum()
    np.testing.assert_array_equal(
        np.bincount(state.firms.city, weights=cut, minlength=params.n_cities), b.flows.separations
    )
    np.testing.assert_array_equal(b.people.employer, state.people.employer)
    np.testing.assert_array_equal(b.people.status, state.people.status)


def test_layoffs_draw_no_random_numbers(staffed):
    """With the learning noise off, a growth step that lays staff off draws nothing."""
    state, params = staffed
    b = clone(state)
    step = compiled_step("growth", params, np.random.default_rng(0))
    ks = step.parts[0].copy()
    step(b, params, None)
    assert (state.firms.employment - b.firms.employment).sum() > 5
    assert np.array_equal(step.parts[0], ks)


def test_learning_is_the_rule_on_the_same_stream():
    """Capabilities after learning with the noise on: the rule (tests/_exact.py), its normals
    drawn by the polar method from the kernel's stream."""
    state, params = state_at(scenario(), 24, disable=CORE_OFF)
    next_tick(state)
    state.firms.orientation[::7] = -1  # not yet oriented: the To G rates
    assert min(params.g.capability_noise_toc, params.g.capability_noise_tob) > 0
    for seed in range(10):
        b = clone(state)
        step = compiled_step("growth", params, np.random.default_rng(seed))
        ks = step.parts[0].copy()
        step(b, params, None)
        expected, s = _exact.growth_learning(state, params, ks)
        assert np.array_equal(b.firms.capability, expected), seed
        assert np.array_equal(step.parts[0], s), seed  # no employees: no layoff draws


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
