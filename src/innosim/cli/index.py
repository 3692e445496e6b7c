"""``innosim index``: the TOP composite index over the sourced city data (a thin layer).

Everything is computed by :func:`innosim.index.build_index`; this module parses the options,
prints the table (Rich), CSV or JSON, and writes ``--out`` through
:func:`innosim.index.write_outputs`. Errors are :class:`~innosim.errors.InnosimError` and are
turned into one-paragraph messages and exit status 2 by the CLI group (see
:mod:`innosim.cli.console`).
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from innosim import index as top_index
from innosim.cli.console import fmt_num, print_json, records, stderr_console, stdout_console
from innosim.errors import InputError

__all__ = ["index_command"]


class IndexFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _cities(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [c.strip() for c in value.split(",") if c.strip()]
    if not names:
        raise InputError(
            "no city named",
            file="command line",
            field="--cities",
            value=value,
            expected="comma-separated city names, e.g. 'A,B,C'",
        )
    return names


def _f(x: Any, fmt: str = ".1f") -> str:
    return fmt_num(x, fmt)


def index_command(
    framework: Annotated[
        Path | None,
        typer.Option(
            "--framework",
            help="Framework TOML (default: the shipped TOP framework).",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Data CSV (default: data/cities_sourced.csv).", show_default=False
        ),
    ] = None,
    cities: Annotated[
        str | None,
        typer.Option(
            "--cities",
            help="Comma-separated cities to compare (default: all).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        IndexFormat,
        typer.Option("--format", help="Output format (csv: the index table only)."),
    ] = IndexFormat.table,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write tables and figures into this directory.", show_default=False
        ),
    ] = None,
    draws: Annotated[
        int, typer.Option("--draws", min=0, help="Monte Carlo draws (0: none).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the analyses.")] = 0,
    sobol_n: Annotated[
        int,
        typer.Option(
            "--sobol", min=0, help="Sobol base sample size, a power of 2 (0: no Sobol analysis)."
        ),
    ] = 0,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="External ranking CSV (columns city,rank): print Spearman and Kendall "
            "correlations with the index rank.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compute the TOP (Talent-Organization-Place) index with Monte Carlo rank intervals."""
    ranking = (
        top_index.load_ranking(compare) if compare is not None else None
    )  # refused before work
    result = top_index.build_index(
        framework=framework,
        data=data,
        cities=_cities(cities),
        draws=draws,
        seed=seed,
        sobol_n=sobol_n or None,
    )
    comparison = top_index.compare_ranking(result.table, ranking) if ranking is not None else None
    written = top_index.write_outputs(result, out) if out is not None else []
    t = result.table
    secs = result.meta["seconds"]
    if fmt is IndexFormat.csv:
        if comparison is not None:
            rows = [
                ("spearman", comparison["spearman"], comparison["spearman_p"]),
                ("kendall", comparison["kendall"], comparison["kendall_p"]),
            ]
            df = pd.DataFrame(rows, columns=["measure", "value", "p_value"])
            df["n"] = comparison["n"]
            typer.echo(df.to_csv(index=False), nl=False)
        else:
            typer.echo(t[list(top_index.TABLE_COLUMNS)].to_csv(index=False), nl=False)
        return
    if fmt is IndexFormat.json:
        ind_cov = (
            result.coverage.groupby("indicator", sort=False)["has_value"]
            .agg(["size", "sum"])
            .rename(columns={"size": "cities", "sum": "covered"})
            .reset_index()
        )
        payload: dict[str, Any] = {
            **result.meta,
            "table": records(t),
            "coverage_by_city": records(result.coverage_by_city),
            "coverage_by_indicator": records(ind_cov),
            "framework_indicators": records(result.spec.table()),
            "outliers": records(result.outliers.rename_axis("indicator").reset_index()),
            "files": [str(f) for f in written],
        }
        if comparison is not None:
            payload["compare"] = {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in comparison.items()
            }
        if result.sobol is not None:
            payload["sobol"] = records(result.sobol)
        print_json(payload)
        return

    con = stdout_console()
    m = result.meta
    title = (
        f"TOP index ({result.spec.name}: {m['indicators']} indicators, {m['cities']} cities); "
        + (
            f"rank interval: 5-95% over {m['draws']} Monte Carlo draws (seed {m['seed']})"
            if m["draws"]
            else "no uncertainty analysis (--draws 0)"
        )
    )
    table = Table(title=Text(title), title_justify="left")
    for col, head in (
        ("city", "city"),
        ("talent", "T"),
        ("organization", "O"),
        ("place", "P"),
        ("score", "score"),
        ("rank", "rank"),
        ("interval", "rank 5-95%"),
        ("rank_median", "median"),
    ):
        table.add_column(head, justify="left" if col == "city" else "right")
    for r in t.itertuples(index=False):
        table.add_row(
            Text(str(r.city)),
            Text(_f(r.talent)),
            Text(_f(r.organization)),
            Text(_f(r.place)),
            Text(_f(r.score)),
            Text(str(r.rank)),
            Text(f"{r.rank_low}-{r.rank_high}"),
            Text(_f(r.rank_median, "g")),
        )
    con.print(table)
    cov = result.coverage_by_city
    ct = Table(
        title=Text(
            "Coverage: indicators with a value per city (missing values are not imputed in the "
            "nominal index; flagged = values whose data rows carry a flag)"
        ),
        title_justify="left",
    )
    for col in ("city", "covered", "flagged", "missing"):
        ct.add_column(col, justify="left" if col in ("city", "missing") else "right")
    for r in cov.itertuples(index=False):
        gaps = result.coverage[(result.coverage["city"] == r.city) & ~result.coverage["has_value"]]
        ct.add_row(
            Text(str(r.city)),
            Text(f"{r.covered}/{r.indicators}"),
            Text(str(r.flagged)),
            Text(", ".join(gaps["indicator"])),
        )
    con.print(ct)
    if comparison is not None:
        a = comparison
        con.print(
            Text(
                f"Against {ranking.attrs.get('file')} over {a['n']} cities in both: "
                f"Spearman rho = {_f(a['spearman'], '.3f')} (p = {_f(a['spearman_p'], '.3g')}), "
                f"Kendall tau = {_f(a['kendall'], '.3f')} (p = {_f(a['kendall_p'], '.3g')})"
                + (
                    f"; only in the index: {', '.join(a['only_index'])}"  # type: ignore[arg-type]
                    if a["only_index"]
                    else ""
                )
                + (
                    f"; only in the ranking: {', '.join(a['only_ranking'])}"  # type: ignore[arg-type]
                    if a["only_ranking"]
                    else ""
                )
            )
        )
    if result.sobol is not None:
        s = result.sobol[result.sobol["output"] == "mean_abs_rank_shift"]
        st = Table(
            title=Text("Sobol indices of the mean absolute rank shift from the nominal ranks"),
            title_justify="left",
        )
        for col in ("factor", "S1", "ST"):
            st.add_column(col, justify="left" if col == "factor" else "right")
        for r in s.itertuples(index=False):
            st.add_row(
                Text(r.factor),
                Text(f"{_f(r.S1, '.2f')} ± {_f(r.S1_conf, '.2f')}"),
                Text(f"{_f(r.ST, '.2f')} ± {_f(r.ST_conf, '.2f')}"),
            )
        con.print(st)
    for f in written:
        con.print(Text(f"Wrote {f}"))
    stderr_console().print(
        Text(
            f"Computed in {secs['total']:.1f} s (Monte Carlo {secs['monte_carlo']:.1f} s"  # type: ignore[index]
            + (f", Sobol {secs['sobol']:.1f} s" if result.sobol is not None else "")  # type: ignore[index]
            + ")"
        )
    )
