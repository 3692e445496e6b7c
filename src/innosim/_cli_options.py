"""Command-line options shared by every command module (``cli.py`` and ``cli_*.py``), so the
same option reads the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["ScaleOpt", "ScenarioArg", "SeedOpt", "WorkersOpt"]

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
