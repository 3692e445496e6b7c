"""``innosim params`` and ``innosim scenarios``: the declared parameters and the scenarios."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from innosim import api
from innosim.cli.console import (
    ParamsFormat,
    print_json,
    records,
    sig,
    stdout_console,
)
from innosim.errors import InnosimError, InputError
from innosim.params.scenario import list_scenarios, load_scenario

__all__ = ["params_cmd", "scenarios_cmd"]


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
        print_json(records(df))
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
            Text(f"[{sig(r.low)}, {sig(r.high)}]"),
            Text(sig(r.default)),
            Text(sig(r.value), style="bold" if changed else ""),
            Text(r.source),
        ]
        table.add_row(*cells)
    con = stdout_console()
    con.print(table)
    con.print(
        Text(
            "* policy lever: the scenario's [[policy]] timeline may change it over time."
            + (" Bold values differ from the default." if sc is not None else "")
        )
    )


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
    con = stdout_console()
    if not found:
        con.print(
            Text(
                "No scenarios found (looked in $INNOSIM_SCENARIOS, ./scenarios and the "
                "project's scenarios/)."
            )
        )
        return
    con.print(table)
