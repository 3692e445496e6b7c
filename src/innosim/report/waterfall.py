"""Figures of ``innosim explain`` (a waterfall of the gap) and ``innosim compare`` (paired
changes), drawn with Matplotlib's object API on the Agg canvas (no ``pyplot``; see
:mod:`innosim.report.figures`)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from innosim.report.figures import DPI, metric_label, save_png

__all__ = ["WATERFALL_TEXT", "compare_figure", "draw_waterfall", "waterfall_figure"]

_UP, _DOWN, _LEVEL, _REST = "#2a9d8f", "#e76f51", "#577590", "#adb5bd"


def _figure(width: float, height: float) -> Any:
    fig = Figure(figsize=(width, height), layout="constrained", dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


WATERFALL_TEXT: dict[str, str] = {
    "baseline": "{city}\n(baseline)",
    "swapped": "all groups\nswapped",
    "gap_left": "gap left\n(all swapped)",
    "reacts": "{city}\nreacts",
    "who": "{taker} takes {giver}'s values",
    "share": "; groups explain {share:.0%} of the gap",
    "title": "{metric} in {year}: the {a} \u2212 {b} gap by Shapley values\n({who}; "
    "{replicates} replicates, 90% intervals{share})",
}
"""The waterfall's words (``str.format`` templates); the HTML report passes its own catalog's."""


def waterfall_figure(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Waterfall from city B's baseline level to city A's: one step per group (its Shapley value
    with the 90% interval of the mean as an error bar), the level reached with every group
    swapped, the residual in two steps (the gap left with every group swapped, the other city's
    reaction), and A's level.

    Parameters
    ----------
    df : pandas.DataFrame
        The result of :func:`innosim.explain` (its ``attrs`` give the cities and levels).
    path : str or path
        Output PNG; its directory must exist.
    """
    return save_png(draw_waterfall(df), Path(path))


def draw_waterfall(
    df: pd.DataFrame,
    text: Mapping[str, str] = WATERFALL_TEXT,
    name: Callable[[str], str] = str,
    metric: str | None = None,
    term: Callable[[str], str] = str,
) -> Any:
    """The figure of :func:`waterfall_figure` (not saved), with its words from ``text``, city
    names through ``name``, group names through ``term`` and the metric's label ``metric``."""
    a = df.attrs
    groups = df[df["kind"] == "group"]
    parts = df[df["kind"] == "residual_part"].set_index("term")["mean"]
    city_a, city_b = name(str(a["city_a"])), name(str(a["city_b"]))
    other = city_b if a.get("mirror") else city_a
    level_b, level_a = float(a["level_b"]), float(a["level_a"])
    labels = [text["baseline"].format(city=city_b)]
    bottoms, heights, colors, errs = [0.0], [level_b], [_LEVEL], [(0.0, 0.0)]
    level = level_b
    after = [level_b]  # the running level after each bar (where the connector starts)
    for r in groups.itertuples(index=False):
        labels.append(term(str(r.term)))
        bottoms.append(level if r.mean >= 0 else level + r.mean)
        heights.append(abs(r.mean))
        colors.append(_UP if r.mean >= 0 else _DOWN)
        lo, hi = (r.mean - r.lo, r.hi - r.mean) if math.isfinite(r.lo) else (0.0, 0.0)
        errs.append((lo, hi))
        level += r.mean
        after.append(level)
    labels.append(text["swapped"])
    bottoms.append(0.0)
    heights.append(level)
    colors.append(_LEVEL)
    errs.append((0.0, 0.0))
    after.append(level)
    for key, label in (
        ("gap_left", text["gap_left"]),
        ("reaction", text["reacts"].format(city=other)),
    ):
        step = float(parts.get(key, 0.0))
        labels.append(label)
        bottoms.append(level if step >= 0 else level + step)
        heights.append(abs(step))
        colors.append(_REST)
        errs.append((0.0, 0.0))
        level += step
        after.append(level)
    labels.append(text["baseline"].format(city=city_a))
    bottoms.append(0.0)
    heights.append(level_a)
    colors.append(_LEVEL)
    errs.append((0.0, 0.0))

    fig = _figure(max(6.0, 1.0 * len(labels) + 1.5), 4.6)
    ax = fig.subplots()
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colors, width=0.65, edgecolor="white")
    tops = np.array(bottoms) + np.array(heights)
    for i in range(1, len(labels) - 3):  # error bars at the end of each group's step
        if colors[i] in (_UP, _DOWN):
            end = tops[i] if colors[i] == _UP else bottoms[i]
            ax.errorbar(
                x[i], end, yerr=[[errs[i][0]], [errs[i][1]]], color="black", capsize=3, lw=1
            )
    for i in range(len(labels) - 2):  # connectors
        ax.plot([x[i] + 0.33, x[i + 1] - 0.33], [after[i]] * 2, color="grey", lw=0.7, ls=":")
    ax.set_xticks(x, labels, fontsize=8)
    ax.axhline(0, color="black", lw=0.6)
    share = a.get("share_explained", math.nan)
    share = math.nan if share is None else float(share)
    share_txt = "" if not math.isfinite(share) else text["share"].format(share=share)
    who = (
        text["who"].format(taker=city_a, giver=city_b)
        if a.get("mirror")
        else text["who"].format(taker=city_b, giver=city_a)
    )
    ylabel = metric if metric is not None else metric_label(str(a["metric"]))
    ax.set_title(
        text["title"].format(
            metric=ylabel,
            year=a["year"],
            a=city_a,
            b=city_b,
            who=who,
            replicates=a["replicates"],
            share=share_txt,
        ),
        fontsize=9,
    )
    ax.set_ylabel(ylabel)
    return fig


