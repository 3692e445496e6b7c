"""The statistics catalog: known answers on hand-built runs, a real run, argument checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import innosim
from innosim.errors import InputError
from innosim.model.runner import RunResult
from innosim.schema import SERIES
from innosim.stats import BURN_IN_YEARS, CATALOG, REQUIRED, ArgSpec, Statistic, check_args

END = 2020
N_TICKS = (END - 1999 + 1) * 4
W = BURN_IN_YEARS * 4  # first tick of the measured window
WY = 1999 + BURN_IN_YEARS  # first year of the measured window

NAMES = [
    "firm_size_tail_exponent",
    "growth_rate_excess_kurtosis",
    "growth_laplace_loglik_gain",
    "growth_volatility_size_slope",
    "gibrat_slope_age_controlled",
    "survival_rate",
    "cohort_employment_retained",
    "startup_job_creation_share",
    "vc_share_deals_below_1x",
    "vc_top_deals_return_share",
    "seed_to_unicorn_rate",
    "founder_success_rate",
    "fear_of_failure_share",
    "restart_response_to_stigma_removal",
    "incumbent_adoption_share",
    "lead_supplier_margin_ratio",
    "to_c_share_of_giants",
    "city_value",
    "city_ratio",
    "city_scaling_exponent",
]

EXAMPLE_ARGS = {
    "survival_rate": {"age_years": 1},
    "cohort_employment_retained": {"age_years": 1},
    "founder_success_rate": {"history": "first_time"},
}

FIRM_DEFAULTS = {
    "id": 0,
    "alive": True,
    "city": 0,
    "orientation": 0,
    "wave": 0,
    "born": W,
    "founder_history": 0,
    "employment": 1,
    "rounds": 0,
    "chain_master": False,
    "listed": False,
    "unicorn_ever": False,
    "success": False,
    "died": -1,
    "death_kind": 0,
}
FY_DEFAULTS = {
    "id": 0,
    "year": END,
    "age_years": 3.75,
    "city": 0,
    "orientation": 0,
    "wave": 0,
    "employment": 1.0,
    "revenue": 0.0,
    "profit": 0.0,
    "procurement_in": 0.0,
    "procurement_out": 0.0,
    "valuation": 0.0,
    "chain_master": False,
    "listed": False,
}
INV_DEFAULTS = {"fund": 0, "firm_id": 0, "amount": 100.0, "proceeds": 0.0, "realised": True}


@pytest.fixture(scope="module")
def scen() -> innosim.Scenario:
    return innosim.load_scenario("demo").with_end_year(END)


def _frame(rows: dict | None, defaults: dict) -> pd.DataFrame:
    rows = rows or {}
    n = max((len(v) for v in rows.values() if np.ndim(v)), default=0)
    return pd.DataFrame(
        {k: np.broadcast_to(np.asarray(rows.get(k, d)), (n,)) for k, d in defaults.items()}
        | {k: np.broadcast_to(np.asarray(v), (n,)) for k, v in rows.items()}
    )


def make_result(
    scenario: innosim.Scenario,
    *,
    series: pd.DataFrame | None = None,
    firms: dict | None = None,
    firm_years: dict | None = None,
    investments: dict | None = None,
) -> RunResult:
    """A RunResult with hand-made tables (defaults fill unnamed columns)."""
    cities = list(scenario.city_names)
    if series is None:
        series = make_series(scenario, {})
    meta = {
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "cities": cities,
        "waves": [w.name for w in scenario.waves],
    }
    return RunResult(
        scenario,
        1,
        series,
        _frame(firms, FIRM_DEFAULTS),
        _frame(firm_years, FY_DEFAULTS),
        _frame(investments, INV_DEFAULTS),
        meta,
    )


def make_series(scenario: innosim.Scenario, values: dict) -> pd.DataFrame:
    """Per tick and city series; ``values[name]`` is an array of shape (ticks, cities)."""
    n_t, cities = scenario.n_ticks, list(scenario.city_names)
    ticks = np.repeat(np.arange(n_t), len(cities))
    df = pd.DataFrame(
        {
            "tick": ticks,
            "year": scenario.start_year + ticks // 4,
            "quarter": ticks % 4 + 1,
            "city": np.tile(cities, n_t),
        }
    )
    for name, _, _ in SERIES:
        v = values.get(name)
        df[name] = 0.0 if v is None else np.asarray(v, dtype=float).reshape(-1)
    return df


# --------------------------------------------------------------------------- registry


def test_catalog_is_the_contract() -> None:
    assert list(CATALOG) == NAMES
    fam = {s.name: s.family for s in CATALOG.values()}
    assert [n for n in NAMES if fam[n] == "firms"] == NAMES[:8]
    assert [n for n in NAMES if fam[n] == "finance"] == NAMES[8:11]
    assert [n for n in NAMES if fam[n] == "founders"] == NAMES[11:17]
    assert [n for n in NAMES if fam[n] == "cities"] == NAMES[17:]
    for s in CATALOG.values():
        assert isinstance(s, Statistic)
        assert s.doc and s.unit
        assert s.paired == (s.name == "restart_response_to_stigma_removal")
        assert all(isinstance(a, ArgSpec) for a in s.args)
    args = {s.name: [(a.name, a.default) for a in s.args] for s in CATALOG.values()}
    assert args["firm_size_tail_exponent"] == [("top_share", 0.05), ("city", None)]
    assert args["survival_rate"] == [("age_years", REQUIRED)]
    assert args["vc_top_deals_return_share"] == [("top_share", 0.06)]
    assert args["to_c_share_of_giants"] == [("kind", "chain_master")]
    assert args["city_ratio"] == [
        ("city_a", REQUIRED),
        ("city_b", REQUIRED),
        ("metric", REQUIRED),
        ("year", None),
    ]


def test_check_args_fills_defaults() -> None:
    assert check_args("firm_size_tail_exponent", {}) == {"top_share": 0.05, "city": None}
    assert check_args("survival_rate", {"age_years": 5}) == {"age_years": 5}
    assert check_args("startup_job_creation_share", None) == {}
    out = check_args("city_value", {"city": "A", "metric": "unicorns"}, cities=["A", "B"])
    assert out == {"city": "A", "metric": "unicorns", "year": None}


@pytest.mark.parametrize(
    ("name", "args", "field", "problem"),
    [
        ("survival_rate", {"age_years": 5, "age": 1}, "t[1].args.age", "unknown argument"),
        ("survival_rate", {}, "t[1].args.age_years", "missing required argument"),
        ("survival_rate", {"age_years": "5"}, "t[1].args.age_years", "wrong type"),
        ("survival_rate", {"age_years": 2.5}, "t[1].args.age_years", "wrong type"),
        ("survival_rate", {"age_years": True}, "t[1].args.age_years", "wrong type"),
        ("survival_rate", {"age_years": 0}, "t[1].args.age_years", "out of range"),
        ("firm_size_tail_exponent", {"top_share": 1.5}, "t[1].args.top_share", "out of range"),
        ("founder_success_rate", {"history": "twice"}, "t[1].args.history", "not one of"),
        ("fear_of_failure_share", {"city": "Atlantis"}, "t[1].args.city", "unknown city"),
        ("city_value", {"city": "A", "metric": "gdp"}, "t[1].args.metric", "not one of"),
    ],
)
def test_check_args_errors(name: str, args: dict, field: str, problem: str) -> None:
    with pytest.raises(InputError) as e:
        check_args(name, args, cities=["A", "B"], where="t[1].")
    assert e.value.field == field
    assert e.value.problem.startswith(problem)
    assert e.value.expected


def test_unknown_statistic_lists_the_catalog() -> None:
    with pytest.raises(InputError) as e:
        check_args("survival", {}, where="target[0].")
    assert e.value.problem == "unknown statistic"
    assert e.value.value == "survival"
    assert e.value.field == "target[0].statistic"
    assert e.value.expected == "one of " + ", ".join(sorted(NAMES))


def test_call_checks_arguments_and_arity(scen: innosim.Scenario) -> None:
    r = make_result(scen)
    with pytest.raises(InputError):
        CATALOG["fear_of_failure_share"](r, city="Atlantis")
    with pytest.raises(InputError):
        CATALOG["survival_rate"](r)
    with pytest.raises(TypeError):
        CATALOG["restart_response_to_stigma_removal"](r)
    with pytest.raises(TypeError):
        CATALOG["survival_rate"].counterfactual(scen)


# --------------------------------------------------------------------------- firms


def test_hill_recovers_pareto_exponent(scen: innosim.Scenario) -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    x = 10.0 * (1.0 - rng.random(n)) ** (-1 / 1.2)
    city = rng.integers(0, 2, n)
    fy = {
        "id": np.r_[np.arange(n), np.arange(5)],
        "year": np.r_[np.full(n, END), np.full(5, END - 1)],
        "employment": np.r_[x, np.full(5, 1e12)],  # an earlier year: ignored
        "city": np.r_[city, np.zeros(5, int)],
    }
    r = make_result(scen, firm_years=fy)
    stat = CATALOG["firm_size_tail_exponent"]
    assert stat(r) == pytest.approx(1.2, abs=0.05)
    assert stat(r, city=scen.city_names[1]) == pytest.approx(1.2, abs=0.07)
    small = make_result(scen, firm_years={"employment": [100.0, 10.0, 1.0, 1.0]})
    assert stat(small, top_share=0.5) == pytest.approx(2 / math.log(1000))
    assert math.isnan(stat(make_result(scen, firm_years={"employment": [5.0, 3.0]})))


def test_survival_curve(scen: innosim.Scenario) -> None:
    born = [W] * 10 + [W - 4, N_TICKS - 1]
    died = [-1] * 5 + [W + 2, W + 4, W + 4, W + 10, W + 30] + [W, N_TICKS - 1]
    r = make_result(scen, firms={"id": np.arange(12), "born": born, "died": died})
    s = CATALOG["survival_rate"]
    assert s(r, age_years=1) == pytest.approx(9 / 10)  # the late and early firms left out
    assert s(r, age_years=2) == pytest.approx(7 / 10)
    assert s(r, age_years=3) == pytest.approx(6 / 10)
    assert s(r, age_years=7) == pytest.approx(6 / 10)
    assert s(r, age_years=8) == pytest.approx(5 / 10)
    assert math.isnan(s(r, age_years=50))


def test_cohort_employment_retained(scen: innosim.Scenario) -> None:
    firms = {"id": [1, 2], "born": [W, W], "died": [-1, W + 3]}
    fy = {
        "id": [1, 1, 2],
        "year": [WY, WY + 1, WY],
        "age_years": [0.75, 1.75, 0.75],
        "employment": [10.0, 30.0, 10.0],
    }
    r = make_result(scen, firms=firms, firm_years=fy)
    c = CATALOG["cohort_employment_retained"]
    assert c(r, age_years=1) == pytest.approx(10 / 20)  # record at age 0.75 is closest
    assert c(r, age_years=2) == pytest.approx(30 / 20)


def _growth_result(scen, g: np.ndarray, size: np.ndarray, age: np.ndarray | float = 3.0):
    n = g.size
    ids = np.arange(n)
    age = np.broadcast_to(age, (n,)).astype(float) + 0.75
    fy = {
        "id": np.r_[ids, ids],
        "year": np.r_[np.full(n, 2010), np.full(n, 2011)],
        "age_years": np.r_[age, age + 1],
        "employment": np.r_[size, size * np.exp(g)],
    }
    return make_result(scen, firm_years=fy)


def test_growth_shape_laplace_vs_gaussian(scen: innosim.Scenario) -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    size = np.full(n, 100.0)
    lap = _growth_result(scen, rng.laplace(0.0, 0.2, n), size)
    gau = _growth_result(scen, rng.normal(0.0, 0.2, n), size)
    k, gain = CATALOG["growth_rate_excess_kurtosis"], CATALOG["growth_laplace_loglik_gain"]
    assert k(lap) == pytest.approx(3.0, abs=0.3)
    assert k(gau) == pytest.approx(0.0, abs=0.1)
    assert gain(lap) == pytest.approx(0.0724, abs=0.01)
    assert gain(gau) == pytest.approx(-0.0484, abs=0.01)
    # firms below min_size are left out
    g = np.r_[rng.normal(0, 0.2, 1000), np.full(10, 5.0)]
    mixed = _growth_result(scen, g, np.r_[np.full(1000, 100.0), np.full(10, 2.0)])
    assert abs(k(mixed)) < 0.6
    assert k(mixed, min_size=1) > 10


def test_volatility_size_slope_exact(scen: innosim.Scenario) -> None:
    z = np.random.default_rng(5).normal(size=200)
    z = (z - z.mean()) / z.std(ddof=1)
    sizes = 10.0 * 2.0 ** np.arange(8)
    sd = 0.5 * sizes**-0.3
    g = np.concatenate([s * z for s in sd])
    size = np.repeat(sizes, z.size)
    r = _growth_result(scen, g, size)
    assert CATALOG["growth_volatility_size_slope"](r) == pytest.approx(0.3, abs=1e-9)
    few = _growth_result(scen, g[: 4 * z.size], size[: 4 * z.size])
    assert math.isnan(CATALOG["growth_volatility_size_slope"](few))


def test_gibrat_slope_with_age_effects(scen: innosim.Scenario) -> None:
    rng = np.random.default_rng(9)
    n = 3000
    age = rng.integers(0, 5, n)
    size = np.exp(rng.normal(2.0 + age, 0.5))  # older firms are larger ...
    g = 0.4 * age - 0.2 * np.log(size)  # ... and grow faster: pooled OLS is biased
    r = _growth_result(scen, g, size, age)
    assert CATALOG["gibrat_slope_age_controlled"](r) == pytest.approx(-0.2, abs=1e-6)


def test_startup_job_creation_share(scen: innosim.Scenario) -> None:
    fy = {
        "id": [1, 1, 1, 2, 2, 2, 3],
        "year": [WY, WY + 1, WY + 2, WY - 1, WY, WY + 1, WY + 1],
        "age_years": [0.75, 1.75, 2.75, 3.75, 4.75, 5.75, 0.25],
        "employment": [5, 8, 6, 10, 12, 15, 4],
    }
    r = make_result(scen, firm_years=fy)
    assert CATALOG["startup_job_creation_share"](r) == pytest.approx(9 / 17)


# --------------------------------------------------------------------------- finance


def test_venture_ledger(scen: innosim.Scenario) -> None:
    inv = {
        "amount": [100.0] * 6,
        "proceeds": [0.0, 50.0, 100.0, 300.0, 1000.0, 0.0],
        "realised": [True] * 5 + [False],
    }
    firms = {
        "id": np.arange(7),
        "born": [W] * 6 + [W - 1],
        "rounds": [1, 2, 1, 3, 0, 0, 1],
        "unicorn_ever": [False, False, False, True, True, False, True],
    }
    r = make_result(scen, investments=inv, firms=firms)
    assert CATALOG["vc_share_deals_below_1x"](r) == pytest.approx(2 / 5)
    assert CATALOG["vc_top_deals_return_share"](r) == pytest.approx(1000 / 1450)
    assert CATALOG["vc_top_deals_return_share"](r, top_share=0.4) == pytest.approx(1300 / 1450)
    assert CATALOG["seed_to_unicorn_rate"](r) == pytest.approx(1 / 4)
    empty = make_result(scen)
    for name in ("vc_share_deals_below_1x", "vc_top_deals_return_share", "seed_to_unicorn_rate"):
        assert math.isnan(CATALOG[name](empty))


# --------------------------------------------------------------------------- founders


def test_founder_success_rate(scen: innosim.Scenario) -> None:
    firms = {
        "id": np.arange(9),
        "born": [W] * 8 + [W - 1],
        "founder_history": [0, 0, 0, 0, 0, 1, 1, 1, 0],
        "success": [True, False, False, False, False, True, False, False, True],
        "died": [-1, 30, 40, -1, -1, -1, 50, -1, 10],
        "listed": [False, False, False, True, False, False, False, False, False],
    }
    r = make_result(scen, firms=firms)
    s = CATALOG["founder_success_rate"]
    assert s(r, history="first_time") == pytest.approx(1 / 4)
    assert s(r, history="after_failure") == pytest.approx(1 / 2)
    assert math.isnan(s(r, history="after_success"))


def test_fear_of_failure_share(scen: innosim.Scenario) -> None:
    n_t, n_c = scen.n_ticks, scen.n_cities
    per = np.full((n_t, n_c), 10.0)
    det = np.zeros((n_t, n_c))
    det[:, 0] = 6.0
    det[:, 1] = 2.0
    det[:W, :] = 10.0  # burn-in: ignored
    r = make_result(scen, series=make_series(scen, {"perceivers": per, "deterred": det}))
    f = CATALOG["fear_of_failure_share"]
    assert f(r) == pytest.approx(8 / (10 * n_c))
    assert f(r, city=scen.city_names[0]) == pytest.approx(0.6)
    assert f(r, city=scen.city_names[1]) == pytest.approx(0.2)
    assert math.isnan(f(make_result(scen)))


def test_restart_response_paired(scen: innosim.Scenario) -> None:
    stat = CATALOG["restart_response_to_stigma_removal"]
    shape = (scen.n_ticks, scen.n_cities)
    cand = np.full(shape, 20.0)
    base_r, cf_r = np.full(shape, 2.0), np.full(shape, 3.0)
    cf_r[:, 0] = 5.0
    base = make_result(
        scen, series=make_series(scen, {"restarts": base_r, "restart_candidates": cand})
    )
    cf = make_result(scen, series=make_series(scen, {"restarts": cf_r, "restart_candidates": cand}))
    mean_cf = (5.0 + 3.0 * (scen.n_cities - 1)) / scen.n_cities
    assert stat(base, cf) == pytest.approx(mean_cf / 2.0 - 1.0)
    assert stat(base, cf, city=scen.city_names[0]) == pytest.approx(1.5)
    assert stat(base, cf, city=scen.city_names[1]) == pytest.approx(0.5)
    cs = stat.counterfactual(scen)
    for k, v in scen.city.items():
        if k in ("stigma", "restart_cost"):
            assert np.all(cs.city[k] == 0.0)
        else:
            assert np.array_equal(cs.city[k], v)
    assert cs.glob == scen.glob


def test_incumbent_adoption_share() -> None:
    sc = innosim.load_scenario("demo").with_end_year(2012)
    starts = [w.start_year for w in sc.waves]
    assert starts[2:5] == [2009, 2010, 2013]  # the design below relies on these
    waves = {1: [0, 0, 2, 2, 2], 2: [0, 0, 0, 0, 2], 3: [0, 0, 0, 0, 0], 4: [2, 2, 2, 3, 3]}
    ids = np.repeat(list(waves), 5)
    fy = {
        "id": ids,
        "year": np.tile(np.arange(2008, 2013), 4),
        "wave": np.concatenate(list(waves.values())),
    }
    r = make_result(sc, firm_years=fy)
    # wave 2 (2009): incumbents 1, 2, 3 -> firm 1 moves; wave 3 (2010): 1-4 -> firm 4 moves
    assert CATALOG["incumbent_adoption_share"](r, years=3) == pytest.approx(2 / 7)
    assert math.isnan(CATALOG["incumbent_adoption_share"](r, years=5))  # no follow-up fits


def test_lead_supplier_margin_ratio(scen: innosim.Scenario) -> None:
    fy = {
        "year": [WY, WY + 1, WY, WY, WY, WY - 1],
        "chain_master": [True, True, False, False, False, True],
        "procurement_in": [0.0, 5.0, 10.0, 10.0, 0.0, 0.0],
        "revenue": [100.0, 200.0, 100.0, 100.0, 100.0, 100.0],
        "profit": [30.0, 30.0, 5.0, 15.0, 90.0, -100.0],
    }
    r = make_result(scen, firm_years=fy)
    assert CATALOG["lead_supplier_margin_ratio"](r) == pytest.approx(0.2 / 0.1)


def test_to_c_share_of_giants(scen: innosim.Scenario) -> None:
    u = scen.glob["unicorn_valuation"]
    fy = {
        "year": [END] * 8 + [END - 1],
        "chain_master": [True, True, True, True, True, False, False, False, True],
        "orientation": [0, 0, 1, 2, 0, 1, 0, 0, 1],
        "valuation": [0, 0, 0, 0, 0, 1.5 * u, u, 0.5 * u, 0],
    }
    r = make_result(scen, firm_years=fy)
    t = CATALOG["to_c_share_of_giants"]
    assert t(r) == pytest.approx(3 / 5)
    assert t(r, kind="unicorn") == pytest.approx(1 / 2)


# --------------------------------------------------------------------------- cities


def test_city_values_and_scaling(scen: innosim.Scenario) -> None:
    n_t, n_c = scen.n_ticks, scen.n_cities
    pop = np.tile(1e6 * (1.0 + np.arange(n_c)), (n_t, 1))
    pop[-4:] *= 2.0  # the last year
    va = 3.0 * pop**1.15
    uni = np.tile(np.arange(n_c) + 1.0, (n_t, 1))
    r = make_result(
        scen, series=make_series(scen, {"population": pop, "value_added": va, "unicorns": uni})
    )
    a, b = scen.city_names[:2]
    v = CATALOG["city_value"]
    assert v(r, city=b, metric="value_added") == pytest.approx(3.0 * 4e6**1.15)
    assert v(r, city=b, metric="value_added", year=END - 1) == pytest.approx(3.0 * 2e6**1.15)
    assert math.isnan(v(r, city=b, metric="value_added", year=1950))
    assert CATALOG["city_ratio"](r, city_a=b, city_b=a, metric="unicorns") == pytest.approx(2.0)
    assert CATALOG["city_ratio"](r, city_a=b, city_b=a, metric="value_added") == pytest.approx(
        2.0**1.15
    )
    s = CATALOG["city_scaling_exponent"]
    assert s(r, metric="value_added") == pytest.approx(1.15)
    assert s(r, metric="unicorns", year=2010) == pytest.approx(1.0)
    assert math.isnan(s(r, metric="exits"))  # all zero
    with pytest.raises(InputError):
        v(r, city="Atlantis", metric="firms")


# --------------------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def real_runs() -> tuple[RunResult, RunResult]:
    sc = innosim.load_scenario("demo").with_end_year(2008)
    cf = CATALOG["restart_response_to_stigma_removal"].counterfactual(sc)
    return innosim.run(sc, seed=1), innosim.run(cf, seed=1)


@pytest.mark.parametrize("name", NAMES)
def test_every_statistic_on_a_real_run(name: str, real_runs) -> None:
    stat = CATALOG[name]
    r = real_runs[0]
    cities = r.meta["cities"]
    args = dict(EXAMPLE_ARGS.get(name, {}))
    for a in stat.args:
        if a.name not in args and a.default is REQUIRED:
            args[a.name] = {"city": cities[0], "city_a": cities[0], "city_b": cities[1]}.get(
                a.name, a.choices[0] if a.choices else None
            )
    value = stat(*real_runs[: stat.n_results], **args)
    assert isinstance(value, float)
    assert math.isfinite(value) or math.isnan(value)


def test_every_statistic_is_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "statistics.md").read_text("utf-8")
    for name in NAMES:
        assert f"#### `{name}(" in text, name
