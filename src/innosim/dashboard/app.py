"""The Solara page of the dashboard (``innosim serve``; ``solara run innosim.dashboard.app``).

A thin layer over :mod:`innosim.dashboard.logic`: the widgets hold names and numbers, a click
builds a :class:`~innosim.dashboard.logic.RunRequest`, :func:`~innosim.dashboard.logic.prepare`
validates it (a refusal is shown at once), and a threaded :func:`solara.lab.task` runs it with a
progress bar and a Cancel button.

Session isolation: every piece of state below is a module-level :func:`solara.reactive` or a
:func:`solara.lab.task`, both of which Solara scopes to the *kernel* (one per browser page), so
two sessions never see each other's settings or runs. Each session keeps at most two runs (the
slots A and B) as small yearly tables; the index is computed once per process and shared, since
it is the same for everyone.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from innosim.dashboard import charts
from innosim.dashboard.logic import (
    DEFAULT_SCALE,
    DOWNLOAD_FORMATS,
    GATE,
    INDEX_DRAWS,
    LEVER_GROUPS,
    MAX_AGENT_TICKS,
    MAX_CONCURRENT_RUNS,
    MAX_SEED,
    MAX_WAITING_RUNS,
    SCALES,
    SERIES_METRICS,
    BusyError,
    Policy,
    Prepared,
    RunOutcome,
    RunRequest,
    SizeError,
    chinese_city_names,
    compare_table,
    default_scale,
    download_bytes,
    download_name,
    estimate_agent_ticks,
    execute,
    index_table,
    lever_bounds,
    prepare,
    scenario_names,
    shipped_scenario,
    wave_bounds,
)
from innosim.errors import InnosimError
from innosim.labels import text

__all__ = ["Page"]

SLOTS = ("A", "B")
VIEWS = ("charts", "compare", "index", "download")
PROGRESS_STEP = 5
"""Percent between two progress updates of the page."""
_NAMES = scenario_names()
DEFAULT_SCENARIO = "demo" if "demo" in _NAMES else (_NAMES[0] if _NAMES else "")

CSS = """
.innosim-table th, .innosim-table td { padding: 2px 8px; border-bottom: 1px solid #ddd;
  text-align: right; }
