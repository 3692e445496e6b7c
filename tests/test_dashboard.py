"""The dashboard's logic without a browser: requests, limits, runs, tables, labels, server checks.

The page itself is exercised in ``test_dashboard_browser.py``; here every rule it relies on is
tested directly (size cap, lever and wave validation, names never paths, cancellation, the run
gate, download bytes, the label catalog, the ``innosim serve`` error paths).
"""

from __future__ import annotations

import io
import socket
import string
import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("solara", reason="solara (the 'dashboard' extra) is not installed")

from innosim.cli import app
from innosim.dashboard import assets, charts, logic, server
from innosim.dashboard.logic import (
    MAX_AGENT_TICKS,
    SCALES,
    BusyError,
    Policy,
    Prepared,
    RunGate,
    RunRequest,
    SizeError,
    compare_table,
    download_bytes,
    download_name,
    estimate_agent_ticks,
    execute,
    prepare,
    shipped_scenario,
)
from innosim.errors import InputError
from innosim.labels import LABELS, LANGS, text
from innosim.params.declarations import BY_NAME

SCENARIO = "demo"


@pytest.fixture(scope="module")
def demo_sc():
    return shipped_scenario(SCENARIO)


def _quick(request: RunRequest, end_year: int = 2001) -> Prepared:
    """``prepare(request)`` cut to a few years, so a run takes a fraction of a second."""
    p = prepare(request)
    sc = p.scenario.with_end_year(end_year)
    return Prepared(p.request, sc, estimate_agent_ticks(sc)[0])


# --------------------------------------------------------------------------- names, not paths


@pytest.mark.parametrize(
    "name",
    [
        "../scenarios/demo",
        "scenarios/demo.toml",
        "demo.toml",
        "/etc/passwd",
        "..",
        "",
        "demo ",
        "no-such-scenario",
        5,
        None,
        ["demo"],
    ],
)
def test_only_the_names_of_listed_scenarios_are_accepted(name: object) -> None:
    with pytest.raises(InputError, match=r"unknown scenario.*never a path"):
        shipped_scenario(name)
    with pytest.raises(InputError, match="scenario"):
        prepare(RunRequest(scenario=name, scale=0.1))  # type: ignore[arg-type]


def test_listed_scenarios_load_by_name() -> None:
    names = logic.scenario_names()
    assert SCENARIO in names
    assert all("/" not in n and "." not in n for n in names)
    assert shipped_scenario(SCENARIO).name == SCENARIO


def test_download_names_are_built_from_validated_values(demo_sc) -> None:
    out = execute(_quick(RunRequest(SCENARIO, scale=0.1, seed=3, label="B")))
    assert out is not None
    for fmt in logic.DOWNLOAD_FORMATS:
        name = download_name(out, fmt)
        assert name == f"innosim-demo-policyB-seed3-scale0.1.{fmt}"
        assert "/" not in name and "\\" not in name


# --------------------------------------------------------------------------- levers and waves


def test_levers_are_declared_city_parameters_with_their_bounds() -> None:
    assert len(set(logic.LEVER_PARAMS)) == len(logic.LEVER_PARAMS)
    for param in logic.LEVER_PARAMS:
        spec = BY_NAME[param]
        assert spec.scope == "city"
        assert logic.lever_bounds(param) == (spec.low, spec.high)
    groups = dict(logic.LEVER_GROUPS)
    assert groups["demand"] == ("demand_consumer", "demand_enterprise", "demand_government")
    assert {"failure_tolerance", "risk_appetite", "labs", "compute", "talent_programme"} <= set(
        logic.LEVER_PARAMS
    )


