"""Step 4 of the JRC handbook: imputation of missing data.

Methods (all deterministic; the choice is reported so that it can be varied in an uncertainty
analysis):

- ``"none"``: missing values stay NaN; aggregation then re-weights over the available
  indicators (equivalent to pillar-mean imputation for the arithmetic mean).
- ``"mean"`` / ``"median"``: the indicator's mean / median over the observed units.
- ``"pillar_mean"``: the unit's own mean over the other observed indicators of the same pillar
  (needs a framework; meant for **normalised** data, where indicators share a scale); a unit
  with no other observed indicator in the pillar falls back to the indicator mean.
"""

from __future__ import annotations

import pandas as pd

from innosim.errors import InputError
from innosim.index.framework import Framework

__all__ = ["METHODS", "impute"]

METHODS: tuple[str, ...] = ("none", "mean", "median", "pillar_mean")


def impute(
    X: pd.DataFrame, method: str = "none", framework: Framework | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing values.

    Parameters
    ----------
    X : DataFrame
        Units x indicators (NaN = missing).
    method : {"none", "mean", "median", "pillar_mean"}
    framework : Framework, optional
        Required for ``"pillar_mean"``.

    Returns
    -------
    X_imputed : DataFrame
    report : DataFrame
        Index: indicators; columns ``n_missing`` (before), ``n_imputed``, ``method``
        (the method actually used for that indicator's values; ``pillar_mean+mean`` when some
        fell back to the indicator mean).
    """
    if method not in METHODS:
        raise InputError(
            f"unknown imputation method {method!r}",
            field="imputation",
            value=method,
            expected=", ".join(METHODS),
        )
    X = X.astype(float)
    missing = X.isna()
    used = pd.Series(method, index=X.columns, dtype=object)
    if method == "none":
        out = X.copy()
    elif method == "mean":
        out = X.fillna(X.mean())
    elif method == "median":
        out = X.fillna(X.median())
    else:
        if framework is None:
            raise InputError("pillar_mean imputation needs the framework", expected="a Framework")
        framework.check_columns(X)
        out = X.copy()
        for pillar in framework.pillars:
            cols = framework.members(pillar)
            row_mean = X[cols].mean(axis=1)
            fill = pd.DataFrame({c: row_mean for c in cols}, index=X.index)
            out[cols] = X[cols].fillna(fill)
        still = out.isna() & missing
        if still.to_numpy().any():
            out = out.fillna(X.mean())
            fell_back = still.any()
            used[fell_back[fell_back].index] = "pillar_mean+mean"
    n_missing = missing.sum()
    n_imputed = (missing & out.notna()).sum()
    used[n_imputed == 0] = "none"
    report = pd.DataFrame({"n_missing": n_missing, "n_imputed": n_imputed, "method": used})
    return out, report