.innosim-table th:first-child, .innosim-table td:first-child { text-align: left; }
.innosim-table caption { caption-side: top; font-weight: bold; text-align: left; }
"""

# ---------------------------------------------------------------- per-session (kernel) state
lang = solara.reactive("en")
scenario_name = solara.reactive(DEFAULT_SCENARIO)
scale = solara.reactive(DEFAULT_SCALE)
seed = solara.reactive(1)
editing = solara.reactive("A")
policies: solara.Reactive[dict[str, Policy]] = solara.reactive({s: Policy() for s in SLOTS})
city = solara.reactive("")
outcomes: solara.Reactive[dict[str, RunOutcome]] = solara.reactive({})
shown = solara.reactive("A")
view = solara.reactive("charts")
notice: solara.Reactive[tuple[str, str, dict[str, Any]] | None] = solara.reactive(None)
"""(kind, label key, fields): kept untranslated so a language switch re-renders it."""
status: solara.Reactive[tuple[str, dict[str, Any]]] = solara.reactive(("", {}))


def _say(kind: str, key: str, **fields: Any) -> None:
    notice.set((kind, key, fields))


@solara.lab.task(prefer_threaded=True)
def run_task(jobs: tuple[Prepared, ...], show: str, closed: threading.Event | None = None) -> str:
    """Run the prepared requests one after another (in a worker thread); store the outcomes in
    the session when all finished. Returns ``"finished"``, ``"cancelled"`` or ``"refused"``.

    The run stops at the next tick when the user cancels, starts another run, or closes the
    page (``closed``: the session's kernel-closed event). ``show``: the slot the charts show
    afterwards."""
    finished: dict[str, RunOutcome] = {}
    last_pct = [-1]

    def stop() -> bool:
        return not run_task.is_current() or (closed is not None and closed.is_set())

    for k, prep in enumerate(jobs):
        slot = prep.request.label

        def progress(done: int, total: int, k: int = k, slot: str = slot) -> None:
            # every update re-renders the run bar in this thread: a few per run, not one a tick
            pct = int(100 * (k + done / total) / len(jobs)) // PROGRESS_STEP * PROGRESS_STEP
            if pct != last_pct[0]:
                last_pct[0] = pct
                status.set(("running", {"slot": slot, "done": done, "total": total, "pct": pct}))

        status.set(("starting", {}))
        try:
            out = execute(
                prep,
                progress=progress,
                should_stop=stop,
                on_wait=lambda: status.set(("waiting", {})),
            )
        except BusyError:
            running, waiting = GATE.load
            _say("error", "busy", running=running, waiting=waiting)
            return "refused"
        except InnosimError as exc:
            _say("error", "failed", reason=str(exc))
            return "refused"
        except Exception as exc:  # a bug: one line to the page, never a traceback
            _say("error", "failed", reason=f"{type(exc).__name__}: {exc}")
            return "refused"
        if out is None:  # Cancel (which says so itself), a newer run, or the page closed
            return "cancelled"
        finished[slot] = out
    if run_task.is_current():
        outcomes.set({**outcomes.value, **finished})
        last = jobs[-1].request
        shown.set(show)
        _say(
            "success",
            "finished",
            slot="+".join(finished),
            scenario=last.scenario,
            seed=last.seed,
            scale=last.scale,
            seconds=sum(o.seconds for o in finished.values()),
        )
    return "finished"


def _request(slot: str) -> RunRequest:
    return RunRequest(
        scenario=scenario_name.value,
        scale=scale.value,
        seed=seed.value,
        policy=policies.value[slot],
        label=slot,
    )


def _start(slots: tuple[str, ...]) -> None:
    """Validate the requests of ``slots`` here (a refusal shows at once), then run them."""
    try:
        jobs = tuple(prepare(_request(s)) for s in slots)
    except SizeError as exc:
        _say(
            "error",
            "too_large",
            size=exc.agent_ticks,
            agents=exc.agents,
            ticks=exc.ticks,
            limit=MAX_AGENT_TICKS,
        )
        return
    except InnosimError as exc:
        _say("error", "refused", reason=str(exc))
        return
    notice.set(None)
    run_task(jobs, editing.value, _closed_event())


def _closed_event() -> threading.Event | None:
    """The current session's kernel-closed event (None on Solara versions without one)."""
    try:
        # the dashboard extra; kernel_closed_event is missing from older Solara versions
        from solara.lifecycle import kernel_closed_event

        return kernel_closed_event()
    except (ImportError, RuntimeError):
        return None


def _cancel() -> None:
    if run_task.pending:
        run_task.cancel()
        status.set(("", {}))
        _say("info", "cancelled")


def _set_scenario(name: str) -> None:
    try:
        sc = shipped_scenario(name)
    except InnosimError as exc:
        _say("error", "refused", reason=str(exc))
        return
    scenario_name.set(name)
    scale.set(default_scale(sc))
    policies.set({s: Policy() for s in SLOTS})
    city.set(sc.city_names[0])


def _set_seed(value: int | None) -> None:
    if value is None or not 0 <= int(value) <= MAX_SEED:
        _say("error", "refused", reason=f"seed must be a whole number in [0, {MAX_SEED}]")
        return
    seed.set(int(value))


def _update_policy(fn: Any) -> None:
    slot = editing.value
    policies.set({**policies.value, slot: fn(policies.value[slot])})


def _set_lever(city_name: str, param: str, value: float) -> None:
    _update_policy(lambda pol: pol.with_lever(city_name, param, value))


def _set_wave(name: str, year: int) -> None:
    _update_policy(lambda pol: pol.with_wave(name, year))


# ---------------------------------------------------------------- components


@solara.component
def LanguageSwitch() -> None:
    """English / Chinese."""
    solara.ToggleButtonsSingle(
        value=lang,
        children=[solara.Button("English", value="en"), solara.Button("中文", value="zh")],
        classes=["innosim-lang"],
    )


@solara.component
def Setup() -> None:
    """Scenario, scale, seed and which policy the levers edit."""
    lg = lang.value
    sc = shipped_scenario(scenario_name.value)
    solara.Select(
        text("sec_scenario", lg),
        value=scenario_name.value,
        values=list(_NAMES),
        on_value=_set_scenario,
    )
    solara.SliderValue(f"{text('f_scale', lg)}: {scale.value:g}", value=scale, values=list(SCALES))
    size, agents, ticks = estimate_agent_ticks(sc.with_scale(scale.value))
    solara.Text(
        text("scale_help", lg, agents=agents, ticks=ticks, size=size, limit=MAX_AGENT_TICKS),
        style={"font-size": "0.8em", "color": "#b00" if size > MAX_AGENT_TICKS else "#555"},
    )
    solara.InputInt(text("f_seed", lg), value=seed.value, on_value=_set_seed)
    solara.Text(text("editing", lg))
    solara.ToggleButtonsSingle(
        value=editing,
        children=[solara.Button(text("policy_" + s.lower(), lg), value=s) for s in SLOTS],
        classes=["innosim-editing"],
    )
    with solara.Row():
        solara.Button(
            text("copy_a_to_b", lg),
            text=True,
            on_click=lambda: policies.set({**policies.value, "B": policies.value["A"]}),
        )
        solara.Button(
            text("reset", lg), text=True, on_click=lambda: _update_policy(lambda p: Policy())
        )


@solara.component
def Levers() -> None:
    """Sliders of the chosen city's levers (declared bounds), the demand mix, its policy
    timeline and the wave start years."""
    lg = lang.value
    sc = shipped_scenario(scenario_name.value)
    current = city.value if city.value in sc.city_names else sc.city_names[0]
    zh = {c.name: c.name_zh or c.name for c in sc.cities}
    solara.v.Select(
        label=text("h_city", lg),
        items=[
            {"title": zh[n] if lg == "zh" else n, "text": zh[n] if lg == "zh" else n, "value": n}
            for n in sc.city_names
        ],
        v_model=current,
        on_v_model=city.set,
        class_="innosim-city",
    )
    i = sc.city_index(current)
    pol = policies.value[editing.value]
    shown_city = zh[current] if lg == "zh" else current
    solara.Text(
        f"{text('levers', lg, city=shown_city)} ({text('policy_' + editing.value.lower(), lg)})",
        style={"font-weight": "bold", "font-size": "1.05em"},
    )

    def value_of(param: str) -> float:
        return float(pol.levers.get((current, param), sc.city[param][i]))

    for group, params in LEVER_GROUPS:
        solara.Text(text("lg_" + group, lg), style={"font-weight": "bold", "margin-top": "6px"})
        for param in params:
            low, high = lever_bounds(param)
            v = value_of(param)
            solara.SliderFloat(
                f"{text('p_' + param, lg)}: {v:.3g}",
                value=v,
                min=low,
                max=high,
                step=(high - low) / 100,
                on_value=lambda v, param=param: _set_lever(current, param, v),
            )
        if group == "demand":
            w = [value_of(p) for p in params]
            total = sum(w) or 1.0
            solara.Text(
                text("demand_shares", lg, c=w[0] / total, b=w[1] / total, g=w[2] / total),
                style={"font-size": "0.85em"},
            )
    entries = [p for p in sc.policy if p.city in (current, "*")]
    if entries:
        solara.Text(text("levers_note", lg), style={"font-size": "0.8em", "color": "#555"})
        for e in entries:
            solara.Text(
                text("timeline_entry", lg, year=e.year, lever=e.lever, value=e.value),
                style={"font-size": "0.8em", "color": "#555"},
            )
    first, last = wave_bounds(sc)
    with solara.Details(summary=text("waves", lg)):
        for wave in sc.waves:
            year = int(pol.waves.get(wave.name, round(wave.start_year)))
            solara.SliderInt(
                f"{wave.name}: {year}",
                value=year,
                min=first,
                max=last,
                on_value=lambda y, name=wave.name: _set_wave(name, y),
            )


@solara.component
def RunBar() -> None:
    """Run / Run both / Cancel, the progress bar, and the last notice."""
    lg = lang.value
    pending = run_task.pending
    with solara.Row():
        solara.Button(
            text("run", lg, slot=editing.value),
            color="primary",
            disabled=pending,
            on_click=lambda: _start((editing.value,)),
            classes=["innosim-run"],
        )
        solara.Button(
            text("run_both", lg),
            disabled=pending,
            on_click=lambda: _start(SLOTS),
            classes=["innosim-run-both"],
        )
        solara.Button(
            text("cancel", lg), disabled=not pending, on_click=_cancel, classes=["innosim-cancel"]
        )
    if pending:
        key, fields = status.value
        solara.ProgressLinear(fields.get("pct", True))
        if key:
            solara.Text(text(key, lg, **fields), classes=["innosim-status"])
    if notice.value is not None:
        kind, key, fields = notice.value
        box = {"error": solara.Error, "success": solara.Success}.get(kind, solara.Info)
        box(text(key, lg, **fields), classes=["innosim-notice", f"innosim-{kind}"])


@solara.component
def Figure(build: Callable[[], Any], dependencies: list[Any]) -> None:
    """A Matplotlib figure, rebuilt only when ``dependencies`` change."""
    fig = solara.use_memo(build, dependencies=dependencies)
    solara.FigureMatplotlib(fig, format="png", dependencies=dependencies)


@solara.component
def Table(caption: str, header: list[str], rows: list[list[str]], classes: list[str]) -> None:
    """A plain HTML table; every cell is escaped (no Markdown: its renderer loads extra
    front-end code from a CDN)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    solara.HTML(
        tag="table",
        unsafe_innerHTML=f"{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody>",
        classes=["innosim-table", *classes],
        style={"border-collapse": "collapse", "font-size": "0.85em", "margin": "8px 0"},
    )


def _fmt(x: float) -> str:
    return f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}"


@solara.component
def Charts() -> None:
    """Headline numbers, the 2 x 2 per-city series and the last-year table of one run."""
    lg = lang.value
    outs = outcomes.value
    if not outs:
        solara.Info(text("no_run", lg), classes=["innosim-no-run"])
        return
    slot = shown.value if shown.value in outs else next(iter(outs))
    if len(outs) > 1:
        with solara.Row():
            solara.Text(text("showing", lg))
            solara.ToggleButtonsSingle(
                value=slot,
                on_value=shown.set,
                children=[
                    solara.Button(text("policy_" + s.lower(), lg), value=s)
                    for s in SLOTS
                    if s in outs
                ],
            )
    out = outs[slot]
    year = out.last_year
    solara.Text(
        text("headline_va", lg, year=year, value=float(out.final("value_added").sum())),
        classes=["innosim-headline-va"],
        style={"font-size": "1.2em"},
    )
    solara.Text(
        text("headline_firms", lg, year=year, value=float(out.final("firms").sum())),
        classes=["innosim-headline-firms"],
    )
    with solara.Div(classes=["innosim-chart"]):
        Figure(lambda: charts.series_figure(out, lg), [id(out), lg])
    finals = {m: out.final(m) for m in SERIES_METRICS}
    Table(
        f"{text('summary', lg)} ({year})",
        [text("h_city", lg)] + [text("m_" + m, lg) for m in SERIES_METRICS],
        [
            [zh if lg == "zh" else name] + [_fmt(float(finals[m][name])) for m in SERIES_METRICS]
            for name, zh in out.cities
        ],
        classes=["innosim-summary"],
    )


@solara.component
def Compare() -> None:
    """Policies A and B side by side (same scenario, scale and seed) and their differences."""
    lg = lang.value
    outs = outcomes.value
    a, b = outs.get("A"), outs.get("B")
    same = (
        a is not None
        and b is not None
        and a.scenario == b.scenario
        and a.request.seed == b.request.seed
        and a.request.scale == b.request.scale
    )
    if not same:
        solara.Info(text("compare_need", lg), classes=["innosim-compare-need"])
        return
    with solara.Div(classes=["innosim-compare-chart"]):
        Figure(lambda: charts.compare_figure(a, b, lg), [id(a), id(b), lg])
    table = compare_table(a, b)
    zh = dict(a.cities)
    rows = []
    for r in table.itertuples():
        rel = "" if r.rel_change != r.rel_change else f"{r.rel_change:+.1%}"
        rows.append(
            [
                zh[r.city] if lg == "zh" else r.city,
                text("m_" + r.metric, lg),
                _fmt(r.a),
                _fmt(r.b),
                _fmt(r.diff),
                rel,
            ]
        )
    Table(
        f"{text('compare_table', lg)} ({a.last_year})",
        [text(h, lg) for h in ("h_city", "h_metric", "h_a", "h_b", "h_diff", "h_rel")],
        rows,
        classes=["innosim-compare"],
    )


@solara.component
def Index() -> None:
    """The TOP index (computed once per server process, then shared)."""
    lg = lang.value
    result = solara.use_thread(index_table, dependencies=[])
    solara.Text(text("index_intro", lg, draws=INDEX_DRAWS))
    if result.state != solara.ResultState.FINISHED or result.value is None:
        if result.state == solara.ResultState.ERROR:
            solara.Error(text("failed", lg, reason=str(result.error)))
        else:
            solara.Text(text("index_loading", lg))
            solara.ProgressLinear(True)
        return
    table = result.value
    zh = chinese_city_names()
    with solara.Div(classes=["innosim-index-chart"]):
        Figure(lambda: charts.index_figure(table, lg, zh), [lg])
    head = [
        "h_city",
        "pillar_talent",
        "pillar_organization",
        "pillar_place",
        "h_score",
        "h_rank",
        "h_rank_interval",
    ]
    rows = [
        [
            zh.get(r.city, r.city) if lg == "zh" else r.city,
            f"{r.talent:.1f}",
            f"{r.organization:.1f}",
            f"{r.place:.1f}",
            f"{r.score:.1f}",
            str(int(r.rank)),
            f"{int(r.rank_low)}-{int(r.rank_high)}",
        ]
        for r in table.itertuples()
    ]
    Table("", [text(h, lg) for h in head], rows, classes=["innosim-index"])


@solara.component
def Downloads() -> None:
    """CSV and Parquet of each run's yearly table, built in memory when clicked."""
    lg = lang.value
    outs = outcomes.value
    if not outs:
        solara.Info(text("no_run", lg))
        return
    solara.Text(text("download_intro", lg))
    for slot, out in outs.items():
        with solara.Row():
            for fmt in DOWNLOAD_FORMATS:
                solara.FileDownload(
                    lambda out=out, fmt=fmt: download_bytes(out.yearly, fmt),
                    filename=download_name(out, fmt),
                    label=text(f"download_{fmt}", lg, slot=slot),
                )


@solara.component
def Page() -> None:
    """The whole dashboard."""
    lg = lang.value
    if not _NAMES:
        solara.Error("No scenario found on the server (see docs/scenarios.md).")
        return
    solara.Title(text("title", lg))
    solara.Style(CSS)
    with solara.Column(style={"padding": "12px"}):
        with solara.Row(style={"align-items": "center"}):
            solara.Text(text("title", lg), style={"font-size": "1.6em"}, classes=["innosim-title"])
            solara.v.Spacer()
            LanguageSwitch()
        solara.Text(text("subtitle", lg))
        with solara.Columns([1, 2]):
            with solara.Column():
                Setup()
                Levers()
            with solara.Column():
                RunBar()
                solara.ToggleButtonsSingle(
                    value=view,
                    children=[solara.Button(text("tab_" + v, lg), value=v) for v in VIEWS],
                    classes=["innosim-views"],
                )
                {"charts": Charts, "compare": Compare, "index": Index, "download": Downloads}[
                    view.value
                ]()
                solara.Text(
                    text(
                        "limits",
                        lg,
                        limit=MAX_AGENT_TICKS,
                        running=MAX_CONCURRENT_RUNS,
                        waiting=MAX_WAITING_RUNS,
                    ),
                    style={"font-size": "0.75em", "color": "#777"},
                )
