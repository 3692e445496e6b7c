"""``innosim run``, ``show`` and ``plot``: simulate one run into the results store, reprint its
summary, draw its time series.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from innosim import api
from innosim.cli.console import (
    ScaleOpt,
    ScenarioArg,
    SeedOpt,
    TableFormat,
    num,
    print_json,
    progress_bar,
    records,
    stderr_console,
    stdout_console,
)
from innosim.errors import InputError
from innosim.model import CORE_MECHANISMS, NAMES
from innosim.params.scenario import load_scenario
from innosim.report import figures
from innosim.report.lineage import lineage_figure
from innosim.store import RunStore

__all__ = [
    "SUMMARY_HEADERS",
    "OutOpt",
    "RunArg",
    "plot_cmd",
    "run_cmd",
    "show_cmd",
    "summary_table",
]


SUMMARY_HEADERS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("city", "City", str),
    ("value_added", "Value added\n(亿元/yr)", num),
    ("firms", "Firms", num),
    ("entries", "Entries", num),
    ("exits", "Exits", num),
    ("unicorns", "Unicorns", num),
    ("chain_masters", "Chain\nmasters", num),
    ("talent_net_inflow_rate", "Talent net\ninflow (%/yr)", lambda v: num(100 * float(v), "+.2f")),
    ("graduates", "Graduates\n(/yr)", num),
)


def summary_table(df: pd.DataFrame, title: str) -> Table:
    table = Table(title=Text(title), title_justify="left")
    for col, header, _ in SUMMARY_HEADERS:
        table.add_column(Text(header), justify="left" if col == "city" else "right")
    for row in df.itertuples(index=False):
        table.add_row(*(Text(fmt(getattr(row, col))) for col, _, fmt in SUMMARY_HEADERS))
    return table


RunArg = Annotated[
    str,
    typer.Argument(
        help="Run id, unique prefix (>= 4 characters), 'latest' or run directory.",
        metavar="RUN",
        show_default=False,
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Results store directory.")]


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
) -> None:
    """Run one simulation, store it and print a per-city summary of its last year."""
    off = {n.strip() for n in (disable or "").split(",") if n.strip()}
    if core_only:
        off |= set(NAMES) - CORE_MECHANISMS
    api.check_out_dir(out)
    sc = load_scenario(scenario)
    last = sc.end_year if until is None else until
    with progress_bar(f"{sc.name} {sc.start_year}-{last}", "ticks") as progress:
        result = api.simulate(
            sc,
            seed=seed,
            scale=scale,
            until=until,
            check=check,
            progress=progress,
            disable=sorted(off),
        )
    run_id, path = api.save_run(result, out)
    window = int(result.scenario.glob.get("volatility_window_years", 5))
    figure = figures.timeseries_figure(
        result.series,
        path / "timeseries.png",
        units=result.meta.get("units"),
        window=window,
        title=f"{result.scenario.title or result.scenario.name} (seed {result.seed}, run {run_id})",
    )
    summary = result.summary()
    year = int(result.meta.get("until", result.scenario.end_year))
    if fmt is TableFormat.json:
        print_json(
            {
                "run_id": run_id,
                "path": str(path),
                "figure": str(figure),
                "scenario": result.scenario.name,
                "seed": result.seed,
                "year": year,
                "summary": records(summary),
            }
        )
        return
    stderr_console().print(
        Text(
            f"Simulated {result.meta['ticks']} quarters in {result.meta['wall_seconds']:.1f} s "
            f"({result.meta['agent_steps'] / max(result.meta['wall_seconds'], 1e-9):,.0f} "
            "agent-steps/s)"
        )
    )
    con = stdout_console()
    con.print(summary_table(summary, f"{result.scenario.name}, seed {result.seed}: {year}"))
    con.print(Text(f"Results: {path}"))
    con.print(Text(f"Run id:  {run_id}"))
    con.print(Text(f"Figure:  {figure}"))


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
        print_json(
            {
                "run_id": a["run_id"],
                "path": a["path"],
                "scenario": a["scenario"],
                "seed": a["seed"],
                "year": a["year"],
                "summary": records(summary),
            }
        )
        return
    con = stdout_console()
    con.print(summary_table(summary, f"{a['scenario']}, seed {a['seed']}: {a['year']}"))
    con.print(Text(f"Run {a['run_id']} (created {a['created']}): {a['path']}"))


def plot_cmd(
    run: RunArg,
    out: OutOpt = Path("results"),
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="PNG to write (default: <run dir>/timeseries.png).", show_default=False
        ),
    ] = None,
    lineage: Annotated[
        str | None,
        typer.Option(
            "--lineage",
            help="Draw this city's spinoff lineage tree instead (default file: "
            "<run dir>/lineage.png).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw the time-series figure of a stored run (or, with --lineage, a city's spinoffs)."""
    stored = RunStore(out).load_run(run)
    meta = stored.meta
    if lineage is not None:
        cities = list(meta.get("cities", []))
        if lineage not in cities:
            raise InputError(
                "unknown city",
                file="command line",
                field="--lineage",
                value=lineage,
                expected=f"one of the run's cities: {', '.join(cities)}",
            )
        target = stored.path / "lineage.png" if file is None else file
        path = lineage_figure(
            stored.table("firms"),
            target,
            city=cities.index(lineage),
            city_name=lineage,
            start_year=int(meta["start_year"]),
        )
        stdout_console().print(Text(f"Figure: {path}"))
        return
    target = stored.path / "timeseries.png" if file is None else file
    name = meta.get("title") or meta.get("scenario")
    title = f"{name} (seed {meta.get('seed')}, run {stored.run_id})"
    path = figures.timeseries_figure(
        stored.table("series"),
        target,
        units=meta.get("units"),
        title=title,
        window=int(meta.get("volatility_window_years", 5)),
    )
    stdout_console().print(Text(f"Figure: {path}"))
