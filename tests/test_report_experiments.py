"""``innosim report DIR`` of experiment output directories: validate, compare, explain, index
and sweep ``--out`` directories (made here with small, fast settings), in both languages; a
directory that is none of them is refused with one paragraph (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from innosim.cli import app
from innosim.labels import LABELS, LANGS
from test_report import figures, offline, untranslated

runner = CliRunner()

TARGETS = """
[validation]
scenario = "demo"
replicates = 2
seed = 7

[[target]]
statistic = "survival_rate"
args = { age_years = 1 }
low = 0.0
high = 1.0
value = 0.796
source = "BLS"

[[target]]
statistic = "survival_rate"
args = { age_years = 1 }
low = 5.0
high = 6.0
source = "impossible on purpose"
"""
POLICY = """
[about]
name = "tolerance"
title = "Tolerance from 2000"

[[policy]]
city = "Nanjing"
lever = "failure_tolerance"
year = 2000
value = 0.9
"""
SMALL = ["--replicates", "2", "--year", "2002", "--scale", "0.3", "--workers", "1"]


def _invoke(*args: str | Path) -> None:
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code in (0, 1), r.output  # validate exits 1 when a target fails


@pytest.fixture(scope="module")
def experiments(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("experiments")
    (root / "targets.toml").write_text(TARGETS)
    (root / "policy.toml").write_text(POLICY)
    dirs = {k: root / k for k in ("validate", "compare", "explain", "index", "sweep")}
    _invoke(
        "validate", "--targets", root / "targets.toml", "--workers", "1", "--out", dirs["validate"]
    )
    _invoke("compare", "demo", "--policy", root / "policy.toml", *SMALL, "--metrics", "firms,entries", "--out", dirs["compare"])  # fmt: skip
    _invoke("explain", "demo", "--gap", "Hangzhou", "Nanjing", "--metric", "firms", "--groups", "culture,talent", *SMALL, "--out", dirs["explain"])  # fmt: skip
    _invoke("index", "--draws", "20", "--seed", "1", "--out", dirs["index"])
    _invoke("sweep", "demo", "--param", "failure_tolerance=0.2:0.8:3", "--replicates", "2", "--year", "2003", "--workers", "1", "--out", dirs["sweep"])  # fmt: skip
    return dirs


# kind -> (section title key, figures the report draws at least)
EXPECTED = {
    "validate": ("sec_validation", 5),  # position in range + the four figures of validate
    "compare": ("sec_compare", 1),
    "explain": ("sec_explain", 1),
    "index": ("sec_index", 2),  # ranked bars and radar
    "sweep": ("sec_sweep", 2),  # mean and band against the parameter, phase diagram
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_experiment_report_in_both_languages(experiments, kind, tmp_path):
    section, n_figures = EXPECTED[kind]
    counts = {}
    for lang in LANGS:
        target = tmp_path / f"{kind}.{lang}.html"
        r = runner.invoke(app, ["report", str(experiments[kind]), "--lang", lang, "--out", str(target)])  # fmt: skip
        assert r.exit_code == 0, r.output
        html = target.read_text(encoding="utf-8")
        figs = figures(html)
        counts[lang] = len(figs)
        assert len(figs) >= n_figures
        assert html.count("<img ") == len(figs) and all(c.strip() for _, c in figs)
        assert LABELS[section][lang] in html
        assert offline(html)
        if lang == "zh":
            assert untranslated(html) == []
    assert counts["en"] == counts["zh"]


def test_validation_table_shows_pass_and_fail(experiments, tmp_path):
    import innosim

    html = innosim.write_report(experiments["validate"], out=tmp_path / "v.html").read_text()
    assert html.count('<td class="pass">pass</td>') == 1
    assert html.count('<td class="fail">FAIL</td>') == 1


def test_default_output_is_in_the_experiment_directory(experiments, tmp_path):
    d = tmp_path / "explain"
    shutil.copytree(experiments["explain"], d)
    r = runner.invoke(app, ["report", str(d), "--lang", "zh"])
    assert r.exit_code == 0, r.output
    assert (d / "report.zh.html").is_file()


def test_a_directory_of_two_experiments_gets_both_sections(experiments, tmp_path):
    import innosim

    d = tmp_path / "both"
    shutil.copytree(experiments["compare"], d)
    for f in experiments["explain"].iterdir():
        shutil.copy(f, d / f.name)
    html = innosim.write_report(d, out=tmp_path / "b.html").read_text()
    assert LABELS["sec_compare"]["en"] in html and LABELS["sec_explain"]["en"] in html
    assert LABELS["title_experiments"]["en"] in html


def test_other_directories_and_bad_files_exit_2(experiments, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here")
    r = runner.invoke(app, ["report", str(empty)])
    assert r.exit_code == 2, r.output
    assert str(empty) in r.stderr and "validation.json" in r.stderr and "index.csv" in r.stderr
    assert "Traceback" not in r.output and r.stderr.count("\n") == 1  # one paragraph

    broken = tmp_path / "broken"
    shutil.copytree(experiments["compare"], broken)
    (broken / "compare.json").write_text("{not json")
    r = runner.invoke(app, ["report", str(broken)])
    assert r.exit_code == 2, r.output
    assert "compare.json" in r.stderr and "Traceback" not in r.output


def test_missing_cjk_font_warns_once_in_the_cli(experiments, tmp_path, monkeypatch):
    from innosim.report import fonts

    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    monkeypatch.setattr(fonts, "_warned", False)
    target = tmp_path / "z.html"
    r = runner.invoke(app, ["report", str(experiments["explain"]), "--lang", "zh", "--out", str(target)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert target.is_file()
    assert r.stderr.count("warning: no CJK font") == 1
    assert "Traceback" not in r.output and "FontWarning" not in r.stderr
