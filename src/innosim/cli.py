"""The ``innosim`` command line: parse arguments, call :mod:`innosim.api`, print.

Commands hold no model logic. Output meant for people (tables, progress) is drawn with Rich;
``--format json``/``csv`` prints machine-readable data to stdout and nothing else. Progress
bars go to stderr and only when it is a terminal.

Errors: every :class:`~innosim.errors.InnosimError` is printed as one paragraph prefixed
``error:`` on stderr and exits with its ``exit_code`` (2 for bad input, 3 for a broken model
invariant); usage errors (bad option values, unknown options) exit 2 with Typer's message;
anything else is a bug and exits 1 with ``internal error:`` (the traceback only with
``INNOSIM_DEBUG=1``).
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from innosim import api
from innosim._cli_options import (
    DaskLocalOpt,
    ScaleOpt,
    ScenarioArg,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    executor_of,
    fmt_num,
)
from innosim.errors import InnosimError, InputError
from innosim.experiments.executor import check_workers
from innosim.params.scenario import list_scenarios, load_scenario

__all__ = ["app", "main"]

ISSUES_HINT = "this is a bug in innosim; please report it with the command you ran"
PIPE_WIDTH = 160
"""Console width when stdout is not a terminal (tables are not wrapped at 80 columns)."""


# --------------------------------------------------------------------------- error handling


def _paragraph(prefix: str, message: str) -> str:
    text = prefix + " ".join(str(message).split())
    if sys.stderr.isatty():
        width = max(40, min(shutil.get_terminal_size().columns, 100))
        return textwrap.fill(text, width=width, subsequent_indent="  ")
    return text


def _print_error(exc: InnosimError) -> None:
    print(_paragraph("error: ", str(exc)), file=sys.stderr)


def _print_internal(exc: BaseException) -> None:
    if os.environ.get("INNOSIM_DEBUG") == "1":
        traceback.print_exception(exc, file=sys.stderr)
    hint = (
        ""
        if os.environ.get("INNOSIM_DEBUG") == "1"
        else "; set INNOSIM_DEBUG=1 to see the traceback"
    )
    print(
        _paragraph("internal error: ", f"{type(exc).__name__}: {exc} ({ISSUES_HINT}{hint})"),
        file=sys.stderr,
    )


class _Group(TyperGroup):
    """Typer group that turns innosim's errors into messages and exit codes.

    Handling errors here (rather than only in :func:`main`) makes the behaviour the same for the
    console script, ``python -m innosim`` and ``typer.testing.CliRunner``.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # usage errors and explicit exits: Typer prints them (usage errors exit 2)
        except InnosimError as exc:
            _print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # `innosim params | head`: Typer exits quietly
            _print_internal(exc)
            raise typer.Exit(1) from None
        except Exception as exc:
            _print_internal(exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    name="innosim",
    help="Simulate a city's innovation ecosystem (Talent-Organization-Place).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from innosim import __version__

        typer.echo(f"innosim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """innosim: measure, simulate, explain and plan a city's innovation ecosystem."""


# --------------------------------------------------------------------------- output helpers


class TableFormat(StrEnum):
    table = "table"
    json = "json"


class ParamsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _stdout() -> Console:
    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=PIPE_WIDTH)
    return con


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN becomes null)."""
    return json.loads(df.to_json(orient="records"))


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _num(x: Any, fmt: str = ",.0f") -> str:
    return fmt_num(x, fmt)


def _g(x: Any) -> str:
    return _num(x, ".6g")


SUMMARY_HEADERS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("city", "City", str),
    ("value_added", "Value added\n(亿元/yr)", _num),
    ("firms", "Firms", _num),
    ("entries", "Entries", _num),
    ("exits", "Exits", _num),
    ("unicorns", "Unicorns", _num),
    ("chain_masters", "Chain\nmasters", _num),
    ("talent_net_inflow_rate", "Talent net\ninflow (%/yr)", lambda v: _num(100 * float(v), "+.2f")),
    ("graduates", "Graduates\n(/yr)", _num),
)


def _summary_table(df: pd.DataFrame, title: str) -> Table:
    table = Table(title=Text(title), title_justify="left")
    for col, header, _ in SUMMARY_HEADERS:
        table.add_column(Text(header), justify="left" if col == "city" else "right")
    for row in df.itertuples(index=False):
        table.add_row(*(Text(fmt(getattr(row, col))) for col, _, fmt in SUMMARY_HEADERS))
    return table


@contextmanager
def _progress(description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr (ticks done/total, elapsed, ETA), shown only on a terminal."""
    console = _stderr()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# --------------------------------------------------------------------------- commands

