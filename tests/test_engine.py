"""The engine: determinism, random streams, invariants (checked and post hoc), and structure.

Nothing here asserts a model *value* (parameters are being tuned): every assertion is an identity
the outputs must satisfy whatever the parameters, or a comparison between two runs.
"""

from __future__ import annotations

import ast
import os
import pickle
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import innosim
import innosim.model as mech
from _fast import ALLOWED_PY_LOOPS, is_njit
from innosim.engine.ops import remove_people
from innosim.engine.rng import replicate_seeds, stream
from innosim.engine.state import compile_params
from innosim.mechanisms import accounting, careers, finance, talent
from innosim.model import runner as run_mod
from innosim.schema import SERIES, TICKS_PER_YEAR

SRC = Path(innosim.__file__).resolve().parent
MECH_DIR = SRC / "mechanisms"

SEEDS = (1, 7, 20250207)


def _n0(sc: innosim.Scenario) -> np.ndarray:
    """Initial real people per city, by the rule documented in ``init_state``."""
    pop = sc.city["population"] * sc.glob["initial_population_share"]
    return np.maximum(np.round(pop), 1).astype(np.int64)


def _wide(result: innosim.RunResult, name: str) -> np.ndarray:
    """Series ``name`` as an array (tick, city) in the scenario's city order."""
    s = result.series
    w = s.pivot(index="tick", columns="city", values=name)
    return w[list(result.meta["cities"])].to_numpy()


# =========================================================================== determinism


def test_same_seed_gives_byte_identical_results(small, frame_bytes):
    a = innosim.run(small, 11)
    b = innosim.run(small, 11)
    for name in ("series", "firms", "firm_years", "investments"):
        fa, fb = a.tables()[name], b.tables()[name]
        assert frame_bytes(fa) == frame_bytes(fb), name
    assert a.meta["agent_steps"] == b.meta["agent_steps"]
    assert a.meta["agents_final"] == b.meta["agents_final"]


def test_different_seeds_differ(small, frame_bytes):
    a = innosim.run(small, 11)
    b = innosim.run(small, 12)
    assert frame_bytes(a.series) != frame_bytes(b.series)
    assert frame_bytes(a.firms) != frame_bytes(b.firms)


def test_default_seed_is_the_scenarios(tiny, frame_bytes):
    a = innosim.run(tiny)
    b = innosim.run(tiny, tiny.seed)
    assert a.seed == tiny.seed == a.meta["seed"]
    assert frame_bytes(a.series) == frame_bytes(b.series)


def test_seed_zero_is_a_seed_not_none(tiny, frame_bytes):
    """``if seed:`` would treat 0 as "unseeded": seed 0 must be as reproducible as any other."""
    a, b = innosim.run(tiny, 0), innosim.run(tiny, 0)
    assert a.seed == 0
    assert frame_bytes(a.series) == frame_bytes(b.series)
    assert frame_bytes(a.series) != frame_bytes(innosim.run(tiny, tiny.seed).series)


