"""A city's spinoff lineage tree (Matplotlib object API on the Agg canvas; issue 16, point 4).

The firms of one city whose lineages are largest — roots founded from outside any innovative
firm, with every later firm founded by one of their employees, and by those firms' employees in
turn — drawn as trees: each firm a point at its founding year, a line from its parent, colour by
orientation, a ring for a venture that succeeded (listed or sold above what it raised, or became
a unicorn). Klepper (2007) drew Detroit's car industry this way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from innosim.report.figures import save_png
from innosim.schema import ORIENTATIONS, TICKS_PER_YEAR
from innosim.stats.lineage import lineage

__all__ = ["lineage_figure"]

COLOURS = ("#d62728", "#1f77b4", "#2ca02c")  # To C, To B, To G
UNSET = "#7f7f7f"


def lineage_figure(
    registry: pd.DataFrame,
    path: str | Path,
    *,
    city: int,
    city_name: str,
    start_year: int,
    top: int = 6,
) -> Path:
    """Draw the ``top`` largest lineages of the firms headquartered in city index ``city``.

    Parameters
    ----------
    registry : pandas.DataFrame
        A run's firm registry (``RunResult.firms``: ``id``, ``parent``, ``city``, ``born`` in
        ticks, ``orientation``, ``success``).
    path : str or path
        PNG file (written atomically).
    city, city_name : int, str
        The city's index in the registry and the name shown.
    start_year : int
        The scenario's first year (tick 0).
    top : int
        How many lineages (the roots with most descendants).

    Returns
    -------
    pathlib.Path
        The figure written.
    """
    lin = lineage(registry)
    roots = lin[(lin["city"] == city) & (lin["parent"] < 0) & (lin["descendants"] > 0)]
    roots = roots.nlargest(top, "descendants")
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if roots.empty:
        ax.text(0.5, 0.5, f"No spinoffs in {city_name}", ha="center", va="center")
        ax.set_axis_off()
        return save_png(fig, path)
    members = lin[lin["root"].isin(roots["id"])].sort_values(["root", "depth", "born"])
    # y: lineages stacked in order of size, each firm on its own line, depth-first order
    y_of: dict[int, float] = {}
    kids = members.groupby("parent")["id"].apply(list).to_dict()
    born = members.set_index("id")["born"].to_dict()
    row = 0.0
    for root in roots["id"]:  # at most ``top`` lineages
        stack = [int(root)]
        while stack:  # depth-first over the lineage's firms (each visited once)
            f = stack.pop()
            y_of[f] = row
            row += 1.0
            stack.extend(sorted(kids.get(f, []), key=lambda k: -born[k]))
        row += 1.5
    year = members["born"].to_numpy() / TICKS_PER_YEAR + start_year
    ys = members["id"].map(y_of).to_numpy()
    parent_y = members["parent"].map(y_of)
    parent_year = members["parent"].map(born) / TICKS_PER_YEAR
    x0 = (parent_year + start_year).to_numpy()
    y0 = parent_y.to_numpy(dtype=float)
    has = np.isfinite(y0)
    elbows = np.stack(  # parent's year and row -> down to the child's row -> the child
        [
            np.column_stack([x0[has], y0[has]]),
            np.column_stack([x0[has], ys[has]]),
            np.column_stack([year[has], ys[has]]),
        ],
        axis=1,
    )
    ax.add_collection(LineCollection(elbows, colors="#bbbbbb", linewidths=0.6, zorder=1))
    o = members["orientation"].to_numpy()
    colour = [COLOURS[k] if 0 <= k < 3 else UNSET for k in o]
    ax.scatter(year, ys, c=colour, s=14, zorder=2)
    won = members["success"].to_numpy(dtype=bool)
    ax.scatter(year[won], ys[won], s=60, facecolors="none", edgecolors="k", lw=0.8, zorder=3)
    for k, name in enumerate(ORIENTATIONS):
        ax.scatter([], [], c=COLOURS[k], s=14, label=name)
    ax.scatter([], [], s=60, facecolors="none", edgecolors="k", label="succeeded")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.invert_yaxis()
    ax.set_yticks([])
    ax.set_xlabel("year founded")
    ax.set_title(
        f"{city_name}: the {len(roots)} largest spinoff lineages "
        f"({len(members)} firms; lines run from parent to spinoff)"
    )
    return save_png(fig, path)
