"""``kill -9`` a running ``innosim sweep`` at several moments, start it again, and end with the
results of an uninterrupted sweep, no finished run computed twice and a store that always opens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from innosim.experiments.executor import Executor
from innosim.experiments.sweep import sweep
from innosim.store.sweeps import SweepStore

PARAM = "failure_tolerance=0.3:0.9:4"
REPLICATES = 4  # 16 runs of about 0.2 s each, one shard per run (--batch 1)
OPTIONS = ["--year", "2001", "--scale", "0.3", "--seed", "3", "--metrics",
           "firms,unicorns,value_added", "--workers", "1", "--batch", "1", "--no-figure"]  # fmt: skip
KILLS = 4


def _start(out: Path) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).with_name("innosim")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "innosim"]
    cmd += ["sweep", "demo", "-p", PARAM, "--replicates", str(REPLICATES), *OPTIONS]
    return subprocess.Popen(
        [*cmd, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: kill -9 takes it all
    )


def _shards(out: Path) -> dict[str, tuple[int, int]]:
    d = out / "shards"
    if not d.is_dir():
        return {}
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in d.glob("*.parquet")
        if not p.name.startswith(".")
    }


def _kill(proc: subprocess.Popen[bytes], out: Path, rule: tuple[str, float]) -> None:
    """SIGKILL after ``delay`` seconds, or once ``k`` more shards exist (or when it ends)."""
    kind, x = rule
    start = len(_shards(out))
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 60:
        if kind == "delay" and time.monotonic() - t0 >= x:
            break
        if kind == "shards" and len(_shards(out)) >= start + x:
            break
        time.sleep(0.01)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_kill_9_at_random_moments_then_restart_gives_the_uninterrupted_results(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(20250207)
    ref_dir = tmp_path / "reference"
    ref = sweep(
        "demo",
        [PARAM],
        replicates=REPLICATES,
        year=2001,
        scale=0.3,
        seed=3,
        metrics=["firms", "unicorns", "value_added"],
        executor=Executor("local", workers=1),
        out=ref_dir,
    )
    n_runs = ref["run_id"].nunique()

    out = tmp_path / "killed"
    rules = [("delay", float(rng.uniform(0.5, 4.0))), ("shards", int(rng.integers(1, 5)))]
    rules += [("delay", float(rng.uniform(2.0, 4.0))), ("shards", int(rng.integers(1, 4)))]
    seen: dict[str, tuple[int, int]] = {}
    killed_with = []
    for rule in rules[:KILLS]:
        _kill(_start(out), out, rule)
        now = _shards(out)
        # shards finished before this start were not rewritten (their runs not recomputed)
        assert all(now[name] == ident for name, ident in seen.items())
        seen = now
        killed_with.append(len(now))
        # the store always opens, and holds each run once
        store = SweepStore(out).open()
        q = store.query("SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM shard_rows")
        assert q.at[0, "n"] == 5 * q.at[0, "runs"]  # five cities per run, no duplicate run
        assert not list((out / "shards").glob(".tmp-*"))
    assert not (out / "sweep.csv").exists() or len(seen) == n_runs

    proc = _start(out)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    final = _shards(out)
    assert all(final[name] == ident for name, ident in seen.items())
    assert len(final) == n_runs
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["reused"] == len(seen) and meta["computed"] == n_runs - len(seen)
    assert (out / "sweep.csv").read_bytes() == (ref_dir / "sweep.csv").read_bytes()
    assert (out / "summary.csv").read_bytes() == (ref_dir / "summary.csv").read_bytes()
    print("shards after each kill:", killed_with, "rules:", rules)
    # at least one kill landed in the middle of the sweep
    assert any(0 < k < n_runs for k in killed_with), killed_with