def test_determinism_across_processes_and_hash_seeds(tiny, tmp_path, frame_bytes):
    """A fresh interpreter with another PYTHONHASHSEED gives the same bytes (no dependence on
    set/dict iteration order of strings, or on anything left over in this process)."""
    out = tmp_path / "series.pkl"
    code = textwrap.dedent(
        f"""
        import pickle, innosim
        sc = innosim.load_scenario("demo").with_end_year(2000).with_scale(0.3)
        r = innosim.run(sc, 5)
        with open({str(out)!r}, "wb") as fh:
            pickle.dump((r.series, r.firms, r.investments), fh)
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    with open(out, "rb") as fh:
        series, firms, inv = pickle.load(fh)
    here = innosim.run(tiny, 5)
    assert frame_bytes(series) == frame_bytes(here.series)
    assert frame_bytes(firms) == frame_bytes(here.firms)
    assert frame_bytes(inv) == frame_bytes(here.investments)


# =========================================================================== random streams


def _draw(gen: np.random.Generator, k: int = 16) -> np.ndarray:
    return gen.random(k)


def test_stream_same_root_and_name_is_identical():
    root = np.random.SeedSequence(42)
    np.testing.assert_array_equal(_draw(stream(root, "talent")), _draw(stream(root, "talent")))
    # an equal root built separately gives the same stream
    np.testing.assert_array_equal(
        _draw(stream(np.random.SeedSequence(42), "talent")), _draw(stream(root, "talent"))
    )


def test_stream_names_and_roots_separate_streams():
    root = np.random.SeedSequence(42)
    names = [m.NAME for m in mech.MECHANISMS] + ["init"]
    draws = {n: _draw(stream(root, n)) for n in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.array_equal(draws[a], draws[b]), (a, b)
    assert not np.array_equal(_draw(stream(np.random.SeedSequence(43), "talent")), draws["talent"])


def test_adding_a_stream_does_not_change_another():
    root = np.random.SeedSequence(7)
    alone = _draw(stream(root, "finance"), 64)
    g_new = stream(root, "a-new-mechanism")
    _draw(g_new, 1000)  # consume the new stream heavily
    g_fin = stream(root, "finance")
    _draw(stream(root, "yet-another"), 10)
    np.testing.assert_array_equal(_draw(g_fin, 64), alone)


def test_replicate_seeds_are_distinct_reproducible_and_prefix_stable():
    reps = replicate_seeds(99, 5)
    assert len(reps) == 5
    draws = [_draw(stream(r, "growth")) for r in reps]
    for i in range(5):
        for j in range(i + 1, 5):
            assert not np.array_equal(draws[i], draws[j])
    again = replicate_seeds(99, 5)
    for a, b in zip(reps, again, strict=True):
        np.testing.assert_array_equal(_draw(stream(a, "growth")), _draw(stream(b, "growth")))
    # asking for more replicates does not change the first ones (not ``seed + i``)
    more = replicate_seeds(99, 8)
    for a, b in zip(reps, more[:5], strict=True):
        np.testing.assert_array_equal(_draw(stream(a, "growth")), _draw(stream(b, "growth")))
    # replicate streams are not the plain root's stream
    plain = _draw(stream(np.random.SeedSequence(99), "growth"))
    assert not any(np.array_equal(plain, d) for d in draws)


def test_replicate_runs_differ_and_reproduce(tiny, frame_bytes):
    r0, r1 = replicate_seeds(3, 2)
    a, b = innosim.run(tiny, r0), innosim.run(tiny, r1)
    assert frame_bytes(a.series) != frame_bytes(b.series)
    a2 = innosim.run(tiny, replicate_seeds(3, 2)[0])
    assert frame_bytes(a.series) == frame_bytes(a2.series)


def test_replicate_runs_record_distinct_seeds(tiny):
    """Replicates share the root entropy; what is recorded must still tell them apart (and be
    the same for the same replicate)."""
    r0, r1 = replicate_seeds(3, 2)
    a, b = innosim.run(tiny, r0), innosim.run(tiny, r1)
    assert a.meta["seed"] != b.meta["seed"]
    assert a.seed == a.meta["seed"]
    assert innosim.run(tiny, replicate_seeds(3, 2)[0]).meta["seed"] == a.meta["seed"]


def test_adding_a_mechanism_leaves_the_others_streams_alone(small, monkeypatch, frame_bytes):
    """A new mechanism that draws random numbers (and changes nothing) must not shift any other
    mechanism's stream: streams are keyed by name, not by position."""
    base = innosim.run(small, 21)

    def noisy(state, params, rng):
        rng.random(1000)

    extra = types.SimpleNamespace(NAME="zz-noise", step=noisy)
    monkeypatch.setattr(run_mod, "MECHANISMS", (extra, *mech.MECHANISMS))
    patched = innosim.run(small, 21)
    assert frame_bytes(base.series) == frame_bytes(patched.series)
    assert frame_bytes(base.firms) == frame_bytes(patched.firms)


# =========================================================================== invariants


@pytest.mark.parametrize("seed", SEEDS)
def test_checked_runs_pass(small, seed):
    """The Checker raises InvariantError on any violation; these runs must finish."""
    r = innosim.run(small, seed, check=True)
    assert r.meta["ticks"] == small.n_ticks
    assert len(r.series) == small.n_ticks * small.n_cities


def _people_flow(result: innosim.RunResult) -> np.ndarray:
    """Net change of every city's pool per tick implied by the recorded flows."""
    return (
        _wide(result, "people_in")
        - _wide(result, "people_out")
        + _wide(result, "moves_in")
        - _wide(result, "moves_out")
    )


@pytest.fixture(params=["demo_run", "long_run"])
def result(request) -> innosim.RunResult:
    return request.getfixturevalue(request.param)


def test_people_conserved_per_city_every_tick(result):
    people = _wide(result, "population")  # real people: the rows' weights summed
    flow = _people_flow(result)
    start = _n0(result.scenario)
    prev = np.vstack([start[None, :], people[:-1]])
    np.testing.assert_array_equal(people, prev + flow)
    # migration moves people, it neither creates nor destroys them
    np.testing.assert_array_equal(
        _wide(result, "moves_in").sum(axis=1), _wide(result, "moves_out").sum(axis=1)
    )
    # the rows are a sample: about persons_per_agent people each (founders one each)
    rows = _wide(result, "agents")
    assert (rows >= 1).all() and (rows <= people).all()


def test_firms_conserved_per_city_and_in_total(result):
    firms = _wide(result, "firms")
    entries, exits = _wide(result, "entries"), _wide(result, "exits")
    prev = np.vstack([np.zeros((1, firms.shape[1])), firms[:-1]])  # no firms before tick 0
    np.testing.assert_array_equal(firms, prev + entries - exits)
    total = firms.sum(axis=1)
    np.testing.assert_array_equal(total, np.r_[0, total[:-1]] + entries.sum(1) - exits.sum(1))


def test_registry_agrees_with_series(result):
    reg = result.firms
    cities = result.meta["cities"]
    n_t, n_c = result.scenario.n_ticks, len(cities)
    assert reg["id"].is_unique
    np.testing.assert_array_equal(reg["id"].to_numpy(), np.arange(len(reg)))  # counter ids
    # every firm that ever lived was founded in the run (there are none at the start)
    assert len(reg) == result.series["entries"].sum()
    # alive at the end == firms in the last tick, per city
    last = _wide(result, "firms")[-1]
    alive = np.bincount(reg.loc[reg["alive"], "city"], minlength=n_c)
    np.testing.assert_array_equal(alive, last)
    # births and deaths per (tick, city) match the entry and exit flows
    born = np.zeros((n_t, n_c))
    np.add.at(born, (reg["born"].to_numpy(), reg["city"].to_numpy()), 1)
    np.testing.assert_array_equal(born, _wide(result, "entries"))
    dead = reg.loc[~reg["alive"]]
    died = np.zeros((n_t, n_c))
    np.add.at(died, (dead["died"].to_numpy(), dead["city"].to_numpy()), 1)
    np.testing.assert_array_equal(died, _wide(result, "exits"))
    assert (reg.loc[reg["alive"], "died"] == -1).all()
    assert (dead["died"] >= dead["born"]).all()


def test_ledger_agrees_with_series_and_registry(long_run):
    r = long_run
    inv, reg = r.investments, r.firms.set_index("id")
    sc = r.scenario
    n_t, n_c = sc.n_ticks, sc.n_cities
    assert len(inv) > 0 and inv["realised"].any(), "fixture too short to exercise the ledger"
    scale = TICKS_PER_YEAR / 1e4  # model CNY (万元) per tick -> 1e8 CNY/yr
    # invested: per (tick, firm city) equal to the vc_invested flow
    invested = np.zeros((n_t, n_c))
    np.add.at(invested, (inv["tick"].to_numpy(), inv["firm_city"].to_numpy()), inv["amount"])
    np.testing.assert_allclose(invested * scale, _wide(r, "vc_invested"), rtol=1e-5, atol=1e-9)
    # returned: per (realisation tick, fund city) equal to the vc_returned flow
    fund_city = run_mod.init_state(
        compile_params(sc), stream(np.random.SeedSequence(0), "init")
    ).funds.city.astype(np.int64)
    done = inv[inv["realised"]]
    returned = np.zeros((n_t, n_c))
    np.add.at(
        returned,
        (done["realised_tick"].to_numpy(), fund_city[done["fund"].to_numpy()]),
        done["proceeds"].to_numpy(np.float64),
    )
    np.testing.assert_allclose(returned * scale, _wide(r, "vc_returned"), rtol=1e-5, atol=1e-9)
    # open investments have no proceeds and no realisation tick; realised ones come later
    open_ = inv[~inv["realised"]]
    assert (open_["proceeds"] == 0).all() and (open_["realised_tick"] == -1).all()
    assert (done["realised_tick"] >= done["tick"]).all()
    assert (inv["amount"] > 0).all() and (inv["proceeds"] >= 0).all()
    assert (inv["stake"] > 0).all() and (inv["stake"] <= 1).all()
    # an investment is realised exactly when its firm listed or died
    firm = reg.loc[inv["firm_id"]]
    gone = firm["listed"].to_numpy() | ~firm["alive"].to_numpy()
    np.testing.assert_array_equal(inv["realised"].to_numpy(), gone)
    # rounds raised by a firm match its ledger entries
    rounds = inv.groupby("firm_id").size()
    np.testing.assert_array_equal(reg.loc[rounds.index, "rounds"].to_numpy(), rounds.to_numpy())
    # funds never hold negative dry powder
    assert (r.series["fund_capital"] >= 0).all()


def test_shares_are_shares(result):
    s = result.series
    for k in ("share_toc", "share_tob", "share_tog", "risk_appetite"):
        assert s[k].between(0.0, 1.0).all(), k
    total = s["share_toc"] + s["share_tob"] + s["share_tog"]
    has = s["firms"] > 0
    np.testing.assert_allclose(total[has], 1.0, rtol=1e-12)
    assert (total[~has] == 0).all()
    assert (s["unicorns"] <= s["firms"]).all() and (s["chain_masters"] <= s["firms"]).all()


def test_no_nan_or_inf_anywhere(result):
    for name, frame in result.tables().items():
        num = frame.select_dtypes("number")
        if len(num):
            assert np.isfinite(num.to_numpy(np.float64)).all(), name
    units = result.meta["units"]
    assert set(units) == {n for n, _, _ in SERIES}


# --------------------------------------------------------------------------- the checker bites


def _wrap(module, after):
    """A replacement of the mechanism's ``step`` (NumPy mechanisms) or ``make`` (compiled
    ones: the wrapped step has no kernel parts, so the run does not fuse it) that calls
    ``after(state, params)`` after the mechanism's own step."""

    def wrapped(step):
        def tampered(state, params, rng):
            step(state, params, rng)
            after(state, params)

        return tampered

    if hasattr(module, "step"):
        return "step", wrapped(module.step)
    make = module.make
    return "make", lambda params, rng: wrapped(make(params, rng))


def _drop_a_person(state, params):
    """Silently drop the last person if unlinked (no flow counted)."""
    p = state.people
    if p.n and p.employer[p.n - 1] < 0:
        p.remove_swap(np.array([p.n - 1]))


def _drop_a_linked_person(state, params):
    """Drop someone through the link-keeping op but count nothing."""
    if state.people.n:
        remove_people(state, np.array([0]))


def _money_from_nowhere(state, params):
    state.funds.capital[0] += 1.0


def _invest_off_ledger(state, params):
    if state.ledger.n:  # invested and capital stay balanced; only the ledger disagrees
        state.funds.invested[0] += 5.0
        state.funds.capital[0] -= 5.0


def _firm_from_nowhere(state, params):
    f = state.firms
    f.append(1, id=state.new_firm_ids(1), city=0, employment=0, orientation=0)


def _share_above_one(state, params):
    state.record["share_tob"][0] = 1.5


def _nan_series(state, params):
    state.record["value_added"][0] = np.nan


def _crowd_at_the_helm(state, params):
    p, f = state.people, state.firms
    lead = np.flatnonzero(p.employer >= 0)
    if f.n and lead.size:
        p.status[lead[0]] = 0  # a firm led by a row that is no longer its founder


TAMPERS = [
    (talent, _drop_a_person, "people not conserved"),
    (careers, _drop_a_linked_person, "people not conserved"),
    (finance, _money_from_nowhere, "fund capital does not balance"),
    (finance, _invest_off_ledger, "ledger totals differ"),
    (accounting, _firm_from_nowhere, r"firms \d+ != "),
    (accounting, _share_above_one, r"share share_tob outside \[0, 1\]"),
    (accounting, _nan_series, "series value_added is not finite"),
    (  # either side of the broken link is caught, whichever the checker meets first
        careers,
        _crowd_at_the_helm,
        "led by a row that is not one founder|a founder is not employed by their own firm",
    ),
]


@pytest.mark.parametrize(
    ("module", "tamper", "message"), TAMPERS, ids=[t[1].__name__.strip("_") for t in TAMPERS]
)
def test_checker_catches_violations(long_scenario, monkeypatch, module, tamper, message):
    # the long scenario has firms and investments for every tampering to act on; the run stops
    # at the first violation
    monkeypatch.setattr(module, *_wrap(module, tamper))
    with pytest.raises(innosim.InvariantError, match=message):
        innosim.run(long_scenario, 3, check=True)


def test_tampered_run_passes_without_check(small, monkeypatch):
    """The error above comes from the Checker, not from the tampering crashing the run."""
    monkeypatch.setattr(talent, *_wrap(talent, _drop_a_person))
    r = innosim.run(small, 3, check=False)
    agents = _wide(r, "agents")
    flow = _people_flow(r)
    prev = np.vstack([_n0(small)[None, :], agents[:-1]])
    assert (agents != prev + flow).any()  # and the post-hoc identity sees it too


def test_invariant_error_exit_code_differs_from_input_errors():
    assert innosim.InvariantError.exit_code != innosim.ScenarioError.exit_code
    assert issubclass(innosim.InvariantError, innosim.InnosimError)


# =========================================================================== disabling mechanisms

OPTIONAL = frozenset(mech.NAMES) - mech.CORE_MECHANISMS


def test_optional_mechanisms_are_the_documented_six():
    assert frozenset({"talent", "careers", "place", "chains", "policy", "climate"}) == OPTIONAL


def test_disable_optional_mechanisms(small):
    r = innosim.run(small, 4, check=True, disable=OPTIONAL)
    assert sorted(r.meta["disabled"]) == sorted(OPTIONAL)
    assert set(r.meta["mechanisms"]) == set(mech.NAMES) - OPTIONAL
    s = r.series
    # without talent nobody enters or leaves; without careers nobody moves
    for k in ("people_in", "people_out", "graduates", "moves_in", "moves_out"):
        assert (s[k] == 0).all(), k
    np.testing.assert_array_equal(_wide(r, "population")[-1], _n0(small))
    assert (s["chain_masters"] == 0).all()


@pytest.mark.parametrize("name", sorted(OPTIONAL))
def test_disable_each_optional_mechanism(tiny, name):
    r = innosim.run(tiny, 4, check=True, disable={name})
    assert r.meta["disabled"] == [name]
    assert name not in r.meta["mechanisms"]


@pytest.mark.parametrize("bad", [{"accounting"}, {"telepathy"}, {"talent", "Talent"}])
def test_disable_rejects_unknown_and_accounting(tiny, bad):
    with pytest.raises(innosim.ScenarioError) as e:
        innosim.run(tiny, 1, disable=bad)
    msg = str(e.value)
    assert "disable" in msg
    for name in bad - set(mech.NAMES) | (bad & {"accounting"}):
        assert name in msg


# =========================================================================== structure

# Loops in mechanism modules whose iterable is *not* a tuple/list literal, each reviewed: the
# iterable's length must not grow with the number of agents. A new loop fails the test below
# until it is added here with its reason.
ALLOWED_LOOPS: dict[tuple[str, str], str] = {
    ("policy.py", "LEVERS"): "the declared policy levers (~14 names)",
    ("policy.py", "np.flatnonzero(active)"): "the scenario's active [[policy]] entries",
    ("climate.py", "_REMEMBERED"): "the four remembered outcomes (successes, failures, ...)",
    ("sampling.py", "range(n)"): "count_codes: one pass per city code, at most SMALL_CODES (32)",
    **{k: v for k, v in ALLOWED_PY_LOOPS.items() if not k[0].endswith("_.py")},
}
"""Compiled mechanisms loop over agents inside their kernels (``@njit`` functions), which this
rule does not look into; outside kernels they follow tests/_fast.py's reviewed list."""


def _loops(tree: ast.AST, skip: set[int] = frozenset()):
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.For | ast.AsyncFor):
            yield node.lineno, node.iter
        elif isinstance(node, ast.comprehension):
            yield getattr(node.iter, "lineno", 0), node.iter
        elif isinstance(node, ast.While):
            yield node.lineno, None


