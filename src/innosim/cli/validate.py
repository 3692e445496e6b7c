"""``innosim validate``: the catalog statistics of a targets file over an ensemble, against their
accepted ranges (exit 1 when a target fails).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from innosim.cli.console import (
    DaskLocalOpt,
    SchedulerOpt,
    TableFormat,
    WorkersOpt,
    executor_of,
    print_json,
    progress_bar,
    short,
    stdout_console,
)
from innosim.experiments.executor import check_workers
from innosim.experiments.validate import load_targets, results_json
from innosim.report.outputs import validate

__all__ = ["validate_cmd"]


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
    loaded = load_targets(targets)  # a bad file is refused before anything runs
    check_workers(workers)
    with progress_bar("validation runs", "runs") as progress:
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
        print_json({**results_json(df), "files": a.get("files", [])})
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
                Text(f"{short(r.value)} [{short(r.lo)}, {short(r.hi)}]"),
                Text(f"{short(r.low)} - {short(r.high)}"),
                Text(ref),
                Text("pass", style="green") if r.passed else Text("FAIL", style="bold red"),
            )
        con = stdout_console()
        con.print(table)
        con.print(Text(f"{a['passed']} of {a['total']} targets pass"))
        for f in a.get("files", []):
            con.print(Text(f"Wrote {f}"))
    if a["passed"] < a["total"]:
        raise typer.Exit(1)
