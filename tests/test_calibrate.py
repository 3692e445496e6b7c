"""Calibration: recovery of known parameters from synthetic targets (ABC-SMC), determinism,
SMM, input errors and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.errors import InputError
from innosim.experiments.calibrate import (
    _quadratic_interval,
    calibrate,
    distance,
    weighted_quantile,
)
from innosim.experiments.executor import RunTask, execute

runner = CliRunner()

SCALE, UNTIL = 0.03, 2007
TRUE_TOLERANCE, TRUE_COST = 0.6, 4.0


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[innosim.Scenario, str, str]:
    """A tiny scenario, and a targets file written from 8 runs of it with a known failure
    tolerance of the second city and a known global failure cost: value = the mean, accepted
    range = mean ± 1.645 sd of one run."""
    sc = innosim.load_scenario("hangzhou-nanjing").with_scale(SCALE).with_end_year(UNTIL)
    a, b = sc.city_names[:2]
    truth = sc.with_city_params(b, failure_tolerance=TRUE_TOLERANCE).with_global_params(
        failure_cost=TRUE_COST
    )
    stats = [(b, "firms"), (b, "entries"), (a, "firms")]
    reqs = tuple(
        ("city_value", tuple(sorted({"city": c, "metric": m, "year": None}.items())))
        for c, m in stats
    )
    vals = np.array(
        [execute(RunTask(truth, ss, reqs)).values for ss in innosim.replicate_seeds(99, 8)]
    )
    mean, sd = vals.mean(0), vals.std(0, ddof=1)
    text = ""
    for (c, m), mu, s in zip(stats, mean, sd, strict=True):
        text += (
            f'[[target]]\nstatistic = "city_value"\nargs = {{ city = "{c}", metric = "{m}" }}\n'
            f"value = {mu}\nlow = {mu - 1.645 * s}\nhigh = {mu + 1.645 * s}\n\n"
        )
    path = tmp_path_factory.mktemp("targets") / "synthetic.toml"
    path.write_text(text)
    return sc, str(path), b


def test_abc_recovers_known_parameters(synthetic, tmp_path) -> None:
    sc, targets, b = synthetic
    df = calibrate(
        sc,
        targets=targets,
        free=f"{b}.failure_tolerance=0.1:1.0,failure_cost=1:10",
        method="abc",
        budget=80,
        population=16,
        seed=5,
        workers=1,
        out=tmp_path,
    )
    est = df.set_index("parameter")
    print(df.to_string())  # shown with -s: the recovery figures
    for name, true in ((f"{b}.failure_tolerance", TRUE_TOLERANCE), ("failure_cost", TRUE_COST)):
        lo, hi = est.at[name, "lo"], est.at[name, "hi"]
        assert lo <= true <= hi, (name, true, lo, hi)
        # the posterior is narrower than the prior
        assert hi - lo < 0.9 * (est.at[name, "prior_high"] - est.at[name, "prior_low"])
    a = df.attrs
    assert a["generations"] >= 2 and a["simulations"] >= 80
    assert a["epsilon"][-1] < a["epsilon"][0]
    post = a["posterior"]
    assert post["weight"].sum() == pytest.approx(1.0)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"calibration.csv", "calibration.json", "posterior.csv", "calibration.db"} <= names
    js = json.loads((tmp_path / "calibration.json").read_text())
    assert js["method"] == "abc" and len(js["rows"]) == 2


def test_abc_is_deterministic_given_the_seed_whatever_the_workers(synthetic) -> None:
    sc, targets, b = synthetic
    fast = sc.with_scale(1 / 3).with_end_year(2003)  # scale 0.01: the statistics stay defined
    kw = dict(targets=targets, free=f"{b}.failure_tolerance", budget=10, population=5, seed=3)
    one = calibrate(fast, workers=1, **kw).attrs["posterior"]
    two = calibrate(fast, workers=2, **kw).attrs["posterior"]
    assert one.equals(two)
    assert one.iloc[:, 0].nunique() == len(one)  # distinct particles


def test_smm_runs_and_brackets_its_estimate(synthetic) -> None:
    sc, targets, b = synthetic
    df = calibrate(
        sc.with_end_year(2004),
        targets=targets,
        free=f"{b}.failure_tolerance=0.1:1.0",
        method="smm",
        budget=10,
        batch=10,
        workers=2,
        seed=2,
    )
    r = df.iloc[0]
    assert 0.1 <= r.lo <= r.estimate <= r.hi <= 1.0
    assert df.attrs["interval_method"] in ("quadratic", "profile")
    assert df.attrs["simulations"] == 10
    assert len(df.attrs["trials"]) == 10


def test_quadratic_interval_known_curvature() -> None:
    """J = z1**2 + z2**2 with sd 0.05 and 0.1 around (0.3, 0.6), the best candidate: the
    intervals are the centre ± 1.645 sd."""
    rng = np.random.default_rng(0)
    X = np.vstack([[0.3, 0.6], rng.uniform(0, 1, size=(60, 2))])
    J = ((X[:, 0] - 0.3) / 0.05) ** 2 + ((X[:, 1] - 0.6) / 0.1) ** 2
    centre, lo, hi = _quadratic_interval(X, J, np.zeros(2), np.ones(2))
    assert centre == pytest.approx([0.3, 0.6], abs=1e-9)
    assert lo == pytest.approx([0.3 - 1.645 * 0.05, 0.6 - 1.645 * 0.1], abs=1e-3)
    assert hi == pytest.approx([0.3 + 1.645 * 0.05, 0.6 + 1.645 * 0.1], abs=1e-3)
    assert _quadratic_interval(X, -J, np.zeros(2), np.ones(2)) is None  # concave: no interval


def test_distance_and_weighted_quantile() -> None:
    c, h = np.array([1.0, 10.0]), np.array([1.0, 5.0])
    assert distance(np.array([2.0, 15.0]), c, h) == pytest.approx(1.0)
    assert distance(np.array([math.nan, 10.0]), c, h) == pytest.approx(math.sqrt(50.0))
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert weighted_quantile(x, np.ones(4), [0.5])[0] == pytest.approx(1.5)
    assert weighted_quantile(x, np.array([0, 0, 0, 1.0]), [0.05, 0.95]).tolist() == [3.0, 3.0]


def test_bad_inputs_are_input_errors(synthetic) -> None:
    sc, targets, _ = synthetic
    with pytest.raises(InputError, match="--method"):
        calibrate(sc, targets=targets, free="failure_cost", method="mcmc")
    with pytest.raises(InputError, match="--budget"):
        calibrate(sc, targets=targets, free="failure_cost", budget=3)
    with pytest.raises(InputError, match="--free"):
        calibrate(sc, targets=targets, free="not_a_param")


def test_cli_calibrate_errors_exit_2(synthetic, tmp_path) -> None:
    _, targets, _ = synthetic
    res = runner.invoke(
        app, ["calibrate", "hangzhou-nanjing", "--targets", str(tmp_path / "none.toml"),
              "--free", "failure_cost"],
    )  # fmt: skip
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = runner.invoke(
        app, ["calibrate", "hangzhou-nanjing", "--targets", targets, "--free", "x=1:2"]
    )
    assert res.exit_code == 2 and "unknown parameter" in res.output


def test_cli_calibrate_json(synthetic) -> None:
    _, targets, b = synthetic
    res = runner.invoke(
        app,
        [
            "calibrate", "hangzhou-nanjing", "--targets", targets, "--free",
            f"{b}.failure_tolerance", "--budget", "10", "--scale", "0.01", "--until",
            "2003", "--seed", "1", "--workers", "1", "--format", "json",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["method"] == "abc" and data["rows"][0]["parameter"] == f"{b}.failure_tolerance"