def loop_violations(filename: str, source: str) -> list[str]:
    """Loops in ``source`` outside compiled kernels that are neither over a literal tuple/list
    nor reviewed."""
    bad = []
    tree = ast.parse(source)
    kernels = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and is_njit(n)]
    inside = {id(x) for k in kernels for x in ast.walk(k)}
    for line, it in _loops(tree, inside):
        if it is None:
            bad.append(f"{filename}:{line}: while loop")
        elif isinstance(it, ast.Tuple | ast.List):
            continue  # bounded by what is written in the code
        elif (filename, ast.unparse(it)) not in ALLOWED_LOOPS:
            bad.append(f"{filename}:{line}: for ... in {ast.unparse(it)}")
    return bad


def test_no_loops_over_agents_in_mechanisms():
    bad = []
    for path in sorted(MECH_DIR.glob("*.py")):
        bad += loop_violations(path.name, path.read_text(encoding="utf-8"))
    assert not bad, "unreviewed loops in mechanisms (see ALLOWED_LOOPS):\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "source",
    [
        "for i in range(p.n):\n    pass\n",
        "for row in np.flatnonzero(dead):\n    pass\n",
        "x = [s for s in state.people.skill]\n",
        "while k < n:\n    k += 1\n",
        "for a, b in zip(f.id, f.city):\n    pass\n",
    ],
)
def test_loop_rule_flags_agent_loops(source):
    assert loop_violations("growth.py", source)


