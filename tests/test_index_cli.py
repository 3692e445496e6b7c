"""``innosim index``: output formats, files, comparison, and one-paragraph errors (exit 2)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from innosim.cli import app
from innosim.data import default_data_path

runner = CliRunner()
FAST = ["--draws", "20", "--seed", "1"]


def cli(*args: str | Path) -> tuple[int, str, str]:
    res = runner.invoke(app, ["index", *[str(a) for a in args]])
    return res.exit_code, res.stdout, res.stderr


def test_csv_has_exactly_the_documented_columns() -> None:
    code, out, _ = cli(*FAST, "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == [
        "city",
        "talent",
        "organization",
        "place",
        "score",
        "rank",
        "rank_low",
        "rank_high",
    ]
    assert len(df) == 16 and df["rank"].tolist() == sorted(df["rank"])
    assert (df["rank_low"] <= df["rank_high"]).all()


def test_table_prints_ranks_intervals_and_coverage() -> None:
    code, out, err = cli(*FAST, "--cities", "Hangzhou,Nanjing,Wuhan,Shanghai")
    assert code == 0
    for word in ("Hangzhou", "Nanjing", "rank 5-95%", "Coverage", "9/9"):
        assert word in out
    assert "Beijing" not in out
    assert "Computed in" in err


def test_json_and_compare(tmp_path: Path) -> None:
    ranking = tmp_path / "r.csv"
    ranking.write_text("city,rank\nBeijing,1\nShanghai,2\nHangzhou,3\nAtlantis,4\n")
    code, out, _ = cli(*FAST, "--format", "json", "--compare", ranking)
    assert code == 0
    doc = json.loads(out)
    assert len(doc["table"]) == 16 and doc["draws"] == 20
    assert doc["compare"]["n"] == 3 and doc["compare"]["only_ranking"] == ["Atlantis"]
    assert doc["compare"]["spearman"] == pytest.approx(1.0)  # the index agrees on these three
    code, out, _ = cli(*FAST, "--format", "csv", "--compare", ranking)
    assert code == 0 and out.splitlines()[0] == "measure,value,p_value,n"
    code, out, _ = cli(*FAST, "--compare", ranking)
    assert code == 0 and "Spearman rho = 1.000" in out and "Kendall tau = 1.000" in out


def test_out_writes_tables_and_figures(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = cli(*FAST, "--out", out_dir, "--format", "csv")
    assert code == 0
    names = {p.name for p in out_dir.iterdir()}
    for f in ("index.csv", "index.parquet", "ranks.png", "radar.png", "heatmap.png"):
        assert f in names
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing half-written beside it
    assert (
        pd.read_csv(out_dir / "index.csv")["city"].tolist()
        == pd.read_csv(io.StringIO(out))["city"].tolist()
    )


def _data_with(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    lines = default_data_path().read_text(encoding="utf-8").splitlines()
    p = tmp_path / "data.csv"
    p.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return p


def _replace_field(line: str, k: int, value: str) -> str:
    parts = line.split(",")
    parts[k] = value
    return ",".join(parts)


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda ls: [ls[0].replace(",unit", ",units"), *ls[1:]], ["missing column unit"]),
        (lambda ls: [ls[0], _replace_field(ls[1], 5, "furlongs"), *ls[2:]], ["row 2", "furlongs"]),
        (lambda ls: [*ls, ls[1]], ["repeats row 2"]),
        (
            lambda ls: [
                _replace_field(x, 4, "lots")
                if x.startswith("Nanjing,China,Talent attraction index")
                else x
                for x in ls
            ],
            ["not a number", "'lots'"],
        ),
    ],
)
def test_bad_data_files_exit_2(tmp_path: Path, edit, needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    p = _data_with(tmp_path, edit)
    code, out, err = cli("--data", p, "--draws", "0")
    assert code == 2, err
    assert out == ""
    assert err.startswith("error: ") and "Traceback" not in err
    assert str(p) in err
    for n in needles:
        assert n in err


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[framework\n", ["malformed TOML"]),
        (
            '[framework]\nname="x"\n[[indicator]]\nname="a"\npillar="Talent"\nsource="No such"\n',
            ["indicator[0].source", "'No such'"],
        ),
        (
            '[framework]\nname="x"\n[[indicator]]\nname="a"\npillar="Talent"\nsource="GDP"\n'
            "weight=0.4\n",
            ["sum to 0.4", "within each pillar"],
        ),
        (
            '[framework]\nname="x"\n[[indicator]]\nname="a"\npillar="Talent"\nsource="GDP"\n'
            "direction=0\n",
            ["indicator[0].direction", "1 or -1"],
        ),
    ],
)
def test_bad_framework_files_exit_2(tmp_path: Path, text: str, needles: list[str]) -> None:
    p = tmp_path / "fw.toml"
    p.write_text(text, encoding="utf-8")
    code, _, err = cli("--framework", p, "--draws", "0")
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    assert str(p) in err
    for n in needles:
        assert n in err


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    code, _, err = cli("--cities", "Hangzhou,Atlantis", "--draws", "0")
    assert code == 2 and "unknown city Atlantis" in err
    (tmp_path / "f").write_text("x")
    code, _, err = cli("--out", tmp_path / "f", "--draws", "0")
    assert code == 2 and "is a file" in err
    code, _, err = cli("--compare", tmp_path / "missing.csv")
    assert code == 2 and "ranking file not found" in err
    code, _, err = cli("--sobol", "100", "--draws", "0")
    assert code == 2 and "power of 2" in err


def test_real_executable_bad_framework_no_traceback(tmp_path: Path) -> None:
    p = tmp_path / "fw.toml"
    p.write_text("not toml at all [", encoding="utf-8")
    script = Path(sys.executable).with_name("innosim")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "innosim"]
    proc = subprocess.run(
        [*cmd, "index", "--framework", str(p)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "malformed TOML" in proc.stderr
