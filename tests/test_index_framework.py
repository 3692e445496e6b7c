"""The framework file, the indicator matrix built from the sourced data, and build_index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import innosim
from innosim.errors import InputError
from innosim.index import (
    TABLE_COLUMNS,
    build_index,
    compare_ranking,
    default_framework_path,
    indicator_matrix,
    load_framework,
    load_ranking,
    write_outputs,
)

MINI = """
[framework]
name = "mini"
year = 2024

[[indicator]]
name = "gdp_pc"
pillar = "Place"
source = "GDP"
denominator = "Resident population (year-end)"
{extra_p}

[[indicator]]
name = "attraction"
pillar = "Talent"
source = "Talent attraction index (Zhaopin/Zeping)"
{extra_t}

[[indicator]]
name = "unicorns"
pillar = "Organization"
source = "Unicorns (China Unicorn Report 2024, ZGC)"
"""


def _write(tmp_path: Path, text: str, name: str = "fw.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _mini(tmp_path: Path, extra_p: str = "", extra_t: str = "", head: str = "") -> Path:
    return _write(tmp_path, head + MINI.format(extra_p=extra_p, extra_t=extra_t))


@pytest.fixture(scope="module")
def dataset() -> pd.DataFrame:
    return innosim.resolve(innosim.load_dataset())


# --- the shipped framework ----------------------------------------------------------------------


def test_shipped_framework_is_in_the_package_and_loads() -> None:
    path = default_framework_path()
    assert path.is_file()
    assert path.parent.parent == Path(innosim.index.__file__).parent
    spec = load_framework()
    assert spec.framework.pillars == ["Talent", "Organization", "Place"]
    tab = spec.table()
    assert len(tab) == len(spec.indicators) >= 6
    assert set(tab["direction"]) <= {1, -1}
    assert (tab["rationale"] != "").all() and (tab["unit"] != "").all()
    # nominal weights: equal within each pillar
    for _, g in tab.groupby("pillar"):
        assert g["weight"].sum() == pytest.approx(1.0)


def test_shipped_framework_indicators_are_in_the_data(dataset: pd.DataFrame) -> None:
    spec = load_framework()
    spec.check_data(dataset)  # no error
    X, cov = indicator_matrix(dataset, spec)
    assert len(X) == 16
    # every indicator covers at least 14 of the 16 cities (the documented rule)
    assert (X.notna().sum() >= 14).all()
    assert set(cov.columns) >= {"city", "indicator", "has_value", "year", "row", "flags"}


def test_denominators_are_computed_from_the_data(dataset: pd.DataFrame) -> None:
    spec = load_framework()
    X, cov = indicator_matrix(dataset, spec, ["Hangzhou", "Nanjing"])
    # GDP 2024 21860 亿元 / resident population 2024 1262.4 万人
    assert X.at["Hangzhou", "gdp_per_capita"] == pytest.approx(21860e8 / 12624000)
    # students 2023 (yearbook) per 10k residents (2024)
    assert X.at["Nanjing", "students_per_10k"] == pytest.approx(799410 / 9577000 * 1e4)
    row = cov[(cov["city"] == "Hangzhou") & (cov["indicator"] == "gdp_per_capita")].iloc[0]
    assert row["year"] == 2024 and row["denominator_year"] == 2024  # the 2025 row is capped out


def test_source_fallback_list(dataset: pd.DataFrame) -> None:
    X, cov = indicator_matrix(dataset, load_framework(), ["Beijing", "Nanjing"])
    assert X.at["Beijing", "research_universities"] == 34  # from the fallback row
    assert X.at["Nanjing", "research_universities"] == 13
    used = cov.set_index(["city", "indicator"])["source"]
    assert used[("Beijing", "research_universities")] == "Double First-Class universities"


# --- framework file errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[framework\nname = 1", "malformed TOML"),
        (MINI.format(extra_p="direction = 2", extra_t=""), "direction"),
        (MINI.format(extra_p="direction = 1.0", extra_t=""), "direction"),
        (MINI.format(extra_p="colour = 'red'", extra_t=""), "colour"),
        (MINI.format(extra_p="weight = -1", extra_t=""), "weight"),
        (MINI.format(extra_p="", extra_t="").replace('name = "mini"', ""), "framework.name"),
        ('[framework]\nname = "x"\n', "indicator"),
    ],
)
def test_bad_framework_files(tmp_path: Path, text: str, needle: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_framework(p)
    msg = str(e.value)
    assert str(p) in msg and needle in msg


def test_weights_must_sum_to_one_within_a_pillar(tmp_path: Path) -> None:
    two = MINI.format(extra_p="weight = 0.7", extra_t="") + (
        '\n[[indicator]]\nname = "pop"\npillar = "Place"\n'
        'source = "Resident population (year-end)"\nweight = 0.4\n'
    )
    with pytest.raises(InputError, match=r"weights of pillar 'Place' sum to 1\.1"):
        load_framework(_write(tmp_path, two))
    ok = two.replace("weight = 0.4", "weight = 0.3")
    spec = load_framework(_write(tmp_path, ok, "ok.toml"))
    assert spec.table().set_index("name").at["gdp_pc", "weight"] == pytest.approx(0.7)
    partial = two.replace("weight = 0.4", "")
    with pytest.raises(InputError, match="some indicators but not"):
        load_framework(_write(tmp_path, partial, "partial.toml"))


def test_pillar_weights(tmp_path: Path) -> None:
    good = "[framework.pillar_weights]\nTalent = 0.5\nOrganization = 0.25\nPlace = 0.25\n"
    base = MINI.format(extra_p="", extra_t="")
    text = base.replace("year = 2024\n", "year = 2024\n" + good)
    spec = load_framework(_write(tmp_path, text))
    assert spec.framework.overall_weights()["Talent"] == pytest.approx(0.5)
    bad = base.replace("year = 2024\n", "year = 2024\n" + good.replace("0.5", "0.6"))
    with pytest.raises(InputError, match="sum to 1"):
        load_framework(_write(tmp_path, bad, "bad.toml"))
    wrong = base.replace("year = 2024\n", "year = 2024\n" + good.replace("Talent", "Talnet"))
    with pytest.raises(InputError, match="unknown: Talnet"):
        load_framework(_write(tmp_path, wrong, "wrong.toml"))


def test_unknown_indicator_in_the_data(tmp_path: Path, dataset: pd.DataFrame) -> None:
    p = _write(tmp_path, MINI.format(extra_p="", extra_t="").replace('"GDP"', '"GPD"'))
    spec = load_framework(p)
    with pytest.raises(InputError) as e:
        indicator_matrix(dataset, spec)
    msg = str(e.value)
    assert "indicator[0].source" in msg and "'GPD'" in msg and "did you mean 'GDP'" in msg


def test_unknown_city(dataset: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="unknown city Atlantis"):
        indicator_matrix(dataset, load_framework(), ["Hangzhou", "Atlantis"])


# --- build_index --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result() -> innosim.index.IndexResult:
    return build_index(draws=40, seed=3)


def test_build_index_table(result: innosim.index.IndexResult) -> None:
    t = result.table
    assert list(t.columns[: len(TABLE_COLUMNS)]) == list(TABLE_COLUMNS)
    assert len(t) == 16 and t["rank"].tolist() == sorted(t["rank"].tolist())
    assert t["score"].is_monotonic_decreasing
    assert (t["rank_low"] <= t["rank_high"]).all()
    assert ((t[["talent", "organization", "place", "score"]] >= 0) & (t[["score"]] <= 100)).all(
        axis=None
    )
    assert set(result.coverage_by_city["covered"]) <= set(range(0, 10))


def test_build_index_is_deterministic(result: innosim.index.IndexResult) -> None:
    again = build_index(draws=40, seed=3)
    pd.testing.assert_frame_equal(result.table, again.table)
    pd.testing.assert_frame_equal(result.mc.ranks, again.mc.ranks)  # type: ignore[union-attr]


def test_cities_subset_and_too_few() -> None:
    r = build_index(cities=["Hangzhou", "Nanjing", "Wuhan"], draws=0)
    assert sorted(r.table["city"]) == ["Hangzhou", "Nanjing", "Wuhan"]
    assert (r.table["rank_low"] == r.table["rank"]).all()
    with pytest.raises(InputError, match="at least two cities"):
        build_index(cities=["Hangzhou"], draws=0)


def test_non_numeric_value_of_a_used_indicator(tmp_path: Path) -> None:
    src = Path(innosim.data.default_data_path()).read_text(encoding="utf-8").splitlines()
    for k, line in enumerate(src):
        if line.startswith("Hangzhou,China,Talent attraction index (Zhaopin/Zeping)"):
            parts = line.split(",")
            parts[4] = "high"
            src[k] = ",".join(parts)
            break
    p = tmp_path / "d.csv"
    p.write_text("\n".join(src) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        build_index(data=p, draws=0)
    msg = str(e.value)
    assert str(p) in msg and "not a number" in msg and "'high'" in msg


def test_write_outputs(tmp_path: Path, result: innosim.index.IndexResult) -> None:
    out = tmp_path / "idx"
    files = write_outputs(result, out)
    names = {f.name for f in files}
    assert {"index.csv", "index.parquet", "ranks.png", "radar.png", "heatmap.png"} <= names
    assert {"coverage.csv", "mc_ranks.parquet", "meta.json"} <= names
    assert list(tmp_path.iterdir()) == [out]  # no temporary directory left
    back = pd.read_csv(out / "index.csv")
    assert back["city"].tolist() == result.table["city"].tolist()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_outputs(result, tmp_path / "file")


# --- comparison with an external ranking --------------------------------------------------------


def test_compare_ranking_known_answers() -> None:
    t = pd.DataFrame({"city": list("abcde"), "rank": [1, 2, 3, 4, 5]})
    same = compare_ranking(t, t.copy())
    assert same["spearman"] == pytest.approx(1.0) and same["kendall"] == pytest.approx(1.0)
    rev = compare_ranking(t, t.assign(rank=[5, 4, 3, 2, 1]))
    assert rev["spearman"] == pytest.approx(-1.0) and rev["kendall"] == pytest.approx(-1.0)
    part = compare_ranking(t, pd.DataFrame({"city": ["a", "b", "z"], "rank": [1, 2, 3]}))
    assert part["n"] == 2 and np.isnan(part["spearman"]) and part["only_ranking"] == ["z"]
    # one swap among 4: rho = 1 - 6*2/(4*15) = 0.8, tau = (5-1)/6
    four = compare_ranking(t.iloc[:4], pd.DataFrame({"city": list("abcd"), "rank": [2, 1, 3, 4]}))
    assert four["spearman"] == pytest.approx(0.8) and four["kendall"] == pytest.approx(4 / 6)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("town,rank\na,1\n", "missing column city"),
        ("city,rank\na,first\n", "row 2, rank"),
        ("city,rank\na,1\na,2\n", "listed twice"),
        ("", "malformed CSV"),
    ],
)
def test_bad_ranking_files(tmp_path: Path, text: str, needle: str) -> None:
    p = _write(tmp_path, text, "r.csv")
    with pytest.raises(InputError) as e:
        load_ranking(p)
    assert str(p) in str(e.value) and needle in str(e.value)


@pytest.mark.slow
def test_1000_draws_over_16_cities_give_rank_intervals() -> None:
    """The default analysis: 1,000 Monte Carlo draws over all 16 cities with rank intervals.
    (Its time is measured by ``make bench``, benchmarks/bench_index.py, not here: tests check
    correctness, not timings.)"""
    r = build_index(draws=1000, seed=0)
    assert len(r.table) == 16 and r.mc is not None and len(r.mc.ranks) == 1000
    t = r.table
    assert (t["rank_low"] <= t["rank_high"]).all()