def test_a_request_sets_levers_and_wave_years_on_a_copy(demo_sc) -> None:
    city = demo_sc.city_names[1]
    wave = demo_sc.waves[-1]
    policy = (
        Policy()
        .with_lever(city, "failure_tolerance", 0.05)
        .with_lever(city, "demand_government", 4.0)
        .with_wave(wave.name, int(wave.start_year) + 2)
    )
    p = prepare(RunRequest(SCENARIO, scale=0.5, seed=7, policy=policy))
    i = p.scenario.city_index(city)
    assert p.scenario.city["failure_tolerance"][i] == 0.05
    assert p.scenario.city["demand_government"][i] == 4.0
    assert {w.name: w.start_year for w in p.scenario.waves}[wave.name] == wave.start_year + 2
    assert p.scenario.persons_per_agent == demo_sc.persons_per_agent / 0.5
    # the shipped scenario is untouched
    assert shipped_scenario(SCENARIO).city["failure_tolerance"][i] != 0.05
    assert {w.name: w.start_year for w in shipped_scenario(SCENARIO).waves}[wave.name] == (
        wave.start_year
    )
    # other cities keep their values
    j = 0 if i else 1
    assert p.scenario.city["failure_tolerance"][j] == demo_sc.city["failure_tolerance"][j]


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("failure_tolerance", 1.5, "out of bounds.*expected a number in \\[0, 1\\]"),
        ("failure_tolerance", -0.1, "out of bounds"),
        ("risk_appetite", float("nan"), "not a finite number"),
        ("talent_programme", float("inf"), "not a finite number"),
        ("labs", "3", "not a number"),
        ("compute", True, "not a number"),
        ("population", 1e6, "not a dashboard lever"),
        ("amenity", 1.0, "not a dashboard lever"),
    ],
)
def test_bad_lever_values_are_refused_naming_the_field(
    demo_sc, param: str, value: object, match: str
) -> None:
    city = demo_sc.city_names[0]
    policy = Policy(levers={(city, param): value})  # type: ignore[dict-item]
    with pytest.raises(InputError, match=match) as err:
        prepare(RunRequest(SCENARIO, scale=0.1, policy=policy))
    assert f"{city}.{param}" in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_cities_and_waves_are_refused(demo_sc) -> None:
    with pytest.raises(InputError, match="unknown city"):
        prepare(RunRequest(SCENARIO, policy=Policy(levers={("Atlantis", "labs"): 1.0})))
    with pytest.raises(InputError, match="unknown wave"):
        prepare(RunRequest(SCENARIO, policy=Policy(waves={"steam engine": 2000})))
    first, last = logic.wave_bounds(demo_sc)
    name = demo_sc.waves[0].name
    for year in (first - 1, last + 1, 2005.5):
        with pytest.raises(InputError, match="wave start out of range"):
            prepare(RunRequest(SCENARIO, policy=Policy(waves={name: year})))  # type: ignore[dict-item]
    assert prepare(RunRequest(SCENARIO, scale=0.1, policy=Policy(waves={name: first})))