def draw_compare_panels(
    fig: Any,
    df: pd.DataFrame,
    city_name: Callable[[str], str] = str,
    metric_name: Callable[[str], str] = str,
    xlabel: str = "change, % of baseline",
) -> None:
    """Draw one panel per outcome into ``fig``: each city's change (policy minus baseline, % of
    the baseline mean) with the 90% interval of the mean paired difference. Labels come through
    ``city_name``, ``metric_name`` and ``xlabel`` so that the report can draw it in any language.
    """
    metrics = list(dict.fromkeys(df["metric"]))
    cities = list(dict.fromkeys(df["city"]))
    ncols = min(3, max(len(metrics), 1))
    nrows = -(-len(metrics) // ncols) if metrics else 1
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    ypos = np.arange(len(cities))[::-1]
    for ax, m in zip(axes, metrics, strict=False):
        rows = df[df["metric"] == m].set_index("city").reindex(cities)
        base = rows["baseline_mean"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(base != 0, 100.0 / np.abs(base), np.nan)
        mean = rows["diff_mean"].to_numpy(dtype=float) * scale
        lo = rows["diff_lo"].to_numpy(dtype=float) * scale
        hi = rows["diff_hi"].to_numpy(dtype=float) * scale
        colors = [_UP if v >= 0 else _DOWN for v in np.nan_to_num(mean)]
        ax.barh(ypos, np.nan_to_num(mean), color=colors, height=0.6)
        ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(mean)
        if ok.any():
            ax.errorbar(
                mean[ok],
                ypos[ok],
                xerr=[np.maximum(mean[ok] - lo[ok], 0), np.maximum(hi[ok] - mean[ok], 0)],
                fmt="none",
                color="black",
                capsize=2,
                lw=0.8,
            )
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(ypos, [city_name(str(c)) for c in cities], fontsize=8)
        ax.set_title(metric_name(str(m)), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)


def compare_figure(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """One panel per outcome: each city's relative change (policy vs baseline, % of the
    baseline mean) with the 90% t interval of the mean paired difference.

    Parameters
    ----------
    df : pandas.DataFrame
        The result of :func:`innosim.compare`.
    path : str or path
        Output PNG; its directory must exist.
    """
    metrics = list(dict.fromkeys(df["metric"]))
    cities = list(dict.fromkeys(df["city"]))
    ncols = min(3, len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig = _figure(4.2 * ncols, 0.35 * len(cities) * nrows + 1.2 * nrows + 0.6)
    draw_compare_panels(fig, df, metric_name=metric_label)
    a = df.attrs
    pol = a.get("policy", {})
    fig.suptitle(
        f"{a.get('scenario', '')}: {pol.get('title') or pol.get('name', 'policy')} vs baseline "
        f"in {a.get('year', '')} ({a.get('replicates', '')} paired replicates, 90% intervals)",
        fontsize=10,
    )
    return save_png(fig, Path(path))
