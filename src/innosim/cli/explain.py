"""``innosim compare`` and ``innosim explain`` (thin layers over :func:`innosim.compare` and
:func:`innosim.explain`; registered in :mod:`innosim.cli`).

Both print a Rich table (or JSON with ``--format json``), show a progress bar with ETA on stderr
when it is a terminal, and with ``--out DIR`` write CSV, JSON and a figure atomically. Bad input
is an :class:`~innosim.errors.InnosimError`: one paragraph and exit status 2 (see
:mod:`innosim.cli.console`).
"""

from __future__ import annotations

import math
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
    fmt_cell,
    fmt_num,
    print_json,
    progress_bar,
    records,
    stdout_console,
)
from innosim.experiments.compare import compare
from innosim.experiments.explain import DEFAULT_GROUPS, explain, load_groups
from innosim.experiments.policy import load_policy
from innosim.outdir import check_out
from innosim.report.outputs import write_compare, write_explain

__all__ = ["compare_command", "explain_command"]


class OutFormat(StrEnum):
    table = "table"
    json = "json"


def _f(x: Any, fmt: str = ",.3g") -> str:
    return fmt_num(x, fmt)


def _pct(x: Any) -> str:
    return "–" if not math.isfinite(float(x)) else f"{float(x):.0%}"


ReplicatesOpt = Annotated[
    int, typer.Option("--replicates", help="Replicates (paired seeds) per arm or coalition.")
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Write CSV, JSON and a figure into this directory.", show_default=False
    ),
]
FormatOpt = Annotated[OutFormat, typer.Option("--format", help="Output format.")]


def compare_command(
    scenario: ScenarioArg,
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            help="Policy file (TOML; a path or a name in policies/).",
            show_default=False,
        ),
    ],
    replicates: ReplicatesOpt = 10,
    year: Annotated[
        int | None,
        typer.Option(
            "--year", help="Year read (default: the scenario's end year).", show_default=False
        ),
    ] = None,
    seed: SeedOpt = None,
    scale: ScaleOpt = None,
    metrics: Annotated[
        str | None,
        typer.Option(
            "--metrics",
            help="Comma-separated outcomes (default: unicorns, value_added, firms, ...).",
            show_default=False,
        ),
    ] = None,
    out: OutOpt = None,
    workers: WorkersOpt = None,
    dask_local: DaskLocalOpt = None,
    scheduler: SchedulerOpt = None,
    fmt: FormatOpt = OutFormat.table,
) -> None:
    """Baseline vs a policy file: paired ensembles (common random numbers), per city and outcome."""

    pf = load_policy(policy)  # a bad file is refused before anything runs
    check_out(out)
    mets = None if metrics is None else [m.strip() for m in metrics.split(",") if m.strip()]
    with progress_bar(f"compare {pf.name}", "runs") as progress:
        df = compare(
            scenario,
            pf,
            replicates=replicates,
            year=year,
            seed=seed,
            scale=scale,
            metrics=mets,
            executor=executor_of(workers, dask_local, scheduler),
            progress=progress,
        )
    written = write_compare(df, out) if out is not None else []
    a = df.attrs
    if fmt is OutFormat.json:
        attrs = {k: v for k, v in a.items() if k != "replicate_values"}
        print_json({**attrs, "files": [str(p) for p in written], "rows": records(df)})
        return
    con = stdout_console()
    title = pf.title or pf.name
    table = Table(
        title=Text(
            f"{a['scenario']} in {a['year']}: baseline vs {title} ({a['replicates']} paired "
            f"replicates, root seed {a['seed']}; change = mean paired difference with 90% t "
            "interval)"
        ),
        title_justify="left",
    )
    for col in ("city", "metric", "baseline", "policy", "change [90% CI]", "change %"):
        table.add_column(col, justify="left" if col in ("city", "metric") else "right")
    last = None
    for r in df.itertuples(index=False):
        city = "" if r.city == last else str(r.city)
        last = r.city
        sig = math.isfinite(r.diff_lo) and (r.diff_lo > 0 or r.diff_hi < 0)
        table.add_row(
            Text(city),
            Text(str(r.metric)),
            Text(fmt_cell(r.baseline_mean)),
            Text(fmt_cell(r.policy_mean)),
            Text(
                f"{_f(r.diff_mean, 'short')} [{_f(r.diff_lo, 'short')}, {_f(r.diff_hi, 'short')}]",
                style="bold" if sig else "",
            ),
            Text("–" if not math.isfinite(r.rel_change) else f"{100 * r.rel_change:+.1f}%"),
        )
    con.print(table)
    con.print(
        Text("Bold: the 90% interval of the mean change excludes 0. ")
        + Text(f"{a['runs']} runs in {a['seconds']:.1f} s.")
    )
    for e in a["inactive"]:
        con.print(
            Text(
                f"Note: the entry for {e.get('lever', e.get('param'))} ({e.get('city')}) starts "
                f"in {e['year']:g}, after {a['year']}: it changes nothing here."
            )
        )
    for p in written:
        con.print(Text(f"Wrote {p}"))


