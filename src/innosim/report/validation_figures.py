"""Figures of a validation (``innosim validate --out DIR``): one PNG per statistic family.

Drawn like :mod:`innosim.report.figures` (Matplotlib's object API on the Agg canvas, atomic
writes). Each figure is robust to missing data: a panel without data says so instead of failing.

- ``validation_firms.png``: the simulated survival curve (ages 1-10, ensemble mean and 90% band)
  against the survival targets, and the firm-size CCDF of replicate 0 (log-log) with its fitted
  Hill tail.
- ``validation_finance.png``: the distribution of realised fund multiples (proceeds / amount) of
  replicate 0 on a log axis, with 1x marked.
- ``validation_founders.png``: founder success by history (mean and 90% interval) against the
  target ranges.
- ``validation_cities.png``: every city target (mean and 90% interval) against its range.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from innosim.report.figures import save_png
from innosim.stats import CATALOG

__all__ = ["FAMILIES", "validation_figures"]

FAMILIES: tuple[str, ...] = ("firms", "finance", "founders", "cities")
"""Statistic families, one figure each."""

_RANGE = {"color": "tab:green", "alpha": 0.25}
_SIM = "tab:blue"


def _figure(ncols: int, title: str, width: float = 5.2) -> tuple[Any, Any]:
    fig = Figure(figsize=(width * ncols, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False).ravel()
    fig.suptitle(title, fontsize=12)
    return fig, axes


def _no_data(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in these runs", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean and 5%/95% quantiles, NaNs ignored (NaN where a column has no data)."""
    v = np.asarray(values, dtype=float)
    mean = np.full(v.shape[1], np.nan)
    lo, hi = mean.copy(), mean.copy()
    for j in range(v.shape[1]):
        col = v[:, j][np.isfinite(v[:, j])]
        if col.size:
            mean[j], lo[j], hi[j] = col.mean(), *np.quantile(col, (0.05, 0.95))
    return mean, lo, hi


def _targets(df: pd.DataFrame, statistic: str) -> pd.DataFrame:
    return df[df["statistic"] == statistic]


def _arg(args: str, name: str) -> str | None:
    for part in args.split(", "):
        k, _, v = part.partition("=")
        if k == name:
            return v
    return None


def _firms(df: pd.DataFrame, data: Mapping[str, Any], path: Path) -> Path:
    fig, (ax1, ax2) = _figure(2, "Firm dynamics")
    ages = np.asarray(data.get("survival_ages", []), dtype=float)
    surv = np.asarray(data.get("survival", np.empty((0, 0))), dtype=float)
    if surv.size and np.isfinite(surv).any():
        mean, lo, hi = _band(surv)
        ax1.fill_between(ages, lo, hi, color=_SIM, alpha=0.2, label="simulated 90% interval")
        ax1.plot(ages, mean, "o-", color=_SIM, label="simulated mean")
    for _, r in _targets(df, "survival_rate").iterrows():
        age = _arg(str(r["args"]), "age_years")
        if age is None:
            continue
        a = float(age)
        ax1.vlines(a, r["low"], r["high"], color="tab:green", linewidth=6, alpha=0.4)
        ref = r["reference"]
        if isinstance(ref, int | float) and math.isfinite(float(ref)):
            ax1.plot(a, float(ref), "s", color="tab:green")
    ax1.plot([], [], "s-", color="tab:green", alpha=0.6, label="target: reference and range")
    ax1.set_xlabel("age (years)")
    ax1.set_ylabel("share of a cohort alive")
    ax1.set_ylim(0, 1.02)
    ax1.set_title("Survival", fontsize=10)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)

    sizes = np.sort(np.asarray(data.get("firm_sizes", []), dtype=float))
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    if sizes.size >= 2:
        ccdf = 1.0 - np.arange(sizes.size) / sizes.size
        ax2.loglog(sizes, ccdf, ".", markersize=3, color=_SIM, label="firms (replicate 0)")
        alpha = float(data.get("tail_exponent", math.nan))
        k = min(sizes.size, max(2, math.ceil(0.05 * sizes.size)))
        x_min = sizes[-k]
        if math.isfinite(alpha) and alpha > 0 and x_min > 0:
            x = np.geomspace(x_min, sizes[-1], 50)
            ax2.loglog(
                x,
                (k / sizes.size) * (x / x_min) ** -alpha,
                "-",
                color="tab:red",
                label=f"Hill tail, top 5%: exponent {alpha:.2f}",
            )
        ax2.set_xlabel("employment")
        ax2.set_ylabel("P(size >= x)")
        ax2.grid(alpha=0.3, which="both")
        ax2.legend(fontsize=8)
    else:
        _no_data(ax2, "living firms")
    ax2.set_title("Firm-size CCDF", fontsize=10)
    return save_png(fig, path)


