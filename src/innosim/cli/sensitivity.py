"""``innosim sensitivity`` and ``innosim calibrate``: thin layers over
:func:`innosim.experiments.sensitivity.sensitivity` and
:func:`innosim.experiments.calibrate.calibrate`.

Each parses its options, draws a Rich progress bar with ETA on stderr (only on a terminal),
prints a table (or JSON/CSV) and lists the files written with ``--out``. Errors are
:class:`~innosim.errors.InnosimError` and become one-paragraph messages with exit status 2 (see
:mod:`innosim.cli.console`).
"""

from __future__ import annotations

import math
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from innosim.cli.console import (
    DaskLocalOpt,
    ScaleOpt,
    ScenarioArg,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    executor_of,
    fmt_num,
    print_json,
    progress_bar,
    stderr_console,
    stdout_console,
)
from innosim.experiments import calibrate as cal
from innosim.experiments import sensitivity as sa

__all__ = ["calibrate_command", "sensitivity_command"]


class OutFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _f(x: Any, fmt: str = ".2f") -> str:
    return fmt_num(x, fmt)


FormatOpt = Annotated[OutFormat, typer.Option("--format", help="Output format.")]


def sensitivity_command(
    scenario: ScenarioArg,
    outputs: Annotated[
        str,
        typer.Option(
            "--outputs",
            help="Comma-separated outputs: city metrics (unicorns, value_added, firms, entries, "
            "talent_net_inflow_rate, ...), 'City.metric' or catalog statistics "
            "'name(arg=value)'.",
            show_default=False,
        ),
    ],
    params: Annotated[
        str | None,
        typer.Option(
            "--params",
            help="Comma-separated factors NAME or NAME=LOW:HIGH (default: six levers of --city "
            "over their value ±50%).",
            show_default=False,
        ),
    ] = None,
    n: Annotated[
        int, typer.Option("--n", help="Sobol base sample size (a power of 2); n*(k+2) points.")
    ] = 64,
    replicates: Annotated[
        int, typer.Option("--replicates", help="Runs per point (common seeds; averaged).")
    ] = 2,
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            help="Year outputs are read (default: the scenario's last).",
            show_default=False,
        ),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option(
            "--city",
            help="City of unqualified parameters and metrics (default: the scenario's first).",
            show_default=False,
        ),
    ] = None,
    seed: SeedOpt = None,
    scale: ScaleOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write sensitivity.csv, sensitivity.json, samples.csv and sensitivity.png here.",
            show_default=False,
        ),
    ] = None,
    workers: WorkersOpt = None,
    dask_local: DaskLocalOpt = None,
    scheduler: SchedulerOpt = None,
    fmt: FormatOpt = OutFormat.table,
) -> None:
    """Sobol sensitivity indices (S1, ST with 95% intervals) of outputs to parameters."""

    t0 = time.perf_counter()
    with progress_bar("sensitivity runs", "runs") as progress:
        df = sa.sensitivity(
            scenario,
            outputs=outputs,
            params=params,
            city=city,
            n=n,
            replicates=replicates,
            year=year,
            seed=seed,
            scale=scale,
            executor=executor_of(workers, dask_local, scheduler),
            progress=progress,
            out=out,
        )
    secs = time.perf_counter() - t0
    a = df.attrs
    if fmt is OutFormat.csv:
        typer.echo(df.to_csv(index=False), nl=False)
        return
    if fmt is OutFormat.json:
        print_json({**sa.results_json(df), "seconds": secs, "files": a.get("files", [])})
        return
    con = stdout_console()
    noise = {r["output"]: r for r in a["noise"]}
    for name, part in df.groupby("output", sort=False):
        table = Table(
            title=Text(
                f"{name} ({a['scenario']}, {a['year']}): Sobol indices over {a['points']} points "
                f"x {a['replicates']} replicates (n={a['n']}, seed {a['seed']}), ranked by ST; "
                "± 95% bootstrap"
            ),
            title_justify="left",
        )
        for col in ("factor", "range", "S1", "ST"):
            table.add_column(col, justify="left" if col in ("factor", "range") else "right")
        for r in part.itertuples(index=False):
            table.add_row(
                Text(r.factor),
                Text(f"[{r.low:.4g}, {r.high:.4g}] (scenario {r.value:.4g})"),
                Text(f"{_f(r.S1)} ± {_f(r.S1_conf)}"),
                Text(f"{_f(r.ST)} ± {_f(r.ST_conf)}"),
            )
        con.print(table)
        nz = noise.get(name, {})
        share = nz.get("noise_share")
        line = f"mean {_f(nz.get('mean'), '.4g')}, sd across points {_f(nz.get('sd'), '.4g')}"
        if share is not None and math.isfinite(share):
            line += (
                f"; seed noise: {share:.0%} of the variance of the {a['replicates']}-replicate "
                f"mean ({_f(100 * nz.get('noise_share_run', math.nan), '.0f')}% of one run's); "
                "a factor with ST below it is not distinguishable from noise"
            )
        if nz.get("n_missing"):
            line += f"; {nz['n_missing']} points gave NaN, so no indices"
        con.print(Text(line))
    for f in a.get("files", []):
        con.print(Text(f"Wrote {f}"))
    stderr_console().print(Text(f"{a['runs']} runs in {secs:.1f} s"))


