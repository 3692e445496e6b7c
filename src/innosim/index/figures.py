"""Step 10 of the JRC handbook: presentation (matplotlib's object API on the Agg canvas, PNG
files; no ``pyplot``, so no global figure state).

- :func:`rank_bars`: overall score per city, best first, annotated with the rank and its
  Monte Carlo 5-95 % interval;
- :func:`radar`: one small T/O/P radar per city;
- :func:`heatmap`: cities x indicators, the normalised values (0-100), grouped by pillar.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from innosim.index.framework import FrameworkSpec

__all__ = ["heatmap", "radar", "rank_bars"]


def _figure(size: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def rank_bars(table: pd.DataFrame, path: Path) -> Path:
    """Horizontal bars of the overall score, labelled ``rank [low-high]``."""
    t = table.sort_values("rank", ascending=False, kind="stable")
    fig = _figure((7.5, 0.38 * len(t) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(t))
    ax.barh(y, t["score"].to_numpy(dtype=float), color="#4C78A8")
    ax.set_yticks(y, [str(c) for c in t["city"]])
    for k, r in enumerate(t.itertuples(index=False)):
        label = f"{r.rank}  [{r.rank_low}-{r.rank_high}]"
        ax.text(float(r.score) + 1.0, k, label, va="center", fontsize=8)
    ax.set_xlim(0, max(105.0, float(np.nanmax(t["score"])) * 1.15))
    ax.set_xlabel("TOP score (0-100); label: rank [5%-95% rank interval]")
    ax.set_title("TOP index: score and rank with Monte Carlo interval")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def radar(table: pd.DataFrame, path: Path) -> Path:
    """One Talent/Organization/Place radar (0-100) per city, in rank order."""
    axes_names = ["talent", "organization", "place"]
    n = len(table)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    angles = np.linspace(0, 2 * np.pi, len(axes_names), endpoint=False)
    closed = np.concatenate([angles, angles[:1]])
    fig = _figure((3.0 * cols, 3.0 * rows))
    for k, r in enumerate(table.itertuples(index=False)):
        ax = fig.add_subplot(rows, cols, k + 1, projection="polar")
        vals = np.array([getattr(r, a) for a in axes_names], dtype=float)
        vals = np.nan_to_num(vals, nan=0.0)
        ax.plot(closed, np.concatenate([vals, vals[:1]]), color="#4C78A8")
        ax.fill(closed, np.concatenate([vals, vals[:1]]), color="#4C78A8", alpha=0.25)
        ax.set_xticks(angles, ["T", "O", "P"])
        ax.set_ylim(0, 100)
        ax.set_yticks([25, 50, 75], ["", "", ""])
        ax.set_title(f"{r.city} (#{r.rank})", fontsize=9)
    fig.suptitle("Talent / Organization / Place scores (0-100)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def heatmap(normalised: pd.DataFrame, spec: FrameworkSpec, path: Path) -> Path:
    """Cities x indicators (normalised values; blank = missing), columns grouped by pillar."""
    order = [i.name for p in spec.framework.pillars for i in spec.indicators if i.pillar == p]
    M = normalised[order]
    fig = _figure((1.0 * len(order) + 3.0, 0.35 * len(M) + 2.5))
    ax = fig.subplots()
    data = np.ma.masked_invalid(M.to_numpy(dtype=float))
    im = ax.imshow(data, aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(order)), order, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(M)), [str(c) for c in M.index], fontsize=8)
    pillars = [spec.framework.pillar_of[c] for c in order]
    for k in range(1, len(order)):
        if pillars[k] != pillars[k - 1]:
            ax.axvline(k - 0.5, color="white", linewidth=2)
    fig.colorbar(im, ax=ax, label="normalised value")
    ax.set_title("Indicators (normalised; blank = missing)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