def test_loop_rule_allows_literals_and_reviewed_loops():
    src = "for k in ('a', 'b'):\n    pass\nfor lever in LEVERS:\n    pass\n"
    assert not loop_violations("policy.py", src)
    assert loop_violations("growth.py", "for lever in LEVERS:\n    pass\n")  # reviewed per file


def _src_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


# the seeded, explicit constructors (and default_rng with a seed); everything else under
# np.random is the global generator
ALLOWED_NP_RANDOM = {"SeedSequence", "Generator", "PCG64", "PCG64DXSM", "BitGenerator"}


def test_no_global_numpy_random_in_src():
    pat = re.compile(r"\b(?:np|numpy)\.random\.([A-Za-z_]\w*)")
    bad = []
    for path in _src_files():
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for m in pat.finditer(code):
                name = m.group(1)
                # default_rng is seeded only when given a seed: default_rng() is the OS entropy
                seeded_rng = name == "default_rng" and not code[m.end() :].startswith("()")
                if name not in ALLOWED_NP_RANDOM and not seeded_rng:
                    bad.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
            if re.search(r"from\s+numpy\.random\s+import|from\s+numpy\s+import\s+random", code):
                bad.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert not bad, "global or unseeded numpy random use:\n" + "\n".join(bad)
    assert len(_src_files()) > 10  # the scan found the package


