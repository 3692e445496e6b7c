"""Phase diagrams of a parameter sweep (Matplotlib object API on the Agg canvas).

For two varied parameters ``x`` and ``y`` and each metric, three panels: the replicate mean, the
between-replicate standard deviation and the share of replicates in the high state (see
:func:`innosim.experiments.sweep.sweep_summary`). Where an outcome is bistable the mean alone
shows a smooth ramp; the spread and the high-state share show the tipping region as a ridge of
large standard deviation and a band where the share lies strictly between 0 and 1. A grid design
is drawn as cells, a scattered design (LHS, Sobol') as coloured points; a sweep of more than two
parameters is averaged over the others, one of a single parameter is drawn as curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from innosim.errors import InputError
from innosim.report.figures import metric_label, save_png

__all__ = ["phase_figure"]

PANELS = (
    ("mean", "mean over replicates"),
    ("sd", "sd between replicates"),
    ("high", "share in the high state"),
)
MAX_METRICS = 3


def phase_figure(
    summary: pd.DataFrame,
    path: str | Path,
    *,
    x: str | None = None,
    y: str | None = None,
    metrics: list[str] | None = None,
    city: str | None = None,
) -> Path:
    """Draw the phase diagram of a :func:`~innosim.experiments.sweep.sweep_summary` table.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per design point and city, as returned by ``sweep_summary``.
    path : str or path
        PNG file (written atomically).
    x, y : str, optional
        Range labels on the axes (default: the first two varied parameters; ``y`` is unused
        when only one parameter was varied).
    metrics : list of str, optional
        Metrics drawn, one row of panels each (default: the sweep's, at most three).
    city : str, optional
        The city drawn (default: the sweep's ``city``, else the first city).

    Returns
    -------
    pathlib.Path
    """
    attrs = summary.attrs
    labels = [p["label"] for p in attrs.get("params", [])]
    x = x or (labels[0] if labels else None)
    if y is None and len(labels) > 1:
        y = labels[1] if labels[1] != x else labels[0]
    for name, v in (("x", x), ("y", y)):
        if v is not None and v not in summary.columns:
            raise InputError(
                "unknown parameter for the phase diagram",
                field=name,
                value=v,
                expected="one of " + ", ".join(labels),
            )
    mets = (metrics or list(attrs.get("metrics", [])))[:MAX_METRICS]
    cities = list(dict.fromkeys(summary["city"]))
    city = city or attrs.get("city") or (cities[0] if cities else None)
    s = summary[summary["city"] == city]
    ncols, nrows = len(PANELS), max(len(mets), 1)
    fig = Figure(figsize=(4.4 * ncols, 3.5 * nrows + 0.7), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for row, m in enumerate(mets):
        for col, (stat, title) in enumerate(PANELS):
            ax = axes[row, col]
            c = f"{m}_{stat}"
            if y is None:
                _curve(ax, s, x, m, stat)
            else:
                _plane(fig, ax, s, x, y, c, stat)
                ax.set_ylabel(y, fontsize=8)
            ax.set_xlabel(x, fontsize=8)
            ax.set_title(f"{metric_label(m)}: {title}", fontsize=9)
            ax.tick_params(labelsize=8)
    reps = attrs.get("replicates")
    fig.suptitle(
        f"{attrs.get('scenario', '')}: {city}, {attrs.get('year', '')} "
        f"({attrs.get('design', '')} design, {attrs.get('n_points', len(s))} points x "
        f"{reps} replicates)",
        fontsize=11,
    )
    return save_png(fig, Path(path))


def _curve(ax: object, s: pd.DataFrame, x: str, m: str, stat: str) -> None:
    d = s.groupby(x, sort=True).mean(numeric_only=True).reset_index()
    ax.plot(d[x], d[f"{m}_{stat}"], marker="o", linewidth=1.4)  # type: ignore[attr-defined]
    if stat == "mean":
        ax.fill_between(d[x], d[f"{m}_lo"], d[f"{m}_hi"], alpha=0.25, label="90% interval")  # type: ignore[attr-defined]
    if stat == "high":
        ax.set_ylim(-0.05, 1.05)  # type: ignore[attr-defined]
    ax.grid(alpha=0.3)  # type: ignore[attr-defined]


def _plane(fig: object, ax: object, s: pd.DataFrame, x: str, y: str, c: str, stat: str) -> None:
    d = s.groupby([x, y], sort=True)[c].mean().reset_index()
    xs, ys = np.unique(d[x]), np.unique(d[y])
    kw = {"cmap": "viridis"} if stat != "high" else {"cmap": "coolwarm", "vmin": 0, "vmax": 1}
    if len(d) == len(xs) * len(ys) and len(xs) > 1 and len(ys) > 1:
        z = d.pivot(index=y, columns=x, values=c).to_numpy(dtype=float)
        art = ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(z), **kw)  # type: ignore[attr-defined]
    else:
        art = ax.scatter(d[x], d[y], c=d[c], s=36, edgecolors="none", **kw)  # type: ignore[attr-defined]
    fig.colorbar(art, ax=ax, shrink=0.9)  # type: ignore[attr-defined]


def _edges(v: np.ndarray) -> np.ndarray:
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
