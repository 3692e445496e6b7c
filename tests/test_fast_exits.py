"""The compiled exits (innosim.mechanisms.exits) against its NumPy oracle (tests/oracle)
(innosim.mechanisms.exits): the same state after one step with every hazard at zero or at one
(no draw decides anything: exact agreement), the drawn events with the hazards on against the
rule on the kernel's own stream (tests/_exact.py), and
whole runs (determinism, conservation, the firm registry)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("numba")

import _exact
import innosim
from _fast import CORE_OFF, both, clone, compiled_step, next_tick, numpy_step, scenario, state_at
from innosim.engine.kernels.layout import FIRM_ITEMSIZE
from innosim.engine.state import DEATH_ACQUIRED, FIRM_COLUMNS, new_firms_table
from innosim.engine.table import SHRINK_FLOOR
from innosim.mechanisms import exits as fexits
from innosim.model import MECHANISMS
from oracle import exits as oracle_exits

HAZARDS_OFF = {"base_hazard": 0.0, "exit_rate": 0.0, "acquisition_rate": 0.0}
CERTAIN = 1e9  # a yearly rate whose per-tick probability is 1.0: every eligible firm goes


def with_g(params, **values):
    """``params`` with some global values replaced."""
    return dataclasses.replace(params, g=SimpleNamespace(**{**vars(params.g), **values}))


def before_exits(state, params, seed=0):
    """Start the next tick and run the NumPy mechanisms that come before exits."""
    next_tick(state)
    rng = np.random.default_rng(seed)
    for m in MECHANISMS:
        if m.NAME == "exits":
            return
        if m.NAME not in params.disabled:
            numpy_step(m)(state, params, rng)


def after_exits(state, params, seed=0):
    rng = np.random.default_rng(seed)
    after = False
    for m in MECHANISMS:
        if after and m.NAME not in params.disabled:
            numpy_step(m)(state, params, rng)
        after = after or m.NAME == "exits"


def archived(state, name):
    return np.concatenate([c[name] for c in state.archive]) if state.archive else None


def assert_same(a, b):
    """Every column of every table, the flows, the archive and the realisations agree."""
    assert a.firms.n == b.firms.n and a.firms.capacity == b.firms.capacity
    for table in ("firms", "people", "ledger", "funds"):
        ta, tb = getattr(a, table), getattr(b, table)
        for k in ta.raw:
            x, y = ta.col(k), tb.col(k)
            assert x.dtype == y.dtype and np.array_equal(x, y), f"{table}.{k}"
    assert np.array_equal(a.flows.array, b.flows.array)
    for chunk in b.archive:
        assert list(chunk) == list(FIRM_COLUMNS)
    for k, dt in FIRM_COLUMNS.items():
        x, y = archived(a, k), archived(b, k)
        assert x.dtype == y.dtype == np.dtype(dt) and np.array_equal(x, y), f"archive {k}"
    for k in ("realised_fund", "realised_proceeds", "realised_amount"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), k


@pytest.fixture(scope="module")
def late():
    """(state, params) after 40 ticks of the NumPy mechanisms, every exit hazard at zero."""
    return state_at(scenario(3000, 12), 40, disable=CORE_OFF, overrides=HAZARDS_OFF)


def _variants(state):
    val = state.firms.valuation[state.firms.valuation > 0]
    q50, q80 = (float(x) for x in np.quantile(val, [0.5, 0.8]))
    return {
        "failures only": {},
        # every eligible firm lists; thresholds low enough for many unicorns and listings
        "listings": dict(
            exit_rate=CERTAIN, listing_valuation=q50, exit_min_age=0.0, unicorn_valuation=q80
        ),
        # every venture-backed firm two years old is bought (preferences shared pro rata)
        "acquisitions": dict(acquisition_rate=CERTAIN),
        "acquisitions, no preference": dict(acquisition_rate=CERTAIN, liquidation_preference=0.0),
        "listings and acquisitions": dict(
            exit_rate=CERTAIN,
            acquisition_rate=CERTAIN,
            listing_valuation=q80,
            exit_min_age=0.0,
            unicorn_valuation=q50,
        ),
        "every firm dies": dict(base_hazard=CERTAIN),
    }


def test_same_state_same_result_when_no_draw_decides(late):
    state, params = clone(late[0]), late[1]
    seen = dict.fromkeys(["deaths", "failures", "listings", "unicorns", "acquired", "capped"], 0)
    seen["realised"] = 0
    for tick in range(3):
        before_exits(state, params, seed=tick)
        for name, values in _variants(state).items():
            p = with_g(params, **values)
            a, b = both(state, p, "exits")
            assert_same(a, b)
            fl = a.flows
            seen["deaths"] += state.firms.n - a.firms.n
            seen["failures"] += fl.failures.sum()
            seen["listings"] += fl.listings.sum()
            seen["unicorns"] += a.firms.unicorn_ever.sum() - state.firms.unicorn_ever.sum()
            seen["realised"] += a.realised_fund.size - state.realised_fund.size
            new = a.archive[len(state.archive) :]
            if new:
                kind = np.concatenate([c["death_kind"] for c in new])
                seen["acquired"] += int((kind == DEATH_ACQUIRED).sum())
            # acquisitions where the preferences ask more than the price (shared pro rata)
            if name == "acquisitions" and new:
                bought = kind == DEATH_ACQUIRED
                ids = np.concatenate([c["id"] for c in new])[bought]
                price = np.concatenate([c["valuation"] for c in new])[bought]
                led = a.ledger
                rows = led.realised_tick == state.t
                at = np.searchsorted(ids, led.firm_id[rows])
                hit = at < ids.size
                hit[hit] = ids[at[hit]] == led.firm_id[rows][hit]
                owed = np.bincount(
                    at[hit], weights=led.amount[rows][hit] * p.g.liquidation_preference,
                    minlength=ids.size,
                )  # fmt: skip
                seen["capped"] += int((owed > price).sum())
        oracle_exits.step(state, params, np.random.default_rng(tick))
        after_exits(state, params, seed=tick)
    # every branch of the rule ran
    assert all(v > 0 for v in seen.values()), seen


def test_realisations_append_to_those_not_yet_read(late):
    state, params = clone(late[0]), late[1]
    before_exits(state, params)
    state.realised_fund = np.array([0, 1], np.int64)  # as if finance had not read them
    state.realised_proceeds = np.array([1.5, 2.5])
    state.realised_amount = np.array([1.0, 2.0])
    a, b = both(state, with_g(params, base_hazard=CERTAIN), "exits")
    assert b.realised_fund.size > 2
    assert_same(a, b)


def test_the_table_gives_memory_back_as_compact_does(late):
    state, params = clone(late[0]), late[1]
    before_exits(state, params)
    state.firms.reserve(8 * SHRINK_FLOOR)
    a, b = both(state, with_g(params, base_hazard=CERTAIN), "exits")
    assert a.firms.n == 0 and a.firms.capacity == SHRINK_FLOOR
    assert_same(a, b)
    # and keeps it when it has not shrunk that much
    state, params = clone(late[0]), late[1]
    before_exits(state, params)
    a, b = both(state, params, "exits")
    assert a.firms.capacity == b.firms.capacity == state.firms.capacity


def test_events_are_the_rule_on_the_same_stream_with_the_hazards_on(late):
    """Which firms list, are acquired, fail or close, and the flows they count: the rule
    (tests/_exact.py) on the kernel's stream. What follows from the events (realisations,
    recycling, the archive's columns) is compared with the oracle where no draw decides
    (``test_same_state_same_result_when_no_draw_decides``)."""
    state, params = clone(late[0]), late[1]
    before_exits(state, params)
    val = state.firms.valuation[state.firms.valuation > 0]
    p = with_g(
        params,
        exit_rate=1.0,
        acquisition_rate=1.0,
        base_hazard=0.5,
        listing_valuation=float(np.quantile(val, 0.6)),
        exit_min_age=0.0,
    )
    f, t = state.firms, state.t
    f.cash[::7] = -1.0  # some firms run dry (failures, unless bought)
    n_c = state.flows.exits.size
    seen = np.zeros(4)
    for seed in range(8):
        b = clone(state)
        step = compiled_step("exits", p, np.random.default_rng(seed))
        ks = step.parts[0].copy()
        step(b, p, None)
        e = _exact.exits(state, p.g, ks)
        dead = e["dead"]
        assert np.array_equal(step.parts[0], e["stream"]), seed
        assert np.array_equal(b.firms.id, f.id[~dead]), seed
        assert np.array_equal(b.firms.listed, (f.listed | e["listed"])[~dead]), seed
        now = archived(b, "died") == t
        assert np.array_equal(archived(b, "id")[now], f.id[dead]), seed
        assert np.array_equal(archived(b, "death_kind")[now], e["kind"][dead]), seed
        assert np.array_equal(archived(b, "listed")[now], (f.listed | e["listed"])[dead]), seed
        for flow, rows in (("listings", e["listed"]), ("exits", dead), ("failures", e["broke"])):
            got = getattr(b.flows, flow) - getattr(state.flows, flow)
            assert np.array_equal(got, np.bincount(f.city[rows], minlength=n_c)), (seed, flow)
        hazard = dead & ~e["acquired"] & ~e["broke"] & ~((f.employment <= 0) & (f.founder < 0))
        seen += [e["listed"].sum(), e["acquired"].sum(), hazard.sum(), e["broke"].sum()]
    assert (seen > 3).all(), seen  # listings, acquisitions, hazard deaths, failures drawn


def test_archive_entry_is_a_mapping_of_views_that_grows_then_fixes():
    table = new_firms_table(16)
    for a in table.raw.values():
        a[...] = np.arange(16).astype(a.dtype)
    e = fexits.ArchivedFirms(table.raw, 2, 5)
    assert list(e) == list(FIRM_COLUMNS) and len(e) == len(FIRM_COLUMNS)
    assert all(e[k].dtype == np.dtype(dt) and e[k].size == 3 for k, dt in FIRM_COLUMNS.items())
    assert e["id"].tolist() == [2, 3, 4]
    e.stop = 7  # extended by the step
    assert e["cash"].tolist() == [2, 3, 4, 5, 6]
    c = copy.deepcopy(e)
    assert type(c) is dict and list(c) == list(FIRM_COLUMNS) and c["id"].tolist() == [2, 3, 4, 5, 6]
    assert type(pickle.loads(pickle.dumps(e))) is dict
    assert e.pop("id").tolist() == [2, 3, 4, 5, 6]  # as the run's assembly does
    assert "id" not in e and len(e) == len(FIRM_COLUMNS) - 1
    assert e._own is not None  # fixed: the step starts a new entry
    e.stop = 9
    assert e["cash"].size == 5
    assert FIRM_ITEMSIZE.tolist() == [np.dtype(d).itemsize for d in FIRM_COLUMNS.values()]


def test_archive_entries_across_ticks_and_state_copies(late):
    params = with_g(late[1], base_hazard=0.5)
    state = clone(late[0])
    step = compiled_step("exits", params, np.random.default_rng(1))
    n_before = len(state.archive)
    for tick in range(3):
        before_exits(state, params, seed=tick)
        step(state, params, None)
        after_exits(state, params, seed=tick)
    assert len(state.archive) == n_before + 1  # one entry, extended tick after tick
    copied = clone(state)
    before_exits(copied, params)
    step(copied, params, None)  # another state with the same step: an entry of its own
    assert len(copied.archive) == n_before + 2 and type(copied.archive[-2]) is dict
    ids = np.concatenate([c["id"] for c in state.archive])
    ids_copy = np.concatenate([c["id"] for c in copied.archive])
    assert np.array_equal(ids_copy[: ids.size], ids) and ids_copy.size > ids.size
    before_exits(state, params, seed=5)
    step(state, params, None)  # the first state again: its entry ends where the copy's began
    assert len(state.archive) == n_before + 2
    ids2 = np.concatenate([c["id"] for c in state.archive])
    assert np.array_equal(ids2[: ids.size], ids) and np.unique(ids2).size == ids2.size


@pytest.fixture(scope="module")
def small():
    return scenario(3000, 10)


def test_runs_are_deterministic(small, monkeypatch):
    r1 = innosim.run(small, 5, disable=CORE_OFF)
    r2 = innosim.run(small, 5, disable=CORE_OFF)
    assert r1.series.equals(r2.series)
    assert r1.firms.equals(r2.firms) and r1.investments.equals(r2.investments)


def test_run_conserves_and_keeps_a_whole_registry(small, monkeypatch):
    r = innosim.run(small, 3, check=True)
    f = r.firms
    assert f["id"].is_unique and f["id"].is_monotonic_increasing
    assert (~f["alive"]).sum() > 0 and (f.loc[~f["alive"], "died"] >= 0).all()
    assert (f.loc[f["alive"], "died"] == -1).all()
    inv = r.investments
    assert inv["realised"].any() and (inv.loc[~inv["realised"], "realised_tick"] == -1).all()
    r = innosim.run(small, 4, check=True, disable=CORE_OFF)
    assert (~r.firms["alive"]).sum() > 0
