"""What every ``innosim`` command shares: the consoles, machine-readable output, progress bars,
the common options and the turning of errors into messages and exit codes.

Output meant for people (tables, progress) is drawn with Rich; ``--format json``/``csv`` prints
machine-readable data to stdout and nothing else (:func:`print_json`). Progress bars
(:func:`progress_bar`) go to stderr and only when it is a terminal.

Errors (:class:`ErrorGroup`): every :class:`~innosim.errors.InnosimError` is printed as one
paragraph prefixed ``error:`` on stderr and exits with its ``exit_code`` (2 for bad input, 3 for
a broken model invariant); usage errors (bad option values, unknown options) exit 2 with Typer's
message; anything else is a bug and exits 1 with ``internal error:`` (the traceback only with
``INNOSIM_DEBUG=1``).

The command modules of :mod:`innosim.cli` import from here, never from the package itself.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from typer.core import TyperGroup

from innosim.errors import InnosimError
from innosim.experiments.executor import Executor

__all__ = [
    "ISSUES_HINT",
    "PIPE_WIDTH",
    "DaskLocalOpt",
    "ErrorGroup",
    "ParamsFormat",
    "ScaleOpt",
    "ScenarioArg",
    "SchedulerOpt",
    "SeedOpt",
    "TableFormat",
    "WorkersOpt",
    "executor_of",
    "fmt_cell",
    "fmt_num",
    "num",
    "paragraph",
    "print_error",
    "print_internal",
    "print_json",
    "progress_bar",
    "records",
    "short",
    "sig",
    "stderr_console",
    "stdout_console",
]

ISSUES_HINT = "this is a bug in innosim; please report it with the command you ran"
PIPE_WIDTH = 160
"""Console width when stdout is not a terminal (tables are not wrapped at 80 columns)."""


# --------------------------------------------------------------------------- error handling


def paragraph(prefix: str, message: str) -> str:
    text = prefix + " ".join(str(message).split())
    if sys.stderr.isatty():
        width = max(40, min(shutil.get_terminal_size().columns, 100))
        return textwrap.fill(text, width=width, subsequent_indent="  ")
    return text


def print_error(exc: InnosimError) -> None:
    print(paragraph("error: ", str(exc)), file=sys.stderr)


def print_internal(exc: BaseException) -> None:
    if os.environ.get("INNOSIM_DEBUG") == "1":
        traceback.print_exception(exc, file=sys.stderr)
    hint = (
        ""
        if os.environ.get("INNOSIM_DEBUG") == "1"
        else "; set INNOSIM_DEBUG=1 to see the traceback"
    )
    print(
        paragraph("internal error: ", f"{type(exc).__name__}: {exc} ({ISSUES_HINT}{hint})"),
        file=sys.stderr,
    )


class ErrorGroup(TyperGroup):
    """Typer group that turns innosim's errors into messages and exit codes.

    Handling errors here (rather than only in :func:`main`) makes the behaviour the same for the
    console script, ``python -m innosim`` and ``typer.testing.CliRunner``.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # usage errors and explicit exits: Typer prints them (usage errors exit 2)
        except InnosimError as exc:
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # `innosim params | head`: Typer exits quietly
            print_internal(exc)
            raise typer.Exit(1) from None
        except Exception as exc:
            print_internal(exc)
            raise typer.Exit(1) from None


# --------------------------------------------------------------------------- output helpers


class TableFormat(StrEnum):
    table = "table"
    json = "json"


class ParamsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def stdout_console() -> Console:
    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=PIPE_WIDTH)
    return con


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN becomes null)."""
    return json.loads(df.to_json(orient="records"))


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def num(x: Any, fmt: str = ",.0f") -> str:
    return fmt_num(x, fmt)


def sig(x: Any) -> str:
    return num(x, ".6g")


def short(x: Any) -> str:
    """A compact number: thousands separators for large values, 3 significant digits else."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


@contextmanager
def progress_bar(description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr (ticks done/total, elapsed, ETA), shown only on a terminal."""
    console = stderr_console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# --------------------------------------------------------------------------- shared options

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
        help="Agent scale: this many times the scenario's people rows (each then stands for "
        "fewer people); firms are real firms and outputs real counts at any scale.",
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


def executor_of(workers: int | None, dask_local: int | None, scheduler: str | None) -> Executor:
    """The :class:`~innosim.experiments.executor.Executor` that ``--workers``, ``--dask-local``
    and ``--scheduler`` ask for (an InputError, exit 2, when they conflict or are malformed)."""
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


def fmt_cell(x: Any, fmt: str = ".3g") -> str:
    """A table cell of magnitude-dependent precision: a thousands-separated whole number from
    1,000 on, else ``x`` formatted with ``fmt``; "–" when not finite, ``str(x)`` when not a
    number."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return fmt_num(v, ",.0f" if abs(v) >= 1000 else fmt)
