"""The dashboard's figures: Matplotlib ``Figure`` objects built without pyplot.

No global Matplotlib state is touched (pyplot keeps figures alive and ``rc_context`` is not
thread-safe, and a server draws for many sessions at once): each figure gets its own Agg
canvas and every text of it a font list with CJK fallbacks, so Chinese labels draw where such a
font is installed.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any, Final

import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from innosim.dashboard.logic import SERIES_METRICS, RunOutcome
from innosim.labels import text

__all__ = ["compare_figure", "index_figure", "series_figure"]

FONTS: Final = [
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
]
"""Font families in order of preference; Matplotlib falls back glyph by glyph."""

_UNITS: Final[dict[str, tuple[str, float]]] = {
    "value_added": ("u_value_added", 1.0),
    "firms": ("u_firms", 1.0),
    "unicorns": ("u_firms", 1.0),
    "talent_net_inflow_rate": ("u_percent_per_year", 100.0),
}
"""metric -> (unit label key, factor applied before plotting)."""


def _figure(nrows: int, ncols: int, size: tuple[float, float], **kw: Any) -> tuple[Any, Any]:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


@lru_cache(maxsize=1)
def installed_fonts() -> list[str]:
    """The families of :data:`FONTS` Matplotlib can find here (asking for others only logs
    "findfont" warnings); DejaVu Sans, which Matplotlib ships, always. System fonts installed
    after Matplotlib built its font cache (a CJK font added by ``make test``) are registered
    first."""
    fm = font_manager.fontManager
    known = {f.fname for f in fm.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            try:
                fm.addfont(path)
            except (OSError, RuntimeError, ValueError):  # unreadable font file: skip it
                continue
    have = {f.name for f in fm.ttflist}
    return [f for f in FONTS if f in have] or ["DejaVu Sans"]


def _fonts(fig: Any) -> Any:
    """Give every text of ``fig`` the installed font list with CJK fallbacks."""
    fonts = installed_fonts()
    for t in fig.findobj(Text):
        t.set_fontfamily(fonts)
    return fig


def _city_label(name: str, zh: str, lang: str) -> str:
    return zh if lang == "zh" else name


def _metric_title(metric: str, lang: str) -> str:
    key, _ = _UNITS[metric]
    return f"{text('m_' + metric, lang)} ({text(key, lang)})"


def _draw_series(ax: Any, outcome: RunOutcome, metric: str, lang: str, legend: bool) -> None:
    _, factor = _UNITS[metric]
    y = outcome.yearly
    for name, zh in outcome.cities:
        rows = y[y["city"] == name]
        ax.plot(rows["year"], rows[metric] * factor, label=_city_label(name, zh, lang), lw=1.4)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    if legend:
        ax.legend(fontsize=7, frameon=False)


def series_figure(outcome: RunOutcome, lang: str) -> Any:
    """Per-city yearly value added, firms, unicorns and talent net inflow of one run (2 x 2)."""
    fig, axes = _figure(2, 2, (9.0, 5.6))
    for i, metric in enumerate(SERIES_METRICS):
        ax = axes.flat[i]
        _draw_series(ax, outcome, metric, lang, legend=i == 0)
        ax.set_title(_metric_title(metric, lang), fontsize=10)
        if i >= 2:
            ax.set_xlabel(text("axis_year", lang), fontsize=8)
    return _fonts(fig)


def compare_figure(a: RunOutcome, b: RunOutcome, lang: str) -> Any:
    """Policy A (left column) and B (right column) side by side, one row per metric, each row
    on a shared y axis."""
    n = len(SERIES_METRICS)
    fig, axes = _figure(n, 2, (9.0, 2.3 * n), sharey="row")
    for i, metric in enumerate(SERIES_METRICS):
        for j, (outcome, slot) in enumerate(((a, "a"), (b, "b"))):
            ax = axes[i, j]
            _draw_series(ax, outcome, metric, lang, legend=i == 0 and j == 0)
            ax.set_title(
                f"{text('policy_' + slot, lang)}: {_metric_title(metric, lang)}", fontsize=9
            )
        axes[i, 1].tick_params(labelleft=True)
    for ax in axes[-1]:
        ax.set_xlabel(text("axis_year", lang), fontsize=8)
    return _fonts(fig)


def index_figure(table: pd.DataFrame, lang: str, zh_names: dict[str, str]) -> Any:
    """Overall TOP score by city, best first, with the Monte Carlo rank interval written beside
    each bar."""
    t = table.sort_values("score", ascending=True)
    fig, axes = _figure(1, 1, (8.0, 0.32 * len(t) + 1.2))
    ax = axes[0, 0]
    names = [zh_names.get(c, c) if lang == "zh" else c for c in t["city"]]
    ax.barh(names, t["score"], color="#4c72b0")
    for yi, (score, lo, hi) in enumerate(
        zip(t["score"], t["rank_low"], t["rank_high"], strict=True)
    ):
        ax.text(float(score) + 1, yi, f"#{int(lo)}-{int(hi)}", va="center", fontsize=7)
    ax.set_xlim(0, 110)
    ax.set_xlabel(text("axis_score", lang), fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _fonts(fig)
