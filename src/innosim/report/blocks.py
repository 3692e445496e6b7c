"""The building blocks of the HTML report: sections holding figures, tables, notes and fields.

Every report kind (a stored run, or the output directory of an experiment) is a list of
:class:`Section`; the template (``templates/report.html.j2``) draws them in order and numbers the
figures and tables. :class:`Words` carries the language: catalog labels
(:mod:`innosim.labels`) and city names in that language. Figures are drawn with
Matplotlib's object API on the Agg canvas (no ``pyplot``) and embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from innosim.labels import label

__all__ = [
    "DPI",
    "FIG_SIZE",
    "Cell",
    "Fields",
    "Figure",
    "Note",
    "Section",
    "Table",
    "Words",
    "new_figure",
    "png",
]

DPI = 100
FIG_SIZE = (7.0, 3.8)


@dataclass(frozen=True)
class Figure:
    """One embedded figure: title (the image's alt text), caption and base64 PNG."""

    title: str
    caption: str
    png: str
    kind: Literal["figure"] = "figure"


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and how it is shown (``num`` right-aligned, ``code`` for
    identifiers and data shown as written, ``pass``/``fail`` for validation results)."""

    text: str
    style: Literal["", "num", "code", "pass", "fail"] = ""


@dataclass(frozen=True)
class Table:
    """A captioned table."""

    caption: str
    header: list[str]
    rows: list[list[Cell]]
    kind: Literal["table"] = "table"


@dataclass(frozen=True)
class Note:
    """A paragraph of text (``code`` when it is data shown as written)."""

    text: str
    code: bool = False
    kind: Literal["note"] = "note"


@dataclass(frozen=True)
class Fields:
    """Name-value pairs; ``is_data`` marks values shown as written (``<code>``)."""

    items: list[tuple[str, str, bool]]
    kind: Literal["fields"] = "fields"


Block = Figure | Table | Note | Fields


@dataclass(frozen=True)
class Section:
    """One ``<h2>`` section of the report and its blocks, in order."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Words:
    """The report's language: catalog labels and city names (``names``: English -> shown)."""

    lang: str
    names: Mapping[str, str] = field(default_factory=dict)

    def t(self, key: str, **fields: object) -> str:
        """The catalog text of ``key`` in this language, with ``fields`` filled in."""
        return label(key, self.lang, **fields)

    def city(self, name: object) -> str:
        """A city's name in this language (Chinese names from the data; else as written)."""
        s = str(name)
        return self.names.get(s, s) if self.lang == "zh" else s

    def join(self, items: Iterable[str]) -> str:
        """A list in running text: 、 in Chinese, a comma in English."""
        return ("、" if self.lang == "zh" else ", ").join(items)


def new_figure(size: tuple[float, float] = FIG_SIZE) -> Any:
    """A Matplotlib figure on its own Agg canvas (no global state)."""
    fig = MplFigure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png(fig: Any) -> str:
    """The figure as a base64 PNG (missing-glyph warnings are silenced: see ``fonts``)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("ignore", message=".*findfont.*")
        fig.savefig(buf, format="png", dpi=DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")
