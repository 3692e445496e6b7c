"""Figures of the flows between cities, from a run's ``city_pairs`` table (see
:data:`innosim.schema.PAIR_SERIES`: per tick, origin, destination, ``movers``,
``graduate_movers`` and ``procurement``).

- :func:`talent_sankey`: a two-column flow (alluvial) diagram of talent moves over the run:
  origin cities on the left, destination cities on the right, one band per city pair whose
  width is proportional to the people moving.
- :func:`chain_network`: the chain-master network across cities: nodes at the cities'
  coordinates (longitude, latitude; on a circle when some city has none), node area growing with
  the chain masters in the city at the end of the run, one arrow from the masters' city to the
  suppliers' city per pair whose width is proportional to the procurement of the last years.

Both draw with Matplotlib patches on the Agg canvas and return a :class:`~.blocks.Figure`, or a
:class:`~.blocks.Note` saying why nothing is drawn (no moves, no chain masters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.patches import FancyArrowPatch, PathPatch, Rectangle
from matplotlib.path import Path as MPath

from innosim.report.blocks import Figure, Note, Words, new_figure, png

__all__ = ["CHAIN_YEARS", "chain_network", "pair_matrix", "talent_sankey"]

CHAIN_YEARS = 5
"""Procurement of the chain-master network is summed over the run's last this many years."""

_NODE_W = 0.025
_X_LEFT, _X_RIGHT = 0.2, 0.775
_GAP = 0.025


def _colours(n: int) -> list[tuple[float, float, float, float]]:
    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def pair_matrix(pairs: pd.DataFrame, column: str, cities: Sequence[str]) -> np.ndarray:
    """``column`` of ``pairs`` summed per (origin, destination): a cities x cities array (rows:
    origin, columns: destination, in the order of ``cities``)."""
    m = pairs.pivot_table(
        index="origin", columns="destination", values=column, aggfunc="sum", fill_value=0.0
    )
    m = m.reindex(index=list(cities), columns=list(cities), fill_value=0.0)
    return m.to_numpy(dtype=float, copy=True)


def talent_sankey(pairs: pd.DataFrame, cities: Sequence[str], w: Words) -> Figure | Note:
    """Alluvial diagram of the talent moves between cities over the whole run.

    Bands run from the origin (left) to the destination (right); widths are proportional to
    the people who moved (``movers`` summed over the run: real people). Each
    node's label gives the people leaving (left) or arriving (right).
    """
    cities = list(cities)
    m = pair_matrix(pairs, "movers", cities)
    np.fill_diagonal(m, 0.0)
    total = float(m.sum())
    if not pairs.empty:
        start, end = int(pairs["year"].min()), int(pairs["year"].max())
    else:
        start = end = 0
    if total <= 0:
        return Note(w.t("sankey_none"))
    grad = pair_matrix(pairs, "graduate_movers", cities)
    np.fill_diagonal(grad, 0.0)

    n = len(cities)
    colours = _colours(n)
    out_tot, in_tot = m.sum(axis=1), m.sum(axis=0)
    scale = (1.0 - _GAP * (n - 1)) / total

    def tops(tot: np.ndarray) -> np.ndarray:
        y, res = 1.0, np.zeros(n)
        for i in range(n):
            res[i] = y
            y -= tot[i] * scale + (_GAP if tot[i] > 0 else 0.0)
        return res

    left_top, right_top = tops(out_tot), tops(in_tot)
    fig = new_figure((7.6, 5.0))
    ax = fig.subplots()
    left_used = left_top.copy()
    right_used = right_top.copy()
    xa, xb = _X_LEFT + _NODE_W, _X_RIGHT
    xm = (xa + xb) / 2
    for i in range(n):  # origins in order; at each destination, origins stack in order too
        for j in range(n):
            h = m[i, j] * scale
            if h <= 0:
                continue
            ya, yb = left_used[i], right_used[j]
            verts = [
                (xa, ya),
                (xm, ya),
                (xm, yb),
                (xb, yb),
                (xb, yb - h),
                (xm, yb - h),
                (xm, ya - h),
                (xa, ya - h),
                (xa, ya),
            ]
            codes = [MPath.MOVETO] + [MPath.CURVE4] * 3 + [MPath.LINETO] + [MPath.CURVE4] * 3
            codes.append(MPath.CLOSEPOLY)
            ax.add_patch(PathPatch(MPath(verts, codes), fc=colours[i], ec="none", alpha=0.45))
            left_used[i] -= h
            right_used[j] -= h
    for i, city in enumerate(cities):
        for x, top, tot, ha, dx in (
            (_X_LEFT, left_top[i], out_tot[i], "right", -0.012),
            (_X_RIGHT, right_top[i], in_tot[i], "left", _NODE_W + 0.012),
        ):
            if tot <= 0:
                continue
            h = tot * scale
            ax.add_patch(Rectangle((x, top - h), _NODE_W, h, fc=colours[i], ec="none"))
            ax.text(
                x + dx, top - h / 2, f"{w.city(city)}  {tot:,.0f}", ha=ha, va="center", fontsize=8
            )
    ax.text(_X_LEFT + _NODE_W / 2, 1.04, w.t("sankey_from"), ha="center", fontsize=9)
    ax.text(_X_RIGHT + _NODE_W / 2, 1.04, w.t("sankey_to"), ha="center", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.09)
    ax.set_axis_off()
    title = w.t("fig_sankey")
    ax.set_title(title, fontsize=11)
    caption = w.t(
        "cap_sankey",
        start=start,
        end=end,
        total=total,
        grad=float(grad.sum()) / total,
    )
    return Figure(title, caption, png(fig))


