"""The dashboard under a small load: ``tools/load_dashboard.py`` with 4 users for 4 seconds.

The same code as the documented command (``.venv/bin/python tools/load_dashboard.py --users 20
--seconds 60``, docs/reliability.md "Dashboard under load"): a started ``innosim serve``, one
headless chromium, one Playwright browser context per visit (fresh session), each visit loading
the page, moving levers, running, sometimes switching language, then leaving. Asserted: no
errors (HTTP 5xx, page or console errors, timeouts, exceptions in the server log), every
session dropped by the server once the users left, memory back within a bound. Latencies are
reported (``-s`` shows the table), never asserted.

Skipped, with the reason, where ``/usr/bin/chromium``, Playwright or Solara is missing, or the
front-end files cannot be installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from _tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
GROWTH_BOUND_MB = 200.0
"""Server memory after the load may exceed the memory before it by at most this much."""

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"{CHROMIUM} is missing (make test installs Debian's chromium with apt)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="playwright is not installed")
pytest.importorskip("solara", reason="solara (the 'dashboard' extra) is not installed")

load_dashboard = load_tool("load_dashboard")


def test_four_users_for_four_seconds(tmp_path: Path) -> None:
    from innosim.dashboard import assets
    from innosim.errors import InnosimError

    try:
        assets.install()
    except (InnosimError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"the dashboard's front-end files cannot be installed: {exc}")
    config = load_dashboard.LoadConfig(
        users=4,
        seconds=4,
        timeout_s=90,
        settle_s=30,
        max_growth_mb=GROWTH_BOUND_MB,
        rounds=1,
        extras=(0.5, 0.0),  # the index view (computed once per server) is left to the tool
    )
    result = load_dashboard.run_load(config, log=tmp_path / "serve.log")
    print("\n" + load_dashboard.table(result))

    assert result["errors"] == 0, result["error_list"] + result["server_log_errors"]
    assert result["sessions"] >= config.users
    assert result["actions"]["run"]["n"] + result["refused_by_design"] >= 1
    sessions = result["server_sessions"]
    left = sessions["rounds"][-1]["sessions_after"]
    assert left is not None and left <= sessions["before"], sessions  # closed pages dropped
    memory = result["memory_mb"]
    assert memory["end"] - memory["start"] <= GROWTH_BOUND_MB, memory
    assert result["verdict"]["bounded"], result["verdict"]
