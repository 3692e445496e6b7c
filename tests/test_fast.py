"""The compiled kernels: their random streams and vector selection, the waves, founding,
orientation and accounting kernels against their oracles (``tests/oracle``), whole runs
(determinism, conservation), the fused tick, the kernel cache and uncompiled debugging."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import _exact
import innosim
import innosim.model.runner as engine
from _fast import (
    ALLOWED_PY_LOOPS,
    CORE_OFF,
    both,
    clone,
    compiled_step,
    is_njit,
    next_tick,
    scenario,
    state_at,
)
from innosim.engine.kernels import cache, layout
from innosim.engine.kernels import rng as _rng
from innosim.model import fuse as fuse_module
from innosim.model.order import COMPILED


@pytest.fixture(scope="module")
def sc():
    return scenario(3000, 12)


@pytest.fixture(scope="module")
def mid(sc):
    """(state, params) at the start of tick 24 (e-commerce is open: incumbents adapt)."""
    state, params = state_at(sc, 24, disable=CORE_OFF)
    next_tick(state)
    return state, params


# ------------------------------------------------------------------------------ the stream
def test_xoshiro_reference_outputs():
    # xoshiro256** from state {1, 2, 3, 4}: the reference C implementation's first outputs
    s = np.array([1, 2, 3, 4], dtype=np.uint64)
    out = [int(_rng.next_u64(s)) for _ in range(4)]
    assert out == [11520, 0, 1509978240, 1215971899390074240]


def test_stream_distributions():
    s = _rng.seed_state(np.random.default_rng(1))
    u = np.array([_rng.uniform(s) for _ in range(20000)])
    z = np.array([_rng.normal(s) for _ in range(20000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and abs(z.std() - 1.0) < 0.03
    # the ziggurat's layers, wedges and tail: the whole distribution, and the tail beyond the
    # base layer (r = 3.4426) drawn at its rate
    from scipy import stats

    big = np.array([_rng.normal(s) for _ in range(200_000)])
    assert stats.kstest(big, "norm").pvalue > 1e-4
    tail = np.mean(np.abs(big) > 3.442619855899)
    expected = 2 * stats.norm.sf(3.442619855899)
    assert abs(tail - expected) < 5 * np.sqrt(expected / big.size)
    # geometric skips select each row with probability p
    p = 0.05
    k = np.array([_rng.skip(s, np.log1p(-p)) for _ in range(20000)])
    assert abs(k.mean() - (1 - p) / p) < 4 * np.sqrt((1 - p) / p**2 / k.size)
    # categorical follows its row, with the last index for a short row
    probs = np.array([0.2, 0.5, 0.3])
    c = np.bincount([_rng.categorical(s, probs) for _ in range(20000)], minlength=3) / 20000
    assert np.allclose(c, probs, atol=0.015)
    assert _rng.categorical(s, np.zeros(3)) == 2


def test_skip_never_wraps_around_for_tiny_probabilities():
    # p = 2.5e-31 (an opportunity rate at its bounds) once gave skips beyond 2^63 that wrapped
    # to negative rows and a segmentation fault; now they stop at "never"
    s = _rng.seed_state(np.random.default_rng(2))
    for log1m in (-2.5e-31, -1e-300, -5e-324, -0.0):
        k = [_rng.skip(s, log1m) for _ in range(200)]
        assert min(k) >= 0 and max(k) <= _rng._NEVER


def test_vector_selection_and_counts_match_numpy():
    """rows_at_least and count_each (vector code with a scalar tail) against NumPy, at sizes
    around the vector widths, thresholds below, inside and above the values."""
    from numba import njit

    from innosim.engine.kernels.select import count_each, rows_at_least

    @njit
    def select(col, n, threshold, out):
        return rows_at_least(col, n, threshold, out)

    @njit
    def count(col, n, out):
        count_each(col, n, out)

    rng = np.random.default_rng(5)
    for n in (0, 1, 15, 16, 17, 63, 64, 65, 1000, 4099):
        col = np.where(rng.random(n) < 0.2, rng.integers(0, 50, n), -1).astype(np.int32)
        for threshold in (-5, -1, 0, 7, 49, 50):
            out = np.full(n, -9, np.int32)
            k = select(col, n, threshold, out)
            assert np.array_equal(out[:k], np.flatnonzero(col >= threshold)), (n, threshold)
            assert (out[k:] == -9).all()  # nothing written beyond the selected rows
        cities = rng.integers(0, 7, n).astype(np.int8)
        got = np.zeros(5, np.int64)  # values 5 and 6 are not counted
        count(cities, n, got)
        assert np.array_equal(got, np.bincount(cities, minlength=7)[:5]), n
        m = n // 2  # only the first rows
        count(cities, m, got)
        assert np.array_equal(got, np.bincount(cities[:m], minlength=7)[:5]), n


def test_streams_are_seeded_per_mechanism():
    a = _rng.seed_state(np.random.default_rng(5))
    b = _rng.seed_state(np.random.default_rng(5))
    c = _rng.seed_state(np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# ----------------------------------------------------------------- compiled vs NumPy rules
def test_accounting_matches_the_oracle(mid):
    a, b = both(*mid, "accounting")
    # counts exactly; sums of wages to the last bits (the kernel adds them in eight lanes)
    np.testing.assert_allclose(b.record_array, a.record_array, rtol=1e-12, atol=0)
    for k in ("agents", "population", "employment", "firms", "unicorns", "entries", "exits"):
        i = list(a.record).index(k)
        assert np.array_equal(a.record_array[i], b.record_array[i]), k
    assert np.array_equal(a.city.pool, b.city.pool)
    for k in ("productivity", "innovation_share", "graduate_rate"):
        np.testing.assert_allclose(getattr(b.city, k), getattr(a.city, k), rtol=1e-12, atol=0)


def test_waves_market_matches_and_adaptation_is_the_rule(sc):
    state, params = state_at(
        sc,
        24,
        disable=CORE_OFF,
        overrides={f"adaptation_rate_{o}": 1e9 for o in ("toc", "tob", "tog")},
    )
    next_tick(state)
    a, b = both(state, params, "waves")  # every candidate adapts: no randomness left
    assert np.allclose(a.market, b.market, rtol=1e-13) and np.allclose(
        a.market_growth, b.market_growth, rtol=1e-13
    )
    moved = a.firms.wave != state.firms.wave
    assert moved.any()
    assert np.array_equal(a.firms.wave, b.firms.wave)
    assert np.array_equal(a.firms.capability, b.firms.capability)


def _stream_step(state, params, name, seed=11):
    """A copy of ``state`` after mechanism ``name``'s compiled step, the kernel's stream state
    as it was before the step, and the stream after it."""
    b = clone(state)
    step = compiled_step(name, params, np.random.default_rng(seed))
    ks = step.parts[0].copy()
    step(b, params, None)
    return b, ks, step.parts[0]


def test_waves_adaptation_is_the_rule_on_the_same_stream(mid):
    """The market, and which firms adapt: the rule (tests/_exact.py) on the kernel's stream."""
    state, params = mid
    moved = 0
    for seed in range(10):
        b, ks, after = _stream_step(state, params, "waves", seed)
        market, growth, wave, cap, s, lagged = _exact.waves(state, params, ks)
        np.testing.assert_allclose(b.market, market, rtol=1e-12, atol=0)
        np.testing.assert_allclose(b.market_growth, growth, rtol=1e-12, atol=0)
        np.testing.assert_allclose(b.market_lagged, lagged, rtol=1e-12, atol=0)
        assert not np.allclose(lagged, market)  # clients buy yesterday's waves
        assert np.array_equal(b.firms.wave, wave), seed
        assert np.array_equal(b.firms.capability, cap), seed
        assert np.array_equal(after, s), seed  # one uniform per candidate firm, no more
        m = wave != state.firms.wave
        assert (b.firms.capability[m] < state.firms.capability[m]).all()
        assert m.sum() < m.size  # not every firm adapts
        moved += m.sum()
    assert moved > 5, moved