@pytest.mark.parametrize(
    ("scale", "seed", "match"),
    [
        (0.3, 1, "scale not offered"),
        ("1", 1, "not a number"),
        (1.0, -1, "bad seed"),
        (1.0, 2**32, "bad seed"),
        (1.0, True, "bad seed"),
        (1.0, 1.5, "bad seed"),
    ],
)
def test_scale_and_seed_are_checked(scale: object, seed: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        prepare(RunRequest(SCENARIO, scale=scale, seed=seed))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- size limit


def test_size_estimate_grows_with_scale_and_ticks(demo_sc) -> None:
    sizes = [estimate_agent_ticks(demo_sc.with_scale(s))[0] for s in SCALES]
    assert sizes == sorted(sizes)
    size, agents, ticks = estimate_agent_ticks(demo_sc)
    assert ticks == demo_sc.n_ticks and size == agents * ticks
    assert agents == int(np.ceil(demo_sc.city["population"].sum() / demo_sc.persons_per_agent))


def test_requests_over_the_size_limit_are_refused_with_a_message(demo_sc) -> None:
    accepted = [
        s for s in SCALES if estimate_agent_ticks(demo_sc.with_scale(s))[0] <= MAX_AGENT_TICKS
    ]
    refused = [s for s in SCALES if s not in accepted]
    assert accepted and refused  # the page offers both sides of the limit for demo
    for s in accepted:
        assert prepare(RunRequest(SCENARIO, scale=s)).agent_ticks <= MAX_AGENT_TICKS
    for s in refused:
        with pytest.raises(SizeError) as err:
            prepare(RunRequest(SCENARIO, scale=s))
        e = err.value
        assert e.agent_ticks > MAX_AGENT_TICKS and e.agent_ticks == e.agents * e.ticks
        assert isinstance(e, InputError)
        assert "run too large" in str(e) and f"at most {MAX_AGENT_TICKS:,}" in str(e)
    shown = text("too_large", "en", size=1, agents=1, ticks=1, limit=MAX_AGENT_TICKS)
    assert "12,000,000" in shown and "Request refused" in shown


def test_every_shipped_scenario_has_a_default_scale_that_fits() -> None:
    for name in logic.scenario_names():
        sc = shipped_scenario(name)
        s = logic.default_scale(sc)
        assert s in SCALES and s <= logic.DEFAULT_SCALE
        assert prepare(RunRequest(name, scale=s)).agent_ticks <= MAX_AGENT_TICKS


def test_the_largest_shipped_scenario_is_refused_at_full_scale() -> None:
    for name in logic.scenario_names():
        sc = shipped_scenario(name)
        if estimate_agent_ticks(sc)[0] > MAX_AGENT_TICKS:
            with pytest.raises(SizeError):
                prepare(RunRequest(name, scale=1.0))
            return
    pytest.skip("every shipped scenario fits under the limit at scale 1")


# --------------------------------------------------------------------------- running


def test_execute_returns_the_yearly_table_and_is_deterministic() -> None:
    req = RunRequest(SCENARIO, scale=0.1, seed=11)
    ticks: list[tuple[int, int]] = []
    a = execute(_quick(req), progress=lambda d, n: ticks.append((d, n)))
    b = execute(_quick(req))
    assert a is not None and b is not None
    n = ticks[-1][1]
    assert [d for d, _ in ticks] == list(range(1, n + 1))
    pd.testing.assert_frame_equal(a.yearly, b.yearly)
    assert set(logic.SERIES_METRICS) <= set(a.yearly.columns)
    assert a.last_year == 2001
    assert [c for c, _ in a.cities] == list(shipped_scenario(SCENARIO).city_names)
    assert all(zh for _, zh in a.cities)
    assert float(a.final("value_added").sum()) > 0


def test_a_run_stops_when_asked_and_returns_none() -> None:
    seen: list[int] = []
    stop_after = 3

    out = execute(
        _quick(RunRequest(SCENARIO, scale=0.1)),
        progress=lambda d, n: seen.append(d),
        should_stop=lambda: len(seen) >= stop_after,
    )
    assert out is None
    assert seen == list(range(1, stop_after + 1))
    assert logic.GATE.load == (0, 0)  # the slot was given back


def test_the_gate_bounds_running_and_waiting_runs() -> None:
    gate = RunGate(max_running=1, max_waiting=1, poll_s=0.01)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.slot():
            holding.set()
            release.wait()

    t = threading.Thread(target=hold)
    t.start()
    holding.wait()
    waiting = threading.Event()
    stop = threading.Event()
    results: list[object] = []

    def wait_in_line() -> None:
        results.append(
            execute(
                _quick(RunRequest(SCENARIO, scale=0.1)),
                gate=gate,
                should_stop=stop.is_set,
                on_wait=waiting.set,
            )
        )

    w = threading.Thread(target=wait_in_line)
    w.start()
    waiting.wait()
    assert gate.load == (1, 1)
    with pytest.raises(BusyError, match="busy"), gate.slot():  # the line is full
        pass
    stop.set()  # the waiting request is cancelled and leaves the line
    w.join()
    assert results == [None]
    release.set()
    t.join()
    assert gate.load == (0, 0)
    with gate.slot():
        assert gate.load == (1, 0)


def test_the_gate_never_runs_more_than_its_limit_at_once() -> None:
    gate = RunGate(max_running=2, max_waiting=10, poll_s=0.005)
    lock = threading.Lock()
    now, peak = [0], [0]
    barrier = threading.Barrier(6)

    def work() -> None:
        barrier.wait()
        with gate.slot():
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            for _ in range(2000):
                pass
            with lock:
                now[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert 1 <= peak[0] <= 2
    assert gate.load == (0, 0)


# --------------------------------------------------------------------------- tables, downloads


@pytest.fixture(scope="module")
def pair():
    base = RunRequest(SCENARIO, scale=0.1, seed=5)
    sc = shipped_scenario(SCENARIO)
    city = sc.city_names[0]
    a = execute(_quick(base))
    b = execute(
        _quick(replace(base, label="B", policy=Policy().with_lever(city, "failure_tolerance", 0)))
    )
    assert a is not None and b is not None
    return a, b


def test_compare_table_pairs_policies_by_city_and_metric(pair) -> None:
    a, b = pair
    t = compare_table(a, b)
    assert list(t.columns) == ["city", "metric", "a", "b", "diff", "rel_change"]
    assert len(t) == len(a.cities) * len(logic.SERIES_METRICS)
    np.testing.assert_allclose(t["diff"], t["b"] - t["a"])
    same = compare_table(a, a)
    assert (same["diff"] == 0).all()
    other = replace(a, yearly=a.yearly[a.yearly["year"] < a.last_year])
    with pytest.raises(InputError, match="not comparable"):
        compare_table(a, other)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_download_bytes_round_trip(pair, fmt: str) -> None:
    a, _ = pair
    data = download_bytes(a.yearly, fmt)
    assert isinstance(data, bytes) and data
    back = pd.read_csv(io.BytesIO(data)) if fmt == "csv" else pd.read_parquet(io.BytesIO(data))
    pd.testing.assert_frame_equal(
        back, a.yearly.reset_index(drop=True), check_dtype=fmt == "parquet"
    )


def test_unknown_download_formats_are_refused(pair) -> None:
    with pytest.raises(InputError, match="unknown download format"):
        download_bytes(pair[0].yearly, "../x.csv")


def test_figures_draw_in_both_languages(pair) -> None:
    a, b = pair
    table = pd.DataFrame(
        {
            "city": ["P", "Q"],
            "talent": [1.0, 2.0],
            "organization": [1.0, 2.0],
            "place": [1.0, 2.0],
            "score": [10.0, 90.0],
            "rank": [2, 1],
            "rank_low": [2, 1],
            "rank_high": [2, 2],
        }
    )
    for lang in LANGS:
        figs = [
            charts.series_figure(a, lang),
            charts.compare_figure(a, b, lang),
            charts.index_figure(table, lang, {"P": "甲"}),
        ]
        assert [len(f.axes) for f in figs] == [4, 2 * len(logic.SERIES_METRICS), 1]
        for f in figs:
            buf = io.BytesIO()
            f.savefig(buf, format="png")
            assert buf.getvalue()[:4] == b"\x89PNG"


def test_the_index_is_computed_once_per_process() -> None:
    logic._index.cache_clear()
    t1 = logic.index_table()
    t1.loc[0, "score"] = -1.0  # a caller's copy: changing it changes nothing shared
    t2 = logic.index_table()
    assert logic._index.cache_info().misses == 1
    assert t2.loc[0, "score"] != -1.0
    assert {"city", "score", "rank", "rank_low", "rank_high"} <= set(t2.columns)
    zh = logic.chinese_city_names()
    assert zh and all(any(ord(ch) > 127 for ch in v) for v in zh.values())


# --------------------------------------------------------------------------- labels


def test_every_dashboard_label_has_both_languages_with_the_same_fields() -> None:
    def fields(s: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    assert set(LANGS) == {"en", "zh"}
    for key, entry in LABELS.items():
        assert set(entry) == set(LANGS), key
        assert all(entry[lang].strip() for lang in LANGS), key
        assert fields(entry["en"]) == fields(entry["zh"]), key


def test_every_key_the_page_uses_exists() -> None:
    keys = ["lg_" + g for g, _ in logic.LEVER_GROUPS] + ["p_" + p for p in logic.LEVER_PARAMS]
    keys += ["m_" + m for m in logic.SERIES_METRICS] + ["tab_charts", "tab_compare", "tab_index"]
    keys += ["tab_download", "h_city", "axis_year", "u_value_added", "u_firms"]
    for key in keys:
        for lang in LANGS:
            assert text(key, lang)
    assert text("m_firms", "zh") != text("m_firms", "en")  # from the report's catalog
    assert text("run", "zh", slot="A") == "运行政策 A"


# --------------------------------------------------------------------------- server and CLI


def test_serve_without_solara_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "_find_spec", lambda name: None)
    res = CliRunner().invoke(app, ["serve", "--port", "8765"])
    assert res.exit_code == 2
    assert "pip install 'innosim[dashboard]'" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_serve_refuses_a_port_in_use() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert res.exit_code == 2
    assert "cannot listen there" in res.stderr and "--port" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_serve_refuses_bad_ports_and_hosts() -> None:
    assert CliRunner().invoke(app, ["serve", "--port", "70000"]).exit_code == 2
    with pytest.raises(InputError, match="bad port"):
        server.check_port("127.0.0.1", 0)
    with pytest.raises(InputError, match="--host"):
        server.check_port("no such host.invalid", 8765)


def test_front_end_packages_are_read_from_solara_and_npm_is_required(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkgs = dict(assets.required_packages())
    assert {"requirejs", "font-awesome"} <= set(pkgs)
    assert any("solara-vuetify" in n for n in pkgs)
    assert assets.missing(tmp_path) == sorted(pkgs.items())
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="npm is not installed"):
        assets.install(tmp_path)
    for name, version in pkgs.items():  # what install leaves: one unpacked package each
        d = tmp_path / f"{name}@{version}"
        d.mkdir(parents=True)
        (d / "package.json").write_text("{}")
    assert assets.missing(tmp_path) == []
    assert assets.install(tmp_path) == []
