"""The sourced dataset: loading, units, value forms, conflict rule, coverage and `data check`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from innosim.cli import app
from innosim.data import (
    UNITS,
    conflicts,
    coverage,
    coverage_by_city,
    load_dataset,
    normalise_unit,
    parse_value,
    resolve,
    unparsed,
)
from innosim.data.dataset import COLUMNS
from innosim.errors import InputError

HEADER = "city,country,indicator,year,value,unit,source,note\n"
runner = CliRunner()


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return load_dataset()


def write(tmp_path: Path, body: str, header: str = HEADER, name: str = "d.csv") -> Path:
    p = tmp_path / name
    p.write_text(header + body, encoding="utf-8")
    return p


def one(df: pd.DataFrame, city: str, indicator: str, year: int) -> pd.Series:
    sel = df[(df["city"] == city) & (df["indicator"] == indicator) & (df["year"] == year)]
    assert len(sel) == 1, sel
    return sel.iloc[0]


# --------------------------------------------------------------------------- the shipped file


def test_shipped_file_loads(shipped: pd.DataFrame) -> None:
    raw = pd.read_csv(Path(shipped.attrs["file"]), dtype=str, keep_default_na=False)
    assert list(shipped.columns) == list(COLUMNS)
    assert len(shipped) == len(raw)
    assert shipped["year"].dtype.kind == "i"
    assert set(shipped[shipped["kind"] == "city"]["city"]) >= {"Hangzhou", "Nanjing", "Beijing"}
    assert (shipped[shipped["city"] == "Zhejiang (prov.)"]["kind"] == "province").all()


def test_every_unit_maps(shipped: pd.DataFrame) -> None:
    raw = pd.read_csv(Path(shipped.attrs["file"]), dtype=str, keep_default_na=False)
    unknown = sorted({u for u in raw["unit"] if normalise_unit(u) is None})
    assert unknown == []
    bases = {u.base for u in UNITS.values()}
    assert set(shipped["unit"]) <= bases


def test_source_and_note_kept_for_every_row(shipped: pd.DataFrame) -> None:
    raw = pd.read_csv(Path(shipped.attrs["file"]), dtype=str, keep_default_na=False)
    assert list(shipped["source"]) == [s.strip() for s in raw["source"]]
    assert list(shipped["note"]) == [s.strip() for s in raw["note"]]
    assert (shipped["source"] != "").all()


def test_known_conversions(shipped: pd.DataFrame) -> None:
    hz = one(shipped, "Hangzhou", "GDP", 2024)
    assert hz["value"] == pytest.approx(2.186e12)
    assert hz["unit"] == "CNY"
    assert hz["value_raw"] == "21860"
    nj = shipped[
        (shipped["city"] == "Nanjing") & (shipped["value_raw"].str.replace(",", "") == "957.70")
    ]
    assert len(nj) >= 1
    assert nj.iloc[0]["value"] == pytest.approx(9_577_000)
    assert nj.iloc[0]["unit"] == "persons"


def test_value_forms(shipped: pd.DataFrame) -> None:
    about = shipped[shipped["value_raw"] == "about 4.4"].iloc[0]
    assert about["value"] == pytest.approx(4.4)
    assert about["qualifier"] == "~"
    gt = shipped[shipped["value_raw"] == ">350000"].iloc[0]
    assert gt["qualifier"] == ">"
    assert gt["value"] == pytest.approx(350000)
    assert parse_value("12 / 8 / 2") == (12.0, "multi")
    assert parse_value("4-10") == (7.0, "range")
    assert parse_value("21,860") == (21860.0, "")
    assert parse_value("about 4.4 (预计)") == (4.4, "~")
    v, q = parse_value("1st nationally for several years")
    assert math.isnan(v) and q == "unparsed"
    assert "1st nationally for several years" in set(unparsed(shipped)["value_raw"])


def test_period_and_flags(shipped: pd.DataFrame) -> None:
    month = shipped[shipped["period"] == "2024-03"]
    assert len(month) > 0 and (month["year"] == 2024).all()
    assert shipped["flags"].str.contains("CONFIRMATION").sum() == 3
    assert shipped["flags"].str.contains("DERIVED").any()
    assert shipped["flags"].str.contains("LOW_RELIABILITY").any()


def test_shipped_resolution(shipped: pd.DataFrame) -> None:
    res = resolve(shipped)
    assert not res.duplicated(["city", "indicator", "year"]).any()
    dropped = conflicts(shipped)
    # the three confirmation rows agree with their GDP rows and go
    assert dropped["reason"].str.contains("confirms row").sum() == 3
    assert not res["flags"].str.contains("CONFIRMATION").any()


def test_coverage_shipped(shipped: pd.DataFrame) -> None:
    cov = coverage(shipped)
    by_city = coverage_by_city(cov)
    assert len(by_city) == 16
    assert (by_city["share"] > 0).all() and (by_city["share"] <= 1).all()
    gdp = cov[cov["indicator"] == "GDP"]
    assert gdp["has_value"].all()


# --------------------------------------------------------------------------- conflict rule


def test_conflict_rule_known_answer(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "A,China,GDP,2024,100,亿元,s1,LOW RELIABILITY; verify\n"  # row 2
        "A,China,GDP,2024,101,亿元,s2,\n"  # row 3: clean -> kept
        "A,China,GDP (source confirmation),2024,100.5,亿元,s3,confirms\n"  # row 4: within 1%
        "A,China,Pop,2024,10,万人,s4,DERIVED\n"  # row 5
        "A,China,Pop,2024,11,万人,s5,\n"  # row 6: non-derived -> kept
        "A,China,Pat,2024,5,patents,s6,\n"  # row 7: first -> kept
        "A,China,Pat,2024,6,patents,s7,\n"  # row 8
        "B,China,GDP,2024,50,亿元,s8,\n"  # row 9
        "B,China,GDP (source confirmation),2024,60,亿元,s9,\n",  # row 10: disagrees
    )
    df = load_dataset(p)
    res = resolve(df)
    assert one(res, "A", "GDP", 2024)["row"] == 3
    assert one(res, "A", "GDP", 2024)["value"] == pytest.approx(1.01e10)
    assert one(res, "A", "Pop", 2024)["row"] == 6
    assert one(res, "A", "Pat", 2024)["row"] == 7
    assert "confirmed by row 4" in one(res, "A", "GDP", 2024)["resolution"]
    # disagreeing confirmation: both kept and flagged
    assert "CONFLICT" in one(res, "B", "GDP", 2024)["flags"]
    assert "CONFLICT" in one(res, "B", "GDP (source confirmation)", 2024)["flags"]
    dropped = conflicts(df).set_index("row")
    assert sorted(dropped.index) == [2, 4, 5, 8]
    assert "LOW_RELIABILITY" in dropped.loc[2, "reason"]
    assert "DERIVED" in dropped.loc[5, "reason"]
    assert "later in the file" in dropped.loc[8, "reason"]
    assert dropped.loc[4, "kept_row"] == 3


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("body", "header", "needle"),
    [
        ("A,China,GDP,2024,1,亿元,,\n", HEADER, "row 2, source"),
        ("A,China,GDP,2024,1,亿元,s,\nB,China,,2024,1,亿元,s,\n", HEADER, "row 3, indicator"),
        ("A,China,GDP,2024,1,furlongs,s,\n", HEADER, "row 2, unit"),
        ("A,China,GDP,soon,1,亿元,s,\n", HEADER, "row 2, year"),
        ("A,China,GDP,2024,1,亿元,s,\nA,China,GDP,2024,1,亿元,s,\n", HEADER, "row 3"),
        ("A,China,GDP,2024,1,亿元,s\n", "city,country,indicator,year,value,unit,source\n", "note"),
    ],
)
def test_bad_rows(tmp_path: Path, body: str, header: str, needle: str) -> None:
    p = write(tmp_path, body, header)
    with pytest.raises(InputError) as ei:
        load_dataset(p)
    msg = str(ei.value)
    assert str(p) in msg
    assert needle in msg


def test_missing_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_dataset(tmp_path / "absent.csv")
    p = tmp_path / "latin1.csv"
    p.write_bytes(HEADER.encode() + "A,China,GDP,2024,1,亿元,s,é\n".encode("gbk"))
    with pytest.raises(InputError, match="UTF-8") as ei:
        load_dataset(p)
    assert str(p) in str(ei.value)


# --------------------------------------------------------------------------- CLI


def test_cli_data_check_ok() -> None:
    res = runner.invoke(app, ["data", "check"])
    assert res.exit_code == 0, res.stderr
    assert "Hangzhou" in res.stdout and "Conflicts resolved" in res.stdout
    res = runner.invoke(app, ["data", "check", "--format", "json"])
    assert res.exit_code == 0
    obj = json.loads(res.stdout)
    assert len(obj["coverage_by_city"]) == 16
    assert len(obj["conflicts"]) >= 3
    res = runner.invoke(app, ["data", "check", "--format", "csv"])
    assert res.exit_code == 0
    assert res.stdout.startswith("city,indicators,covered,share,flagged")


def test_cli_data_check_bad_file(tmp_path: Path) -> None:
    p = write(tmp_path, "A,China,GDP,2024,1,furlongs,s,\n")
    res = runner.invoke(app, ["data", "check", str(p)])
    assert res.exit_code == 2
    assert "Traceback" not in res.stderr + res.stdout
    assert "row 2" in res.stderr and "furlongs" in res.stderr
    res = runner.invoke(app, ["data", "check", str(tmp_path / "none.csv")])
    assert res.exit_code == 2
    assert "not found" in res.stderr
