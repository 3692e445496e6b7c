"""Load test of the web dashboard: N simulated users in real browser sessions on loopback
(issue 8, point 4).

The script starts ``innosim serve`` itself (a subprocess on a free port, as the browser tests
do), launches one headless Debian chromium and drives N Playwright browser contexts from
asyncio, one per simulated user. Each user repeats what a person does, each time in a fresh
session (a new browser context, so a new Solara kernel on the server):

1. **load**: open the page and wait until it is interactive (the "no run yet" box shown);
2. **lever**: move the agent-scale slider to the smallest scale offered (a quick run) and one
   city lever to an end of its range, each timed until the server re-rendered its label;
3. **run**: press *Run*, wait for the finished notice and the chart; the run gate refusing
   ("the server is busy") is designed behaviour and counted as *refused by design*;
4. sometimes **language** (switch to Chinese) and/or **index** (open the TOP index view);
5. leave: navigate away (the page's ``pagehide`` tells the server to drop the session), close
   the context, start over after a short pause.

A warm-up visit (not measured) comes first. The load time is cut into ``--rounds`` equal
rounds (2): in each, the users keep coming back until the round's time is up (a visit still
going one action timeout later is cut short at its next action, and leaves), then they leave
and the script waits for the server's session count (``/resourcez``) to return to what it was
before the load.

Measured: the latency of every action (p50/p95/max), actions completed, errors (HTTP 5xx,
page errors, console errors, timeouts, an error box other than "busy", exceptions in the server
log), refusals by design, the server's CPU time, and the resident memory of the server process
and its children (psutil, every 0.5 s). Console errors logged while a page is being left (the
front end tearing itself down) are counted apart.

Verdict "bounded" when the sessions were dropped after every round and the RSS after the last
round (users gone) is at most ``--max-growth-mb`` above the RSS after the first: memory a
session used is reused by the next ones instead of piling up (with one round: above the RSS at
the start).

Usage::

    .venv/bin/python tools/load_dashboard.py --users 20 --seconds 60
    .venv/bin/python tools/load_dashboard.py --users 4 --seconds 10 --port 9000
    .venv/bin/python tools/load_dashboard.py --abandon 0.5 --cull-timeout 20s --settle 60

``--abandon P`` ends that share of visits by closing the browser context abruptly (the page
cannot tell the server); the server keeps such a session until its cull timeout
(``--cull-timeout``, default the server's 10 minutes), which the settle wait then has to cover.

Prints a table, writes ``bench-results/load_dashboard.json`` (``--json``), exits 1 when there
were errors or memory was not bounded, 2 when the server or the browser could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import psutil

ROOT: Final = Path(__file__).resolve().parents[1]
CHROMIUM: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTIONS: Final = ("load", "lever", "run", "language", "index")
RSS_PERIOD_S: Final = 0.5
MB: Final = 1024 * 1024
DEFAULT_JSON: Final = ROOT / "bench-results" / "load_dashboard.json"
BUSY_RE: Final = re.compile(r"server is busy|服务器繁忙")


class LoadError(Exception):
    """The server or the browser could not be started (one line, said by :func:`main`)."""


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """An ``innosim serve`` subprocess and where it writes its output."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        """Process id of the server."""
        return int(self.proc.pid)

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_errors(self) -> list[str]:
        """First line of every traceback or error the server logged."""
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        found = []
        for i, line in enumerate(lines):
            if line.startswith("Traceback") or re.search(r"\bERROR\b|Exception in ", line):
                tail = next(
                    (t for t in lines[i + 1 :] if t and not t.startswith((" ", "Traceback"))),
                    "",
                )
                found.append(f"{line.strip()} {tail.strip()}".strip())
        return found


def start_server(
    port: int | None = None,
    log: Path | None = None,
    wait_s: float = 90.0,
    env: dict[str, str] | None = None,
) -> Server:
    """Start ``innosim serve --port P`` (the command a user types) and wait until it answers.

    Raises
    ------
    LoadError
        The server exited or did not answer within ``wait_s``.
    """
    port = free_port() if port is None else port
    log = log or Path(f"/tmp/innosim-load-serve-{port}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "innosim", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    server = Server(proc, f"http://127.0.0.1:{port}/", log)
    deadline = time.monotonic() + wait_s
    while True:
        if proc.poll() is not None:
            raise LoadError(
                f"innosim serve exited with status {proc.returncode}: "
                + log.read_text(errors="replace").strip().replace("\n", " ")[-500:]
            )
        try:
            with urllib.request.urlopen(server.url, timeout=5) as r:
                if r.status == 200:
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise LoadError(f"innosim serve did not answer at {server.url} within {wait_s:g} s")
        time.sleep(0.2)


def server_rss(pid: int) -> int:
    """Resident memory in bytes of process ``pid`` and all its children (0 once it is gone)."""
    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return int(total)
    except psutil.Error:
        return 0


def server_sessions(url: str) -> int | None:
    """Sessions (Solara kernels) the server holds now, from its ``/resourcez`` page."""
    try:
        with urllib.request.urlopen(url + "resourcez", timeout=10) as r:
            return int(json.load(r)["kernels"]["total"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------- measurements


@dataclass
class Stats:
    """What the simulated users measured (shared by all of them: one event loop)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})
    errors: list[str] = field(default_factory=list)
    refused: int = 0
    sessions: int = 0
    unfinished: int = 0
    teardown: list[str] = field(default_factory=list)

    def add(self, action: str, seconds: float) -> None:
        """Record one completed action."""
        self.latencies[action].append(seconds)

    def error(self, kind: str, detail: str) -> None:
        """Record one error (``kind: detail``, kept to one line)."""
        self.errors.append(f"{kind}: {' '.join(detail.split())[:300]}")


