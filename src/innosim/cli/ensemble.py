"""``innosim ensemble`` and ``innosim counterfactual``: replicate runs and a what-if of one city
taking another's parameter groups, with 90% intervals.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from innosim import api
from innosim.cli.console import (
    ScaleOpt,
    ScenarioArg,
    SeedOpt,
    TableFormat,
    WorkersOpt,
    num,
    print_json,
    progress_bar,
    records,
    short,
    sig,
    stdout_console,
)
from innosim.errors import InputError
from innosim.experiments.executor import check_workers
from innosim.params.scenario import load_scenario

__all__ = ["counterfactual_cmd", "ensemble_cmd"]


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
    with progress_bar("replicates", "runs") as progress:
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
        print_json({**a, "cities": records(stats)})
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
                cells.append(Text(num(mean, ",.3f")))
            else:
                cells.append(Text(f"{short(mean)} [{short(lo)}, {short(hi)}]"))
        table.add_row(Text(m), *cells)
    con = stdout_console()
    con.print(table)
    if {"chain_masters", "chain_masters_toc"} <= set(df.columns):
        total = df["chain_masters"].sum()
        share = df["chain_masters_toc"].sum() / total if total else float("nan")
        con.print(Text(f"To C share of chain masters, all cities: {num(share, '.2f')}"))


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
    with progress_bar(f"{city} like {like}", "runs") as progress:
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
        print_json(
            {**a, "gap_closed": None if math.isnan(closed) else closed, "cities": records(df)}
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
        return Text(f"{num(mean, sign + ',.2f')} [{num(lo, ',.2f')}, {num(hi, ',.2f')}]")

    for r in df.itertuples(index=False):
        table.add_row(
            Text(str(r.city)), cell(r, "baseline"), cell(r, "counterfactual"), cell(r, "change")
        )
    con = stdout_console()
    con.print(table)
    changes = a["changes"]
    if changes:
        listed = ", ".join(f"{k} {sig(v[0])} -> {sig(v[1])}" for k, v in changes.items())
        con.print(Text(f"{city} took {like}'s values: {listed}."))
    else:
        con.print(Text(f"{city} already has {like}'s values of every parameter in these groups."))
    share = "undefined (no baseline gap)" if math.isnan(closed) else f"{closed:.0%}"
    con.print(
        Text(f"Share of the {like} - {city} gap in {a['metric']} in {a['year']} closed: {share}")
    )
