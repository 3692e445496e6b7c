"""The self-contained HTML report of a stored run (innosim report)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.report.labels import LABELS, LANGS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    result = innosim.run(innosim.load_scenario("demo").with_end_year(2008), 1)
    innosim.save_run(result, root)
    return root


def _visible_text(html: str) -> str:
    """Text a reader sees, less embedded images, CSS and <code> (identifiers and data)."""
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<code[^>]*>.*?</code>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_every_label_has_both_languages():
    for key, texts in LABELS.items():
        assert set(texts) == set(LANGS), key
        assert all(isinstance(v, str) and v.strip() for v in texts.values()), key
        # the same format fields in every language
        fields = {lang: set(re.findall(r"{(\w+)", texts[lang])) for lang in LANGS}
        assert fields["en"] == fields["zh"], key


def test_english_report(store, tmp_path):
    out = innosim.write_report("latest", out=tmp_path / "r.html", store=store)
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("data:image/png;base64,") >= 6
    assert html.count("<figcaption>") == html.count("<img ")
    assert "http://" not in html and "https://" not in html  # opens without a network
    assert "<link" not in html and "<script src" not in html
    for key in ("sec_params", "sec_summary", "fig_ccdf", "fig_survival"):
        assert LABELS[key]["en"] in html
    names = innosim.load_scenario("demo").city_names
    assert all(name in html for name in names)
    assert not list(tmp_path.glob(".r.html.*"))  # no temp file left behind


def test_chinese_report_has_no_english_labels(store, tmp_path):
    out = innosim.write_report("latest", lang="zh", out=tmp_path / "zh.html", store=store)
    text = _visible_text(out.read_text(encoding="utf-8"))
    for key, texts in LABELS.items():
        english = re.sub(r"{[^}]*}", "", texts["en"]).strip()
        assert not re.search(r"\b" + re.escape(english) + r"\b", text), (key, english)
    sc = innosim.load_scenario("demo")
    for city in sc.cities:
        assert city.name_zh and city.name_zh in text
        assert city.name not in text
    assert LABELS["report_title"]["zh"] in text


def test_survival_shares_are_between_0_and_1(store):
    from innosim.report.html import survival_by_age
    from innosim.store import RunStore

    stored = RunStore(store).load_run("latest")
    surv = survival_by_age(stored.table("firms"), 4, int(stored.meta["ticks"]))
    assert not surv.empty
    assert surv["alive"].between(0, 1).all()
    for _, group in surv.groupby("city"):
        assert group["at_risk"].is_monotonic_decreasing


def test_cli_report_and_bad_input(store, tmp_path):
    runner = CliRunner()
    target = tmp_path / "cli.html"
    r = runner.invoke(app, ["report", "latest", "--store", str(store), "--out", str(target)])
    assert r.exit_code == 0, r.output
    assert target.is_file()
    default = runner.invoke(app, ["report", "latest", "--store", str(store), "--lang", "zh"])
    assert default.exit_code == 0, default.output
    for args, field in (
        (["report", "nosuch", "--store", str(store)], "nosuch"),
        (["report", "latest", "--store", str(store), "--lang", "fr"], "lang"),
        (["report", "latest", "--store", str(store), "--out", str(tmp_path / "no/x.html")], "out"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert field in r.output
        assert "Traceback" not in r.output
