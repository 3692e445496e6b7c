"""Step 5 of the JRC handbook: normalisation.

Directions are applied first, by reflection: an indicator with direction ``-1`` becomes
``x' = max + min - x`` (its observed range is kept, its order reversed). For min-max, z-score,
rank and distance to the frontier this is the same as multiplying by ``-1``; unlike that it keeps
positive data positive.

Methods (column-wise, NaN kept as NaN; ``min``/``max``/``mean``/``sd`` over the observed units):

- ``minmax``: ``lo + (hi - lo) * (x - min) / (max - min)``; a constant column gets ``(lo + hi)/2``.
- ``zscore``: ``(x - mean) / sd`` (sample sd, ``ddof=1``); a constant column gets 0.
- ``rank``: ranks ``1..n`` with the largest value ranked ``n`` (ties: average).
- ``distance_to_frontier`` (COINr ``n_dist2max``): ``1 - (max - x) / (max - min)``, i.e. 1 at
  the frontier and 0 for the laggard; ``kind="fraction"`` (COINr ``n_fracmax``) gives ``x / max``.
- ``goalposts``: ``scale * clip((x - low) / (high - low), 0, 1)`` with fixed goalposts per
  indicator (direction -1: ``(high - x) / (high - low)``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from innosim.errors import InputError

__all__ = [
    "METHODS",
    "apply_directions",
    "distance_to_frontier",
    "goalposts",
    "minmax",
    "normalise",
    "rank",
    "zscore",
]

METHODS: tuple[str, ...] = ("minmax", "zscore", "rank", "distance_to_frontier", "goalposts")


def _directions(X: pd.DataFrame, directions: Mapping[str, int] | pd.Series | None) -> pd.Series:
    if directions is None:
        return pd.Series(1, index=X.columns)
    d = pd.Series(dict(directions)).reindex(X.columns).fillna(1)
    bad = d[~d.isin([1, -1])]
    if len(bad):
        raise InputError(
            f"bad direction for {', '.join(map(str, bad.index))}",
            field="directions",
            value=bad.to_dict(),
            expected="+1 or -1",
        )
    return d.astype(int)


def apply_directions(
    X: pd.DataFrame, directions: Mapping[str, int] | pd.Series | None
) -> pd.DataFrame:
    """Reflect every column with direction -1: ``x' = max + min - x`` (order reversed).

    Parameters
    ----------
    X : DataFrame
    directions : mapping or Series, optional
        Column -> +1 / -1; columns not listed keep +1.
    """
    d = _directions(X, directions)
    flip = (d == -1).to_numpy()
    if not flip.any():
        return X.astype(float)
    out = X.astype(float).copy()
    cols = X.columns[flip]
    out[cols] = X[cols].max() + X[cols].min() - X[cols]
    return out


def minmax(X: pd.DataFrame, lo: float = 0.0, hi: float = 100.0) -> pd.DataFrame:
    """Min-max normalisation onto ``[lo, hi]``: ``lo + (hi - lo)(x - min)/(max - min)``.

    A constant column is mapped to ``(lo + hi) / 2``.
    """
    X = X.astype(float)
    mn, mx = X.min(), X.max()
    rng = mx - mn
    out = lo + (hi - lo) * (X - mn) / rng.where(rng > 0, np.nan)
    const = rng.index[(rng == 0).to_numpy()]
    if len(const):
        out[const] = X[const].where(X[const].isna(), (lo + hi) / 2.0)
    return out


def zscore(X: pd.DataFrame, mean: float = 0.0, sd: float = 1.0) -> pd.DataFrame:
    """Standardisation: ``mean + sd * (x - mean(x)) / sd(x)`` with ``ddof=1``.

    A constant column is mapped to ``mean``.
    """
    X = X.astype(float)
    s = X.std(ddof=1)
    z = (X - X.mean()) / s.where(s > 0, np.nan)
    const = s.index[(s.fillna(0) == 0).to_numpy()]
    if len(const):
        z[const] = X[const].where(X[const].isna(), 0.0)
    return mean + sd * z


def rank(X: pd.DataFrame) -> pd.DataFrame:
    """Ranks ``1..n`` per column, the largest value ranked ``n``; ties get the average rank."""
    return X.astype(float).rank(method="average", ascending=True)


def distance_to_frontier(X: pd.DataFrame, kind: str = "max_min") -> pd.DataFrame:
    """Distance to the frontier (the best observed unit).

    Parameters
    ----------
    X : DataFrame
    kind : {"max_min", "fraction"}
        ``"max_min"`` (COINr ``n_dist2max``): ``1 - (max - x) / (max - min)`` in ``[0, 1]``;
        ``"fraction"`` (COINr ``n_fracmax``): ``x / max``, which needs positive data.
    """
    X = X.astype(float)
    if kind == "max_min":
        return minmax(X, 0.0, 1.0)
    if kind == "fraction":
        mn = X.min()
        bad = mn.index[(mn <= 0).to_numpy()]
        if len(bad):
            raise InputError(
                "distance to frontier as x / max needs positive data; non-positive values in "
                + ", ".join(map(str, bad)),
                value=list(bad),
                expected="values > 0",
            )
        return X / X.max()
    raise InputError(
        f"unknown distance-to-frontier kind {kind!r}", value=kind, expected="max_min or fraction"
    )


def goalposts(
    X: pd.DataFrame,
    posts: Mapping[str, tuple[float, float]],
    directions: Mapping[str, int] | pd.Series | None = None,
    scale: float = 100.0,
) -> pd.DataFrame:
    """Goalpost normalisation: ``scale * clip((x - low) / (high - low), 0, 1)``.

    Parameters
    ----------
    X : DataFrame
    posts : mapping
        Column -> ``(low, high)`` with ``low < high``; every column must have one.
    directions : mapping or Series, optional
        Direction -1 gives ``(high - x) / (high - low)`` instead.
    scale : float
    """
    missing = [c for c in X.columns if c not in posts]
    if missing:
        raise InputError(
            f"no goalposts for {', '.join(map(str, missing))}",
            field="goalposts",
            expected="(low, high) for every indicator",
        )
    low = pd.Series({c: float(posts[c][0]) for c in X.columns})
    high = pd.Series({c: float(posts[c][1]) for c in X.columns})
    if (high <= low).any():
        raise InputError("goalposts need low < high", field="goalposts", expected="low < high")
    d = _directions(X, directions)
    frac = (X.astype(float) - low) / (high - low)
    flip = (d == -1).to_numpy()
    frac.loc[:, flip] = 1.0 - frac.loc[:, flip]
    return scale * frac.clip(0.0, 1.0)


def normalise(
    X: pd.DataFrame,
    method: str = "minmax",
    directions: Mapping[str, int] | pd.Series | None = None,
    **kwargs: object,
) -> pd.DataFrame:
    """Apply directions, then one normalisation method.

    Parameters
    ----------
    X : DataFrame
        Units x indicators (float, NaN = missing).
    method : {"minmax", "zscore", "rank", "distance_to_frontier", "goalposts"}
    directions : mapping or Series, optional
        Indicator -> +1 / -1 (e.g. ``framework.directions``).
    **kwargs
        Passed to the method (``lo``/``hi`` for minmax, ``kind`` for distance_to_frontier,
        ``posts``/``scale`` for goalposts, ``mean``/``sd`` for zscore).

    Returns
    -------
    DataFrame
        Same shape, index and columns as ``X``.
    """
    if method == "goalposts":
        return goalposts(X, directions=directions, **kwargs)  # type: ignore[arg-type]
    funcs = {
        "minmax": minmax,
        "zscore": zscore,
        "rank": rank,
        "distance_to_frontier": distance_to_frontier,
    }
    if method not in funcs:
        raise InputError(
            f"unknown normalisation method {method!r}",
            field="normalisation",
            value=method,
            expected=", ".join(METHODS),
        )
    return funcs[method](apply_directions(X, directions), **kwargs)  # type: ignore[operator]