def test_orientation_is_the_rule_on_the_same_stream(mid):
    """Every firm without an orientation draws it from the demand mix: the rule
    (tests/_exact.py) on the kernel's stream."""
    state, params = mid
    state = clone(state)
    keep = np.arange(state.firms.n) % 3 == 0
    state.firms.orientation[~keep] = -1  # two firms in three choose (again); the others keep theirs
    drawn = []
    for seed in range(20):
        b, ks, after = _stream_step(state, params, "orientation", seed)
        expected, s = _exact.orientation(state, params, ks)
        assert np.array_equal(b.firms.orientation, expected), seed
        assert np.array_equal(after, s), seed  # one uniform per new firm
        assert np.array_equal(b.firms.orientation[keep], state.firms.orientation[keep])
        drawn.append(expected[~keep])
    assert set(np.concatenate(drawn)) == {0, 1, 2}


def test_orientation_known_answer():
    """Three new firms in one city, by hand. Demand mix D^C = 2, D^B = 1, D^G = 1, budget 1.5;
    the first firm's wave has consumer share t = 1/2, the others' t = 1/4. Weights:
    (2 * 1/2, 1 * 1/2, 1 * 1.5) = (1, 0.5, 1.5), cumulative (1/3, 1/2, 1);
    (2 * 1/4, 1 * 3/4, 1.5) = (0.5, 0.75, 1.5) of 2.75, cumulative (0.1818, 0.4545, 1).
    The stream's first uniforms 0.448, 0.712, 0.052 pick To B, To G, To C."""
    from types import SimpleNamespace

    from innosim.mechanisms import orientation
    from innosim.params.declarations import LEVERS

    state = np.array(
        [0xB18169226E04AD82, 0x6276E0EA354C7A5E, 0x0EEEA34BF33CBEB7, 0xDAC1835BB28E254C],
        np.uint64,
    )
    s = state.copy()
    u = [_rng.uniform(s) for _ in range(3)]
    np.testing.assert_allclose(u, [0.44831214454530244, 0.7118617478365789, 0.05205977167772635])
    firms = _new_firms(3)
    levers = np.zeros((len(LEVERS), 1))
    for k, v in (("demand_consumer", 2.0), ("demand_enterprise", 1.0),
                 ("demand_government", 1.0), ("procurement_budget", 1.5)):  # fmt: skip
        levers[LEVERS.index(k), 0] = v
    params = SimpleNamespace(wave_toc=np.array([0.5, 0.25]))
    step = orientation.make(params, np.random.default_rng(0))
    step.parts[0][:] = state
    step(SimpleNamespace(firms=firms, lever_array=levers), params, None)
    assert list(firms.orientation) == [1, 2, 0]  # To B, To G, To C
    assert np.array_equal(step.parts[0], s)  # three uniforms drawn


