"""The ``innosim ensemble`` command and :func:`innosim.api.ensemble_stats`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from innosim import api
from innosim.cli import app


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_ensemble_stats_known_answer() -> None:
    df = pd.DataFrame(
        {
            "replicate": np.repeat(np.arange(21), 2),
            "city": ["A", "B"] * 21,
            "unicorns": np.ravel([[10.0 + i, 2.0 + i / 10] for i in range(21)]),
        }
    )
    s = api.ensemble_stats(df, ratio=("A", "B")).set_index("city")
    # A: 10..30, mean 20, 5% and 95% quantiles 11 and 29 (linear interpolation on 21 points)
    assert s.loc["A", "unicorns_mean"] == pytest.approx(20.0)
    assert s.loc["A", "unicorns_lo"] == pytest.approx(11.0)
    assert s.loc["A", "unicorns_hi"] == pytest.approx(29.0)
    assert s.loc["B", "unicorns_mean"] == pytest.approx(3.0)
    assert s.loc["A/B", "unicorns_mean"] == pytest.approx(20.0 / 3.0)
    assert np.isnan(s.loc["A/B", "unicorns_lo"])


def test_ensemble_stats_unknown_city_in_ratio() -> None:
    df = pd.DataFrame({"replicate": [0], "city": ["A"], "x": [1.0]})
    with pytest.raises(api.InputError, match="unknown city"):
        api.ensemble_stats(df, ratio=("A", "Z"))


def test_ensemble_command_json_matches_the_api() -> None:
    args = ["ensemble", "demo", "--replicates", "2", "--year", "2001", "--scale", "0.3"]
    code, out, err = _cli(*args, "--ratio", "Hangzhou/Nanjing", "--format", "json")
    assert code == 0, err
    got = json.loads(out)
    assert got["replicates"] == 2 and got["year"] == 2001
    rows = {r["city"]: r for r in got["cities"]}
    assert "Hangzhou/Nanjing" in rows
    direct = api.ensemble_stats(
        api.ensemble(
            "demo", replicates=2, year=2001, until=2001, scale=0.3, metrics=["chain_masters_toc"]
        ),
    ).set_index("city")
    assert rows["Nanjing"]["firms_mean"] == pytest.approx(direct.loc["Nanjing", "firms_mean"])


def test_ensemble_command_table_and_bad_pairs() -> None:
    base = ["ensemble", "demo", "--replicates", "2", "--year", "2001", "--scale", "0.3"]
    code, out, err = _cli(*base)
    assert code == 0, err
    assert "ensemble means over 2 replicates" in out and "To C share of chain masters" in out
    code, _, err = _cli(*base, "--ratio", "Hangzhou")
    assert code == 2 and "--ratio" in err and "Traceback" not in err
    code, _, err = _cli(*base, "--ratio", "Hangzhou/Atlantis")
    assert code == 2 and "Atlantis" in err and "Traceback" not in err


def test_ensemble_and_counterfactual_do_not_depend_on_workers() -> None:
    import innosim

    sc = innosim.load_scenario("demo").with_end_year(2001).with_scale(0.3)
    one = innosim.ensemble(sc, replicates=3, seed=4, workers=1)
    two = innosim.ensemble(sc, replicates=3, seed=4, workers=2)
    pd.testing.assert_frame_equal(one, two)
    kw = dict(city="Nanjing", like="Hangzhou", replicates=2, seed=4, year=2001)
    a = innosim.counterfactual(sc, workers=1, **kw)
    b = innosim.counterfactual(sc, workers=2, **kw)
    pd.testing.assert_frame_equal(a, b)
