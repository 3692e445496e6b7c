"""Sobol sensitivity analysis: known answers through the analysis code path, a tiny real run,
input errors and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.errors import InputError
from innosim.experiments.sensitivity import (
    DEFAULT_FACTORS,
    Factor,
    apply_factors,
    parse_factors,
    parse_outputs,
    sensitivity,
    sobol_indices,
)

runner = CliRunner()


def _factors(names: list[str], low: float, high: float) -> list[Factor]:
    return [Factor(n, "x", None, low, high, (low + high) / 2) for n in names]


def test_ishigami_known_answer() -> None:
    """The Ishigami function (a=7, b=0.1) has analytic indices; the same sampling and analysis
    the simulations use recover them."""
    factors = _factors(["x1", "x2", "x3"], -math.pi, math.pi)

    def evaluate(X: np.ndarray) -> np.ndarray:
        y = np.sin(X[:, 0]) + 7 * np.sin(X[:, 1]) ** 2 + 0.1 * X[:, 2] ** 4 * np.sin(X[:, 0])
        return y[:, None]

    ind, noise, X, _ = sobol_indices(evaluate, factors, ["ishigami"], n=2048, seed=3)
    assert X.shape == (2048 * 5, 3)
    got = ind.set_index("factor")
    s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for f in s1:
        assert got.at[f, "S1"] == pytest.approx(s1[f], abs=0.03)
        assert got.at[f, "ST"] == pytest.approx(st[f], abs=0.03)
        # the analytic value lies inside the reported 95% interval (allowing a little slack)
        assert abs(got.at[f, "ST"] - st[f]) <= got.at[f, "ST_conf"] * 1.5 + 0.005
    assert math.isnan(noise.at[0, "noise_share"])  # one replicate: no noise estimate


def test_linear_model_with_seed_noise() -> None:
    """y = x0 + 2 x1 + 0 x2 + 0.5 eps with 4 replicates per point: the variance shares are
    1/12, 4/12 and the noise 0.25/4 (of the replicate mean); the noise share is recovered and
    the inert factor's first-order index is ~0."""
    factors = _factors(["a", "b", "c"], 0.0, 1.0)
    rng = np.random.default_rng(7)
    r = 4

    def evaluate(X: np.ndarray) -> np.ndarray:
        eps = rng.normal(size=(len(X), r))
        y = X[:, [0]] + 2 * X[:, [1]] + 0.5 * eps
        return y[:, :, None]

    ind, noise, _, Y = sobol_indices(evaluate, factors, ["y"], n=1024, seed=1)
    assert Y.shape == (1024 * 5, r, 1)
    total = 1 / 12 + 4 / 12 + 0.25 / r
    got = ind.set_index("factor")
    assert got.at["a", "S1"] == pytest.approx((1 / 12) / total, abs=0.05)
    assert got.at["b", "S1"] == pytest.approx((4 / 12) / total, abs=0.05)
    assert got.at["c", "S1"] == pytest.approx(0.0, abs=0.05)
    assert noise.at[0, "noise_share"] == pytest.approx((0.25 / r) / total, abs=0.03)
    assert noise.at[0, "noise_share_run"] == pytest.approx(0.25 / (5 / 12 + 0.25), abs=0.03)


def test_parse_factors_defaults_and_ranges() -> None:
    sc = innosim.load_scenario("hangzhou-nanjing")
    city = sc.city_names[1]
    fs = parse_factors(sc, None, city=city)
    assert [f.param for f in fs] == list(DEFAULT_FACTORS)
    for f in fs:
        assert f.city == city
        assert f.low <= f.value <= f.high and f.low < f.high
    fs = parse_factors(
        sc, f"failure_tolerance=0.1:0.9,{sc.city_names[0]}.labs,failure_cost", city=city
    )
    assert [f.name for f in fs] == [
        f"{city}.failure_tolerance",
        f"{sc.city_names[0]}.labs",
        "failure_cost",
    ]
    assert (fs[0].low, fs[0].high) == (0.1, 0.9)
    assert fs[2].city is None
    moved = apply_factors(sc, fs, [0.3, 2.0, 6.0])
    assert moved.city["failure_tolerance"][sc.city_index(city)] == 0.3
    assert moved.glob["failure_cost"] == 6.0


