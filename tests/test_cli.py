"""The command line and the Python API under it.

Every command is exercised in-process with ``typer.testing.CliRunner`` and, for the paths a user
hits first (a run, bad input, bad arguments), through the real executable in a subprocess, so
that exit codes, stderr and the absence of tracebacks are what a shell sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import innosim
from innosim import api
from innosim.cli import app
from innosim.store import RunStore

FAST = ["--until", "2002", "--scale", "0.3", "--seed", "1"]
"""Options that make a demo run take a fraction of a second."""

runner = CliRunner()


def cli(*args: str | Path) -> tuple[int, str, str]:
    """Invoke the app in-process; returns (exit code, stdout, stderr)."""
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


def exe(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``innosim`` console script (``python -m innosim`` if it is not installed)."""
    script = Path(sys.executable).with_name("innosim")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "innosim"]
    env = {**os.environ, "COLUMNS": "160"}
    env.pop("INNOSIM_DEBUG", None)
    return subprocess.run(
        [*cmd, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results store holding one fast demo run made through the CLI."""
    out = tmp_path_factory.mktemp("results")
    code, _, stderr = cli("run", "demo", *FAST, "--out", out)
    assert code == 0, stderr
    return out


def _run_ids(out: Path) -> list[str]:
    return list(RunStore(out).list_runs()["run_id"])


# --------------------------------------------------------------------------- run, show, plot


def test_run_prints_summary_and_stores_one_run_with_figure(store: Path) -> None:
    (run_id,) = _run_ids(store)
    run_dir = store / "runs" / run_id
    png = run_dir / "timeseries.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, stdout, _ = cli("show", run_id, "--out", store)
    assert code == 0
    for city in ("Hangzhou", "Nanjing"):
        assert city in stdout
    assert "2002" in stdout and "Unicorns" in stdout


def test_run_output_names_results_path_run_id_and_figure(tmp_path: Path) -> None:
    code, stdout, stderr = cli("run", "demo", *FAST, "--out", tmp_path)
    assert code == 0, stderr
    (run_id,) = _run_ids(tmp_path)
    assert f"Results: {tmp_path / 'runs' / run_id}" in stdout
    assert run_id in stdout and "timeseries.png" in stdout
    assert "Value added" in stdout and "Hangzhou" in stdout
    # the same scenario, seed and options give the same run id: re-running replaces the run
    assert cli("run", "demo", *FAST, "--out", tmp_path)[0] == 0
    assert _run_ids(tmp_path) == [run_id]


def test_run_json_is_parseable_and_matches_the_api(tmp_path: Path) -> None:
    code, stdout, stderr = cli("run", "demo", *FAST, "--out", tmp_path, "--format", "json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert set(doc) >= {"run_id", "path", "summary", "year"}
    assert doc["year"] == 2002
    assert Path(doc["path"]).is_dir()
    rows = pd.DataFrame(doc["summary"])
    assert list(rows.columns) == list(api.SUMMARY_COLUMNS)
    direct = api.simulate("demo", seed=1, until=2002, scale=0.3).summary()
    pd.testing.assert_frame_equal(rows, direct, check_dtype=False)


def test_show_by_prefix_latest_and_json(store: Path) -> None:
    (run_id,) = _run_ids(store)
    by_prefix = cli("show", run_id[:6], "--out", store)
    latest = cli("show", "latest", "--out", store)
    assert by_prefix[0] == latest[0] == 0
    assert by_prefix[1] == latest[1]
    code, stdout, _ = cli("show", "latest", "--out", store, "--format", "json", "--year", "2001")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["run_id"] == run_id and doc["year"] == 2001
    assert len(doc["summary"]) == 5


def test_show_unknown_run_and_bad_year_exit_2(store: Path) -> None:
    code, _, stderr = cli("show", "ffffffff", "--out", store)
    assert code == 2 and stderr.startswith("error: ") and "ffffffff" in stderr
    code, _, stderr = cli("show", "latest", "--out", store, "--year", "1990")
    assert code == 2 and "1990" in stderr


def test_load_summary_recomputes_the_run_summary(tmp_path: Path) -> None:
    result = api.simulate("demo", seed=4, until=2003, scale=0.3)
    run_id, path = api.save_run(result, tmp_path)
    assert path == tmp_path.absolute() / "runs" / run_id
    assert len(run_id) == 16
    for year in (None, 2001):
        stored = api.load_summary(run_id, tmp_path, year=year)
        pd.testing.assert_frame_equal(stored, result.summary(year), check_dtype=False)
    meta = RunStore(tmp_path).load_run(run_id).meta
    assert meta["scale"] == 0.3 and meta["seed"] == 4 and meta["created"].endswith("+00:00")


def test_plot_writes_png(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "fig.png"
    code, stdout, stderr = cli("plot", "latest", "--out", store, "--file", target)
    assert code == 0, stderr
    assert target.read_bytes()[:4] == b"\x89PNG" and str(target) in stdout


# --------------------------------------------------------------------------- params, scenarios


def test_params_lists_units_bounds_and_sources() -> None:
    code, stdout, _ = cli("params", "--format", "csv")
    assert code == 0
    from io import StringIO

    df = pd.read_csv(StringIO(stdout), keep_default_na=False)
    assert list(df.columns) == list(api.PARAMS_COLUMNS)
    assert len(df) == len(innosim.PARAMS)
    row = df.set_index("name").loc["failure_tolerance"]
    assert row["unit"] == "share" and row["source"] and row["value"] == row["default"]
    code, stdout, _ = cli("params")
    assert code == 0 and "failure_tolerance" in stdout and "share" in stdout


def test_params_of_a_city_shows_scenario_values_and_sources() -> None:
    code, stdout, _ = cli("params", "demo", "--city", "Nanjing", "--format", "json")
    assert code == 0
    rows = pd.DataFrame(json.loads(stdout))
    assert set(rows["city"]) == {"", "Nanjing"}
    ft = rows[rows["name"] == "failure_tolerance"].iloc[0]
    sc = innosim.load_scenario("demo")
    assert ft["value"] == sc.city["failure_tolerance"][sc.city_index("Nanjing")]
    declared = next(p for p in innosim.PARAMS if p.name == "failure_tolerance").source
    assert ft["source"] == sc.sources.get("Nanjing.failure_tolerance", declared)
    code, stdout, _ = cli("params", "demo", "--city", "Nanjing")
    assert code == 0 and "Nanjing" in stdout and "failure_tolerance" in stdout


def test_params_table_one_row_per_city_parameter_and_city() -> None:
    sc = innosim.load_scenario("demo")
    df = api.params_table(sc)
    n_city = sum(p.scope == "city" for p in innosim.PARAMS)
    n_glob = len(innosim.PARAMS) - n_city
    assert len(df) == n_glob + n_city * sc.n_cities
    hz = df[(df["name"] == "failure_tolerance") & (df["city"] == "Hangzhou")].iloc[0]
    assert hz["source"] == sc.sources["Hangzhou.failure_tolerance"]


def test_params_unknown_city_exits_2() -> None:
    code, _, stderr = cli("params", "demo", "--city", "Atlantis")
    assert code == 2 and "Atlantis" in stderr and "Nanjing" in stderr


def test_scenarios_lists_demo() -> None:
    code, stdout, _ = cli("scenarios")
    assert code == 0 and "demo" in stdout and "hangzhou-nanjing" in stdout


# --------------------------------------------------------------------------- ensembles


def test_ensemble_stacks_replicates_with_distinct_seeds() -> None:
    df = api.ensemble("demo", replicates=3, seed=7, until=2002, scale=0.3)
    assert list(df.columns) == ["replicate", *api.SUMMARY_COLUMNS]
    assert sorted(df["replicate"].unique()) == [0, 1, 2]
    again = api.ensemble("demo", replicates=3, seed=7, until=2002, scale=0.3)
    pd.testing.assert_frame_equal(df, again)
    per_rep = df.groupby("replicate")["value_added"].sum()
    assert per_rep.nunique() == 3  # independent streams, not one seed three times


def test_counterfactual_with_common_random_numbers() -> None:
    sc = innosim.load_scenario("demo").with_scale(0.3)
    df = api.counterfactual(
        sc, city="Nanjing", like="Hangzhou", replicates=2, seed=3, year=2002, metric="entries"
    )
    assert set(df["city"]) == set(sc.city_names)
    assert (df["baseline_lo"] <= df["baseline_mean"] + 1e-9).all()
    assert (df["baseline_mean"] <= df["baseline_hi"] + 1e-9).all()
    assert df.attrs["changes"], "Nanjing and Hangzhou differ in culture and demand"
    assert all(
        innosim.PARAMS[[p.name for p in innosim.PARAMS].index(k)].group in ("culture", "demand")
        for k in df.attrs["changes"]
    )
    # transplanting nothing that differs gives identical ensembles (common random numbers)
    same = api.counterfactual(
        sc,
        city="Nanjing",
        like="Hangzhou",
        groups=["calendar"],
        replicates=2,
        seed=3,
        year=2002,
        metric="entries",
    )
    assert (same["change_mean"] == 0).all() and not same.attrs["changes"]
    g = api.gap_closed(df, "Hangzhou", "Nanjing")
    assert (
        g == g or df.set_index("city").loc[["Hangzhou", "Nanjing"], "baseline_mean"].nunique() == 1
    )


def test_gap_closed_arithmetic() -> None:
    df = pd.DataFrame(
        {"city": ["A", "B"], "baseline_mean": [10.0, 2.0], "counterfactual_mean": [10.0, 6.0]}
    )
    assert api.gap_closed(df, "A", "B") == pytest.approx(0.5)


def test_counterfactual_cli(tmp_path: Path) -> None:
    code, stdout, stderr = cli(
        "counterfactual",
        "demo",
        "--city",
        "Nanjing",
        "--like",
        "Hangzhou",
        "--replicates",
        "2",
        "--year",
        "2002",
        "--scale",
        "0.3",
        "--metric",
        "entries",
        "--seed",
        "2",
    )
    assert code == 0, stderr
    assert "gap in entries in 2002 closed" in stdout and "Nanjing took Hangzhou's values" in stdout
    code, _, stderr = cli(
        "counterfactual",
        "demo",
        "--city",
        "Nanjing",
        "--like",
        "Hangzhou",
        "--groups",
        "culture,vibes",
    )
    assert code == 2 and "vibes" in stderr


# --------------------------------------------------------------------------- bad input

GOOD_HEAD = """
[scenario]
name = "tiny"
end_year = 2001
persons_per_agent = 20000

[[city]]
name = "Alpha"
lat = 30.0
lon = 120.0
"""

BAD_SCENARIOS = {
    "malformed_toml": ("[scenario\nname = 'x'\n", ["malformed TOML"]),
    "unknown_policy_city": (
        GOOD_HEAD
        + '\n[[policy]]\ncity = "Atlantis"\nlever = "subsidy"\nyear = 2000\nvalue = 0.1\n',
        ["policy[0].city", "Atlantis", "Alpha"],
    ),
    "unknown_parameter": (
        GOOD_HEAD + "\n[params]\nfoo_bar_rate = 1.0\n",
        ["params.foo_bar_rate", "unknown parameter"],
    ),
    "wrong_type": (
        GOOD_HEAD + '[city.params]\nfailure_tolerance = "high"\n',
        ["failure_tolerance", "'high'", "a number in [0, 1]"],
    ),
    "out_of_bounds": (
        GOOD_HEAD + "[city.params]\nfailure_tolerance = 7\n",
        ["failure_tolerance", "7", "out of bounds", "[0, 1]"],
    ),
}


def _no_traceback(*texts: str) -> None:
    for t in texts:
        assert "Traceback (most recent call last)" not in t and "internal error" not in t


def test_good_head_is_a_valid_scenario(tmp_path: Path) -> None:
    f = tmp_path / "tiny.toml"
    f.write_text(GOOD_HEAD)
    code, _, stderr = cli("run", f, "--out", tmp_path / "r")
    assert code == 0, stderr


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_file_exits_2_naming_file_field_value(case: str, tmp_path: Path) -> None:
    text, needles = BAD_SCENARIOS[case]
    f = tmp_path / f"{case}.toml"
    f.write_text(text)
    code, stdout, stderr = cli("run", f, "--out", tmp_path / "r")
    assert code == 2
    assert stderr.startswith("error: ") and str(f) in stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)
    _no_traceback(stdout, stderr)
    assert not (tmp_path / "r" / "runs").exists()


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, _, stderr = cli("run", missing)
    assert code == 2 and str(missing) in stderr and "not found" in stderr
    code, _, stderr = cli("run", "demoo")
    assert code == 2 and "did you mean demo" in stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--seed", "abc"], "--seed"),
        (["--seed", "-3"], "--seed"),
        (["--scale", "-1"], "--scale"),
        (["--until", "1800"], "--until"),
        (["--frobnicate"], "--frobnicate"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_cli_arguments_exit_2(args: list[str], needle: str, tmp_path: Path) -> None:
    code, stdout, stderr = cli("run", "demo", "--out", tmp_path, *args)
    assert code == 2
    assert needle in stderr
    _no_traceback(stdout, stderr)


def test_out_path_that_is_a_file_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "occupied"
    f.write_text("not a directory")
    code, stdout, stderr = cli("run", "demo", *FAST, "--out", f)
    assert code == 2 and str(f) in stderr and "not a directory" in stderr
    _no_traceback(stdout, stderr)


def test_unexpected_exception_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(api, "params_table", boom)
    monkeypatch.delenv("INNOSIM_DEBUG", raising=False)
    code, _, stderr = cli("params")
    assert code == 1
    assert stderr.startswith("internal error: ZeroDivisionError: boom") and "report" in stderr
    assert "Traceback (most recent call last)" not in stderr
    monkeypatch.setenv("INNOSIM_DEBUG", "1")
    code, _, stderr = cli("params")
    assert code == 1 and "Traceback (most recent call last)" in stderr


# --------------------------------------------------------------------------- real executable


def test_executable_run_show_and_json(tmp_path: Path) -> None:
    res = exe("run", "demo", *FAST, "--out", tmp_path / "r", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Results:" in res.stdout and "Hangzhou" in res.stdout
    (run_id,) = _run_ids(tmp_path / "r")
    assert (tmp_path / "r" / "runs" / run_id / "timeseries.png").is_file()
    res = exe("show", run_id[:5], "--out", "r", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["run_id"] == run_id


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "{bad}"], "out of bounds"),
        (["run", "demo", "--seed", "abc"], "--seed"),
        (["run", "demo", "--until", "1800"], "1800"),
        (["run", "demo", "--out", "{file}"], "not a directory"),
        (["show", "latest", "--out", "{empty}"], "no finished runs"),
    ],
)
def test_executable_errors_exit_2_without_traceback(
    args: list[str], needle: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_SCENARIOS["out_of_bounds"][0])
    file = tmp_path / "file"
    file.write_text("")
    subst = {"{bad}": str(bad), "{file}": str(file), "{empty}": str(tmp_path / "empty")}
    res = exe(*(subst.get(a, a) for a in args), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr
    _no_traceback(res.stdout, res.stderr)


def test_python_dash_m_innosim_version() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "innosim", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0 and res.stdout.strip() == f"innosim {innosim.__version__}"


def test_public_api_is_exported() -> None:
    for name in (
        "simulate",
        "save_run",
        "load_summary",
        "params_table",
        "ensemble",
        "counterfactual",
        "gap_closed",
    ):
        assert name in innosim.__all__ and getattr(innosim, name) is getattr(api, name)
    assert all(hasattr(api, name) for name in api.__all__)


def test_run_core_only_switches_the_non_core_mechanisms_off(tmp_path):
    from innosim.model import CORE_MECHANISMS, NAMES

    r = runner.invoke(
        app,
        [
            "run",
            "demo",
            "--core-only",
            "--until",
            "2002",
            "--format",
            "json",
            "--out",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 0, r.output
    run_id = json.loads(r.stdout)["run_id"]
    meta = json.loads((tmp_path / "runs" / run_id / "meta.json").read_text())
    assert sorted(meta["disabled"]) == sorted(set(NAMES) - CORE_MECHANISMS)
    r = runner.invoke(
        app, ["run", "demo", "--disable", "careers,nope", "--until", "2002", "--out", str(tmp_path)]
    )
    assert r.exit_code == 2 and "nope" in r.output and "Traceback" not in r.output
