"""Command-line options and number formatting shared by every command module (``cli.py`` and
``cli_*.py``), so the same option reads the same everywhere."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

__all__ = [
    "DaskLocalOpt",
    "ScaleOpt",
    "ScenarioArg",
    "SchedulerOpt",
    "SeedOpt",
    "WorkersOpt",
    "executor_of",
    "fmt_num",
]

ScenarioArg = Annotated[
    str,
    typer.Argument(
        help="Scenario name (see 'innosim scenarios') or path to a TOML file.",
        metavar="SCENARIO",
        show_default=False,
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="Root seed (default: the scenario's).", show_default=False),
]
ScaleOpt = Annotated[
    float | None,
    typer.Option(
        "--scale",
        help="Agent scale: this many times the scenario's person-agents "
        "(outputs stay real-equivalent).",
        show_default=False,
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="Worker processes (default: one per CPU).", show_default=False),
]
DaskLocalOpt = Annotated[
    int | None,
    typer.Option(
        "--dask-local", help="Run on a Dask LocalCluster of N worker processes.", show_default=False
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on the Dask cluster of this scheduler (tcp://HOST:PORT).",
        show_default=False,
    ),
]


def executor_of(workers: int | None, dask_local: int | None, scheduler: str | None):
    """The :class:`~innosim.experiments.executor.Executor` that ``--workers``, ``--dask-local``
    and ``--scheduler`` ask for (an InputError, exit 2, when they conflict or are malformed)."""
    from innosim.experiments.executor import Executor

    return Executor.from_options(workers=workers, scheduler=scheduler, dask_local=dask_local)


def fmt_num(x: Any, fmt: str) -> str:
    """A table cell: ``x`` formatted with ``fmt`` ("–" when not finite, ``str(x)`` when not a
    number); ``fmt="short"`` gives a signed number, thousands-separated from 1,000 on."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    if fmt == "short":
        return f"{v:+,.0f}" if abs(v) >= 1000 else f"{v:+.3g}"
    return format(v, fmt)
