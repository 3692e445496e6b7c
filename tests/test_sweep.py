"""Sweeps: ranges and designs, the resumable shard store, summaries and ``innosim sweep``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.errors import InputError, StoreError
from innosim.experiments.design import apply_point, make_design, parse_range
from innosim.experiments.executor import Executor
from innosim.experiments.sweep import high_state_threshold, sweep, sweep_summary
from innosim.store.sweeps import SweepStore, run_key

ONE = Executor("local", workers=1)
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny() -> innosim.Scenario:
    return innosim.load_scenario("demo").with_end_year(2000).with_scale(0.3)


# --------------------------------------------------------------------------- ranges and designs


def test_parse_range_forms(tiny) -> None:
    a, b = tiny.city_names[:2]
    r = parse_range("failure_tolerance=0.3:0.9:5", tiny)
    assert (r.name, r.city, r.low, r.high, r.n, r.label) == (
        "failure_tolerance", None, 0.3, 0.9, 5, "failure_tolerance"
    )  # fmt: skip
    r = parse_range(f"{a}.demand_consumer=0.5:2", tiny)
    assert (r.city, r.label) == (a, f"{a}.demand_consumer")
    r = parse_range("spillover_elasticity=0.05,0.1", tiny)
    assert r.values == (0.05, 0.1)
    sc = apply_point(
        tiny,
        [parse_range("failure_tolerance=0:1"), parse_range(f"{b}.failure_tolerance=0:1", tiny)],
        [0.2, 0.7],
    )
    ft = sc.city["failure_tolerance"]
    assert ft[tiny.city_index(b)] == 0.7
    assert all(ft[i] == 0.2 for i in range(tiny.n_cities) if i != tiny.city_index(b))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("failure_tolerance", "bad parameter range"),
        ("failure_tolerance=0.1", "bad parameter range"),
        ("failure_tolerans=0.1:0.5", "did you mean failure_tolerance"),
        ("failure_tolerance=0.1:1.5", "outside the parameter's bounds"),
        ("failure_tolerance=0.8:0.2", "LOW > HIGH"),
        ("failure_tolerance=a:0.2", "not a number"),
        ("failure_tolerance=0.1:0.5:0", "grid points"),
        ("Atlantis.failure_tolerance=0.1:0.5", "unknown city"),
        ("X.spillover_elasticity=0.1:0.2", "global parameter"),
        ("failure_tolerance=0.1,0.1", "listed twice"),
    ],
)
def test_bad_ranges_name_field_value_and_expectation(tiny, text, problem) -> None:
    with pytest.raises(InputError) as exc:
        parse_range(text, tiny)
    msg = str(exc.value)
    assert problem in msg and "--param" in msg and "expected" in msg


def test_designs_are_seeded_and_within_bounds() -> None:
    rs = [parse_range("failure_tolerance=0.2:0.8"), parse_range("demand_consumer=0.5:3")]
    g = make_design(rs, "grid", 3)
    assert len(g) == 9 and list(g.columns) == ["failure_tolerance", "demand_consumer"]
    for kind, n in (("lhs", 12), ("sobol", 16)):
        a, b = make_design(rs, kind, n, seed=1), make_design(rs, kind, n, seed=1)
        pd.testing.assert_frame_equal(a, b)
        assert len(a) == n
        assert a["failure_tolerance"].between(0.2, 0.8).all()
        assert a["demand_consumer"].between(0.5, 3).all()
        assert not a.equals(make_design(rs, kind, n, seed=2))
    # LHS: one point per stratum of every parameter
    u = (make_design(rs, "lhs", 12, seed=3)["failure_tolerance"] - 0.2) / 0.6
    assert sorted(np.floor(u * 12).astype(int)) == list(range(12))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("sobol", 12), "--n"),
        (("lhs", 0), "--n"),
        (("box", 4), "--design"),
    ],
)
def test_bad_designs(args, field) -> None:
    with pytest.raises(InputError) as exc:
        make_design([parse_range("failure_tolerance=0.2:0.8")], *args)
    assert exc.value.field == field
    with pytest.raises(InputError, match="grid designs only"):
        make_design([parse_range("failure_tolerance=0.2:0.8:3")], "lhs", 4)


# --------------------------------------------------------------------------- sweep and store


def test_sweep_table_resume_and_store(tiny, tmp_path: Path, frame_bytes) -> None:
    params = ["failure_tolerance=0.3:0.9:3"]
    kw = dict(replicates=2, metrics=["firms", "unicorns"], seed=11, executor=ONE)
    mem = sweep(tiny, params, **kw)
    assert list(mem.columns) == [
        "point", "failure_tolerance", "replicate", "seed", "run_id", "city", "firms", "unicorns"
    ]  # fmt: skip
    assert len(mem) == 3 * 2 * tiny.n_cities and mem["run_id"].nunique() == 6
    # replicate r uses the same seed at every point (common random numbers)
    key = run_key(
        apply_point(tiny, [parse_range(params[0])], [0.3]), innosim.replicate_seeds(11, 2)[1]
    )
    assert key in set(mem.loc[(mem["point"] == 0) & (mem["replicate"] == 1), "run_id"])

    out = tmp_path / "sw"
    first = sweep(tiny, params, out=out, **kw)
    assert frame_bytes(first) == frame_bytes(mem)
    assert first.attrs["computed"] == 6 and first.attrs["reused"] == 0
    assert {Path(f).name for f in first.attrs["files"]} == {
        "sweep.csv", "summary.csv", "sweep.json"
    }  # fmt: skip
    # more replicates and another metric: only the new runs are computed
    more = sweep(tiny, params, out=out, **{**kw, "replicates": 3, "metrics": ["value_added"]})
    assert more.attrs["computed"] == 3 and more.attrs["reused"] == 6
    again = sweep(tiny, params, out=out, **kw)
    assert again.attrs["computed"] == 0
    assert frame_bytes(again) == frame_bytes(mem)
    # one city only: one row per run
    one = sweep(tiny, params, out=out, **{**kw, "city": tiny.city_names[1]})
    assert len(one) == 6 and set(one["city"]) == {tiny.city_names[1]}
    store = SweepStore(out).open()
    q = store.query("SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM shard_rows")
    assert q.at[0, "runs"] == 9 and q.at[0, "n"] == 9 * tiny.n_cities  # nothing computed twice


def test_store_ignores_temp_files_and_quarantines_bad_shards(tiny, tmp_path: Path) -> None:
    params = ["failure_tolerance=0.3:0.9:2"]
    kw = dict(replicates=1, metrics=["firms"], seed=5, executor=ONE, out=tmp_path)
    ref = sweep(tiny, params, **kw)
    shards = SweepStore(tmp_path).shard_files()
    assert len(shards) >= 1
    (tmp_path / "shards" / ".tmp-deadbeef.parquet").write_bytes(b"half a shard")
    # a reader that does not open (clean) the store skips the temporary file
    q = SweepStore(tmp_path).query("SELECT count(DISTINCT run_id) AS n FROM runs")
    assert q.at[0, "n"] == 2
    shards[0].write_bytes(b"not parquet")  # damaged outside innosim
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = sweep(tiny, params, **kw)
    assert any("quarantine" in str(w.message) for w in caught)
    assert not list((tmp_path / "shards").glob(".tmp-*"))
    assert again.attrs["computed"] >= 1
    pd.testing.assert_frame_equal(again, ref)


def test_store_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "store.json").write_text('{"format": "something else"}')
    with pytest.raises(StoreError, match="other than a sweep store"):
        SweepStore(tmp_path).open()
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        SweepStore(f).open()


def test_empty_store_queries() -> None:
    store = SweepStore("/nonexistent/innosim-store")
    assert store.finished() == set()
    assert store.rows(["abc"]).empty


def test_summary_and_high_state_share() -> None:
    assert high_state_threshold(np.array([0, 0, 1, 9, 10, 10.0])) == 5.0
    assert np.isnan(high_state_threshold(np.array([2.0, 2.0])))
    rows = []
    for point, x in enumerate((0.1, 0.5, 0.9)):
        values = {0.1: [0, 0, 1, 0], 0.5: [0, 10, 0, 11], 0.9: [10, 12, 11, 10]}[x]
        for r, v in enumerate(values):
            rows.append({"point": point, "p": x, "replicate": r, "seed": 1, "run_id": f"{point}{r}",
                         "city": "A", "u": float(v)})  # fmt: skip
    df = pd.DataFrame(rows)
    df.attrs.update(params=[{"label": "p"}], metrics=["u"])
    s = sweep_summary(df)
    assert list(s["u_high"]) == [0.0, 0.5, 1.0]  # the middle point is bistable
    assert s.loc[1, "u_sd"] > s.loc[0, "u_sd"] and s.loc[1, "u_sd"] > s.loc[2, "u_sd"]
    assert s.attrs["thresholds"]["u"]["A"] == pytest.approx(5.5)


# --------------------------------------------------------------------------- CLI


def test_cli_sweep_writes_results_and_phase_diagram(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    args = ["sweep", "demo", "-p", "failure_tolerance=0.3:0.9:2", "-p", "demand_consumer=0.5:2:2",
            "--replicates", "2", "--year", "2000", "--scale", "0.3", "--workers", "1",
            "--metrics", "firms,unicorns", "--out", str(out)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "8 runs: 8 computed, 0 found in the store" in res.stdout
    for name in ("sweep.csv", "summary.csv", "sweep.json", "phase.png"):
        assert (out / name).stat().st_size > 0
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["replicates"] == 2 and meta["design"] == "grid" and meta["n_points"] == 4
    res = runner.invoke(app, [*args, "--format", "json", "--no-figure"])
    assert res.exit_code == 0
    got = json.loads(res.stdout)
    assert got["reused"] == 8 and got["computed"] == 0 and len(got["summary"]) == 4 * 5


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["-p", "failure_tolerance=0.3:1.3"], "--param failure_tolerance"),
        (["-p", "nope=1:2"], "unknown parameter"),
        (["-p", "failure_tolerance=0.3:0.9", "--metrics", "unicrons"], "--metric"),
        (["-p", "failure_tolerance=0.3:0.9", "--year", "1800"], "--year"),
        (["-p", "failure_tolerance=0.3:0.9", "--city", "Atlantis"], "--city"),
        (["-p", "failure_tolerance=0.3:0.9", "--workers", "2", "--dask-local", "2"], "conflicting"),
        (["-p", "failure_tolerance=0.3:0.9", "--scheduler", "8786"], "tcp://HOST:PORT"),
        (["-p", "failure_tolerance=0.3:0.9", "--design", "sobol", "--n", "6"], "power of two"),
        (["-p", "failure_tolerance=0.3:0.9", "--replicates", "0"], "--replicates"),
    ],
)
def test_cli_bad_input_exits_2_with_one_paragraph(tmp_path: Path, extra, needle) -> None:
    res = runner.invoke(app, ["sweep", "demo", *extra, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert res.stderr.startswith("error: ") and needle in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o" / "sweep.csv").exists()