def test_no_assert_statements_in_src():
    bad = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in _src_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert not bad, "assert in src (disappears under -O; raise an InnosimError):\n" + "\n".join(bad)


def test_only_the_engine_advances_time():
    """No mechanism assigns ``state.t`` (or ``<anything>.t``)."""
    bad = []
    for path in sorted(MECH_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == "t":
                    bad.append(f"{path.name}:{node.lineno}")
    assert not bad


def test_every_mechanism_has_name_step_and_rule():
    assert len(mech.MECHANISMS) == len(set(mech.NAMES)) == 13
    # accounting records what the others did; climate then learns from the tick's outcomes
    assert mech.NAMES[-2:] == ("accounting", "climate")
    for m in mech.MECHANISMS:
        assert callable(getattr(m, "step", None) or m.make)
        assert m.NAME == m.__name__.rsplit(".", 1)[-1]
        assert m.__doc__ and "Rule" in m.__doc__, m.__name__


def test_series_frame_layout(demo_run):
    s = demo_run.series
    sc = demo_run.scenario
    assert list(s.columns[:4]) == ["tick", "year", "quarter", "city"]
    assert [c for c in s.columns[4:]] == [n for n, _, _ in SERIES]
    assert len(s) == sc.n_ticks * sc.n_cities
    first = s.groupby("tick")["city"].apply(list)
    assert all(v == list(sc.city_names) for v in first)
    assert (s["year"] == sc.start_year + s["tick"] // TICKS_PER_YEAR).all()
    assert pd.api.types.is_integer_dtype(s["tick"])


# --------------------------------------------------------------------------- city pairs


def test_city_pairs_agree_with_the_per_city_flows(result):
    """The origin-destination movers sum to each city's moves out (rows) and in (columns); chain
    procurement flows exactly when chain masters exist."""
    cp, s = result.city_pairs, result.series
    n_c = s["city"].nunique()
    assert len(cp) == len(s) * n_c
    assert set(result.meta["pair_units"]) == {"movers", "graduate_movers", "procurement"}
    out = cp.groupby(["tick", "origin"], sort=False)["movers"].sum()
    into = cp.groupby(["tick", "destination"], sort=False)["movers"].sum()
    by_city = s.set_index(["tick", "city"])
    np.testing.assert_array_equal(out.reindex(by_city.index).to_numpy(), by_city["moves_out"])
    np.testing.assert_array_equal(into.reindex(by_city.index).to_numpy(), by_city["moves_in"])
    assert (cp.loc[cp["origin"] == cp["destination"], "movers"] == 0).all()
    grad = cp.groupby(["tick", "origin"], sort=False)["graduate_movers"].sum()
    np.testing.assert_array_equal(
        grad.reindex(by_city.index).to_numpy(), by_city["graduate_moves_out"]
    )
    assert (cp["procurement"] >= 0).all()
    assert (cp["procurement"].sum() > 0) == (s["chain_masters"].sum() > 0)
    assert "city_pairs" in result.tables()


def test_state_copies_keep_flows_records_and_levers_in_their_own_buffers():
    import copy
    import pickle

    from _fast import scenario, state_at

    st, _ = state_at(scenario(500, 3), 6)
    st.flows.entries += 1.0  # a mechanism's ``fl.x += v`` leaves the view as an attribute
    for c in (copy.deepcopy(st), pickle.loads(pickle.dumps(st))):
        assert np.shares_memory(c.flows.entries, c.flows.array)
        assert not np.shares_memory(c.flows.array, st.flows.array)
        np.testing.assert_array_equal(c.flows.array, st.flows.array)
        assert np.shares_memory(c.record["firms"], c.record_array)
        assert np.shares_memory(c.levers.stigma, c.lever_array)
        assert np.shares_memory(c.people.raw["city"], c.people.block)