def _finance(df: pd.DataFrame, data: Mapping[str, Any], path: Path) -> Path:
    fig, (ax,) = _figure(1, "Venture finance", width=6.5)
    m = np.asarray(data.get("multiples", []), dtype=float)
    m = m[np.isfinite(m)]
    if m.size:
        floor = 1e-3
        shown = np.maximum(m, floor)
        bins = np.geomspace(floor, max(float(shown.max()), 10.0) * 1.01, 40)
        ax.hist(shown, bins=bins, color=_SIM, alpha=0.8)
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
        below = float((m < 1.0).mean())
        ax.set_title(
            f"Realised multiples, replicate 0: {m.size} investments, {below:.0%} below 1x\n"
            f"(write-offs drawn at {floor:g})",
            fontsize=10,
        )
        ax.set_xlabel("proceeds / amount invested")
        ax.set_ylabel("investments")
        ax.grid(alpha=0.3)
    else:
        _no_data(ax, "realised investments")
    return save_png(fig, path)


def _intervals(ax: Any, labels: list[str], rows: list[tuple[float, float, float]]) -> None:
    y = np.arange(len(labels))
    for i, (mean, lo, hi) in enumerate(rows):
        if math.isfinite(mean):
            ax.errorbar(
                mean,
                i,
                xerr=[[max(mean - lo, 0)], [max(hi - mean, 0)]] if math.isfinite(lo) else None,
                fmt="o",
                color=_SIM,
                capsize=3,
            )
    ax.set_yticks(y, labels, fontsize=8)
    ax.grid(alpha=0.3, axis="x")


def _founders(df: pd.DataFrame, data: Mapping[str, Any], path: Path) -> Path:
    fig, (ax,) = _figure(1, "Founders: success by history")
    hist = list(data.get("histories", ()))
    values = np.asarray(data.get("founder_success", np.empty((0, 0))), dtype=float)
    if hist and values.size and np.isfinite(values).any():
        mean, lo, hi = _band(values)
        x = np.arange(len(hist))
        ax.bar(x, np.nan_to_num(mean), color=_SIM, alpha=0.7, label="simulated mean")
        ax.errorbar(
            x,
            np.nan_to_num(mean),
            yerr=[np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)],
            fmt="none",
            color="k",
            capsize=4,
            label="90% interval",
        )
        targets = _targets(df, "founder_success_rate")
        for _, r in targets.iterrows():
            h = _arg(str(r["args"]), "history")
            if h in hist:
                i = hist.index(h)
                ax.fill_between([i - 0.4, i + 0.4], r["low"], r["high"], **_RANGE)
        ax.fill_between([], [], [], label="target range", **_RANGE)
        ax.set_xticks(x, [h.replace("_", " ") for h in hist])
        ax.set_ylabel("share of firms that succeed")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    else:
        _no_data(ax, "founder outcomes")
    return save_png(fig, path)


def _cities(df: pd.DataFrame, data: Mapping[str, Any], path: Path) -> Path:

    fig, (ax,) = _figure(1, "Cities: targets against simulated values", width=8.0)
    fam = [CATALOG[s].family == "cities" if s in CATALOG else False for s in df["statistic"]]
    rows = df[np.asarray(fam, dtype=bool)]
    if len(rows):
        labels = [
            f"{r.statistic}\n" + ", ".join(a.partition("=")[2] for a in str(r.args).split(", "))
            for r in rows.itertuples(index=False)
        ]
        for i, r in enumerate(rows.itertuples(index=False)):
            ax.fill_betweenx([i - 0.3, i + 0.3], r.low, r.high, **_RANGE)
        _intervals(ax, labels, [(r.value, r.lo, r.hi) for r in rows.itertuples(index=False)])
        positive = np.concatenate([rows[c].to_numpy(float) for c in ("low", "high", "value")])
        positive = positive[np.isfinite(positive)]
        if positive.size and (positive > 0).all():
            ax.set_xscale("log")
        ax.set_xlabel("green: accepted range; blue: simulated mean and 90% interval")
    else:
        _no_data(ax, "city targets")
    return save_png(fig, path)


def validation_figures(
    df: pd.DataFrame, data: Mapping[str, Any], out_dir: str | os.PathLike[str]
) -> list[Path]:
    """Draw the four validation figures into ``out_dir``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table of :func:`innosim.validate`.
    data : mapping
        Figure inputs: ``survival_ages`` and ``survival`` (replicates x ages),
        ``histories`` and ``founder_success`` (replicates x histories), ``tail_exponent``,
        ``firm_sizes`` and ``multiples`` (arrays of replicate 0).
    out_dir : str or path
        An existing directory.

    Returns
    -------
    list of pathlib.Path
        ``validation_<family>.png`` for each family, in :data:`FAMILIES` order.
    """
    d = Path(out_dir)
    draw = {"firms": _firms, "finance": _finance, "founders": _founders, "cities": _cities}
    return [draw[f](df, data, d / f"validation_{f}.png") for f in FAMILIES]