def _new_firms(n):
    """A firm table of ``n`` new firms (orientation -1) in city 0, the first in wave 0."""
    from innosim.engine.state import new_firms_table

    firms = new_firms_table(n)
    wave = np.ones(n, np.int8)
    wave[0] = 0
    firms.append(n, city=0, wave=wave, orientation=-1)
    return firms


@pytest.mark.parametrize("histories", [False, True])
def test_founding_is_the_rule_on_the_same_stream(mid, histories):
    """Perceivers, their decisions and counts, and every new firm's wave, capability and
    capital: the rule (tests/_exact.py) on the kernel's stream. With ``histories``, one person
    in three failed before (stigma and restart cost) and one in five succeeded before (the
    capability premium)."""
    state, params = mid
    if histories:
        state = clone(state)
        state.people.failures[::3] = 1
        state.people.last_outcome[::3] = 1
        state.people.last_outcome[1::5] = 2
    counts, founders = 0, 0
    for seed in range(10):
        c, k = _check_founding(state, params, seed)
        counts, founders = counts + c, founders + k
    # perceivers, deterred, restart candidates and restarts, and founders, over the seeds
    n = counts.sum(axis=1)
    assert founders > 5 and n[0] > 100 and n[1] > 0, counts
    if histories:
        assert n[2] > 20 and n[3] > 0, counts