RunArg = Annotated[
    str,
    typer.Argument(
        help="Run id, unique prefix (>= 4 characters), 'latest' or run directory.",
        metavar="RUN",
        show_default=False,
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Results store directory.")]


@app.command("run")
def run_cmd(
    scenario: ScenarioArg,
    seed: SeedOpt = None,
    scale: ScaleOpt = None,
    until: Annotated[
        int | None,
        typer.Option(
            "--until", help="Last simulated year (default: the scenario's).", show_default=False
        ),
    ] = None,
    out: OutOpt = Path("results"),
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.table,
    check: Annotated[
        bool, typer.Option("--check", help="Check conservation laws and bounds every tick.")
    ] = False,
    disable: Annotated[
        str | None,
        typer.Option(
            "--disable",
            help="Comma-separated mechanisms to switch off (e.g. careers,chains).",
            show_default=False,
        ),
    ] = None,
    core_only: Annotated[
        bool,
        typer.Option(
            "--core-only",
            help="Only the core mechanisms (the Mesa reference benchmark's model): "
            "switch off policy, place, talent, careers and chains.",
        ),
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="auto (compiled when Numba is installed), numba or numpy "
            "(default: $INNOSIM_BACKEND or auto).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run one simulation, store it and print a per-city summary of its last year."""
    from innosim.mechanisms import CORE_MECHANISMS, NAMES
    from innosim.report.figures import timeseries_figure

    off = {n.strip() for n in (disable or "").split(",") if n.strip()}
    if core_only:
        off |= set(NAMES) - CORE_MECHANISMS
    api.check_out_dir(out)
    sc = load_scenario(scenario)
    last = sc.end_year if until is None else until
    with _progress(f"{sc.name} {sc.start_year}-{last}", "ticks") as progress:
        result = api.simulate(
            sc,
            seed=seed,
            scale=scale,
            until=until,
            check=check,
            progress=progress,
            disable=sorted(off),
            backend=backend,
        )
    run_id, path = api.save_run(result, out)
    window = int(result.scenario.glob.get("volatility_window_years", 5))
    figure = timeseries_figure(
        result.series,
        path / "timeseries.png",
        units=result.meta.get("units"),
        window=window,
        title=f"{result.scenario.title or result.scenario.name} (seed {result.seed}, run {run_id})",
    )
    summary = result.summary()
    year = int(result.meta.get("until", result.scenario.end_year))
    if fmt is TableFormat.json:
        _print_json(
            {
                "run_id": run_id,
                "path": str(path),
                "figure": str(figure),
                "scenario": result.scenario.name,
                "seed": result.seed,
                "year": year,
                "summary": _records(summary),
            }
        )
        return
    _stderr().print(
        Text(
            f"Simulated {result.meta['ticks']} quarters in {result.meta['wall_seconds']:.1f} s "
            f"({result.meta['agent_steps'] / max(result.meta['wall_seconds'], 1e-9):,.0f} "
            "agent-steps/s)"
        )
    )
    con = _stdout()
    con.print(_summary_table(summary, f"{result.scenario.name}, seed {result.seed}: {year}"))
    con.print(Text(f"Results: {path}"))
    con.print(Text(f"Run id:  {run_id}"))
    con.print(Text(f"Figure:  {figure}"))


@app.command("show")
def show_cmd(
    run: RunArg,
    out: OutOpt = Path("results"),
    year: Annotated[
        int | None,
        typer.Option("--year", help="Year to show (default: the last).", show_default=False),
    ] = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.table,
) -> None:
    """Reprint the per-city summary of a stored run."""
    summary = api.load_summary(run, out, year=year)
    a = summary.attrs
    if fmt is TableFormat.json:
        _print_json(
            {
                "run_id": a["run_id"],
                "path": a["path"],
                "scenario": a["scenario"],
                "seed": a["seed"],
                "year": a["year"],
                "summary": _records(summary),
            }
        )
        return
    con = _stdout()
    con.print(_summary_table(summary, f"{a['scenario']}, seed {a['seed']}: {a['year']}"))
    con.print(Text(f"Run {a['run_id']} (created {a['created']}): {a['path']}"))


@app.command("params")
def params_cmd(
    scenario: Annotated[
        str | None,
        typer.Argument(
            help="Scenario whose values to show (default: the declared defaults).",
            metavar="[SCENARIO]",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        ParamsFormat, typer.Option("--format", help="Output format.")
    ] = ParamsFormat.table,
    city: Annotated[
        str | None,
        typer.Option(
            "--city", help="Only this city's values (and the global ones).", show_default=False
        ),
    ] = None,
) -> None:
    """List every parameter with unit, bounds, default, value and source."""
    sc = None if scenario is None else load_scenario(scenario)
    if city is not None:
        if sc is None:
            raise InputError(
                "--city needs a scenario",
                file="command line",
                field="--city",
                value=city,
                expected="a SCENARIO argument before --city",
            )
        sc.city_index(city)
    df = api.params_table(sc)
    if city is not None:
        df = df[(df["scope"] == "global") | (df["city"] == city)].reset_index(drop=True)
    if fmt is ParamsFormat.csv:
        typer.echo(df.to_csv(index=False), nl=False)
        return
    if fmt is ParamsFormat.json:
        _print_json(_records(df))
        return
    title = "Parameters (declared defaults)" if sc is None else f"Parameters of scenario {sc.name}"
    table = Table(
        title=Text(title + (f", {city}" if city else "")), title_justify="left", show_lines=False
    )
    table.add_column("name", no_wrap=True)
    if sc is not None:
        table.add_column("city", no_wrap=True)
    for col in ("unit", "bounds", "default", "value"):
        table.add_column(col, justify="right" if col in ("default", "value") else "left")
    table.add_column("source", overflow="fold", ratio=1)
    for r in df.itertuples(index=False):
        changed = r.value != r.default
        cells = [Text(r.name + (" *" if r.lever else ""))]
        if sc is not None:
            cells.append(Text(r.city))
        cells += [
            Text(r.unit),
            Text(f"[{_g(r.low)}, {_g(r.high)}]"),
            Text(_g(r.default)),
            Text(_g(r.value), style="bold" if changed else ""),
            Text(r.source),
        ]
        table.add_row(*cells)
    con = _stdout()
    con.print(table)
    con.print(
        Text(
            "* policy lever: the scenario's [[policy]] timeline may change it over time."
            + (" Bold values differ from the default." if sc is not None else "")
        )
    )


@app.command("scenarios")
def scenarios_cmd() -> None:
    """List the scenarios available by name."""
    table = Table(title=Text("Scenarios"), title_justify="left")
    for col in ("name", "title", "cities", "years", "file"):
        table.add_column(col, overflow="fold")
    found = list_scenarios()
    for name, path in found.items():
        try:
            sc = load_scenario(path)
        except InnosimError as exc:
            table.add_row(
                Text(name), Text(f"(invalid: {exc})"), Text(""), Text(""), Text(str(path))
            )
            continue
        table.add_row(
            Text(name),
            Text(sc.title),
            Text(", ".join(sc.city_names)),
            Text(f"{sc.start_year}-{sc.end_year}"),
            Text(str(path)),
        )
    con = _stdout()
    if not found:
        con.print(
            Text(
                "No scenarios found (looked in $INNOSIM_SCENARIOS, ./scenarios and the "
                "project's scenarios/)."
            )
        )
        return
    con.print(table)


@app.command("ensemble")
def ensemble_cmd(
    scenario: ScenarioArg,
    replicates: Annotated[int, typer.Option("--replicates", help="Number of runs.")] = 10,
    seed: SeedOpt = None,
    year: Annotated[
        int | None,
        typer.Option("--year", help="Year summarised (default: the last).", show_default=False),
    ] = None,
    scale: ScaleOpt = None,
    metrics: Annotated[
        str,
        typer.Option("--metrics", help="Comma-separated extra yearly outcomes to report."),
    ] = "chain_masters_toc",
    ratio: Annotated[
        str | None,
        typer.Option(
            "--ratio", help="Two cities 'A/B': add the ratio of their means.", show_default=False
        ),
    ] = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.table,
    workers: WorkersOpt = None,
) -> None:
    """Run replicates (seeds spawned from one root) and print means with 90% intervals."""
    pair: tuple[str, str] | None = None
    if ratio is not None:
        parts = [x.strip() for x in ratio.split("/")]
        if len(parts) != 2 or not all(parts):
            raise InputError(
                "bad city pair",
                file="command line",
                field="--ratio",
                value=ratio,
                expected="two city names separated by '/', e.g. 'A/B'",
            )
        pair = (parts[0], parts[1])
    sc = load_scenario(scenario)
    for c in pair or ():  # unknown cities are refused before anything runs
        if c not in sc.city_names:
            raise InputError(
                "unknown city",
                file="command line",
                field="--ratio",
                value=c,
                expected=f"a city of {sc.name}: " + ", ".join(sc.city_names),
            )
    extra = [m.strip() for m in metrics.split(",") if m.strip()]
    with _progress("replicates", "runs") as progress:
        df = api.ensemble(
            sc,
            replicates=replicates,
            seed=seed,
            year=year,
            scale=scale,
            until=year,
            metrics=extra,
            progress=progress,
            workers=check_workers(workers),
        )
    stats = api.ensemble_stats(df, ratio=pair)
    a = df.attrs
    if fmt is TableFormat.json:
        _print_json({**a, "cities": _records(stats)})
        return
    names = [c[: -len("_mean")] for c in stats.columns if c.endswith("_mean")]
    table = Table(
        title=Text(
            f"{a['scenario']}, {a['year']}: ensemble means over {a['replicates']} replicates "
            f"(root seed {a['seed']}) with 90% intervals"
        ),
        title_justify="left",
    )
    table.add_column("metric")
    for c in stats["city"]:
        table.add_column(str(c), justify="right")
    for m in names:
        cells = []
        for r in stats.itertuples(index=False):
            mean, lo, hi = (getattr(r, f"{m}_{k}") for k in ("mean", "lo", "hi"))
            if isinstance(lo, float) and math.isnan(lo):
                cells.append(Text(_num(mean, ",.3f")))
            else:
                cells.append(Text(f"{_short(mean)} [{_short(lo)}, {_short(hi)}]"))
        table.add_row(Text(m), *cells)
    con = _stdout()
    con.print(table)
    if {"chain_masters", "chain_masters_toc"} <= set(df.columns):
        total = df["chain_masters"].sum()
        share = df["chain_masters_toc"].sum() / total if total else float("nan")
        con.print(Text(f"To C share of chain masters, all cities: {_num(share, '.2f')}"))


def _short(x: Any) -> str:
    """A compact number: thousands separators for large values, 3 significant digits else."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


@app.command("counterfactual")
def counterfactual_cmd(
    scenario: ScenarioArg,
    city: Annotated[str, typer.Option("--city", help="City that changes.", show_default=False)],
    like: Annotated[
        str, typer.Option("--like", help="City whose values it takes.", show_default=False)
    ],
    groups: Annotated[
        str, typer.Option("--groups", help="Comma-separated parameter groups to transplant.")
    ] = "culture,demand",
    replicates: Annotated[int, typer.Option("--replicates", help="Runs per ensemble.")] = 10,
    seed: SeedOpt = None,
    year: Annotated[int, typer.Option("--year", help="Year at which the metric is read.")] = 2024,
    metric: Annotated[str, typer.Option("--metric", help="Yearly outcome compared.")] = "unicorns",
    scale: ScaleOpt = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.table,
    workers: WorkersOpt = None,
) -> None:
    """What if CITY had LIKE's values of some parameter groups? Baseline vs counterfactual."""
    group_list = [g.strip() for g in groups.split(",") if g.strip()]
    with _progress(f"{city} like {like}", "runs") as progress:
        df = api.counterfactual(
            scenario,
            city=city,
            like=like,
            groups=group_list,
            replicates=replicates,
            seed=seed,
            year=year,
            metric=metric,
            scale=scale,
            progress=progress,
            workers=check_workers(workers),
        )
    closed = api.gap_closed(df, like, city)
    a = df.attrs
    if fmt is TableFormat.json:
        _print_json(
            {**a, "gap_closed": None if math.isnan(closed) else closed, "cities": _records(df)}
        )
        return
    table = Table(
        title=Text(
            f"{a['metric']} in {a['year']}: baseline vs {city} with {like}'s "
            f"{', '.join(a['groups'])} ({a['replicates']} paired replicates, seed "
            f"{a['seed']}; 90% intervals)"
        ),
        title_justify="left",
    )
    for col in ("city", "baseline", "counterfactual", "change"):
        table.add_column(col, justify="left" if col == "city" else "right")

    def cell(r: Any, p: str) -> Text:
        sign = "+" if p == "change" else ""
        mean, lo, hi = (getattr(r, f"{p}_{k}") for k in ("mean", "lo", "hi"))
        return Text(f"{_num(mean, sign + ',.2f')} [{_num(lo, ',.2f')}, {_num(hi, ',.2f')}]")

    for r in df.itertuples(index=False):
        table.add_row(
            Text(str(r.city)), cell(r, "baseline"), cell(r, "counterfactual"), cell(r, "change")
        )
    con = _stdout()
    con.print(table)
    changes = a["changes"]
    if changes:
        listed = ", ".join(f"{k} {_g(v[0])} -> {_g(v[1])}" for k, v in changes.items())
        con.print(Text(f"{city} took {like}'s values: {listed}."))
    else:
        con.print(Text(f"{city} already has {like}'s values of every parameter in these groups."))
    share = "undefined (no baseline gap)" if math.isnan(closed) else f"{closed:.0%}"
    con.print(
        Text(f"Share of the {like} - {city} gap in {a['metric']} in {a['year']} closed: {share}")
    )


@app.command("plot")
def plot_cmd(
    run: RunArg,
    out: OutOpt = Path("results"),
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="PNG to write (default: <run dir>/timeseries.png).", show_default=False
        ),
    ] = None,
) -> None:
    """Draw the time-series figure of a stored run."""
    from innosim.report.figures import timeseries_figure
    from innosim.store import RunStore

    stored = RunStore(out).load_run(run)
    meta = stored.meta
    target = stored.path / "timeseries.png" if file is None else file
    title = f"{meta.get('title') or meta.get('scenario')} (seed {meta.get('seed')}, run {stored.run_id})"
    path = timeseries_figure(
        stored.table("series"),
        target,
        units=meta.get("units"),
        title=title,
        window=int(meta.get("volatility_window_years", 5)),
    )
    _stdout().print(Text(f"Figure: {path}"))


@app.command("validate")
def validate_cmd(
    targets: Annotated[
        Path | None,
        typer.Option(
            "--targets",
            help="Targets file (default: the project's validation/targets.toml).",
            show_default=False,
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="Scenario of targets that name none (default: the file's [validation]).",
            show_default=False,
        ),
    ] = None,
    replicates: Annotated[
        int | None,
        typer.Option(
            "--replicates", help="Runs per scenario (default: the file's).", show_default=False
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Root seed (default: the file's).", show_default=False),
    ] = None,
    workers: WorkersOpt = None,
    dask_local: DaskLocalOpt = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write validation.csv, validation.json and figures here.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.")
    ] = TableFormat.table,
) -> None:
    """Compute the catalog statistics of a targets file over an ensemble; exit 1 if any fails."""
    from innosim.experiments.executor import check_workers
    from innosim.experiments.validate import load_targets, results_json
    from innosim.report.outputs import validate

    loaded = load_targets(targets)  # a bad file is refused before anything runs
    check_workers(workers)
    with _progress("validation runs", "runs") as progress:
        df = validate(
            loaded,
            scenario=scenario,
            replicates=replicates,
            seed=seed,
            executor=executor_of(workers, dask_local, scheduler),
            progress=progress,
            out=out,
        )
    a = df.attrs
    if fmt is TableFormat.json:
        _print_json({**results_json(df), "files": a.get("files", [])})
    else:
        seed_text = "each scenario's seed" if a["seed"] is None else f"root seed {a['seed']}"
        table = Table(
            title=Text(
                f"Validation against {a['targets']}: {a['replicates']} replicates "
                f"({seed_text}); simulated mean with 90% interval"
            ),
            title_justify="left",
        )
        for col in ("statistic", "args", "simulated", "accepted", "reference", "result"):
            table.add_column(col, justify="right" if col in ("simulated", "accepted") else "left")
        for r in df.itertuples(index=False):
            ref = "" if r.reference is None else str(r.reference)
            table.add_row(
                Text(r.statistic + ("" if r.scenario == a["scenario"] else f" ({r.scenario})")),
                Text(r.args),
                Text(f"{_short(r.value)} [{_short(r.lo)}, {_short(r.hi)}]"),
                Text(f"{_short(r.low)} - {_short(r.high)}"),
                Text(ref),
                Text("pass", style="green") if r.passed else Text("FAIL", style="bold red"),
            )
        con = _stdout()
        con.print(table)
        con.print(Text(f"{a['passed']} of {a['total']} targets pass"))
        for f in a.get("files", []):
            con.print(Text(f"Wrote {f}"))
    if a["passed"] < a["total"]:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``innosim``); exits with the command's status."""
    try:
        app(args=None if argv is None else list(argv), prog_name="innosim")
    except InnosimError as exc:  # pragma: no cover - the group handles these; kept as a net
        _print_error(exc)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()


# --------------------------------------------------------------------------- data

data_app = typer.Typer(
    cls=_Group,
    help="The sourced city dataset: validate a file, report coverage and conflicts.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Data CSV (default: the project's data/cities_sourced.csv).", show_default=False
        ),
    ] = None,
    fmt: Annotated[
        ParamsFormat, typer.Option("--format", help="Output format (csv: coverage per city).")
    ] = ParamsFormat.table,
) -> None:
    """Validate a data file; print coverage per city and indicator, conflicts and unparsed values."""
    from innosim import data as dmod

    df = dmod.load_dataset(file)
    resolved = dmod.resolve(df)
    cov = dmod.coverage(resolved)
    by_city = dmod.coverage_by_city(cov)
    by_ind = dmod.coverage_by_indicator(cov)
    dropped = dmod.conflicts(df)
    bad = dmod.unparsed(df)
    if fmt is ParamsFormat.csv:
        typer.echo(by_city.to_csv(index=False), nl=False)
        return
    if fmt is ParamsFormat.json:
        _print_json(
            {
                "file": df.attrs.get("file"),
                "rows": len(df),
                "resolved_rows": len(resolved),
                "coverage_by_city": _records(by_city),
                "coverage_by_indicator": _records(by_ind),
                "conflicts": _records(dropped),
                "unparsed": _records(bad),
            }
        )
        return
    con = _stdout()
    con.print(
        Text(
            f"{df.attrs.get('file')}: {len(df)} rows, {len(resolved)} after resolving conflicts, "
            f"{len(by_city)} cities x {len(by_ind)} indicators"
        )
    )
    t = Table(title=Text("Coverage per city (latest year)"), title_justify="left")
    for col in ("city", "covered", "share", "flagged"):
        t.add_column(col, justify="left" if col == "city" else "right")
    for r in by_city.itertuples(index=False):
        t.add_row(
            Text(r.city),
            Text(f"{r.covered}/{r.indicators}"),
            Text(f"{100 * r.share:.0f}%"),
            Text(str(r.flagged)),
        )
    con.print(t)
    t = Table(title=Text("Coverage per indicator"), title_justify="left")
    for col in ("indicator", "cities", "flagged"):
        t.add_column(col, justify="left" if col == "indicator" else "right")
    for r in by_ind.itertuples(index=False):
        t.add_row(Text(r.indicator), Text(f"{r.covered}/{r.cities}"), Text(str(r.flagged)))
    con.print(t)
    t = Table(title=Text(f"Conflicts resolved ({len(dropped)} rows dropped)"), title_justify="left")
    for col in ("row", "city", "indicator", "year", "value", "kept row", "reason"):
        t.add_column(col)
    for r in dropped.itertuples(index=False):
        t.add_row(
            *(Text(str(x)) for x in (r.row, r.city, r.indicator, r.year, r.value_raw, r.kept_row)),
            Text(r.reason),
        )
    con.print(t)
    t = Table(title=Text(f"Unparsed values ({len(bad)}; kept as NaN)"), title_justify="left")
    for col in ("row", "city", "indicator", "year", "value"):
        t.add_column(col)
    for r in bad.itertuples(index=False):
        t.add_row(*(Text(str(x)) for x in (r.row, r.city, r.indicator, r.year, r.value_raw)))
    con.print(t)


# --------------------------------------------------------------------------- index

from innosim.cli_index import index_command  # noqa: E402  (registered after the app exists)

app.command("index")(index_command)


# --------------------------------------------------------------------------- sweep

from innosim.cli_sweep import sweep_command  # noqa: E402  (registered after the app exists)

app.command("sweep")(sweep_command)


# --------------------------------------------------------------------------- compare and explain

from innosim.cli_explain import compare_command, explain_command  # noqa: E402

app.command("compare")(compare_command)
app.command("explain")(explain_command)


# --------------------------------------------------------------------------- sensitivity, calibrate

from innosim.cli_sensitivity import (  # noqa: E402  (registered after the app exists)
    calibrate_command,
    sensitivity_command,
)

app.command("sensitivity")(sensitivity_command)
app.command("calibrate")(calibrate_command)


# --------------------------------------------------------------------------- report


@app.command("report")
def report_cmd(
    run: Annotated[
        str,
        typer.Argument(
            help="A stored run (id, unique prefix of >= 4 characters, 'latest' or its directory) "
            "or the --out directory of innosim validate, compare, explain, index or sweep.",
            metavar="RUN_OR_EXPERIMENT",
            show_default=False,
        ),
    ],
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: en or zh.")] = "en",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="HTML file to write (default: report.<lang>.html in the run or experiment "
            "directory).",
            show_default=False,
        ),
    ] = None,
    store: Annotated[Path, typer.Option("--store", help="Results store directory.")] = Path(
        "results"
    ),
) -> None:
    """Write one self-contained HTML report (figures embedded) of a run or an experiment."""
    import warnings

    from innosim.report.fonts import FontWarning
    from innosim.report.html import report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FontWarning)
        path = report(run, lang=lang, out=out, store=store)
    for w in caught:
        if issubclass(w.category, FontWarning):
            print(_paragraph("warning: ", str(w.message)), file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    _stdout().print(Text(f"Report: {path}"))


# --------------------------------------------------------------------------- serve (dashboard)


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on (127.0.0.1 keeps it on this machine)."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8765,
) -> None:
    """Serve the web dashboard (Solara) until Ctrl-C: levers, runs, policy comparison, index,
    downloads (docs/dashboard.md). Needs the 'dashboard' extra."""
    from innosim.dashboard.server import serve

    err = _stderr()
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(Text(f"warning: listening on {host}: anyone who can reach it can run the model"))
    serve(
        host,
        port,
        announce=lambda url: _stdout().print(Text(f"Dashboard: {url} (Ctrl-C stops it)")),
        say=lambda line: err.print(Text(line)),
    )