def explain_command(
    scenario: ScenarioArg,
    gap: Annotated[
        tuple[str, str],
        typer.Option(
            "--gap",
            help="Two cities A B: explain the gap metric(A) - metric(B).",
            metavar="CITY_A CITY_B",
            show_default=False,
        ),
    ],
    metric: Annotated[str, typer.Option("--metric", help="Yearly outcome compared.")] = "unicorns",
    groups: Annotated[
        str | None,
        typer.Option(
            "--groups",
            help="Groups file (TOML), or comma-separated names of default groups (talent, "
            "culture, demand, capital, place, policy; default: all six).",
            show_default=False,
        ),
    ] = None,
    replicates: ReplicatesOpt = 10,
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            help="Year read (default: the scenario's reference year).",
            show_default=False,
        ),
    ] = None,
    scale: ScaleOpt = None,
    seed: SeedOpt = None,
    mirror: Annotated[
        bool,
        typer.Option("--mirror", help="A takes B's values instead of B taking A's."),
    ] = False,
    out: OutOpt = None,
    workers: WorkersOpt = None,
    dask_local: DaskLocalOpt = None,
    scheduler: SchedulerOpt = None,
    fmt: FormatOpt = OutFormat.table,
) -> None:
    """Split a gap between two cities across parameter groups by exact Shapley values."""

    names = [x.strip() for x in (groups or "").split(",") if x.strip()]
    default = {g.name: g for g in DEFAULT_GROUPS}
    if groups is not None and not Path(groups).exists() and names and set(names) <= set(default):
        gs = tuple(default[n] for n in dict.fromkeys(names))  # a subset of the default groups
    else:
        gs = load_groups(groups)  # a bad file is refused before anything runs
    check_out(out)
    with progress_bar(f"explain {gap[0]} - {gap[1]}", "runs") as progress:
        df = explain(
            scenario,
            gap=gap,
            metric=metric,
            groups=gs,
            replicates=replicates,
            year=year,
            seed=seed,
            scale=scale,
            mirror=mirror,
            executor=executor_of(workers, dask_local, scheduler),
            progress=progress,
        )
    written = write_explain(df, out) if out is not None else []
    a = df.attrs
    if fmt is OutFormat.json:
        attrs = {k: v for k, v in a.items() if k != "phi_replicates"}
        print_json({**attrs, "files": [str(p) for p in written], "rows": records(df)})
        return
    con = stdout_console()
    table = Table(
        title=Text(
            f"{a['metric']} in {a['year']}: {a['city_a']} {fmt_cell(a['level_a'])} "
            f"vs {a['city_b']} {fmt_cell(a['level_b'])}; "
            f"Shapley values over {len(a['groups'])} groups "
            f"({2 ** len(a['groups'])} coalitions x {a['replicates']} replicates, common seeds)"
        ),
        title_justify="left",
    )
    for col in ("term", "Shapley value", "90% CI", "5-95% of replicates", "share of gap"):
        table.add_column(col, justify="left" if col == "term" else "right")
    table.add_column("parameters that differ", overflow="fold")
    for r in df.itertuples(index=False):
        if r.kind == "total":
            table.add_section()
        term = str(r.term)
        if r.kind == "residual_part":
            term = "  of which " + (
                "gap left with all swapped"
                if r.term == "gap_left"
                else f"{a['city_b'] if a['mirror'] else a['city_a']} reacts"
            )
        table.add_row(
            Text(term, style="bold" if r.kind in ("total", "residual", "gap") else ""),
            Text(_f(r.mean, "short")),
            Text(f"[{_f(r.lo, 'short')}, {_f(r.hi, 'short')}]"),
            Text(f"[{_f(r.q05, 'short')}, {_f(r.q95, 'short')}]"),
            Text("–" if not math.isfinite(r.share_of_gap) else f"{100 * r.share_of_gap:.0f}%"),
            Text(str(r.params) if r.kind == "group" else ""),
        )
    con.print(table)
    con.print(Text(f"Game: {a['game']}."))
    share = a["share_explained"]
    con.print(
        Text(
            f"The groups together explain "
            f"{'–' if not math.isfinite(share) else f'{share:.0%}'} of the gap; the residual "
            "(size, geography, GDP per capita, the other cities' reactions) is the rest. With "
            f"every group swapped the gap is {_pct(a['gap_closed'])} closed. "
            f"Efficiency: |sum of Shapley values - v(all)| <= {a['efficiency_error']:.1e} per "
            f"replicate. {a['runs']} runs in {a['seconds']:.1f} s."
        )
    )
    for p in written:
        con.print(Text(f"Wrote {p}"))