def _check_founding(state, params, seed):
    from innosim.engine.state import FOUNDER

    b, ks, after = _stream_step(state, params, "founding", seed)
    e = _exact.founding(state, params, ks)
    keys = ("perceivers", "deterred", "restart_candidates", "restarts")
    got = np.array([getattr(b.flows, k) - getattr(state.flows, k) for k in keys])
    assert np.array_equal(got, e["counts"])
    assert e["counts"][0].sum() > 10  # a real number of perceivers per tick
    assert np.array_equal(after, e["stream"])
    n0, k = state.firms.n, len(e["founders"])
    assert b.firms.n == n0 + k
    rows = np.arange(n0, n0 + k)
    f = b.firms
    assert np.array_equal(f.founder[rows], e["founders"])
    for name, col in (("city", "city"), ("wave", "wave"), ("history", "founder_history"),
                      ("capability", "capability"), ("cash", "cash")):  # fmt: skip
        assert np.array_equal(getattr(f, col)[rows], [x[name] for x in e["firms"]]), name
    assert np.array_equal(f.id[rows], state.next_firm_id + np.arange(k))
    assert (f.born[rows] == state.t).all()
    for name in ("orientation", "parent"):  # a spinoff may keep its parent's clients
        assert np.array_equal(getattr(f, name)[rows], [x[name] for x in e["firms"]]), name
    assert (f.employment[rows] == 1).all() and (f.died[rows] == -1).all()
    # founders are linked to their new firms; a founder from a row of several people splits
    # off as a row of one (a copy of it), the row keeps the others
    people, src = b.people, e["sources"]
    assert people.n == state.people.n + e["split"]
    assert np.array_equal(people.employer[e["founders"]], rows)
    assert (people.status[e["founders"]] == FOUNDER).all()
    assert (people.weight[e["founders"]] == 1).all()
    assert np.array_equal(people.weight[: state.people.n], e["weight"])
    for col in ("city", "skill", "failures", "last_outcome"):
        assert np.array_equal(getattr(people, col)[e["founders"]], getattr(state.people, col)[src])
    assert np.array_equal(people.ventures[e["founders"]],
                          np.minimum(state.people.ventures[src].astype(int) + 1, 255))  # fmt: skip
    new = np.arange(state.people.n, people.n)
    assert np.array_equal(people.id[new], state.next_person_id + np.arange(new.size))
    assert np.array_equal(f.employment[:n0], state.firms.employment)  # staff are headcounts
    assert b.flows.entries.sum() - state.flows.entries.sum() == k
    assert np.array_equal(b.flows.separations, state.flows.separations)
    return e["counts"], k


def test_founding_grows_the_firm_table_and_repeats_the_same_draws(mid):
    from innosim.engine.state import new_firms_table

    state, params = mid
    s1, s2 = clone(state), clone(state)
    full = new_firms_table(state.firms.n)  # no spare row: the kernel must ask for room
    full.append(state.firms.n, **state.firms.to_dict())
    assert full.capacity == full.n
    s1.firms = full
    step1 = compiled_step("founding", params, np.random.default_rng(4))
    step2 = compiled_step("founding", params, np.random.default_rng(4))
    step1(s1, params, None)
    step2(s2, params, None)
    assert s1.firms.n > state.firms.n and s1.firms.n == s2.firms.n
    for k in ("id", "city", "wave", "founder", "capability", "cash", "employment"):
        assert np.array_equal(getattr(s1.firms, k), getattr(s2.firms, k)), k
    assert np.array_equal(s1.people.employer, s2.people.employer)
    assert np.array_equal(s1.people.weight, s2.people.weight)
    assert np.array_equal(s1.flows.array, s2.flows.array)


