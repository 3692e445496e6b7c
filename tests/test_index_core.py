"""Known-answer and property tests of the index core (innosim.index)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from innosim.errors import InputError
from innosim.index import Framework, Indicator, coherence, impute, normalise, outliers, weights
from innosim.index import aggregate as agg

INDEX_SRC = Path(__file__).resolve().parents[1] / "src" / "innosim" / "index"


def _fw() -> Framework:
    return Framework.from_dict(
        {
            "a": {"pillar": "Talent"},
            "b": {"pillar": "Talent"},
            "c": {"pillar": "Organization"},
            "d": {"pillar": "Place", "direction": -1},
        }
    )


# --- normalisation ------------------------------------------------------------------------------


def test_minmax_hand_computed() -> None:
    X = pd.DataFrame({"x": [2.0, 4.0, 6.0, 10.0], "y": [1.0, np.nan, 3.0, 2.0]})
    out = normalise.minmax(X)
    assert out["x"].tolist() == [0.0, 25.0, 50.0, 100.0]
    assert out["y"].iloc[[0, 2, 3]].tolist() == [0.0, 100.0, 50.0]
    assert np.isnan(out["y"].iloc[1])
    assert normalise.minmax(X[["x"]], 1, 2)["x"].tolist() == [1.0, 1.25, 1.5, 2.0]


def test_minmax_direction_reverses() -> None:
    X = pd.DataFrame({"x": [2.0, 4.0, 6.0, 10.0]})
    out = normalise.normalise(X, "minmax", {"x": -1})
    assert out["x"].tolist() == [100.0, 75.0, 50.0, 0.0]


def test_constant_column() -> None:
    X = pd.DataFrame({"x": [3.0, 3.0, np.nan]})
    assert normalise.minmax(X)["x"].iloc[:2].tolist() == [50.0, 50.0]
    assert normalise.zscore(X)["x"].iloc[:2].tolist() == [0.0, 0.0]


def test_zscore_rank_frontier_goalposts_hand_computed() -> None:
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    assert normalise.zscore(X)["x"].tolist() == [-1.0, 0.0, 1.0]
    R = pd.DataFrame({"x": [10.0, 30.0, 20.0, 20.0]})
    assert normalise.rank(R)["x"].tolist() == [1.0, 4.0, 2.5, 2.5]
    D = pd.DataFrame({"x": [2.0, 4.0, 6.0, 10.0]})
    assert normalise.distance_to_frontier(D)["x"].tolist() == [0.0, 0.25, 0.5, 1.0]
    frac = normalise.distance_to_frontier(D, kind="fraction")["x"].tolist()
    assert frac == pytest.approx([0.2, 0.4, 0.6, 1.0])
    G = pd.DataFrame({"x": [0.0, 50.0, 150.0], "y": [0.0, 25.0, 100.0]})
    g = normalise.normalise(G, "goalposts", {"y": -1}, posts={"x": (0, 100), "y": (0, 50)})
    assert g["x"].tolist() == [0.0, 50.0, 100.0]
    assert g["y"].tolist() == [100.0, 50.0, 0.0]


def test_unknown_normalisation_method() -> None:
    with pytest.raises(InputError, match="unknown normalisation"):
        normalise.normalise(pd.DataFrame({"x": [1.0, 2.0]}), "bogus")


def test_rescaling_invariance_of_minmax_and_ranks() -> None:
    rng = np.random.default_rng(7)
    fw = _fw()
    X = pd.DataFrame(rng.uniform(1, 50, size=(12, 4)), columns=["a", "b", "c", "d"])
    Y = X.copy()
    Y["a"] = 3.7 * X["a"] + 11.0
    Y["d"] = 0.01 * X["d"] - 5.0
    nx = normalise.normalise(X, "minmax", fw.directions)
    ny = normalise.normalise(Y, "minmax", fw.directions)
    pd.testing.assert_frame_equal(nx, ny, check_exact=False, rtol=1e-12, atol=1e-9)
    rx = agg.ranks(agg.aggregate(nx, fw)["overall"])
    ry = agg.ranks(agg.aggregate(ny, fw)["overall"])
    pd.testing.assert_series_equal(rx, ry)


def test_direction_minus_one_reverses_ranks() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.permutation(10).astype(float) + 1.0})
    up = Framework((Indicator("x", "Talent", direction=1),))
    down = Framework((Indicator("x", "Talent", direction=-1),))
    r_up = agg.ranks(agg.aggregate(normalise.normalise(X, "minmax", up.directions), up)["overall"])
    r_dn = agg.ranks(
        agg.aggregate(normalise.normalise(X, "minmax", down.directions), down)["overall"]
    )
    assert (r_up + r_dn == len(X) + 1).all()


# --- aggregation --------------------------------------------------------------------------------


def test_arithmetic_aggregation_hand_computed() -> None:
    fw = _fw()
    X = pd.DataFrame(
        {"a": [20.0, np.nan], "b": [40.0, 40.0], "c": [60.0, 10.0], "d": [90.0, 70.0]},
        index=["u1", "u2"],
    )
    w = weights.user({"a": 0.25, "b": 0.75, "c": 1.0, "d": 1.0}, fw)
    s = agg.aggregate(X, fw, "arithmetic", w)
    assert list(s.columns) == ["Talent", "Organization", "Place", "overall"]
    assert s.loc["u1", "Talent"] == pytest.approx(35.0)  # 0.25*20 + 0.75*40
    assert s.loc["u2", "Talent"] == pytest.approx(40.0)  # a missing: weights re-normalised
    assert s.loc["u1", "overall"] == pytest.approx((35.0 + 60.0 + 90.0) / 3)
    assert s.loc["u2", "overall"] == pytest.approx((40.0 + 10.0 + 70.0) / 3)


def test_geometric_aggregation_hand_computed() -> None:
    fw = _fw()
    X = pd.DataFrame({"a": [4.0], "b": [16.0], "c": [2.0], "d": [4.0]})
    s = agg.aggregate(X, fw, "geometric", weights.equal(fw))
    assert s.loc[0, "Talent"] == pytest.approx(8.0)  # sqrt(4*16)
    assert s.loc[0, "overall"] == pytest.approx(4.0)  # (8*2*4)^(1/3)
    g = agg.geometric(X[["a", "b"]], {"a": 0.25, "b": 0.75})
    assert g.iloc[0] == pytest.approx(8.0 * np.sqrt(2.0))  # 4^0.25 * 16^0.75


def test_geometric_needs_positive_values() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0], "b": [2.0, 3.0]})
    with pytest.raises(InputError, match="positive"):
        agg.geometric(X)
    assert agg.geometric(X, shift=1.0).iloc[0] == pytest.approx(np.sqrt(3.0))


def test_subpillars_aggregate_in_two_levels() -> None:
    fw = Framework.from_dict(
        {
            "a": {"pillar": "Talent", "sub_pillar": "s1"},
            "b": {"pillar": "Talent", "sub_pillar": "s1"},
            "c": {"pillar": "Talent", "sub_pillar": "s2"},
        }
    )
    X = pd.DataFrame({"a": [0.0], "b": [20.0], "c": [40.0]})
    s = agg.aggregate(X, fw, subpillars=True)
    assert s.loc[0, "Talent/s1"] == pytest.approx(10.0)
    assert s.loc[0, "Talent"] == pytest.approx(25.0)  # (10 + 40) / 2
    assert s.loc[0, "overall"] == pytest.approx(25.0)


def test_geometric_le_arithmetic() -> None:
    rng = np.random.default_rng(11)
    X = pd.DataFrame(rng.uniform(0.1, 100, size=(50, 4)), columns=list("abcd"))
    w = {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}
    assert (agg.geometric(X, w) <= agg.arithmetic(X, w) + 1e-12).all()
    fw = _fw()
    ga = agg.aggregate(X, fw, "geometric")
    aa = agg.aggregate(X, fw, "arithmetic")
    assert (ga.to_numpy() <= aa.to_numpy() + 1e-12).all()


def test_ranks_best_is_one_ties_min() -> None:
    r = agg.ranks(pd.Series([10.0, 30.0, 30.0, 5.0, np.nan]))
    assert r.iloc[:4].tolist() == [3, 1, 1, 4]
    assert pd.isna(r.iloc[4])


# --- weights ------------------------------------------------------------------------------------


def test_equal_weights() -> None:
    w = weights.equal(_fw())
    assert w.to_dict() == {"a": 0.5, "b": 0.5, "c": 1.0, "d": 1.0}


def test_user_weights_validated() -> None:
    fw = _fw()
    with pytest.raises(InputError, match="unknown indicators: z"):
        weights.user({"a": 0.5, "b": 0.5, "c": 1, "d": 1, "z": 1}, fw)
    with pytest.raises(InputError, match="missing indicators: d"):
        weights.user({"a": 0.5, "b": 0.5, "c": 1}, fw)
    with pytest.raises(InputError, match="do not sum to 1"):
        weights.user({"a": 0.5, "b": 0.6, "c": 1, "d": 1}, fw)
    with pytest.raises(InputError, match="finite"):
        weights.user({"a": -0.5, "b": 1.5, "c": 1, "d": 1}, fw)
    w = weights.user({"a": 1, "b": 3, "c": 2, "d": 1}, fw, require_sum=False)
    assert w.to_dict() == {"a": 0.25, "b": 0.75, "c": 1.0, "d": 1.0}


def test_framework_errors() -> None:
    with pytest.raises(InputError, match="direction"):
        Indicator("x", "Talent", direction=0)
    with pytest.raises(InputError, match=r"(?i)duplicate"):
        Framework((Indicator("x", "Talent"), Indicator("x", "Place")))
    with pytest.raises(InputError, match="missing from the data"):
        agg.aggregate(pd.DataFrame({"a": [1.0]}), _fw())


def test_pca_weights_noise_and_perfect_correlation() -> None:
    rng = np.random.default_rng(2024)
    a = rng.normal(size=400)
    X = pd.DataFrame({"a": a, "b": 2.0 * a + 3.0, "c": rng.normal(size=400), "d": a})
    fw = Framework.from_dict({"a": "Talent", "b": "Talent", "c": "Talent", "d": "Place"})
    w = weights.pca_weights(X, fw)
    assert w["a"] == pytest.approx(0.5, abs=0.01)
    assert w["b"] == pytest.approx(0.5, abs=0.01)
    assert w["c"] < 0.01
    assert w["d"] == 1.0
    assert w[["a", "b", "c"]].sum() == pytest.approx(1.0)


# --- coherence ----------------------------------------------------------------------------------


def test_cronbach_alpha_known_values() -> None:
    x = pd.Series([1.0, 3.0, 2.0, 5.0])
    assert coherence.cronbach_alpha(pd.DataFrame({"p": x, "q": x, "r": x})) == pytest.approx(1.0)
    # sum of item variances 12.5/3, variance of totals 35/3: alpha = 3/2 * (1 - 12.5/35) = 27/28
    X = pd.DataFrame({"i1": [1, 2, 3, 4], "i2": [2, 3, 3, 5], "i3": [1, 1, 2, 3]}, dtype=float)
    assert coherence.cronbach_alpha(X) == pytest.approx(27 / 28)


def test_pca_summary_and_correlations() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=100)
    X = pd.DataFrame({"a": a, "b": a, "c": rng.normal(size=100)})
    res = coherence.pca_summary(X)
    assert res.eigenvalues.sum() == pytest.approx(3.0)
    assert res.eigenvalues.iloc[0] == pytest.approx(2.0, abs=0.3)
    assert res.cumulative.iloc[-1] == pytest.approx(1.0)
    assert (res.loadings["PC1"][["a", "b"]] > 0.9).all()
    fw = Framework.from_dict({"a": "Talent", "b": "Talent", "c": "Place"})
    scores = agg.aggregate(X, fw)
    cor = coherence.correlations(X, scores, fw)
    assert cor.loc["a", "r_pillar"] == pytest.approx(1.0)
    assert cor.loc["c", "r_pillar"] == pytest.approx(1.0)
    assert list(cor.columns) == ["pillar", "r_pillar", "r_overall"]


# --- outliers and imputation --------------------------------------------------------------------


def test_outlier_rule_fires_on_lognormal_and_winsorising_clears_it() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"ln": rng.lognormal(0.0, 1.0, 100), "norm": rng.normal(10, 1, 100)})
    flags = outliers.detect(X)
    assert flags.loc["ln", "flagged"] and not flags.loc["norm", "flagged"]
    assert flags.loc["norm", "kurtosis"] < 3.5  # excess kurtosis of a normal sample is ~0
    Xt, rep = outliers.treat(X, "winsorise", max_winsor=5)
    assert rep.loc["ln", "treatment"] == "winsorised"
    assert 1 <= rep.loc["ln", "n_winsorised"] <= 5
    assert not rep.loc["ln", "still_flagged"]
    assert not outliers.detect(Xt).loc["ln", "flagged"]
    pd.testing.assert_series_equal(Xt["norm"], X["norm"])
    # winsorising only moves the largest values down to an observed value
    assert Xt["ln"].max() < X["ln"].max()
    assert (Xt["ln"] <= X["ln"]).all()


def test_outlier_falls_back_to_log() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"heavy": rng.lognormal(0.0, 2.0, 100)})
    _, rep = outliers.treat(X, "winsorise", max_winsor=1)
    assert rep.loc["heavy", "treatment"] == "log"
    Xl, rep2 = outliers.treat(X, "log")
    assert rep2.loc["heavy", "treatment"] == "log"
    assert Xl["heavy"].rank().equals(X["heavy"].rank())  # monotone


def test_imputation_counts_and_values() -> None:
    fw = Framework.from_dict({"a": "Talent", "b": "Talent", "c": "Place"})
    X = pd.DataFrame(
        {"a": [np.nan, 2.0, np.nan, 6.0], "b": [40.0, np.nan, 8.0, 4.0], "c": [1.0, 2.0, 3.0, 4.0]}
    )
    _, rep = impute.impute(X, "none")
    assert rep["n_missing"].tolist() == [2, 1, 0]
    assert rep["n_imputed"].tolist() == [0, 0, 0]
    Xm, rep = impute.impute(X, "mean")
    assert rep["n_imputed"].tolist() == [2, 1, 0]
    assert Xm["a"].tolist() == [4.0, 2.0, 4.0, 6.0]
    assert Xm["b"].iloc[1] == pytest.approx(52.0 / 3)
    Xd, _ = impute.impute(X, "median")
    assert Xd["b"].iloc[1] == 8.0
    Xp, rep = impute.impute(X, "pillar_mean", fw)
    assert Xp["a"].tolist() == [40.0, 2.0, 8.0, 6.0]  # the unit's other Talent indicator
    assert Xp["b"].iloc[1] == 2.0
    assert rep["n_imputed"].tolist() == [2, 1, 0]
    with pytest.raises(InputError):
        impute.impute(X, "pillar_mean")


def test_pipeline_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    fw = _fw()
    X = pd.DataFrame(rng.lognormal(size=(16, 4)), columns=list("abcd"))
    X.iloc[3, 1] = np.nan

    def run() -> pd.DataFrame:
        Xt, _ = outliers.treat(X)
        Xi, _ = impute.impute(Xt, "mean")
        Xn = normalise.normalise(Xi, "minmax", fw.directions, lo=1, hi=100)
        return agg.aggregate(Xn, fw, "geometric", weights.pca_weights(Xn, fw))

    pd.testing.assert_frame_equal(run(), run())


# --- architecture -------------------------------------------------------------------------------


def test_index_never_imports_the_engine() -> None:
    files = sorted(INDEX_SRC.glob("*.py"))
    assert files
    bad = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level >= 2 and (base.startswith("engine") or not base):
                    mods = ["innosim." + (base or a.name) for a in node.names]
                else:
                    mods = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            bad += [f"{path.name}: {m}" for m in mods if m.startswith("innosim.engine")]
    assert not bad, bad
