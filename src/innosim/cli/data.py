"""``innosim data check``: validate the sourced city dataset, report coverage and conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from innosim import data as dmod
from innosim.cli.console import (
    ErrorGroup,
    ParamsFormat,
    print_json,
    records,
    stdout_console,
)

__all__ = ["data_app", "data_check"]


data_app = typer.Typer(
    cls=ErrorGroup,
    help="The sourced city dataset: validate a file, report coverage and conflicts.",
    no_args_is_help=True,
)


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
    """Validate a data file; print coverage per city and indicator, conflicts and unparsed
    values."""
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
        print_json(
            {
                "file": df.attrs.get("file"),
                "rows": len(df),
                "resolved_rows": len(resolved),
                "coverage_by_city": records(by_city),
                "coverage_by_indicator": records(by_ind),
                "conflicts": records(dropped),
                "unparsed": records(bad),
            }
        )
        return
    con = stdout_console()
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