# ------------------------------------------------------------------------------- structure
def _kernel_files():
    from pathlib import Path

    import innosim.mechanisms

    mech = Path(innosim.mechanisms.__file__).parent
    return [
        *(mech / f"{name}.py" for name in COMPILED),
        *sorted(Path(layout.__file__).parent.glob("*.py")),
        Path(fuse_module.__file__),
    ]


def test_kernel_modules_loop_only_inside_kernels():
    import ast

    bad = []
    for path in _kernel_files():
        if path.name in ("cache.py", "__init__.py"):  # no kernels: files and hashes
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        kernels = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and is_njit(n)]
        inside = {id(x) for k in kernels for x in ast.walk(k)}
        for node in ast.walk(tree):
            if id(node) in inside:
                continue
            if isinstance(node, ast.While):
                bad.append(f"{path.name}:{node.lineno}: while loop outside a kernel")
            it = node.iter if isinstance(node, ast.For | ast.comprehension) else None
            if it is None or isinstance(it, ast.Tuple | ast.List):
                continue
            if (path.name, ast.unparse(it)) not in ALLOWED_PY_LOOPS:
                bad.append(f"{path.name}:{getattr(it, 'lineno', 0)}: for ... in {ast.unparse(it)}")
    assert not bad, "loops outside kernels (see ALLOWED_PY_LOOPS):\n" + "\n".join(bad)


def test_the_core_mechanisms_are_the_compiled_ones():
    from innosim.engine.state import compile_params
    from innosim.model import CORE_MECHANISMS, MECHANISMS

    assert set(COMPILED) == set(CORE_MECHANISMS)
    params = compile_params(scenario(300, 2))
    for m in MECHANISMS:
        # one implementation each: a kernel prepared per run, or a NumPy step, never both
        assert hasattr(m, "make") != hasattr(m, "step"), m.NAME
        if m.NAME in COMPILED:
            assert callable(m.make(params, np.random.default_rng(0))), m.NAME


# ---------------------------------------------------------------------------- whole runs
def test_runs_are_deterministic_and_conserve():
    sc = scenario(1500, 8)
    a = innosim.run(sc, 9, check=True)
    b = innosim.run(sc, 9)
    c = innosim.run(sc, 10)
    assert a.meta["backend"] == "numba" and a.meta["compiled"] == list(COMPILED)
    assert a.series.equals(b.series) and a.firms.equals(b.firms)
    assert a.investments.equals(b.investments)
    assert not a.series.equals(c.series)


def test_warm_up_compiles_every_kernel():
    innosim.model.warm_up()
    names = {k.py_func.__module__.rsplit(".", 1)[-1] for k in layout._ENTRY}
    assert set(COMPILED) | {"fuse"} <= names  # each kernel alone, and fused


# ---------------------------------------------------------------------------- kernel cache
def test_stale_kernel_cache_is_dropped_and_stamped(tmp_path, monkeypatch):
    """Cached kernels stamped with another fingerprint are deleted; a fresh stamp is kept."""
    d = tmp_path / "__pycache__"
    d.mkdir()
    monkeypatch.setattr(cache, "cache_dirs", lambda: [d])
    (d / "founding.kernel-60.py311.nbi").write_bytes(b"index")
    (d / "founding.kernel-60.py311.1.nbc").write_bytes(b"code")
    (d / "founding.cpython-311.pyc").write_bytes(b"bytecode")
    (d / cache.STAMP).write_text("another layout\n")
    assert cache.drop_stale() is True
    assert sorted(p.name for p in d.iterdir()) == sorted([cache.STAMP, "founding.cpython-311.pyc"])
    assert (d / cache.STAMP).read_text().strip() == cache.fingerprint()
    (d / "growth.kernel-90.py311.nbi").write_bytes(b"index")
    assert cache.drop_stale() is False  # same fingerprint: the cache is kept
    assert (d / "growth.kernel-90.py311.nbi").exists()


