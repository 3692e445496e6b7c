"""``innosim report``: one self-contained HTML report of a stored run or an experiment directory."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from innosim.cli.console import (
    paragraph,
    stdout_console,
)
from innosim.report.fonts import FontWarning
from innosim.report.html import report

__all__ = ["report_cmd"]


def report_cmd(
    run: Annotated[
        str,
        typer.Argument(
            help="A stored run (id, unique prefix of >= 4 characters, 'latest' or its directory) "
            "or the --out directory of innosim validate, compare, explain, index or sweep.",
            metavar="RUN_OR_EXPERIMENT",
            show_default=False,
        ),
    ],
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: en or zh.")] = "en",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="HTML file to write (default: report.<lang>.html in the run or experiment "
            "directory).",
            show_default=False,
        ),
    ] = None,
    store: Annotated[Path, typer.Option("--store", help="Results store directory.")] = Path(
        "results"
    ),
) -> None:
    """Write one self-contained HTML report (figures embedded) of a run or an experiment."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FontWarning)
        path = report(run, lang=lang, out=out, store=store)
    for w in caught:
        if issubclass(w.category, FontWarning):
            print(paragraph("warning: ", str(w.message)), file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    stdout_console().print(Text(f"Report: {path}"))