@pytest.mark.parametrize(
    "spec",
    ["nonsense", "failure_tolerance=0.9:0.1", "failure_tolerance=0:2", "Atlantis.labs", "x=1"],
)
def test_bad_factor_is_an_input_error(spec: str) -> None:
    sc = innosim.load_scenario("hangzhou-nanjing")
    with pytest.raises(InputError) as err:
        parse_factors(sc, spec)
    assert "--params" in str(err.value)


def test_top_level_api() -> None:
    assert innosim.sensitivity is sensitivity
    assert callable(innosim.calibrate)


def test_parse_outputs() -> None:
    sc = innosim.load_scenario("hangzhou-nanjing")
    a, b = sc.city_names[:2]
    outs = parse_outputs(sc, f"unicorns,{b}.firms,survival_rate(age_years=3)", city=a, year=2010)
    assert outs[0].request[0] == "city_value"
    assert dict(outs[0].request[1])["city"] == a
    assert dict(outs[1].request[1])["city"] == b
    assert dict(outs[2].request[1])["age_years"] == 3
    with pytest.raises(InputError):
        parse_outputs(sc, "no_such_metric", city=a)


def test_tiny_real_run_completes(tmp_path) -> None:
    """The real engine at a tiny scale: n=2, two factors, 2 replicates (16 runs)."""
    sc = innosim.load_scenario("hangzhou-nanjing")
    city = sc.city_names[1]
    df = sensitivity(
        "hangzhou-nanjing",
        outputs="firms,entries",
        params="failure_tolerance,risk_appetite",
        city=city,
        n=2,
        replicates=2,
        year=2004,
        scale=0.01,
        seed=5,
        workers=1,
        out=tmp_path,
    )
    assert list(df["output"].unique()) == ["firms", "entries"]
    assert len(df) == 4
    assert df.attrs["runs"] == 2 * 4 * 2
    assert {p.name for p in tmp_path.iterdir()} >= {
        "sensitivity.csv",
        "sensitivity.json",
        "samples.csv",
        "sensitivity.png",
    }
    data = json.loads((tmp_path / "sensitivity.json").read_text())
    assert data["n"] == 2 and len(data["noise"]) == 2


def test_cli_sensitivity_bad_input_exits_2() -> None:
    res = runner.invoke(app, ["sensitivity", "hangzhou-nanjing", "--outputs", "firms", "--n", "3"])
    assert res.exit_code == 2
    assert "--n" in res.output and "Traceback" not in res.output
    res = runner.invoke(
        app, ["sensitivity", "hangzhou-nanjing", "--outputs", "firms", "--params", "bogus=1:2"]
    )
    assert res.exit_code == 2 and "unknown parameter" in res.output


def test_cli_sensitivity_json() -> None:
    res = runner.invoke(
        app,
        [
            "sensitivity", "hangzhou-nanjing", "--outputs", "firms", "--params",
            "failure_tolerance", "--n", "2", "--replicates", "1", "--year", "2003",
            "--scale", "0.01", "--workers", "1", "--format", "json",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["rows"][0]["output"] == "firms" and data["runs"] == 6


def test_results_do_not_depend_on_workers() -> None:
    kw = dict(
        outputs="firms,value_added",
        params="failure_tolerance,stigma",
        n=2,
        replicates=1,
        year=2003,
        scale=0.01,
        seed=11,
    )
    one = sensitivity("hangzhou-nanjing", workers=1, **kw)
    two = sensitivity("hangzhou-nanjing", workers=2, **kw)
    assert one.equals(two)
    from innosim.experiments.executor import Executor

    dask = sensitivity("hangzhou-nanjing", executor=Executor("dask", dask_local=2), **kw)
    assert one.equals(dask)
