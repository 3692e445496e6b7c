"""Step 3 (part) of the JRC handbook: outlier detection and treatment.

Rule (JRC / COINr, as in the audits of the Global Innovation Index): an indicator has an outlier
problem when ``|skewness| > 2`` **and** ``kurtosis > 3.5``, where

- skewness is the adjusted Fisher-Pearson sample skewness
  ``G1 = sqrt(n(n-1))/(n-2) * m3 / m2**1.5`` (Excel ``SKEW``, pandas ``Series.skew``), and
- kurtosis is the bias-corrected sample **excess** kurtosis
  ``G2 = (n-1)/((n-2)(n-3)) * ((n+1) m4/m2**2 - 3(n-1))`` (Excel ``KURT``, pandas ``Series.kurt``;
  0 for a normal distribution),

computed over the observed (non-missing) values; fewer than 4 values give NaN and no flag.

Treatment (COINr ``Treat`` style), per flagged indicator:

- ``"winsorise"``: at the tail named by the sign of the skewness, the most extreme value is set
  to the next most extreme one (ties at the extreme are treated together), one point at a time,
  until the rule no longer fires or ``max_winsor`` points have been winsorised. If the rule
  still fires, the winsorisation is undone and the log transform below is applied instead.
- ``"log"``: positive skew: ``ln(x - min + 1)``; negative skew: ``-ln(max - x + 1)`` (order kept).
- ``"none"``: nothing is changed; the report still lists the flags.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from innosim.errors import InputError

__all__ = ["KURT_THRESHOLD", "SKEW_THRESHOLD", "detect", "treat"]

SKEW_THRESHOLD = 2.0
KURT_THRESHOLD = 3.5


def detect(
    X: pd.DataFrame, skew_threshold: float = SKEW_THRESHOLD, kurt_threshold: float = KURT_THRESHOLD
) -> pd.DataFrame:
    """Skewness, excess kurtosis and the outlier flag of every indicator.

    Parameters
    ----------
    X : DataFrame
        Units x indicators.
    skew_threshold, kurt_threshold : float
        The rule fires when ``|skewness| > skew_threshold and kurtosis > kurt_threshold``.

    Returns
    -------
    DataFrame
        Index: indicators; columns ``n`` (observed values), ``skewness``, ``kurtosis``,
        ``flagged`` (bool).
    """
    X = X.astype(float)
    skew = X.skew()
    kurt = X.kurt()
    flagged = (skew.abs() > skew_threshold) & (kurt > kurt_threshold)
    return pd.DataFrame(
        {"n": X.notna().sum(), "skewness": skew, "kurtosis": kurt, "flagged": flagged.fillna(False)}
    ).astype({"flagged": bool})


def _fires(x: pd.Series, st: float, kt: float) -> bool:
    s, k = x.skew(), x.kurt()
    return bool(abs(s) > st and k > kt)


def _log(x: pd.Series, positive_tail: bool) -> pd.Series:
    if positive_tail:
        return np.log(x - x.min() + 1.0)
    return -np.log(x.max() - x + 1.0)


def _winsorise(x: pd.Series, max_winsor: int, st: float, kt: float) -> tuple[pd.Series, int]:
    """Winsorise one point at a time at the skewed tail; return (series, points winsorised)."""
    y = x.copy()
    positive = x.skew() > 0
    n_done = 0
    while n_done < max_winsor and _fires(y, st, kt):
        obs = y.dropna()
        extreme = obs.max() if positive else obs.min()
        rest = obs[obs != extreme]
        if rest.empty:
            break
        nxt = rest.max() if positive else rest.min()
        hit = y == extreme
        n_done += int(hit.sum())
        y[hit] = nxt
    return y, n_done


def treat(
    X: pd.DataFrame,
    method: str = "winsorise",
    max_winsor: int = 5,
    skew_threshold: float = SKEW_THRESHOLD,
    kurt_threshold: float = KURT_THRESHOLD,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Treat the indicators flagged by :func:`detect`.

    Parameters
    ----------
    X : DataFrame
        Units x indicators (raw data, before normalisation).
    method : {"winsorise", "log", "none"}
    max_winsor : int
        Most points winsorised per indicator before falling back to the log transform.
    skew_threshold, kurt_threshold : float

    Returns
    -------
    X_treated : DataFrame
        Same shape as ``X``; untouched columns are identical.
    report : DataFrame
        Index: indicators; columns ``skewness_before``, ``kurtosis_before``, ``flagged``,
        ``treatment`` (``"none"``, ``"winsorised"`` or ``"log"``), ``n_winsorised``,
        ``skewness_after``, ``kurtosis_after``, ``still_flagged``.
    """
    if method not in ("winsorise", "log", "none"):
        raise InputError(
            f"unknown outlier treatment {method!r}",
            field="outliers",
            value=method,
            expected="winsorise, log or none",
        )
    if max_winsor < 0:
        raise InputError("max_winsor must be >= 0", value=max_winsor, expected=">= 0")
    X = X.astype(float)
    before = detect(X, skew_threshold, kurt_threshold)
    out = X.copy()
    treatment = pd.Series("none", index=X.columns, dtype=object)
    n_wins = pd.Series(0, index=X.columns, dtype=int)
    if method != "none":
        for col in before.index[before["flagged"].to_numpy()]:
            x = X[col]
            if method == "winsorise":
                y, n = _winsorise(x, max_winsor, skew_threshold, kurt_threshold)
                if not _fires(y, skew_threshold, kurt_threshold):
                    out[col] = y
                    treatment[col] = "winsorised"
                    n_wins[col] = n
                    continue
            out[col] = _log(x, bool(x.skew() > 0))
            treatment[col] = "log"
    after = detect(out, skew_threshold, kurt_threshold)
    report = pd.DataFrame(
        {
            "skewness_before": before["skewness"],
            "kurtosis_before": before["kurtosis"],
            "flagged": before["flagged"],
            "treatment": treatment,
            "n_winsorised": n_wins,
            "skewness_after": after["skewness"],
            "kurtosis_after": after["kurtosis"],
            "still_flagged": after["flagged"],
        }
    )
    return out, report
