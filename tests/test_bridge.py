"""The bridge from the sourced dataset to scenario initial conditions, and the china-16 scenario."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import innosim
from _tools import load_tool
from innosim.data.bridge import (
    MAPPING,
    load_geo,
    reference_outcomes,
    scenario_from_dataset,
    scenario_toml,
)
from innosim.errors import InputError
from innosim.params.declarations import BY_NAME

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "china-16.toml"


def _tool():  # type: ignore[no-untyped-def]
    return load_tool("gen_china16")


@pytest.fixture(scope="module")
def dataset() -> pd.DataFrame:
    return innosim.resolve(innosim.load_dataset(ROOT / "data" / "cities_sourced.csv"))


def test_shipped_scenario_is_what_the_bridge_produces() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == _tool().render()


def test_china16_loads_with_the_data_values(dataset: pd.DataFrame) -> None:
    sc = innosim.load_scenario("china-16")
    assert sc.n_cities == 16
    assert set(sc.city_names) == set(dataset.loc[dataset["kind"] == "city", "city"])
    i, j = sc.city_index("Hangzhou"), sc.city_index("Nanjing")
    assert sc.city["population"][i] == 12624000
    assert sc.city["students_enrolled"][j] == 799410
    assert sc.city["productivity"][i] == pytest.approx(17.3867)
    assert sc.city["labs"][j] == pytest.approx(0.5 + 13 / 6, rel=1e-5)
    # Beijing reports no GDP per capita: GDP / population (DERIVED), in 10^4 CNY
    b = sc.city_index("Beijing")
    assert sc.city["productivity"][b] == pytest.approx(49843.1e8 / 21832000 / 1e4, rel=1e-5)
    assert "DERIVED" in sc.sources["Beijing.productivity"]
    # parameters the data do not give keep their declared default
    assert (sc.city["failure_tolerance"] == BY_NAME["failure_tolerance"].default).all()
    # every data-given value cites its row
    for c in sc.city_names:
        for m in MAPPING:
            assert "data/cities_sourced.csv row" in sc.sources[f"{c}.{m.param}"]


def test_missing_data_keeps_the_default(dataset: pd.DataFrame) -> None:
    drop = dataset[
        ~(
            (dataset["city"] == "Hangzhou")
            & dataset["indicator"].str.startswith("Students enrolled")
        )
    ]
    doc = scenario_from_dataset(drop, cities=["Hangzhou", "Nanjing"])
    hz = doc["city"][0]
    assert "students_enrolled" not in hz["params"] and "population" in hz["params"]
    assert doc["defaults"] == {"Hangzhou": ["students_enrolled"]}
    text = scenario_toml(doc)
    assert "declared default kept: students_enrolled" in text


def test_round_trip_through_the_scenario_loader(tmp_path: Path, dataset: pd.DataFrame) -> None:
    doc = scenario_from_dataset(
        dataset, cities=["Wuhan", "Hefei"], name="two", persons_per_agent=8000
    )
    p = tmp_path / "two.toml"
    p.write_text(scenario_toml(doc, "a header"), encoding="utf-8")
    sc = innosim.load_scenario(p)
    assert sc.city_names == ("Wuhan", "Hefei") and sc.persons_per_agent == 8000
    assert sc.city["population"][0] == 13809100


def test_reference_outcomes(dataset: pd.DataFrame) -> None:
    out = reference_outcomes(dataset, ["Hangzhou", "Nanjing"])
    u = out[out["outcome"].str.startswith("unicorns")].set_index("city")["value"]
    assert u.to_dict() == {"Hangzhou": 19.0, "Nanjing": 6.0}


def test_bridge_errors(dataset: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown city Atlantis"):
        scenario_from_dataset(dataset, cities=["Atlantis"])
    geo = load_geo().drop(index="Wuhan")
    with pytest.raises(InputError, match="no coordinates for Wuhan"):
        scenario_from_dataset(dataset, cities=["Wuhan"], geo=geo)
    bad = tmp_path / "geo.csv"
    bad.write_text("city,lat,lon\nX,1,2\n")
    with pytest.raises(InputError, match="missing column"):
        load_geo(bad)


def test_china16_runs_end_to_end_small() -> None:
    sc = innosim.load_scenario("china-16").with_scale(0.05).with_end_year(2001)
    res = innosim.run(sc, seed=1)
    summary = res.summary()
    assert len(summary) == 16 and summary["value_added"].gt(0).all()