@dataclass
class Sample:
    """One memory sample of the server."""

    t: float
    phase: str
    rss: int


async def sample_memory(
    pid: int, samples: list[Sample], phase: Callable[[], str], t0: float
) -> None:
    """Append a :class:`Sample` every :data:`RSS_PERIOD_S` until cancelled."""
    while True:
        samples.append(Sample(time.monotonic() - t0, phase(), server_rss(pid)))
        await asyncio.sleep(RSS_PERIOD_S)


# --------------------------------------------------------------------------- one user


def _labels() -> dict[str, str]:
    from innosim.labels import text

    return {
        k: text(k, "en")
        for k in ("f_scale", "p_failure_tolerance", "p_risk_appetite", "p_demand_consumer")
    }


LEVERS: Final = ("failure_tolerance", "risk_appetite", "demand_consumer")


async def _move_slider(page: Any, label: str, key: str, shown: str) -> None:
    """Focus the slider labelled ``label``, press ``key``, wait for the server to re-render its
    label as ``shown`` (a round trip through the session)."""
    thumb = page.locator(".v-slider").filter(has_text=label).first.locator("[role=slider]")
    await thumb.focus()
    await page.keyboard.press(key)
    await page.get_by_text(shown, exact=True).first.wait_for(state="visible")


class _Cut(Exception):
    """The load's time is up: the visit leaves at the next action boundary."""


