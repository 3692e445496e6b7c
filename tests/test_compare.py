"""innosim compare: policy files, paired ensembles with common random numbers, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.errors import InputError
from innosim.experiments.compare import COMPARE_COLUMNS, compare, paired_stats
from innosim.experiments.policy import apply_policy, load_policy

A, B = "Hangzhou", "Nanjing"
YEAR = 2002


@pytest.fixture(scope="module")
def tiny() -> innosim.Scenario:
    return innosim.load_scenario("demo").with_end_year(YEAR).with_scale(0.3)


def _policy(tmp_path, text: str, name: str = "p.toml"):
    f = tmp_path / name
    f.write_text(text)
    return f


ENTRY = '[[policy]]\ncity = "{city}"\nlever = "{lever}"\nyear = {year}\nvalue = {value}\n'


# --------------------------------------------------------------------------- policy files


def test_shipped_policy_files_load_and_apply():
    sc = innosim.load_scenario("hangzhou-nanjing")
    for name in ("nanjing-tolerance", "nanjing-talent-early"):
        pf = load_policy(name)
        treated = apply_policy(sc, pf)
        assert len(treated.policy) > len(sc.policy)
        assert treated.policy[: len(sc.policy)] == sc.policy


def test_policy_entries_are_added_or_replace_the_same_city_lever_and_year(tmp_path):
    sc = innosim.load_scenario("demo")
    e = sc.policy[0]
    f = _policy(
        tmp_path,
        ENTRY.format(city=e.city, lever=e.lever, year=int(e.year), value=0.05)
        + ENTRY.format(city=B, lever="subsidy", year=2026, value=0.1)
        + '[[set]]\nparam = "failure_cost"\nvalue = 4.0\n'
        + '[[set]]\ncity = "*"\nparam = "vc_capital_per_person"\nvalue = 5.0\n'
        + f'[[set]]\ncity = "{B}"\nparam = "risk_appetite"\nyear = 2020\nvalue = 0.7\n',
    )
    treated = apply_policy(sc, load_policy(f))
    assert treated.policy[0].value == 0.05 and len(treated.policy) == len(sc.policy) + 2
    assert treated.policy[1:-2] == sc.policy[1:]
    added = [(p.city, p.lever, p.year, p.value) for p in treated.policy[-2:]]
    assert (B, "risk_appetite", 2020, 0.7) in added and (B, "subsidy", 2026, 0.1) in added
    assert treated.glob["failure_cost"] == 4.0
    assert (treated.city["vc_capital_per_person"] == 5.0).all()
    assert (treated.city["risk_appetite"] == sc.city["risk_appetite"]).all()  # from 2020 only


@pytest.mark.parametrize(
    ("text", "field", "at_load"),
    [
        (
            ENTRY.format(city=B, lever="failure_tolerence", year=2025, value=0.5),
            "policy[0].lever",
            1,
        ),
        (
            ENTRY.format(city=B, lever="failure_tolerance", year=2025, value=1.5),
            "policy[0].value",
            1,
        ),
        (ENTRY.format(city="Atlantis", lever="stigma", year=2025, value=0.5), "policy[0].city", 0),
        (ENTRY.format(city=B, lever="stigma", year=2040, value=0.5), "policy[0].year", 0),
        (
            ENTRY.format(city=B, lever="stigma", year=2025, value=0.5) + "colour = 1\n",
            "policy[0].colour",
            1,
        ),
        (
            '[[set]]\ncity = "Nanjing"\nparam = "population"\nyear = 2020\nvalue = 5e6\n',
            "set[0].year",
            0,
        ),
        ('[[set]]\nparam = "populaton"\nvalue = 1\n', "set[0].param", 1),
        ('[[set]]\nparam = "population"\nvalue = 5e6\n', "set[0].city", 1),
        ('[[set]]\ncity = "Nanjing"\nparam = "failure_cost"\nvalue = 1\n', "set[0].city", 1),
        ('[[set]]\ncity = "Nanjing"\nparam = "stigma"\nvalue = 11\n', "set[0].value", 1),
        ('[about]\nname = "nothing"\n', "policy", 1),
    ],
)
def test_bad_policy_files_name_the_file_and_field(tmp_path, text, field, at_load):
    f = _policy(tmp_path, text)
    sc = innosim.load_scenario("demo")
    with pytest.raises(InputError) as err:
        apply_policy(sc, load_policy(f))
    assert err.value.field == field
    assert str(f) in str(err.value)
    if not at_load:
        load_policy(f)  # the file alone is valid: the scenario refuses it


def test_unknown_policy_name_lists_the_shipped_ones():
    with pytest.raises(InputError) as err:
        load_policy("no-such-policy")
    assert "nanjing-tolerance" in str(err.value)


# --------------------------------------------------------------------------- paired statistics


def test_paired_stats_known_answer():
    base = np.array([[1.0], [2.0], [3.0], [4.0]])
    pol = base + np.array([[1.0], [3.0], [1.0], [3.0]])
    s = paired_stats(base, pol)
    assert s["baseline_mean"][0] == 2.5 and s["policy_mean"][0] == 4.5
    assert s["diff_mean"][0] == 2.0
    se = np.std([1, 3, 1, 3], ddof=1) / 2
    assert s["diff_se"][0] == pytest.approx(se)
    assert s["diff_hi"][0] - s["diff_mean"][0] == pytest.approx(2.353363 * se, rel=1e-5)


# --------------------------------------------------------------------------- compare on runs


def test_an_inactive_policy_changes_nothing_replicate_by_replicate(tmp_path, tiny):
    """Common random numbers: a policy that starts after the year read gives paired
    differences of exactly zero (the arms share every random draw)."""
    f = _policy(tmp_path, ENTRY.format(city=B, lever="failure_tolerance", year=2002, value=1))
    df = compare(tiny, f, replicates=2, year=2001, workers=1, metrics=["firms", "unicorns"])
    assert list(df.columns) == list(COMPARE_COLUMNS)
    assert len(df) == 2 * tiny.n_cities
    assert (df["diff_mean"] == 0).all() and (df["diff_q05"] == 0).all()
    assert (df["baseline_mean"] == df["policy_mean"]).all()
    assert df.attrs["inactive"] and df.attrs["runs"] == 4


def test_a_strong_policy_moves_its_city(tmp_path, tiny):
    f = _policy(
        tmp_path,
        ENTRY.format(city=B, lever="failure_tolerance", year=1999, value=1.0)
        + ENTRY.format(city=B, lever="stigma", year=1999, value=0.0)
        + ENTRY.format(city=B, lever="restart_cost", year=1999, value=0.0),
    )
    df = compare(tiny, f, replicates=3, workers=1, metrics=["entries"])
    row = df.set_index("city").loc[B]
    assert row["diff_mean"] > 0 and row["diff_lo"] > 0
    assert row["diff_q05"] <= row["diff_mean"] <= row["diff_q95"]
    vals = df.attrs["replicate_values"]
    d = np.array(vals["policy"]["entries"][B]) - np.array(vals["baseline"]["entries"][B])
    assert d.mean() == pytest.approx(row["diff_mean"])


def test_bad_arguments(tiny):
    f = "nanjing-tolerance"
    for kwargs, field in (
        ({"replicates": 0}, "--replicates"),
        ({"metrics": ["unicorn"]}, "--metrics"),
        ({"workers": 0}, "--workers"),
    ):
        with pytest.raises(InputError) as err:
            compare(tiny, f, **kwargs)
        assert err.value.field == field
    with pytest.raises(InputError) as err:  # the policy's year 2025 is beyond tiny's horizon
        compare(tiny, f)
    assert err.value.field == "policy[0].year"


def test_cli_compare_prints_writes_and_refuses(tmp_path):
    f = _policy(tmp_path, ENTRY.format(city=B, lever="failure_tolerance", year=2000, value=0.9))
    out = tmp_path / "out"
    args = ["compare", "demo", "--policy", str(f), "--year", str(YEAR), "--scale", "0.3"]
    small = ["--replicates", "2", "--workers", "1", "--metrics", "firms,entries"]
    res = CliRunner().invoke(app, [*args, *small, "--out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert {r["metric"] for r in payload["rows"]} == {"firms", "entries"}
    assert {p.name for p in out.iterdir()} == {"compare.csv", "compare.json", "compare.png"}
    res = CliRunner().invoke(app, [*args, *small])
    assert res.exit_code == 0 and B in res.stdout
    bad = _policy(tmp_path, ENTRY.format(city=B, lever="stigma", year=2025, value=99), "bad.toml")
    res = CliRunner().invoke(app, ["compare", "demo", "--policy", str(bad)])
    assert res.exit_code == 2
    assert str(bad) in res.stderr and "policy[0].value" in res.stderr
    assert "Traceback" not in res.stderr
