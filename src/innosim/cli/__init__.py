"""The ``innosim`` command line: parse arguments, call :mod:`innosim.api`, print.

Commands hold no model logic. This package is the Typer application (:data:`app`) and the
console-script entry point (:func:`main`); every command lives in a module of its group
(:mod:`~innosim.cli.runs`, :mod:`~innosim.cli.params`, :mod:`~innosim.cli.ensemble`,
:mod:`~innosim.cli.validate`, :mod:`~innosim.cli.data`, :mod:`~innosim.cli.index`,
:mod:`~innosim.cli.sweep`, :mod:`~innosim.cli.explain`, :mod:`~innosim.cli.sensitivity`,
:mod:`~innosim.cli.report`, :mod:`~innosim.cli.serve`) and is registered here, in the order
``innosim --help`` lists them. What the commands share -- consoles, JSON output, progress bars,
common options, and errors turned into one paragraph and an exit code (2 for bad input) -- is
:mod:`innosim.cli.console`; command modules import from it and never from this package.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from innosim import __version__
from innosim.cli import (
    data,
    ensemble,
    explain,
    index,
    params,
    report,
    runs,
    sensitivity,
    serve,
    sweep,
    validate,
)
from innosim.cli.console import ErrorGroup, print_error
from innosim.errors import InnosimError

__all__ = ["app", "main"]

app = typer.Typer(
    cls=ErrorGroup,
    name="innosim",
    help="Simulate a city's innovation ecosystem (Talent-Organization-Place).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"innosim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """innosim: measure, simulate, explain and plan a city's innovation ecosystem."""


# --------------------------------------------------------------------------- commands, in order

app.command("run")(runs.run_cmd)
app.command("show")(runs.show_cmd)
app.command("params")(params.params_cmd)
app.command("scenarios")(params.scenarios_cmd)
app.command("ensemble")(ensemble.ensemble_cmd)
app.command("counterfactual")(ensemble.counterfactual_cmd)
app.command("plot")(runs.plot_cmd)
app.command("validate")(validate.validate_cmd)
app.add_typer(data.data_app, name="data")
app.command("index")(index.index_command)
app.command("sweep")(sweep.sweep_command)
app.command("compare")(explain.compare_command)
app.command("explain")(explain.explain_command)
app.command("sensitivity")(sensitivity.sensitivity_command)
app.command("calibrate")(sensitivity.calibrate_command)
app.command("report")(report.report_cmd)
app.command("serve")(serve.serve_cmd)


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``innosim``); exits with the command's status."""
    try:
        app(args=None if argv is None else list(argv), prog_name="innosim")
    except InnosimError as exc:  # pragma: no cover - the group handles these; kept as a net
        print_error(exc)
        sys.exit(exc.exit_code)