def _positions(
    cities: Sequence[str], coords: Mapping[str, tuple[float, float]]
) -> tuple[np.ndarray, bool]:
    """Plot positions: (longitude x cos(mean latitude), latitude) when every city has
    coordinates, else evenly on a circle. Returns the positions and whether they are geographic."""
    if cities and all(c in coords for c in cities):
        lon = np.array([coords[c][0] for c in cities], dtype=float)
        lat = np.array([coords[c][1] for c in cities], dtype=float)
        return np.column_stack([lon * np.cos(np.radians(lat.mean())), lat]), True
    angle = np.pi / 2 - 2 * np.pi * np.arange(len(cities)) / max(len(cities), 1)
    return np.column_stack([np.cos(angle), np.sin(angle)]), False


def chain_network(
    pairs: pd.DataFrame,
    masters: Mapping[str, float],
    cities: Sequence[str],
    coords: Mapping[str, tuple[float, float]],
    w: Words,
    years: int = CHAIN_YEARS,
) -> Figure | Note:
    """The chain-master network across cities over the run's last ``years`` years.

    Parameters
    ----------
    pairs : pandas.DataFrame
        The run's ``city_pairs`` table (``procurement``: masters' city -> suppliers' city).
    masters : mapping
        Chain masters per city at the end of the run (node area).
    cities : sequence of str
        The run's cities, in order (colours as in the other figures).
    coords : mapping
        City -> (longitude, latitude); cities are placed on a circle unless every one has them.
    w : Words
        Language of the labels.
    years : int
        Procurement is summed over the last this many years of the run.
    """
    cities = list(cities)
    if pairs.empty:
        return Note(w.t("chain_none"))
    end = int(pairs["year"].max())
    start = max(int(pairs["year"].min()), end - years + 1)
    p = pair_matrix(pairs[pairs["year"] >= start], "procurement", cities)
    count = np.array([float(masters.get(c, 0.0)) for c in cities])
    if float(p.sum()) <= 0 and float(count.sum()) <= 0:
        return Note(w.t("chain_none"))
    within = float(np.trace(p))
    total = float(p.sum())
    np.fill_diagonal(p, 0.0)
    pos, geo = _positions(cities, coords)
    colours = _colours(len(cities))
    fig = new_figure((7.0, 5.2))
    ax = fig.subplots()
    top = float(count.max()) if count.max() > 0 else 1.0
    sizes = 90.0 + 1400.0 * count / top  # marker area (points^2): grows with the chain masters
    radius = np.sqrt(sizes) / 2  # points
    vmax = float(p.max())
    for i in range(len(cities)):
        for j in range(len(cities)):
            if p[i, j] <= 0:
                continue
            width = 0.4 + 9.0 * p[i, j] / vmax
            ax.add_patch(
                FancyArrowPatch(
                    tuple(pos[i]),
                    tuple(pos[j]),
                    connectionstyle="arc3,rad=0.2",
                    arrowstyle="-|>",
                    mutation_scale=8 + width,
                    linewidth=width,
                    color=colours[i],
                    alpha=0.55,
                    shrinkA=radius[i],
                    shrinkB=radius[j] + 2,
                    zorder=2,
                )
            )
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=colours, edgecolors="white", zorder=3)
    for k, city in enumerate(cities):
        ax.annotate(
            f"{w.city(city)} ({count[k]:,.0f})",
            tuple(pos[k]),
            xytext=(0, -radius[k] - 4),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            zorder=4,
            bbox={"fc": "white", "ec": "none", "alpha": 0.75, "pad": 1.0},
        )
    ax.set_aspect("equal")
    ax.margins(0.18)
    ax.set_axis_off()
    title = w.t("fig_chain")
    ax.set_title(title, fontsize=11)
    caption = w.t(
        "cap_chain_geo" if geo else "cap_chain_circle",
        start=start,
        end=end,
        within=within / total if total > 0 else 0.0,
    )
    return Figure(title, caption, png(fig))
