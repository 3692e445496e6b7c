"""``innosim validate``: the targets file, the ensemble runner, the executor and the command.

Runs use the shipped ``demo`` scenario with two replicates (about a second a run); the paired
test shortens the runs through a spy on the executor's ``run``.
"""

from __future__ import annotations

import importlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import innosim
from innosim.cli import app
from innosim.errors import InputError
from innosim.experiments import executor
from innosim.experiments.validate import RESULT_COLUMNS, default_targets_path, load_targets
from innosim.stats import CATALOG

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]

HEAD = '[validation]\nscenario = "demo"\nreplicates = 2\nseed = 7\n'
WIDE = """
[[target]]
statistic = "survival_rate"
args = { age_years = 1 }
low = 0.0
high = 1.0
value = 0.796
source = "BLS"

[[target]]
statistic = "seed_to_unicorn_rate"
low = 0.0
high = 1.0
value = 0.01
source = "CB Insights"
"""
IMPOSSIBLE = """
[[target]]
statistic = "survival_rate"
args = { age_years = 1 }
low = 5.0
high = 6.0
source = "impossible on purpose"
"""


def cli(*args: str | Path) -> tuple[int, str, str]:
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


def write(tmp_path: Path, text: str, name: str = "targets.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the targets file


def test_targets_round_trip(tmp_path: Path) -> None:
    text = (
        HEAD
        + WIDE
        + """
[[target]]
statistic = "firm_size_tail_exponent"
low = 0.8
high = 1.3
value = "about 1"
source = "Axtell"
scenario = "hangzhou-nanjing"
"""
    )
    t = load_targets(write(tmp_path, text))
    raw = tomllib.loads(text)
    assert (t.scenario, t.replicates, t.seed) == ("demo", 2, 7)
    assert len(t.targets) == len(raw["target"]) == 3
    for got, want in zip(t.targets, raw["target"], strict=True):
        assert got.statistic == want["statistic"]
        assert (got.low, got.high) == (want["low"], want["high"])
        assert got.value == want.get("value")
        assert got.source == want["source"]
        assert got.scenario == want.get("scenario")
        assert {k: got.args[k] for k in want.get("args", {})} == want.get("args", {})
    # defaults are filled in from the catalog
    assert t.targets[2].args == {"top_share": 0.05, "city": None}


BAD = {
    "unknown statistic": (
        '[[target]]\nstatistic = "no_such_statistic"\nlow = 0\nhigh = 1\n',
        ["target[0].statistic", "no_such_statistic", "survival_rate", "city_ratio"],
    ),
    "wrong arg": (
        '[[target]]\nstatistic = "survival_rate"\nargs = { age = 5 }\nlow = 0\nhigh = 1\n',
        ["target[0].args.age", "age_years"],
    ),
    "wrong arg type": (
        '[[target]]\nstatistic = "survival_rate"\nargs = { age_years = "five" }\n'
        "low = 0\nhigh = 1\n",
        ["target[0].args.age_years", "five"],
    ),
    "missing arg": (
        '[[target]]\nstatistic = "survival_rate"\nlow = 0\nhigh = 1\n',
        ["target[0].args.age_years", "missing"],
    ),
    "low above high": (
        WIDE + '[[target]]\nstatistic = "seed_to_unicorn_rate"\nlow = 0.5\nhigh = 0.1\n',
        ["target[2].low", "0.5"],
    ),
    "missing high": (
        '[[target]]\nstatistic = "seed_to_unicorn_rate"\nlow = 0.5\n',
        ["target[0].high", "missing"],
    ),
    "unknown field": (
        '[[target]]\nstatistic = "seed_to_unicorn_rate"\nlow = 0\nhigh = 1\nweight = 2\n',
        ["target[0].weight", "unknown field"],
    ),
    "malformed TOML": ("[[target]\nstatistic = ", ["malformed TOML"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_targets_file_exits_2_with_one_paragraph(tmp_path: Path, case: str) -> None:
    text, needles = BAD[case]
    path = write(tmp_path, text)
    code, out, err = cli("validate", "--targets", path, "--scenario", "demo", "--replicates", "2")
    assert code == 2, (out, err)
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err
    for needle in needles:
        assert needle in err, (needle, err)
    with pytest.raises(InputError):
        load_targets(path)


def test_missing_targets_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, _, err = cli("validate", "--targets", missing)
    assert code == 2
    assert "not found" in err and str(missing) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_city_in_args_is_refused_before_running(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD + '[[target]]\nstatistic = "fear_of_failure_share"\nargs = { city = "Atlantis" }\n'
        "low = 0\nhigh = 1\n",
    )
    code, _, err = cli("validate", "--targets", path)
    assert code == 2
    assert "target[0].args.city" in err and "Atlantis" in err


@pytest.mark.parametrize("flag", [["--workers", "0"], ["--replicates", "0"]])
def test_bad_arguments_exit_2(tmp_path: Path, flag: list[str]) -> None:
    code, _, err = cli("validate", "--targets", write(tmp_path, HEAD + WIDE), *flag)
    assert code == 2
    assert flag[0] in err


def test_shipped_targets_load_and_use_catalog_names() -> None:
    path = ROOT / "validation" / "targets.toml"
    assert default_targets_path().resolve() == path.resolve()
    t = load_targets(path)
    assert t.scenario == "hangzhou-nanjing" and t.replicates == 20 and t.seed == 20250207
    assert len(t.targets) == 16
    for target in t.targets:
        assert target.statistic in CATALOG
        assert target.low <= target.high
        assert target.source
    # every argument also checks against the scenario's cities
    cities = innosim.load_scenario(t.scenario).city_names
    for i, target in enumerate(t.targets):
        from innosim.stats import check_args

        check_args(target.statistic, dict(target.args), cities=cities, where=f"target[{i}].")


# --------------------------------------------------------------------------- running


def test_exit_1_when_a_target_fails(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + WIDE + IMPOSSIBLE)
    code, out, err = cli("validate", "--targets", path, "--workers", "1")
    assert code == 1, err
    assert "FAIL" in out
    assert "2 of 3 targets pass" in out


def test_exit_0_and_out_files_when_all_pass(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + WIDE)
    out_dir = tmp_path / "out"
    code, out, err = cli("validate", "--targets", path, "--workers", "1", "--out", out_dir)
    assert code == 0, err
    assert "2 of 2 targets pass" in out
    csv = pd.read_csv(out_dir / "validation.csv")
    assert list(csv.columns) == list(RESULT_COLUMNS)
    assert len(csv) == 2 and csv["passed"].all()
    data = json.loads((out_dir / "validation.json").read_text())
    assert data["passed"] == data["total"] == 2 and len(data["rows"]) == 2
    for family in ("firms", "finance", "founders", "cities"):
        png = out_dir / f"validation_{family}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]  # no temporary files


def test_json_format(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + WIDE)
    code, out, err = cli("validate", "--targets", path, "--workers", "1", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["replicates"] == 2 and data["seed"] == 7
    row = data["rows"][0]
    assert set(RESULT_COLUMNS) <= set(row)
    assert row["args"] == "age_years=1" and row["reference"] == 0.796
    assert row["lo"] <= row["value"] <= row["hi"]


def test_results_identical_whatever_the_workers(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + WIDE)
    one = innosim.validate(path, workers=1)
    two = innosim.validate(path, workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert one.attrs["replicates"] == 2
    assert np.isfinite(one["value"]).all()


def test_map_runs_preserves_order() -> None:
    tasks = list(range(7))
    assert executor.map_runs(tasks, workers=2, fn=abs) == tasks
    seen: list[tuple[int, int]] = []
    assert executor.map_runs(tasks, workers=1, fn=abs, progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (7, 7)


def test_paired_statistic_uses_common_random_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, tuple[int, ...], int]] = []
    real_run = executor.run

    def spy(scenario: innosim.Scenario, seed: np.random.SeedSequence) -> innosim.RunResult:
        calls.append((scenario.hash, tuple(seed.spawn_key), int(seed.entropy)))
        return real_run(scenario.with_end_year(2004), seed)

    monkeypatch.setattr(executor, "run", spy)
    path = write(
        tmp_path,
        HEAD + '[[target]]\nstatistic = "restart_response_to_stigma_removal"\n'
        "low = -10\nhigh = 10\n"
        '[[target]]\nstatistic = "seed_to_unicorn_rate"\nlow = 0\nhigh = 1\n',
    )
    innosim.validate(path, workers=1)
    base = innosim.load_scenario("demo")
    cf = CATALOG["restart_response_to_stigma_removal"].counterfactual(base)
    seeds = innosim.replicate_seeds(7, 2)
    expected = [(tuple(s.spawn_key), 7) for s in seeds]
    base_seeds = [(k, e) for h, k, e in calls if h == base.hash]
    cf_seeds = [(k, e) for h, k, e in calls if h == cf.hash]
    assert len(calls) == 4  # one baseline run per replicate, shared by both targets
    assert base_seeds == cf_seeds == expected


def _example_target(name: str, cities: list[str]) -> str:
    """A target line for ``name`` with valid arguments (required ones filled in)."""
    stat = CATALOG[name]
    args: dict[str, object] = {}
    for a in stat.args:
        if a.name in ("age_years",):
            args[a.name] = 1
        elif a.name == "history":
            args[a.name] = "first_time"
        elif a.kind == "city" and a.name in ("city", "city_a"):
            args[a.name] = cities[0]
        elif a.name == "city_b":
            args[a.name] = cities[1]
        elif a.required and a.choices:
            args[a.name] = a.choices[0]
    inline = ", ".join(f"{k} = {json.dumps(v)}" for k, v in args.items())
    return (
        f'\n[[target]]\nstatistic = "{name}"\nargs = {{ {inline} }}\n'
        'low = -1e9\nhigh = 1e9\nsource = "test"\n'
    )


def test_a_targets_file_using_every_catalog_statistic_runs(tmp_path: Path, monkeypatch) -> None:
    """Whatever targets the project ships, any catalog name with valid arguments runs."""
    sc = innosim.load_scenario("demo").with_end_year(2009).with_scale(0.5)
    body = '[validation]\nscenario = "demo"\nreplicates = 2\nseed = 3\n'
    body += "".join(_example_target(n, list(sc.city_names)) for n in CATALOG)
    path = tmp_path / "all.toml"
    path.write_text(body)
    targets = load_targets(path)
    assert [t.statistic for t in targets.targets] == list(CATALOG)
    module = importlib.import_module("innosim.experiments.validate")
    monkeypatch.setattr(module, "load_scenario", lambda ref: sc)  # demo, shortened
    df = module.validate(targets, workers=1)
    assert list(df["statistic"]) == list(CATALOG)
    vals = df["value"].to_numpy(np.float64)
    assert not np.isinf(vals).any()
    # after the burn-in every statistic is defined but those needing a wave start in the window
    # or a chain master by 2009 at half scale
    undefined = set(df.loc[~np.isfinite(vals), "statistic"])
    assert undefined <= {"incumbent_adoption_share", "to_c_share_of_giants"}, undefined


def test_validate_on_a_dask_local_cluster_matches_one_worker(tmp_path: Path) -> None:
    body = HEAD.replace('scenario = "demo"', f'scenario = "{_short_demo(tmp_path)}"') + WIDE
    path = tmp_path / "t.toml"
    path.write_text(body)
    one = runner.invoke(
        app, ["validate", "--targets", str(path), "--workers", "1", "--format", "json"]
    )
    dask = runner.invoke(
        app, ["validate", "--targets", str(path), "--dask-local", "2", "--format", "json"]
    )
    assert one.exit_code in (0, 1) and dask.exit_code == one.exit_code, (one.output, dask.output)
    rows = [json.loads(r.output)["rows"] for r in (one, dask)]
    a, b = ([x["value"] for x in r] for r in rows)
    np.testing.assert_array_equal(np.array(a, dtype=float), np.array(b, dtype=float))


def test_validate_refuses_conflicting_executors(tmp_path: Path) -> None:
    r = runner.invoke(app, ["validate", "--workers", "2", "--dask-local", "2"])
    assert r.exit_code == 2 and "conflicting executor options" in r.output


def _short_demo(tmp_path: Path) -> str:
    p = tmp_path / "short.toml"
    p.write_text(
        'extends = "demo"\n[scenario]\nname = "short"\nend_year = 2001\npersons_per_agent = 5000\n'
    )
    return str(p)