def test_fingerprint_covers_kernel_sources_and_layouts():
    names = {str(p.relative_to(p.parents[1])) for p in cache.sources()}
    for f in ("mechanisms/founding.py", "kernels/rng.py", "model/fuse.py", "engine/state.py"):
        assert any(n.endswith(f) for n in names), f
    assert len(cache.fingerprint()) == 64


def test_import_does_no_kernel_housekeeping():
    """``import innosim`` only imports: no kernel cache is touched, no kernel module loaded."""
    code = (
        "import sys, innosim.engine.kernels.cache as c\n"
        "called = []\n"
        "c.drop_stale = lambda: called.append(1)\n"
        "import innosim\n"
        "assert not called\n"
        "print(sorted(m for m in sys.modules if m.startswith('innosim.mechanisms.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.returncode == 0


def test_uncompiled_debugging_runs_the_same_rules():
    """``NUMBA_DISABLE_JIT=1`` runs every kernel as Python (intrinsics fall back to NumPy): a
    short run gives the compiled run's results."""
    code = (
        "import innosim, sys\n"
        "sc = innosim.load_scenario('demo').with_scale(0.02)\n"
        "sc = sc.with_end_year(sc.start_year)\n"
        "r = innosim.run(sc, 5, check=True)\n"
        "r.series.to_pickle(sys.argv[1])\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "series.pkl")
        subprocess.run([sys.executable, "-c", code, path], env=env, check=True, timeout=600)
        import pandas as pd

        slow = pd.read_pickle(path)
    sc = innosim.load_scenario("demo").with_scale(0.02)
    fast_run = innosim.run(sc.with_end_year(sc.start_year), 5)
    pd.testing.assert_frame_equal(slow, fast_run.series, rtol=1e-9, atol=0)


# ------------------------------------------------------------------------------- fused tick
def _fused_steps(monkeypatch):
    """Record the steps the engine fuses (their ``retries`` counters)."""
    made = []
    real = engine.fuse

    def spy(steps):
        out = real(steps)
        made.append(out)
        return out

    monkeypatch.setattr(engine, "fuse", spy)
    return made


@pytest.mark.parametrize("core_only", [True, False])
def test_fused_tick_is_the_unfused_run_bit_for_bit(monkeypatch, core_only):
    """Consecutive compiled mechanisms run as one call per tick; ``profile=True`` runs them one
    by one. The runs are identical, including the ticks where a table grew within the call
    (the fused call stops, the table grows, the call resumes at that mechanism)."""
    made = _fused_steps(monkeypatch)
    sc = scenario(2000, 10)
    disable = sorted(CORE_OFF) if core_only else []
    real_state = engine.init_state

    def small_tables(params, rng):
        st = real_state(params, rng)
        for t in (st.firms, st.ledger):  # no spare row: founding and finance must ask for room
            t._move(max(t.n, 1))
        return st

    monkeypatch.setattr(engine, "init_state", small_tables)
    fused = innosim.run(sc, 21, disable=disable, check=True)
    single = innosim.run(sc, 21, disable=disable, profile=True)
    names = [name for name, _, _ in made[0]]
    if core_only:
        assert names == ["+".join(COMPILED)]
    else:
        assert "founding+orientation+growth" in names and "finance+exits+accounting" in names
        assert "waves" in names  # alone between NumPy mechanisms: not fused
    assert sum(getattr(s, "retries", 0) for _, s, _ in made[0]) > 0
    assert fused.series.equals(single.series)
    assert fused.firms.equals(single.firms) and fused.firm_years.equals(single.firm_years)
    assert fused.investments.equals(single.investments)
