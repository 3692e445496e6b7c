"""Step 7 of the JRC handbook: statistical coherence of the framework.

- :func:`correlations` -- each indicator against its pillar score and the overall score.
- :func:`cronbach_alpha` -- internal consistency of a set of indicators.
- :func:`pca_summary` -- eigenvalues, explained variance and loadings (numpy only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from innosim.errors import InputError
from innosim.index.framework import Framework

__all__ = ["PCAResult", "correlations", "cronbach_alpha", "pca_summary"]


def correlations(
    X: pd.DataFrame,
    scores: pd.DataFrame,
    framework: Framework,
    *,
    method: str = "pearson",
    overall: str = "overall",
) -> pd.DataFrame:
    """Correlation of every indicator with its pillar score and with the overall score.

    Parameters
    ----------
    X : DataFrame
        Indicator data (units x indicators), usually normalised; pairwise complete rows are used.
    scores : DataFrame
        Output of :func:`innosim.index.aggregate.aggregate`: one column per pillar and
        ``overall``.
    framework : Framework
    method : {"pearson", "spearman"}
    overall : str
        Column of ``scores`` holding the overall score.

    Returns
    -------
    DataFrame
        Index: indicators; columns ``pillar``, ``r_pillar``, ``r_overall``.
    """
    if method not in ("pearson", "spearman"):
        raise InputError(
            f"unknown correlation method {method!r}", value=method, expected="pearson or spearman"
        )
    framework.check_columns(X)
    rows = []
    for name in framework.names:
        pillar = framework.pillar_of[name]
        x = X[name]
        rows.append(
            {
                "indicator": name,
                "pillar": pillar,
                "r_pillar": x.corr(scores[pillar], method=method),
                "r_overall": x.corr(scores[overall], method=method),
            }
        )
    return pd.DataFrame(rows).set_index("indicator")


def cronbach_alpha(X_subset: pd.DataFrame) -> float:
    """Cronbach's alpha of a set of indicators (complete rows only).

    ``alpha = k / (k - 1) * (1 - sum_i var(x_i) / var(sum_i x_i))`` with sample variances
    (``ddof=1``) and ``k`` the number of indicators.

    Parameters
    ----------
    X_subset : DataFrame
        Units x indicators (k >= 2).

    Returns
    -------
    float
        Alpha; NaN when fewer than two complete rows or the total has zero variance.
    """
    data = X_subset.dropna().to_numpy(dtype=float)
    k = data.shape[1]
    if k < 2:
        raise InputError(
            "Cronbach's alpha needs at least two indicators", value=k, expected="k >= 2"
        )
    if data.shape[0] < 2:
        return float("nan")
    item_var = data.var(axis=0, ddof=1).sum()
    total_var = data.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - item_var / total_var))


@dataclass(frozen=True)
class PCAResult:
    """Principal components of a set of indicators.

    Attributes
    ----------
    eigenvalues : Series
        Eigenvalues of the correlation (or covariance) matrix, descending; index ``PC1..PCk``.
    explained : Series
        Share of the total variance of each component.
    cumulative : Series
        Cumulative share.
    loadings : DataFrame
        Indicators x components: ``eigenvector * sqrt(eigenvalue)`` (the correlation of the
        standardised indicator with the component when ``standardise``). Signs are fixed so
        that each component's loadings sum to a non-negative number.
    n_obs : int
        Complete rows used.
    """

    eigenvalues: pd.Series
    explained: pd.Series
    cumulative: pd.Series
    loadings: pd.DataFrame
    n_obs: int

    def table(self) -> pd.DataFrame:
        """Eigenvalues, explained and cumulative variance as one table."""
        return pd.DataFrame(
            {
                "eigenvalue": self.eigenvalues,
                "explained": self.explained,
                "cumulative": self.cumulative,
            }
        )


def pca_summary(X: pd.DataFrame, *, standardise: bool = True) -> PCAResult:
    """Principal component analysis with numpy only (complete rows).

    Parameters
    ----------
    X : DataFrame
        Units x indicators.
    standardise : bool
        Use the correlation matrix (default) rather than the covariance matrix. Constant
        indicators get zero variance after standardisation (they load on no component).

    Returns
    -------
    PCAResult

    Raises
    ------
    InputError
        Fewer than three complete rows.
    """
    data = X.dropna().to_numpy(dtype=float)
    n, k = data.shape
    if n < 3:
        raise InputError(f"PCA needs at least 3 complete rows, got {n}", value=n, expected="n >= 3")
    centred = data - data.mean(axis=0)
    if standardise:
        sd = centred.std(axis=0, ddof=1)
        centred = centred / np.where(sd > 0, sd, 1.0)
    cov = centred.T @ centred / (n - 1)
    lam, vec = np.linalg.eigh(cov)
    order = np.argsort(lam, kind="stable")[::-1]
    lam = np.clip(lam[order], 0.0, None)
    vec = vec[:, order]
    sign = np.where(vec.sum(axis=0) < 0, -1.0, 1.0)
    vec = vec * sign
    pcs = [f"PC{i + 1}" for i in range(k)]
    total = lam.sum()
    explained = lam / total if total > 0 else np.zeros(k)
    return PCAResult(
        eigenvalues=pd.Series(lam, index=pcs),
        explained=pd.Series(explained, index=pcs),
        cumulative=pd.Series(np.cumsum(explained), index=pcs),
        loadings=pd.DataFrame(vec * np.sqrt(lam), index=list(X.columns), columns=pcs),
        n_obs=n,
    )
