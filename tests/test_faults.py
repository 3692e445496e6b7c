"""Fault injection, the fast part (issue 8, point 2): SIGKILL ``run``, ``sweep``, ``validate`` and
``index`` at random moments, a few times each, with ``tools/fault_inject.py``'s checks: the store
opens, finished work is kept, the rerun gives the reference's results. And a read-only or full
output directory gives exit 2 with a clear message and keeps what it held. The full campaign
(20 trials per command) is ``.venv/bin/python tools/fault_inject.py``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from _tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
fi = load_tool("fault_inject")

TRIALS = {"run": 2, "sweep": 1, "validate": 1, "index": 1}


@pytest.mark.parametrize("command", fi.COMMANDS)
def test_sigkill_loses_and_corrupts_nothing(command, tmp_path):
    tally = fi.trial_loop(command, TRIALS[command], random.Random(7), tmp_path, lambda s: None)
    assert tally.corrupted == 0, tally.notes
    assert tally.lost == 0, tally.notes
    assert tally.resumed_equal == tally.trials, tally.notes


def test_a_kill_is_detected_as_corruption_when_a_file_is_cut(tmp_path):
    """The checks can fail: a truncated Parquet file in a store is reported as corrupt."""
    out = tmp_path / "store"
    done = fi._run(fi.command_args("run", out, tmp_path))
    assert done.returncode == 0, done.stderr
    (series,) = list((out / "runs").glob("*/series.parquet"))
    data = series.read_bytes()
    series.write_bytes(data[: len(data) // 2])
    with pytest.raises(fi.Corrupt):
        fi.snapshot_runs(out)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_read_only_and_full_output_directories_give_a_clean_error(command, tmp_path):
    rows = fi.hostile_dirs(tmp_path, (command,))
    if all(r.startswith("skipped") for *_, r in rows):
        pytest.skip(rows[0][2])
    assert [r for *_, r in rows] == ["clean error (exit 2)"] * 2, rows
