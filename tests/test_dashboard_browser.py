"""The dashboard in a real browser: Debian's chromium driven by Playwright.

One ``innosim serve`` per test module (a subprocess on a free port, started with the one
command a user types); every test opens fresh browser contexts (fresh sessions). Runs use the
``demo`` scenario at the smallest scale offered, so each takes well under a second of model
time. Screenshots go to ``test-output/dashboard/`` at the repository root.

Skipped, with the reason, where ``/usr/bin/chromium``, Playwright or Solara is missing, or
where the page's front-end files cannot be installed (``innosim.dashboard.assets``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _tools import load_tool

# the browser and its flags, as the load tool drives them
CHROMIUM = load_tool("load_dashboard").CHROMIUM
CHROMIUM_ARGS = load_tool("load_dashboard").CHROMIUM_ARGS
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-output" / "dashboard"
WAIT_MS = 90_000
"""Longest wait for the page or a run (a shared two-core machine can be slow; not a timing
assertion)."""

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"{CHROMIUM} is missing (make test installs Debian's chromium with apt)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("solara", reason="solara (the 'dashboard' extra) is not installed")
expect = sync_api.expect
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``innosim serve --port P`` in a subprocess (the load tool's ``start_server``); yields the
    URL it prints once it answers."""
    from innosim.dashboard import assets
    from innosim.errors import InnosimError

    tool = load_tool("load_dashboard")
    try:
        assets.install()
    except (InnosimError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"the dashboard's front-end files cannot be installed: {exc}")
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    try:
        srv = tool.start_server(log=log, wait_s=WAIT_MS / 1000)
    except tool.LoadError as exc:
        pytest.fail(f"{exc}\n{log.read_text()}")
    try:
        printed = log.read_text()
        assert f"Dashboard: {srv.url}" in printed, printed  # binds 127.0.0.1 by default
        yield srv.url
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser: Any, url: str) -> Any:
    """A new session (browser context) on the dashboard, its page loaded."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    expect(page.locator(".innosim-no-run")).to_be_visible(timeout=WAIT_MS)
    return page


def _slider(page: Any, label: str, key: str) -> None:
    """Move the slider labelled ``label`` to an end with the keyboard (Home / End)."""
    thumb = page.locator(".v-slider").filter(has_text=label).first.locator("[role=slider]")
    before = thumb.get_attribute("aria-valuenow")
    thumb.focus()
    page.keyboard.press(key)
    expect(thumb).not_to_have_attribute("aria-valuenow", before or "")


def _run(page: Any, selector: str = ".innosim-run") -> None:
    page.locator(selector).click()
    expect(page.locator(".innosim-success")).to_be_visible(timeout=WAIT_MS)


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _number(page: Any, selector: str) -> float:
    text = page.locator(selector).inner_text()
    return float(re.findall(r"[-\d,]+\.?\d*", text)[-1].replace(",", ""))


def test_move_a_lever_run_and_see_the_chart_and_number_change(browser: Any, server: str) -> None:
    page = _open(browser, server)
    _shot(page, "01-start")
    _slider(page, "Agent scale", "Home")  # the smallest scale offered: a quick run
    _run(page)
    chart = page.locator(".innosim-chart img")
    expect(chart).to_be_visible()
    before_png = chart.screenshot()
    before_va = _number(page, ".innosim-headline-va")
    _shot(page, "02-first-run")

    # move policy A's levers of the first city; run A (moved) and B (the scenario), same seed
    _slider(page, "Failure tolerance", "Home")
    _slider(page, "Risk appetite of funds", "Home")
    _slider(page, "Consumer demand", "End")
    page.locator(".innosim-run-both").click()
    expect(page.locator(".innosim-success")).to_contain_text("A+B")
    assert _number(page, ".innosim-headline-va") != before_va  # the charts show policy A
    assert chart.screenshot() != before_png
    _shot(page, "03-lever-moved")

    page.locator(".innosim-views button").nth(1).click()
    expect(page.locator(".innosim-compare-chart img")).to_be_visible()
    expect(page.locator(".innosim-compare")).to_contain_text("Value added")
    _shot(page, "04-compare")

    page.locator(".innosim-views button").nth(3).click()
    expect(page.get_by_text("Policy A as CSV")).to_be_visible()
    expect(page.get_by_text("Policy B as Parquet")).to_be_visible()

    page.get_by_role("button", name="中文").click()
    expect(page.locator(".innosim-title")).to_have_text("innosim 仪表盘")
    expect(page.get_by_text("政策 A（CSV）")).to_be_visible()
    _shot(page, "05-chinese")
    page.context.close()


def test_sessions_are_separate_and_oversized_runs_are_refused(browser: Any, server: str) -> None:
    one = _open(browser, server)
    two = _open(browser, server)
    _slider(one, "Agent scale", "Home")
    _run(one)
    va_one = _number(one, ".innosim-headline-va")

    # session two, its page open all along: nothing run, no notice of session one's run
    expect(two.locator(".innosim-no-run")).to_be_visible()
    expect(two.locator(".innosim-notice")).to_have_count(0)
    _shot(two, "06-second-session-untouched")

    # session two asks for the largest scale: over the cap, refused with a message
    _slider(two, "Agent scale", "End")
    two.locator(".innosim-run").click()
    error = two.locator(".innosim-error")
    expect(error).to_contain_text("too large")
    expect(error).to_contain_text("12,000,000")
    expect(two.locator(".innosim-no-run")).to_be_visible()  # nothing ran
    _shot(two, "07-refused")

    # session one sees neither the refusal nor any change
    expect(one.locator(".innosim-error")).to_have_count(0)
    expect(one.locator(".innosim-success")).to_be_visible()
    assert _number(one, ".innosim-headline-va") == va_one
    _shot(one, "08-first-session-unchanged")
    one.context.close()
    two.context.close()
