"""The self-contained HTML report of a stored run (innosim report): figures and captions,
offline, the talent Sankey and chain-master network, replicate bands, languages and fonts.
Reports of experiment directories are tested in tests/test_report_experiments.py."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.labels import LABELS, LANGS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    result = innosim.run(innosim.load_scenario("demo").with_end_year(2008), 1)
    innosim.save_run(result, root)
    return root


@pytest.fixture(scope="module")
def hn_store(tmp_path_factory):
    """A hangzhou-nanjing run at 0.2x over the full horizon (chain masters arise)."""
    root = tmp_path_factory.mktemp("hn")
    sc = innosim.load_scenario("hangzhou-nanjing").with_scale(0.2)
    innosim.save_run(innosim.run(sc, 3), root)
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


def untranslated(html: str) -> list[tuple[str, str]]:
    """Catalog keys whose English text appears in the visible text of a Chinese report."""
    text = _visible_text(html)
    found = []
    for key, texts in LABELS.items():
        english = re.sub(r"{[^}]*}", "", texts["en"]).strip()
        if re.search(r"\b" + re.escape(english) + r"\b", text):
            found.append((key, english))
    return found


def figures(html: str) -> list[tuple[str, str]]:
    """(alt text, caption) of every embedded figure."""
    return re.findall(
        r'<img alt="([^"]*)" src="data:image/png;base64,[^"]+">\s*<figcaption>(.*?)</figcaption>',
        html,
        flags=re.S,
    )


def offline(html: str) -> bool:
    """No src or href reaches outside the file (only data: URIs and #anchors)."""
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    return all(r.startswith(("data:", "#")) for r in refs) and not re.search(r"https?://", html)


def test_hangzhou_nanjing_report_en_and_zh(hn_store, tmp_path):
    sizes = {}
    for lang in LANGS:
        out = innosim.write_report(
            "latest", lang=lang, out=tmp_path / f"{lang}.html", store=hn_store
        )
        html = out.read_text(encoding="utf-8")
        sizes[lang] = len(figures(html))
        assert sizes[lang] >= 6
        assert html.count("<img ") == len(figures(html))  # every figure has a caption
        assert all(caption.strip() for _, caption in figures(html))
        assert offline(html)
        titles = {alt for alt, _ in figures(html)}
        assert LABELS["fig_sankey"][lang] in titles  # talent flows between cities
        assert LABELS["fig_chain"][lang] in titles  # chain-master network
    assert sizes["en"] == sizes["zh"]
    html = (tmp_path / "zh.html").read_text(encoding="utf-8")
    assert untranslated(html) == []
    for city in innosim.load_scenario("hangzhou-nanjing").cities:
        assert city.name_zh in _visible_text(html)


def test_chain_network_is_omitted_with_a_sentence_without_chain_masters():
    import pandas as pd

    from innosim.report.blocks import Figure, Note, Words
    from innosim.report.flows import chain_network, talent_sankey

    cities = ["A", "B"]
    pairs = pd.DataFrame(
        {
            "tick": [0, 0],
            "year": [2000, 2000],
            "quarter": [1, 1],
            "origin": ["A", "B"],
            "destination": ["B", "A"],
            "movers": [3.0, 1.0],
            "graduate_movers": [1.0, 0.0],
            "procurement": [0.0, 0.0],
        }
    )
    w = Words("en")
    note = chain_network(pairs, {"A": 0, "B": 0}, cities, {}, w)
    assert isinstance(note, Note) and note.text == LABELS["chain_none"]["en"]
    assert isinstance(talent_sankey(pairs, cities, w), Figure)
    still = talent_sankey(pairs.assign(movers=0.0), cities, w)
    assert isinstance(still, Note) and still.text == LABELS["sankey_none"]["en"]
    drawn = chain_network(pairs.assign(procurement=[5.0, 0.0]), {"A": 2}, cities, {}, w)
    assert isinstance(drawn, Figure) and "circle" in drawn.caption


def test_replicate_runs_are_drawn_as_bands(tmp_path):
    sc = innosim.load_scenario("demo").with_end_year(2001)
    for seed in (1, 2):
        innosim.save_run(innosim.run(sc, seed), tmp_path)
    out = innosim.write_report("latest", out=tmp_path / "r.html", store=tmp_path)
    html = out.read_text(encoding="utf-8")
    assert "2 runs of this scenario" in html
    assert html.count("mean over 2 replicate runs") == 6
