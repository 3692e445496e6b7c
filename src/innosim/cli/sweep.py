"""``innosim sweep``: a parameter sweep with a phase diagram (a thin layer).

Everything is computed by :func:`innosim.experiments.sweep.sweep`; this module parses the
options, builds the :class:`~innosim.experiments.executor.Executor`, shows a progress bar (Rich,
stderr, with ETA) and prints the per-design-point summary as a table or JSON. Errors are
:class:`~innosim.errors.InnosimError` and become one-paragraph messages and exit status 2 in the
CLI group (see :mod:`innosim.cli.console`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from innosim.cli.console import fmt_cell, progress_bar, stdout_console
from innosim.experiments.executor import Executor
from innosim.experiments.sweep import sweep_summary
from innosim.report.outputs import sweep

__all__ = ["sweep_command"]

MAX_ROWS = 40
"""Summary rows printed in the table (all are in summary.csv)."""


class DesignChoice(StrEnum):
    grid = "grid"
    lhs = "lhs"
    sobol = "sobol"


class SweepFormat(StrEnum):
    table = "table"
    json = "json"


def sweep_command(
    scenario: Annotated[
        str,
        typer.Argument(
            help="Scenario name (see 'innosim scenarios') or path to a TOML file.",
            metavar="SCENARIO",
            show_default=False,
        ),
    ],
    param: Annotated[
        list[str],
        typer.Option(
            "--param",
            "-p",
            help="A varied parameter, repeatable: NAME=LOW:HIGH[:N] (a global parameter, or a "
            "city parameter for every city), CITY.NAME=LOW:HIGH[:N] (one city) or NAME=V1,V2,...",
            show_default=False,
        ),
    ],
    design: Annotated[
        DesignChoice, typer.Option("--design", help="Experimental design.")
    ] = DesignChoice.grid,
    n: Annotated[
        int | None,
        typer.Option(
            "--n",
            help="grid: points per parameter without :N (default 5); lhs: points (default 20); "
            "sobol: points, a power of two (default 16).",
            show_default=False,
        ),
    ] = None,
    replicates: Annotated[int, typer.Option("--replicates", help="Runs per design point.")] = 4,
    metrics: Annotated[
        str, typer.Option("--metrics", help="Comma-separated outcomes to report.")
    ] = "unicorns",
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            help="Year read (default: the scenario's last); runs stop there.",
            show_default=False,
        ),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option("--city", help="Report one city (default: every city).", show_default=False),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Root seed (default: the scenario's).", show_default=False),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option("--scale", help="Agent scale (see 'innosim run --help').", show_default=False),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Resumable store and results directory (a rerun skips finished runs).",
        ),
    ] = Path("results/sweep"),
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="Local worker processes (default: one per CPU).", show_default=False
        ),
    ] = None,
    dask_local: Annotated[
        int | None,
        typer.Option(
            "--dask-local",
            help="Run on a Dask LocalCluster of N worker processes.",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run on the Dask cluster of this scheduler (tcp://HOST:PORT).",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option("--batch", help="Runs per task (default: automatic).", show_default=False),
    ] = None,
    connect_timeout: Annotated[
        float, typer.Option("--connect-timeout", help="Seconds to wait for a Dask scheduler.")
    ] = 20.0,
    figure: Annotated[
        bool, typer.Option("--figure/--no-figure", help="Draw phase.png in --out.")
    ] = True,
    fmt: Annotated[
        SweepFormat, typer.Option("--format", help="Output format.")
    ] = SweepFormat.table,
) -> None:
    """Sweep parameters over a design, with replicates; print per-point means, spread and the
    share of replicates in the high state, and draw a phase diagram."""
    ex = Executor.from_options(
        workers=workers, scheduler=scheduler, dask_local=dask_local, batch=batch
    )
    if ex.kind == "dask":
        ex = replace(ex, timeout=connect_timeout)
    mets = [m.strip() for m in metrics.split(",") if m.strip()]
    with progress_bar("sweep runs", "runs") as progress:
        df = sweep(
            scenario,
            param,
            design=design.value,
            n=n,
            replicates=replicates,
            metrics=mets,
            year=year,
            city=city,
            seed=seed,
            scale=scale,
            out=out,
            executor=ex,
            progress=progress,
            figure=figure,
        )
    summary = sweep_summary(df)
    a = df.attrs
    if fmt is SweepFormat.json:
        rows = json.loads(summary.to_json(orient="records"))
        meta = {k: v for k, v in summary.attrs.items()}
        typer.echo(json.dumps({**meta, "summary": rows}, indent=2, ensure_ascii=False, default=str))
        return
    _print_table(summary, a)


def _print_table(summary: pd.DataFrame, a: dict[str, Any]) -> None:
    labels = [p["label"] for p in a["params"]]
    table = Table(
        title=Text(
            f"{a['scenario']}, {a['year']}: {a['design']} design, {a['n_points']} points x "
            f"{a['replicates']} replicates (root seed {a['seed']}); mean [90% interval], sd "
            "and share of replicates in the high state"
        ),
        title_justify="left",
    )
    for c in ("point", *labels, "city"):
        table.add_column(c, justify="left" if c == "city" else "right")
    for m in a["metrics"]:
        table.add_column(m, justify="right")
        table.add_column("sd", justify="right")
        table.add_column("high", justify="right")
    for r in summary.head(MAX_ROWS).to_dict(orient="records"):
        cells = [str(r["point"]), *(fmt_cell(r[lab], ".4g") for lab in labels), str(r["city"])]
        for m in a["metrics"]:
            cells.append(
                f"{fmt_cell(r[f'{m}_mean'])} [{fmt_cell(r[f'{m}_lo'])}, {fmt_cell(r[f'{m}_hi'])}]"
            )
            cells.append(fmt_cell(r[f"{m}_sd"]))
            cells.append(fmt_cell(r[f"{m}_high"], ".2f"))
        table.add_row(*(Text(c) for c in cells))
    con = stdout_console()
    con.print(table)
    if len(summary) > MAX_ROWS:
        con.print(Text(f"... {len(summary) - MAX_ROWS} more rows in summary.csv"))
    con.print(
        Text(
            f"{a['runs']} runs: {a['computed']} computed, {a['reused']} found in the store; "
            f"{a['executor']}; {a['wall_seconds']:.1f} s"
        )
    )
    for f in a.get("files", []):
        con.print(Text(f"Wrote {f}"))
