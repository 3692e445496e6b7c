"""Known-answer tests of the index's uncertainty (Monte Carlo) and sensitivity (Sobol) analyses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import innosim
from innosim.errors import InputError
from innosim.index import Framework, indicator_matrix, load_framework, outliers
from innosim.index import aggregate as agg
from innosim.index.uncertainty import (
    FACTORS,
    Choices,
    Uncertainty,
    compute,
    monte_carlo,
    sobol,
    sobol_indices,
)


@pytest.fixture(scope="module")
def shipped() -> tuple[pd.DataFrame, Framework]:
    spec = load_framework()
    X, _ = indicator_matrix(innosim.load_dataset(), spec)
    Xt, _ = outliers.treat(X)
    return Xt, spec.framework


def _toy() -> tuple[pd.DataFrame, Framework]:
    fw = Framework.from_dict(
        {
            "a": {"pillar": "Talent"},
            "b": {"pillar": "Talent"},
            "c": {"pillar": "Organization", "sub_pillar": "x"},
            "d": {"pillar": "Organization", "sub_pillar": "y"},
            "e": {"pillar": "Place", "direction": -1},
        }
    )
    X = pd.DataFrame(
        {
            "a": [1.0, 5.0, 3.0, 8.0, 2.0, 6.0],
            "b": [10.0, 40.0, np.nan, 20.0, 30.0, 50.0],
            "c": [0.5, 0.1, 0.9, 0.3, 0.7, 0.2],
            "d": [100.0, 300.0, 200.0, np.nan, 500.0, 400.0],
            "e": [7.0, 3.0, 5.0, 1.0, 9.0, 4.0],
        },
        index=list("PQRSTU"),
    )
    return X, fw


def test_compute_nominal_hand_computed() -> None:
    fw = Framework.from_dict({"a": "Talent", "b": "Talent", "c": "Place"})
    X = pd.DataFrame({"a": [0.0, 5.0, 10.0], "b": [2.0, 4.0, 3.0], "c": [1.0, 3.0, 2.0]})
    scores, Xn = compute(X, fw)
    # min-max: a = 0, 50, 100; b = 0, 100, 50; c = 0, 100, 50
    assert Xn["a"].tolist() == [0.0, 50.0, 100.0]
    assert scores["Talent"].tolist() == [0.0, 75.0, 75.0]
    assert scores["Place"].tolist() == [0.0, 100.0, 50.0]
    assert scores["overall"].tolist() == [0.0, 87.5, 62.5]


def test_rescaling_an_indicator_leaves_minmax_ranks_unchanged(shipped) -> None:
    X, fw = shipped
    base, _ = compute(X, fw)
    Y = X.copy()
    Y["gdp_per_capita"] = Y["gdp_per_capita"] / 1e4  # CNY -> 10k CNY
    Y["talent_attraction"] = 3.0 * Y["talent_attraction"] + 7.0
    moved, _ = compute(Y, fw)
    pd.testing.assert_series_equal(agg.ranks(base["overall"]), agg.ranks(moved["overall"]))
    np.testing.assert_allclose(base.to_numpy(), moved.to_numpy(), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize(
    "nominal",
    [Choices(), Choices("mean", "zscore", "geometric"), Choices("pillar_mean", "rank")],
)
def test_zero_perturbation_reproduces_the_nominal_ranks(shipped, nominal: Choices) -> None:
    X, fw = shipped
    mc = monte_carlo(X, fw, Uncertainty.fixed(nominal), draws=25, seed=1, nominal=nominal)
    nominal_ranks = mc.summary["rank"].to_numpy(dtype=int)
    assert (mc.ranks.to_numpy() == nominal_ranks).all()
    assert (mc.summary["rank_low"] == mc.summary["rank"]).all()
    assert (mc.summary["rank_high"] == mc.summary["rank"]).all()
    scores, _ = compute(X, fw, nominal)
    np.testing.assert_allclose(mc.scores.iloc[0].to_numpy(), scores["overall"].to_numpy())


def test_monte_carlo_is_deterministic_and_varies(shipped) -> None:
    X, fw = shipped
    a = monte_carlo(X, fw, draws=30, seed=5)
    b = monte_carlo(X, fw, draws=30, seed=5)
    c = monte_carlo(X, fw, draws=30, seed=6)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    assert not a.draws.equals(c.draws)
    assert (a.summary["rank_low"] <= a.summary["rank_median"]).all()
    assert (a.summary["rank_median"] <= a.summary["rank_high"]).all()
    assert a.draws["normalisation"].nunique() > 1  # the choices really vary
    assert a.ranks.shape == (30, len(X))


def test_weight_perturbation_keeps_weights_valid() -> None:
    from innosim.index.uncertainty import _banks

    _, fw = _toy()
    W, P = _banks(
        fw, Uncertainty(weight_noise=0.5, pillar_weight_noise=0.5), 200, np.random.default_rng(0)
    )
    pillar = fw.pillar_of.to_numpy()
    for p in fw.pillars:
        np.testing.assert_allclose(W[:, pillar == p].sum(axis=1), 1.0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert W.min() > 0 and P.min() > 0
    # with weights 1/2 each and +-50 %: a's share stays within [0.5*0.5/(0.5*0.5+0.5*1.5), ...]
    assert W[:, 0].min() >= 0.25 - 1e-12 and W[:, 0].max() <= 0.75 + 1e-12


def test_uncertainty_refuses_bad_options() -> None:
    with pytest.raises(InputError, match="unknown normalisation"):
        Uncertainty(normalisations=("minmax", "softmax"))
    with pytest.raises(InputError, match="weight_noise"):
        Uncertainty(weight_noise=2.0)
    with pytest.raises(InputError, match="draws"):
        monte_carlo(*_toy(), draws=0)


# --- Sobol ------------------------------------------------------------------------------------


def test_sobol_known_answer_one_factor_matters() -> None:
    res = sobol_indices(lambda U: U[:, 0] ** 2, ["x", "y", "z"], n=512, seed=1)
    s = res.set_index("factor")
    assert s.at["x", "S1"] == pytest.approx(1.0, abs=0.05)
    assert s.at["x", "ST"] == pytest.approx(1.0, abs=0.05)
    for f in ("y", "z"):
        assert abs(s.at[f, "S1"]) < 0.05 and abs(s.at[f, "ST"]) < 0.05


def test_sobol_known_answer_additive() -> None:
    # y = x1 + 2 x2 with independent U(0,1): V1 = 1/12, V2 = 4/12 -> S1 = 0.2, 0.8
    res = sobol_indices(lambda U: U[:, 0] + 2 * U[:, 1], ["x1", "x2"], n=1024, seed=2)
    s = res.set_index("factor")["S1"]
    assert s["x1"] == pytest.approx(0.2, abs=0.05) and s["x2"] == pytest.approx(0.8, abs=0.05)


def test_sobol_on_the_index_only_the_free_factor_matters() -> None:
    """Designed case: every choice fixed except the normalisation -> S1 = ST = 1 for it."""
    X, fw = _toy()
    spec = Uncertainty(
        imputations=("none",),
        normalisations=("minmax", "rank"),
        aggregations=("arithmetic",),
        weight_noise=0.0,
        pillar_weight_noise=0.0,
    )
    res = sobol(X, fw, spec, n=64, seed=0)
    shift = res[res["output"] == "mean_abs_rank_shift"].set_index("factor")
    assert list(shift.index) == list(FACTORS)
    assert shift.at["normalisation", "S1"] == pytest.approx(1.0, abs=0.1)
    assert shift.at["normalisation", "ST"] == pytest.approx(1.0, abs=0.1)
    others = shift.drop(index="normalisation")
    assert (others["S1"].abs() < 1e-9).all() and (others["ST"].abs() < 1e-9).all()


def test_sobol_refuses_a_bad_sample_size() -> None:
    with pytest.raises(InputError, match="power of 2"):
        sobol_indices(lambda U: U[:, 0], ["x"], n=100)
