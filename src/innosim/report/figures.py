"""Figures of a run, drawn with Matplotlib's object API on the Agg canvas.

No ``pyplot``: each call builds its own :class:`~matplotlib.figure.Figure`, so nothing depends on
(or changes) a global backend or figure registry, and drawing works without a display. Files are
written to a temporary name in the target directory and renamed over the target, so a reader
never sees half a PNG.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from innosim.atomic import atomic_write
from innosim.errors import InputError, StoreError
from innosim.model.runner import yearly
from innosim.schema import UNITS

__all__ = ["DEFAULT_METRICS", "metric_label", "save_png", "timeseries_figure"]

DEFAULT_METRICS: tuple[str, ...] = (
    "value_added",
    "firms",
    "unicorns",
    "talent_net_inflow_rate",
    "employment",
    "risk_appetite",
)
"""Panels of the default time-series figure."""

NCOLS = 3
PANEL_SIZE = (4.6, 3.2)  # inches per panel
DPI = 110

_PERCENT_UNITS = {"1/yr": "%/yr", "share": "%"}
"""Rates and shares are plotted in percent."""

_PRETTY = {
    "value_added": "Value added",
    "talent_net_inflow_rate": "Talent net inflow",
    "risk_appetite": "Investors' risk appetite",
    "chain_masters": "Chain masters",
    "vc_invested": "Venture capital invested",
}


def metric_label(metric: str) -> str:
    """The English figure title of a metric."""
    return _PRETTY.get(metric, metric.replace("_", " ").capitalize())


# The name the report's other figure modules import today.


def timeseries_figure(
    series: pd.DataFrame,
    path: str | os.PathLike[str],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    units: Mapping[str, str] | None = None,
    title: str | None = None,
    window: int = 5,
) -> Path:
    """Draw per-city yearly lines of some series in a grid and save it as a PNG.

    Parameters
    ----------
    series : pandas.DataFrame
        A run's per-tick series (``RunResult.series`` or the stored ``series`` table): columns
        ``year``, ``city`` and the metrics.
    path : str or path
        Output PNG file; its directory must exist.
    metrics : sequence of str
        One panel per metric, in order, three per row. Ticks are aggregated to years with
        :func:`innosim.yearly` (flows summed, rates averaged, stocks at year end).
    units : mapping of str to str, optional
        Unit of each metric (``RunResult.meta["units"]``); defaults to the model's declared
        series units. Rates (``1/yr``) and shares are drawn in percent.
    title : str, optional
        Figure title (default: "Simulated cities by year").
    window : int
        Rolling window of ``growth_volatility``, if that is plotted.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        A metric is not a column of ``series``.
    StoreError
        The file cannot be written.
    """
    y = yearly(series, window)
    metrics = list(metrics)
    missing = [m for m in metrics if m not in y.columns]
    if missing or not metrics:
        known = [c for c in y.columns if c not in ("city", "year")]
        raise InputError(
            "unknown metric for the figure",
            field="metrics",
            value=missing[0] if missing else "",
            expected="one or more of " + ", ".join(known),
        )
    units = dict(units) if units is not None else dict(UNITS)
    cities = list(dict.fromkeys(y["city"]))

    ncols = min(NCOLS, len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig = Figure(figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        unit = units.get(metric, "")
        factor = 100.0 if unit in _PERCENT_UNITS else 1.0
        shown_unit = _PERCENT_UNITS.get(unit, unit)
        for city in cities:
            rows = y[y["city"] == city]
            ax.plot(rows["year"], rows[metric] * factor, label=str(city), linewidth=1.4)
        ax.set_title(metric_label(metric), fontsize=10)
        ax.set_xlabel("year")
        ax.set_ylabel(shown_unit or "value", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(cities), 6),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(title or "Simulated cities by year", fontsize=12)

    return save_png(fig, Path(path))


def save_png(fig: object, path: Path) -> Path:
    """Write the figure as a PNG atomically (:func:`innosim.atomic.atomic_write`)."""
    try:
        atomic_write(
            path,
            lambda fh: fig.savefig(fh, format="png", dpi=DPI),  # type: ignore[attr-defined]
            suffix=".png",
        )
    except OSError as exc:
        raise StoreError(
            f"cannot write the figure ({exc.strerror})",
            file=str(path),
            expected="a PNG path in an existing, writable directory",
        ) from None
    return path


# The name the report's other figure modules import today.