async def user_session(
    browser: Any,
    url: str,
    stats: Stats,
    rng: random.Random,
    timeout_ms: int,
    labels: dict[str, str],
    extras: tuple[float, float] = (0.4, 0.3),
    abandon: bool = False,
    cut_at: float = float("inf"),
) -> None:
    """One visit: a fresh session that loads, moves levers, runs, maybe switches language and
    opens the index (with the probabilities ``extras``), then leaves: navigates away, or with
    ``abandon`` just closes the browser context (a crashed tab, a lost network: the page cannot
    say it closed). Past ``cut_at`` (``time.monotonic``) the visit skips its remaining actions
    and leaves (counted as cut). Errors are recorded in ``stats``, never raised; a console error
    while the page is being left (Vue tearing the page down) is kept apart as a teardown
    message."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    from innosim.dashboard.logic import SCALES, lever_bounds

    action = ["load"]

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        if action[0] == "leave":
            stats.teardown.append(" ".join(msg.text.split())[:300])
        else:
            stats.error("console error", f"during {action[0]}: {msg.text}")

    def step(name: str) -> None:
        if time.monotonic() > cut_at:
            raise _Cut()
        action[0] = name

    ctx = await browser.new_context(viewport={"width": 1400, "height": 1100})
    page = await ctx.new_page()
    page.set_default_timeout(timeout_ms)
    page.on("pageerror", lambda e: stats.error("page error", f"during {action[0]}: {e}"))
    page.on("console", on_console)
    page.on(
        "response",
        lambda r: stats.error("http", f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    stats.sessions += 1
    try:
        t = time.perf_counter()
        await page.goto(url)
        await page.locator(".innosim-no-run").wait_for(state="visible")
        stats.add("load", time.perf_counter() - t)

        step("lever")
        await asyncio.sleep(rng.uniform(0.2, 1.0))  # reading the page
        t = time.perf_counter()
        await _move_slider(page, labels["f_scale"], "Home", f"{labels['f_scale']}: {SCALES[0]:g}")
        stats.add("lever", time.perf_counter() - t)
        lever = rng.choice(LEVERS)
        low, high = lever_bounds(lever)
        key, value = rng.choice((("Home", low), ("End", high)))
        step("lever")
        t = time.perf_counter()
        await _move_slider(page, labels["p_" + lever], key, f"{labels['p_' + lever]}: {value:.3g}")
        stats.add("lever", time.perf_counter() - t)

        step("run")
        t = time.perf_counter()
        await page.locator(".innosim-run").click()
        notice = page.locator(".innosim-success, .innosim-error")
        await notice.first.wait_for(state="visible")
        if await page.locator(".innosim-success").count():
            await page.locator(".innosim-chart img").wait_for(state="visible")
            stats.add("run", time.perf_counter() - t)
        else:
            said = await page.locator(".innosim-error").first.inner_text()
            if BUSY_RE.search(said):
                stats.refused += 1
            else:
                stats.error("run refused", said)

        if rng.random() < extras[0]:
            step("language")
            t = time.perf_counter()
            await page.get_by_role("button", name="中文").click()
            await page.locator(".innosim-title", has_text="仪表盘").wait_for(state="visible")
            stats.add("language", time.perf_counter() - t)
        if rng.random() < extras[1]:
            step("index")
            t = time.perf_counter()
            await page.locator(".innosim-views button").nth(2).click()
            await page.locator(".innosim-index").wait_for(state="visible")
            stats.add("index", time.perf_counter() - t)
    except _Cut:
        stats.unfinished += 1
    except PlaywrightTimeout:
        stats.error("timeout", f"{action[0]} took over {timeout_ms / 1000:g} s")
    except PlaywrightError as exc:
        stats.error("browser", f"{action[0]}: {exc}")
    try:
        action[0] = "leave"
        if not abandon:
            await page.goto("about:blank")  # pagehide: the page tells the server it closed
    except PlaywrightTimeout:
        stats.error("timeout", f"leaving took over {timeout_ms / 1000:g} s")
    except PlaywrightError as exc:
        stats.error("browser", f"leave: {exc}")
    finally:
        try:
            await ctx.close()
        except PlaywrightError:
            pass


async def user_loop(
    uid: int,
    browser: Any,
    url: str,
    stats: Stats,
    stop_at: float,
    timeout_ms: int,
    labels: dict[str, str],
    config: LoadConfig,
) -> None:
    """One simulated user: visit after visit until ``stop_at`` (``time.monotonic``); a visit
    still going one action timeout after ``stop_at`` is cut short."""
    rng = random.Random(config.seed * 1000 + uid)
    await asyncio.sleep(rng.uniform(0, 2.0))  # users do not all arrive in the same instant
    cut_at = stop_at + timeout_ms / 1000
    while time.monotonic() < stop_at:
        abandon = rng.random() < config.abandon
        await user_session(
            browser, url, stats, rng, timeout_ms, labels, config.extras, abandon, cut_at
        )
        await asyncio.sleep(rng.uniform(0.5, 1.5))


# --------------------------------------------------------------------------- the whole test


@dataclass(frozen=True)
class LoadConfig:
    """How hard and how long to load the dashboard."""

    users: int = 20
    seconds: float = 60.0
    port: int | None = None
    timeout_s: float = 90.0
    settle_s: float = 30.0
    max_growth_mb: float = 64.0
    seed: int = 0
    rounds: int = 2
    """The load is cut into this many equal rounds; after each, the users leave and the server's
    sessions must drop. Memory is bounded when the RSS after the last round is at most
    ``max_growth_mb`` above the RSS after the first (one round: above the start)."""
    extras: tuple[float, float] = (0.4, 0.3)
    """Probability that a visit switches language, and that it opens the index view."""
    abandon: float = 0.0
    """Probability that a visit ends by closing the browser context without leaving the page."""
    cull_timeout: str | None = None
    """``SOLARA_KERNEL_CULL_TIMEOUT`` for the server (default: the server's own, 10 minutes)."""


def _ms(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    a = np.asarray(values)
    return {
        "n": int(a.size),
        "p50_s": round(float(np.percentile(a, 50)), 3),
        "p95_s": round(float(np.percentile(a, 95)), 3),
        "max_s": round(float(a.max()), 3),
    }


def _median_mb(samples: Sequence[Sample]) -> float | None:
    return round(float(np.median([s.rss for s in samples])) / MB, 1) if samples else None


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its children."""
    try:
        proc = psutil.Process(pid)
        t = proc.cpu_times()
        return float(t.user + t.system + t.children_user + t.children_system)
    except psutil.Error:
        return float("nan")


async def _drive(config: LoadConfig, server: Server) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    stats = Stats()
    samples: list[Sample] = []
    phase = ["warmup"]
    t0 = time.monotonic()
    sampler = asyncio.create_task(sample_memory(server.pid, samples, lambda: phase[0], t0))
    labels = _labels()
    timeout_ms = int(config.timeout_s * 1000)
    per_round = config.seconds / config.rounds
    rounds: list[dict[str, Any]] = []
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                # warm-up, not measured: one visit doing everything (imports, first chart, the
                # shared index)
                warm = Stats()
                extras = (float(config.extras[0] > 0), float(config.extras[1] > 0))
                await user_session(
                    browser, server.url, warm, random.Random(-1), timeout_ms, labels, extras
                )
                stats.errors.extend(f"warm-up {e}" for e in warm.errors)
                sessions_before = await _settled_sessions(server.url, 0, config.settle_s)
                rss_start = server_rss(server.pid)
                cpu0 = _cpu_s(server.pid)
                load_s = 0.0
                for r in range(config.rounds):
                    phase[0] = f"load{r + 1}"
                    load_t0 = time.monotonic()
                    stop_at = load_t0 + per_round
                    cfg = replace(config, seed=config.seed * 100 + r)
                    users = [
                        asyncio.create_task(
                            user_loop(
                                i, browser, server.url, stats, stop_at, timeout_ms, labels, cfg
                            )
                        )
                        for i in range(config.users)
                    ]
                    hard = per_round + 3 * config.timeout_s + 10  # a cut visit still leaves
                    done, pending = await asyncio.wait(users, timeout=hard)
                    for task in pending:  # bounded in time whatever happens
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    stats.unfinished += len(pending)
                    for task in done:
                        if task.exception() is not None:
                            stats.error("user", repr(task.exception()))
                    load_s += time.monotonic() - load_t0
                    phase[0] = f"settle{r + 1}"
                    settle_t0 = time.monotonic()
                    left = await _settled_sessions(server.url, sessions_before, config.settle_s)
                    await asyncio.sleep(2 * RSS_PERIOD_S)
                    rounds.append(
                        {
                            "round": r + 1,
                            "sessions_after": left,
                            "settle_s": round(time.monotonic() - settle_t0, 1),
                            "rss_after_mb": round(server_rss(server.pid) / MB, 1),
                        }
                    )
                cpu_s = _cpu_s(server.pid) - cpu0
            finally:
                await browser.close()
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)

    load = [s for s in samples if s.phase.startswith("load")]
    third = max(1, len(load) // 3)
    first, last = load[:third], load[-third:]
    after = [r["rss_after_mb"] for r in rounds]
    base = after[0] if len(after) > 1 else round(rss_start / MB, 1)
    growth = round(after[-1] - base, 1)
    dropped = all(
        r["sessions_after"] is not None and r["sessions_after"] <= sessions_before for r in rounds
    )
    bounded = dropped and growth <= config.max_growth_mb
    completed = sum(len(v) for v in stats.latencies.values())
    return {
        "users": config.users,
        "seconds": config.seconds,
        "rounds": config.rounds,
        "abandon": config.abandon,
        "cull_timeout": config.cull_timeout,
        "load_wall_s": round(load_s, 1),
        "sessions": stats.sessions,
        "actions_completed": completed,
        "actions": {a: _ms(stats.latencies[a]) for a in ACTIONS},
        "errors": len(stats.errors),
        "error_list": stats.errors[:50],
        "teardown_console_messages": len(stats.teardown),
        "teardown_examples": sorted(set(stats.teardown))[:5],
        "refused_by_design": stats.refused,
        "unfinished_at_stop": stats.unfinished,
        "server_cpu_s": round(cpu_s, 1),
        "server_cpu_share": round(cpu_s / (load_s * (os.cpu_count() or 1)), 3),
        "memory_mb": {
            "start": round(rss_start / MB, 1),
            "peak": round(max(s.rss for s in samples) / MB, 1) if samples else None,
            "end": after[-1] if after else None,
            "after_each_round": after,
            "first_third_median": _median_mb(first),
            "last_third_median": _median_mb(last),
            "growth": growth,
            "growth_is": "after last round - after first round"
            if len(after) > 1
            else "after the round - start",
            "samples": len(samples),
        },
        "server_sessions": {"before": sessions_before, "rounds": rounds},
        "verdict": {
            "bounded": bounded,
            "sessions_dropped": dropped,
            "max_growth_mb": config.max_growth_mb,
        },
        "rss_series_mb": [[round(s.t, 1), s.phase, round(s.rss / MB, 1)] for s in samples],
    }


async def _settled_sessions(url: str, target: int, wait_s: float) -> int | None:
    """Poll the server's session count until it is at most ``target`` (or ``wait_s`` passed);
    returns the last count."""
    deadline = time.monotonic() + wait_s
    while True:
        n = await asyncio.to_thread(server_sessions, url)
        if (n is not None and n <= target) or time.monotonic() > deadline:
            return n
        await asyncio.sleep(1.0)


def run_load(config: LoadConfig, log: Path | None = None) -> dict[str, Any]:
    """Start a server, load it as ``config`` says, stop it; the measurements as a dict (what
    ``--json`` writes). Server-log exceptions are counted as errors.

    Raises
    ------
    LoadError
        The server or the browser could not start.
    """
    if not os.access(CHROMIUM, os.X_OK):
        raise LoadError(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    env = {"SOLARA_KERNEL_CULL_TIMEOUT": config.cull_timeout} if config.cull_timeout else {}
    server = start_server(config.port, log, env=env)
    try:
        result = asyncio.run(_drive(config, server))
    finally:
        server.stop()
    logged = server.log_errors()
    result["server_log_errors"] = logged[:20]
    result["errors"] += len(logged)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    return result


def table(result: dict[str, Any]) -> str:
    """The measurements as a plain-text table."""
    out = [
        f"{result['users']} users x {result['seconds']:g} s in {result['rounds']} round(s) "
        f"(ran {result['load_wall_s']} s), "
        f"{result['sessions']} sessions, {result['actions_completed']} actions completed"
        + (
            f", {result['abandon']:.0%} of visits abandoned (cull timeout "
            f"{result['cull_timeout'] or 'default'})"
            if result.get("abandon")
            else ""
        ),
        "",
        f"{'action':<10}{'n':>6}{'p50 s':>9}{'p95 s':>9}{'max s':>9}",
    ]
    for name, a in result["actions"].items():
        if a["n"]:
            out.append(
                f"{name:<10}{a['n']:>6}{a['p50_s']:>9.2f}{a['p95_s']:>9.2f}{a['max_s']:>9.2f}"
            )
        else:
            out.append(f"{name:<10}{0:>6}{'-':>9}{'-':>9}{'-':>9}")
    m, s, v = result["memory_mb"], result["server_sessions"], result["verdict"]
    out += [
        "",
        f"errors: {result['errors']}   refused by design (busy): {result['refused_by_design']}"
        f"   cut at the time limit: {result['unfinished_at_stop']}"
        f"   console messages while leaving a page: {result['teardown_console_messages']}",
        f"server RSS MB: start {m['start']}, peak {m['peak']}, after each round (users gone) "
        f"{m['after_each_round']}, end {m['end']}",
        f"  growth {m['growth']} MB ({m['growth_is']}; bound {v['max_growth_mb']:g}); "
        f"median of the load's first third {m['first_third_median']}, last third "
        f"{m['last_third_median']}",
        f"server sessions: before {s['before']}, after each round "
        + ", ".join(f"{r['sessions_after']} ({r['settle_s']} s after)" for r in s["rounds"]),
        f"server CPU: {result['server_cpu_s']} s during the load "
        f"({result['server_cpu_share']:.0%} of the machine's CPUs; the rest: the browser, "
        "other jobs)",
        f"memory verdict: {'bounded' if v['bounded'] else 'NOT BOUNDED'}",
        f"load average (1, 5, 15 min): {result.get('load_average')} on {result.get('cpus')} CPUs",
    ]
    for e in (result["error_list"] + result.get("server_log_errors", []))[:10]:
        out.append(f"  error: {e}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the load test, print the table, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=20, help="simulated users at once (20)")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long they keep coming (60)")
    ap.add_argument("--port", type=int, default=None, help="port for the server (a free one)")
    ap.add_argument("--timeout", type=float, default=90.0, help="longest wait per action (90 s)")
    ap.add_argument("--settle", type=float, default=30.0, help="wait for sessions to drop (30 s)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds the load is cut into (2)")
    ap.add_argument(
        "--max-growth-mb",
        type=float,
        default=64.0,
        help="memory bound: RSS after the last round minus after the first (64 MB)",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the users' choices (0)")
    ap.add_argument(
        "--abandon",
        type=float,
        default=0.0,
        help="share of visits ending with the tab closed abruptly, the page unable to say so (0)",
    )
    ap.add_argument(
        "--cull-timeout",
        default=None,
        help="how long the server keeps an abandoned session, e.g. 20s (default: its own, 10m)",
    )
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the JSON")
    args = ap.parse_args(argv)
    if (
        not (1 <= args.users <= 200 and 0 < args.seconds <= 3600 and 0 <= args.abandon <= 1)
        or not 1 <= args.rounds <= 10
    ):
        print(
            "error: --users must be in [1, 200], --seconds in (0, 3600], --abandon in [0, 1], "
            "--rounds in [1, 10]",
            file=sys.stderr,
        )
        return 2
    config = LoadConfig(
        users=args.users,
        seconds=args.seconds,
        port=args.port,
        timeout_s=args.timeout,
        settle_s=args.settle,
        max_growth_mb=args.max_growth_mb,
        seed=args.seed,
        rounds=args.rounds,
        abandon=args.abandon,
        cull_timeout=args.cull_timeout,
    )
    try:
        result = run_load(config)
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"\nwritten: {args.json}")
    return 0 if result["errors"] == 0 and result["verdict"]["bounded"] else 1


if __name__ == "__main__":
    sys.exit(main())