def calibrate_command(
    scenario: ScenarioArg,
    targets: Annotated[
        Path,
        typer.Option(
            "--targets", help="Targets file (format: docs/validation.md).", show_default=False
        ),
    ],
    free: Annotated[
        str,
        typer.Option(
            "--free",
            help="Comma-separated free parameters NAME or NAME=LOW:HIGH ('City.param' for a "
            "city parameter); uniform priors over the declared bounds by default.",
            show_default=False,
        ),
    ],
    method: Annotated[
        str, typer.Option("--method", help="abc (ABC-SMC, pyabc) or smm (optuna).")
    ] = "abc",
    budget: Annotated[int, typer.Option("--budget", help="Parameter points simulated.")] = 400,
    replicates: Annotated[
        int, typer.Option("--replicates", help="Runs per parameter point (averaged).")
    ] = 1,
    seed: SeedOpt = None,
    scale: ScaleOpt = None,
    until: Annotated[
        int | None,
        typer.Option(
            "--until", help="Last simulated year (default: the scenario's).", show_default=False
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write calibration.csv/.json, posterior.csv or trials.csv and pyabc's "
            "calibration.db here (default: a temporary directory for the database).",
            show_default=False,
        ),
    ] = None,
    workers: WorkersOpt = None,
    fmt: FormatOpt = OutFormat.table,
) -> None:
    """Estimate free parameters from a targets file: ABC-SMC posterior or SMM point estimate."""

    loaded = cal.load_targets(targets)  # a bad file is refused before anything runs
    t0 = time.perf_counter()
    with progress_bar(f"calibration ({method})", "points") as progress:
        df = cal.calibrate(
            scenario,
            targets=loaded,
            free=free,
            method=method,
            budget=budget,
            replicates=replicates,
            seed=seed,
            scale=scale,
            until=until,
            workers=workers,
            progress=progress,
            out=out,
        )
    secs = time.perf_counter() - t0
    a = df.attrs
    if fmt is OutFormat.csv:
        typer.echo(df.to_csv(index=False), nl=False)
        return
    if fmt is OutFormat.json:
        print_json({**cal.results_json(df), "seconds": secs, "files": a.get("files", [])})
        return
    if a["method"] == "abc":
        what = (
            f"ABC-SMC posterior after {a['generations']} generations of {a['population']} "
            f"particles ({a['simulations']} simulated points, final tolerance "
            f"{_f(a['epsilon'][-1] if a['epsilon'] else math.nan, '.3g')}, ESS "
            f"{_f(a['ess'], '.0f')}): mean, median, 90% credible interval"
        )
    else:
        what = (
            f"SMM over {a['simulations']} points (best distance {_f(a['best_distance'], '.3g')}):"
            f" best point, 90% interval ({a['interval_method']})"
        )
    table = Table(
        title=Text(
            f"{a['scenario']} calibrated to {a['targets']} ({a['replicates']} replicate(s) per "
            f"point, seed {a['seed']}). {what}"
        ),
        title_justify="left",
    )
    for col in ("parameter", "prior", "scenario", "estimate", "median", "90% interval"):
        table.add_column(col, justify="left" if col in ("parameter", "prior") else "right")
    for r in df.itertuples(index=False):
        table.add_row(
            Text(r.parameter),
            Text(f"U[{r.prior_low:.4g}, {r.prior_high:.4g}]"),
            Text(f"{r.scenario_value:.4g}"),
            Text(f"{r.estimate:.4g}"),
            Text(f"{r.median:.4g}"),
            Text(f"[{r.lo:.4g}, {r.hi:.4g}]"),
        )
    con = stdout_console()
    con.print(table)
    for f in a.get("files", []):
        con.print(Text(f"Wrote {f}"))
    stderr_console().print(
        Text(f"{a['simulations']} points x {a['replicates']} runs in {secs:.1f} s")
    )
