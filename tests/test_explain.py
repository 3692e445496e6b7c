"""innosim explain: exact Shapley values over parameter groups (docs/compare_explain.md).

Known answers on synthetic games (additive, interaction, unanimity, null player), efficiency
exactly per replicate on a real (tiny) ensemble, coalition scenarios, groups files and the CLI.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.errors import InputError
from innosim.experiments.explain import (
    DEFAULT_GROUPS,
    GapGroup,
    coalition_scenario,
    explain,
    load_groups,
    shapley_values,
)

A, B = "Hangzhou", "Nanjing"
YEAR = 2002


@pytest.fixture(scope="module")
def tiny() -> innosim.Scenario:
    return innosim.load_scenario("demo").with_end_year(YEAR).with_scale(0.3)


def _game(n: int, f) -> np.ndarray:
    return np.array([f({i for i in range(n) if m >> i & 1}) for m in range(1 << n)], dtype=float)


# --------------------------------------------------------------------------- Shapley: known answers


def test_additive_game_gives_each_player_its_own_contribution():
    a = np.array([3.0, -1.5, 0.25, 7.0])
    phi = shapley_values(_game(4, lambda s: sum(a[i] for i in s)))
    np.testing.assert_allclose(phi, a, atol=1e-12)


def test_pairwise_interaction_is_split_equally():
    # v(S) = sum a_i + b [0 in S and 2 in S] + c [1, 2, 3 all in S]
    a, b, c = np.array([1.0, 2.0, -3.0, 0.5]), 6.0, 9.0
    v = _game(4, lambda s: sum(a[i] for i in s) + b * ({0, 2} <= s) + c * ({1, 2, 3} <= s))
    phi = shapley_values(v)
    np.testing.assert_allclose(phi, a + np.array([b / 2, c / 3, b / 2 + c / 3, c / 3]), atol=1e-12)
    assert phi.sum() == pytest.approx(v[-1] - v[0])


def test_unanimity_and_null_player_and_symmetry():
    # unanimity game u_T with T = {1, 3} among 5 players: 1/2 each, 0 elsewhere
    phi = shapley_values(_game(5, lambda s: float({1, 3} <= s)))
    np.testing.assert_allclose(phi, [0, 0.5, 0, 0.5, 0], atol=1e-12)


def test_matches_the_permutation_definition_on_a_random_game():
    rng = np.random.default_rng(7)
    n = 4
    v = rng.normal(size=1 << n)
    phi = shapley_values(v)
    brute = np.zeros(n)
    perms = list(itertools.permutations(range(n)))
    for order in perms:
        mask = 0
        for i in order:
            brute[i] += v[mask | 1 << i] - v[mask]
            mask |= 1 << i
    np.testing.assert_allclose(phi, brute / len(perms), atol=1e-12)


def test_trailing_axes_are_replicates_and_efficiency_holds_for_each():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(8, 5))
    phi = shapley_values(v)
    assert phi.shape == (3, 5)
    np.testing.assert_allclose(phi.sum(axis=0), v[-1] - v[0], atol=1e-12)
    # linearity: the Shapley values of the mean game are the mean Shapley values
    np.testing.assert_allclose(shapley_values(v.mean(axis=1)), phi.mean(axis=1), atol=1e-12)


def test_rejects_a_value_vector_that_is_not_a_power_of_two():
    with pytest.raises(ValueError):
        shapley_values(np.zeros(6))


# --------------------------------------------------------------------------- coalition scenarios


def test_coalition_scenario_swaps_the_groups_params_and_timeline(tiny):
    groups = (GapGroup("culture", ("failure_tolerance", "stigma")), GapGroup("pol", (), True))
    ia, ib = tiny.city_index(A), tiny.city_index(B)
    s0 = coalition_scenario(tiny, groups, 0, B, A)
    assert s0.hash == tiny.hash
    s1 = coalition_scenario(tiny, groups, 1, B, A)
    assert s1.city["failure_tolerance"][ib] == tiny.city["failure_tolerance"][ia]
    assert s1.city["stigma"][ib] == tiny.city["stigma"][ia]
    assert s1.policy == tiny.policy
    s2 = coalition_scenario(tiny, groups, 2, B, A)
    np.testing.assert_array_equal(s2.city["failure_tolerance"], tiny.city["failure_tolerance"])
    own = [(e.lever, e.year, e.value) for e in s2.policy if e.city == B]
    donor = [(e.lever, e.year, e.value) for e in tiny.policy if e.city == A]
    assert own == donor
    assert [e for e in s2.policy if e.city == A] == [e for e in tiny.policy if e.city == A]


def test_default_groups_match_the_shipped_groups_file():
    shipped = Path(__file__).resolve().parents[1] / "groups" / "default.toml"
    assert load_groups(shipped) == DEFAULT_GROUPS
    assert [g.note for g in load_groups(shipped)] == [g.note for g in DEFAULT_GROUPS]
    assert load_groups(None) == DEFAULT_GROUPS
    params = [p for g in DEFAULT_GROUPS for p in g.params]
    assert "population" not in params and "productivity" not in params


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[[group]]\nname = "x"\nparams = ["populaton"]\n', "group[0].params[0]"),
        ('[[group]]\nname = "x"\nparams = ["failure_cost"]\n', "group[0].params[0]"),
        (
            '[[group]]\nname = "x"\nparams = ["stigma"]\n[[group]]\nname = "y"\n'
            'params = ["stigma"]\n',
            "group[1].params[0]",
        ),
        ('[[group]]\nname = "x"\nparams = ["stigma"]\ncolour = 1\n', "group[0].colour"),
        ('[[group]]\nname = "x"\n', "group[0].params"),
        (
            '[[group]]\nname = "x"\ntimeline = true\n[[group]]\nname = "y"\ntimeline = true\n',
            "group[1].timeline",
        ),
    ],
)
def test_bad_groups_files_name_the_file_and_field(tmp_path, text, field):
    f = tmp_path / "g.toml"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        load_groups(f)
    assert err.value.field == field
    assert str(f) in str(err.value)


# --------------------------------------------------------------------------- explain on runs


@pytest.fixture(scope="module")
def result(tiny):
    return explain(
        tiny,
        gap=(A, B),
        metric="firms",
        groups=["culture", "demand", "capital"],
        replicates=3,
        year=YEAR,
        workers=1,
    )


def test_shapley_values_sum_to_v_all_per_replicate_and_in_the_mean(result):
    a = result.attrs
    assert a["efficiency_error"] < 1e-9
    phi = np.array(list(a["phi_replicates"].values()))
    v_all = a["coalitions"][-1]["v_mean"]
    groups = result[result["kind"] == "group"]
    assert groups["mean"].sum() == pytest.approx(v_all, abs=1e-9)
    total = result.set_index("term")
    assert total.at["explained", "mean"] == pytest.approx(phi.sum(axis=0).mean(), abs=1e-9)
    # explained + residual = gap, per replicate, hence for the means
    assert total.at["explained", "mean"] + total.at["residual", "mean"] == pytest.approx(
        total.at["gap", "mean"]
    )
    assert a["level_a"] - a["level_b"] == pytest.approx(total.at["gap", "mean"])
    # the residual splits exactly into the gap left with every group swapped and A's reaction
    assert total.at["gap_left", "mean"] + total.at["reaction", "mean"] == pytest.approx(
        total.at["residual", "mean"]
    )
    last = a["coalitions"][-1]
    assert total.at["gap_left", "mean"] == pytest.approx(last["a_mean"] - last["b_mean"])
    assert a["gap_closed"] == pytest.approx(
        1 - total.at["gap_left", "mean"] / total.at["gap", "mean"]
    )
    assert a["share_explained"] == pytest.approx(
        total.at["explained", "mean"] / total.at["gap", "mean"]
    )


def test_a_group_both_cities_share_is_a_null_player_and_costs_no_runs(tiny, result):
    same = [p for p in ("vc_capital_per_person", "risk_appetite")]
    ia, ib = tiny.city_index(A), tiny.city_index(B)
    if any(tiny.city[p][ia] != tiny.city[p][ib] for p in same):
        pytest.skip("the demo cities differ in capital")
    row = result.set_index("term").loc["capital"]
    assert row["mean"] == 0 and row["q05"] == 0 and row["q95"] == 0
    assert row["params"] == ""
    assert result.attrs["runs"] == 4 * 3  # 8 coalitions, 4 distinct scenarios, 3 replicates


def test_mirror_game_and_errors(tiny):
    df = explain(
        tiny, gap=(A, B), metric="firms", groups=["culture"], replicates=2, year=YEAR, workers=1
    )
    mir = explain(
        tiny,
        gap=(A, B),
        metric="firms",
        groups=["culture"],
        replicates=2,
        year=YEAR,
        mirror=True,
        workers=1,
    )
    # the same baseline gap either way; one group: its Shapley value is v(all)
    assert df.set_index("term").at["gap", "mean"] == mir.set_index("term").at["gap", "mean"]
    assert mir.attrs["mirror"] and mir.attrs["level_swapped"] != mir.attrs["level_a"]
    for kwargs, field in (
        ({"gap": (A, "Atlantis")}, "--gap"),
        ({"gap": (A, A)}, "--gap"),
        ({"gap": (A, B), "metric": "unicorn"}, "--metric"),
        ({"gap": (A, B), "groups": ["culture", "taste"]}, "--groups"),
        ({"gap": (A, B), "year": 1990}, "--year"),
    ):
        with pytest.raises(InputError) as err:
            explain(tiny, replicates=1, **kwargs)
        assert err.value.field == field


def test_cli_explain_writes_outputs_and_refuses_bad_input(tmp_path):
    g = tmp_path / "groups.toml"
    g.write_text('[[group]]\nname = "culture"\nparams = ["failure_tolerance"]\n')
    out = tmp_path / "out"
    args = ["explain", "demo", "--gap", A, B, "--metric", "firms", "--groups", str(g)]
    small = ["--replicates", "2", "--year", str(YEAR), "--scale", "0.3", "--workers", "1"]
    res = CliRunner().invoke(app, [*args, *small, "--out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert [r["term"] for r in payload["rows"]] == [
        "culture",
        "explained",
        "residual",
        "gap_left",
        "reaction",
        "gap",
    ]
    assert {p.name for p in out.iterdir()} == {
        "explain.csv",
        "explain.json",
        "coalitions.csv",
        "waterfall.png",
    }
    res = CliRunner().invoke(app, [*args, *small])
    assert res.exit_code == 0 and "Shapley" in res.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[[group]]\nname = "x"\nparams = ["stigmaa"]\n')
    res = CliRunner().invoke(app, [*args[:-1], str(bad), *small])
    assert res.exit_code == 2
    assert "group[0].params[0]" in res.stderr and "Traceback" not in res.stderr
    res = CliRunner().invoke(app, [*args[:-1], "culture,tastes", *small])
    assert res.exit_code == 2 and "--groups" in res.stderr and "talent, culture" in res.stderr
    res = CliRunner().invoke(app, ["explain", "demo", "--gap", A, "Atlantis", *small])
    assert res.exit_code == 2 and "Atlantis" in res.stderr
    assert math.isfinite(payload["share_explained"])
