"""Step 8 of the JRC handbook: aggregation.

Indicators are aggregated into sub-pillars (indicators without a sub-pillar form one unnamed
sub-pillar of their pillar), sub-pillars into pillars with equal weights, and pillars into the
overall score with the framework's pillar weights (equal by default). Every level uses the same
method:

- arithmetic: ``y = sum_j w_j x_j / sum_j w_j``
- geometric:  ``y = exp(sum_j w_j ln x_j / sum_j w_j)`` (all ``x_j > 0``)

Missing values are skipped and the weights of the available values re-normalised (the unit's
score is NaN only when all its values in the group are missing). For data with zeros or negatives
(min-max from 0, z-scores), the geometric mean needs a ``shift`` or a normalisation onto a
positive range such as ``minmax(lo=1, hi=100)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from innosim.errors import InputError
from innosim.index.framework import Framework, framework_weights

__all__ = ["METHODS", "aggregate", "arithmetic", "geometric", "ranks"]

METHODS: tuple[str, ...] = ("arithmetic", "geometric")


def _weights(X: pd.DataFrame, weights: Mapping[str, float] | pd.Series | None) -> np.ndarray:
    if weights is None:
        return np.ones(X.shape[1])
    w = pd.Series(dict(weights), dtype=float)
    missing = [c for c in X.columns if c not in w.index]
    if missing:
        raise InputError(
            f"no weight for {', '.join(map(str, missing))}",
            field="weights",
            expected="a weight for every column",
        )
    arr = w.reindex(X.columns).to_numpy(dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError("weights must be finite and >= 0", field="weights", expected=">= 0")
    return arr


def arithmetic(
    X: pd.DataFrame, weights: Mapping[str, float] | pd.Series | None = None
) -> pd.Series:
    """Weighted arithmetic mean per row, skipping NaN (weights re-normalised over what is there).

    Parameters
    ----------
    X : DataFrame
        Units x indicators.
    weights : mapping or Series, optional
        Column -> weight (>= 0); equal when omitted.

    Returns
    -------
    pandas.Series
        One score per unit; NaN where all values (or all weights) are missing.
    """
    w = _weights(X, weights)
    vals = X.to_numpy(dtype=float)
    present = ~np.isnan(vals)
    wsum = present @ w
    num = np.where(present, vals, 0.0) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wsum > 0, num / wsum, np.nan)
    return pd.Series(out, index=X.index)


def geometric(
    X: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series | None = None,
    *,
    shift: float = 0.0,
) -> pd.Series:
    """Weighted geometric mean per row, skipping NaN: ``exp(sum w ln(x + shift) / sum w)``.

    Parameters
    ----------
    X : DataFrame
        Units x indicators; ``X + shift`` must be > 0 wherever it is not NaN.
    weights : mapping or Series, optional
        Column -> weight (>= 0); equal when omitted.
    shift : float
        Added to every value before the mean (and not subtracted afterwards).

    Raises
    ------
    InputError
        A value ``<= 0`` after the shift.
    """
    w = _weights(X, weights)
    vals = X.to_numpy(dtype=float) + shift
    present = ~np.isnan(vals)
    if np.any(vals[present] <= 0):
        cols = [
            str(c)
            for c, bad in zip(X.columns, (present & (vals <= 0)).any(axis=0), strict=True)
            if bad
        ]
        raise InputError(
            "the geometric mean needs positive values; values <= 0 in " + ", ".join(cols),
            value=cols,
            expected="values > 0 (normalise onto a positive range, e.g. minmax lo=1, or shift)",
        )
    wsum = present @ w
    num = np.where(present, np.log(np.where(present, vals, 1.0)), 0.0) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wsum > 0, np.exp(num / wsum), np.nan)
    return pd.Series(out, index=X.index)


def _combine(X: pd.DataFrame, weights: pd.Series | None, method: str, shift: float) -> pd.Series:
    if method == "arithmetic":
        return arithmetic(X, weights)
    return geometric(X, weights, shift=shift)


def aggregate(
    X: pd.DataFrame,
    framework: Framework,
    method: str = "arithmetic",
    weights: Mapping[str, float] | pd.Series | None = None,
    *,
    shift: float = 0.0,
    subpillars: bool = False,
) -> pd.DataFrame:
    """Pillar scores and the overall score.

    Parameters
    ----------
    X : DataFrame
        Normalised data, units x indicators (all indicators of the framework).
    framework : Framework
    method : {"arithmetic", "geometric"}
    weights : mapping or Series, optional
        Indicator weights (e.g. from :mod:`innosim.index.weights`); the framework's nominal
        weights when omitted. They are re-normalised within each sub-pillar.
    shift : float
        Passed to :func:`geometric` at the indicator level only.
    subpillars : bool
        Also return the sub-pillar scores, as columns ``"Pillar/Sub"``.

    Returns
    -------
    DataFrame
        Index: units; columns: the framework's pillars (in order), then ``overall``.
    """
    if method not in METHODS:
        raise InputError(
            f"unknown aggregation method {method!r}",
            field="aggregation",
            value=method,
            expected=", ".join(METHODS),
        )
    framework.check_columns(X)
    w = framework_weights(framework) if weights is None else pd.Series(dict(weights), dtype=float)
    groups = framework.group_of
    pillar_scores: dict[str, pd.Series] = {}
    sub_scores: dict[str, pd.Series] = {}
    for pillar in framework.pillars:
        cols = framework.members(pillar)
        subs = list(dict.fromkeys(groups[cols]))
        per_sub = {}
        for sub in subs:
            sc = [c for c in cols if groups[c] == sub]
            per_sub[sub] = _combine(X[sc], w.reindex(sc), method, shift)
            if sub:
                sub_scores[f"{pillar}/{sub}"] = per_sub[sub]
        if len(per_sub) == 1:
            pillar_scores[pillar] = next(iter(per_sub.values()))
        else:
            pillar_scores[pillar] = _combine(pd.DataFrame(per_sub), None, method, 0.0)
    out = pd.DataFrame(pillar_scores, index=X.index)
    out["overall"] = _combine(out[framework.pillars], framework.overall_weights(), method, 0.0)
    if subpillars and sub_scores:
        out = pd.concat([pd.DataFrame(sub_scores, index=X.index), out], axis=1)
    return out


def ranks(scores: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Ranks with 1 = best (highest score); ties share the lowest rank ('min'); NaN stays NaN.

    Parameters
    ----------
    scores : Series or DataFrame
        One score per unit (column-wise for a DataFrame).

    Returns
    -------
    Series or DataFrame
        Nullable integer ranks (``Int64``).
    """
    return scores.rank(ascending=False, method="min").astype("Int64")
