"""Step 6 of the JRC handbook: the weights of the indicator framework.

The framework (:class:`~innosim.index.framework.Framework`, re-exported here with
:class:`~innosim.index.framework.Indicator` and :data:`PILLARS`) says, for every indicator,
which pillar (and optionally which sub-pillar) it belongs to, its direction (+1: more is better,
-1: less is better) and its nominal weight. The weighting schemes return one :class:`pandas.Series`
of indicator weights that sum to 1 within each pillar, so that they can be swapped in a Monte Carlo
loop.

Schemes
-------
- :func:`equal` -- every indicator of a pillar weighs ``1 / n_pillar``.
- :func:`pca_weights` -- JRC/Nicoletti style: squared loadings of the retained principal
  components of each pillar's (standardised) indicators.
- :func:`user` -- weights given by the user, validated against the framework.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from innosim.index.coherence import pca_summary
from innosim.index.framework import (
    PILLARS,
    Framework,
    Indicator,
    check_weights,
    framework_weights,
    normalise_within_pillar,
)

__all__ = [
    "PILLARS",
    "Framework",
    "Indicator",
    "equal",
    "framework_weights",
    "pca_weights",
    "user",
]


def equal(framework: Framework) -> pd.Series:
    """Equal weights: ``1 / n_p`` for each of the ``n_p`` indicators of pillar ``p``.

    Parameters
    ----------
    framework : Framework

    Returns
    -------
    pandas.Series
        Indicator -> weight; sums to 1 within each pillar.
    """
    return normalise_within_pillar(pd.Series(1.0, index=framework.names), framework)


user = check_weights
"""Weights given by the user, validated against the framework (:func:`check_weights`)."""


def pca_weights(
    X_normalised: pd.DataFrame,
    framework: Framework,
    *,
    n_components: int | None = 1,
) -> pd.Series:
    """PCA-based weights, pillar by pillar (JRC / Nicoletti et al. style, without rotation).

    For each pillar, the principal components of the correlation matrix of its indicators
    (complete cases) are computed. With ``L_jc = v_jc * sqrt(lambda_c)`` the loading of
    indicator ``j`` on component ``c``, the weight is

    ``w_j = sum_c s_c * L_jc**2 / sum_i L_ic**2``,  ``s_c = lambda_c / sum_{c' retained} lambda_c'``

    over the retained components, then normalised to sum 1 within the pillar. With one
    component this is ``v_j1**2``, the squared entries of the first eigenvector.

    Parameters
    ----------
    X_normalised : DataFrame
        Normalised data (units x indicators); only the framework's indicators are used.
    framework : Framework
    n_components : int or None
        Components retained per pillar; ``None`` keeps those with eigenvalue > 1 (Kaiser rule,
        at least one).

    Returns
    -------
    pandas.Series
        Indicator -> weight, summing to 1 within each pillar. A single-indicator pillar gets 1.

    Raises
    ------
    InputError
        Fewer than three complete rows in a pillar with several indicators.
    """

    framework.check_columns(X_normalised)
    out = pd.Series(np.nan, index=framework.names, dtype=float)
    for pillar in framework.pillars:
        cols = framework.members(pillar)
        if len(cols) == 1:
            out[cols[0]] = 1.0
            continue
        res = pca_summary(X_normalised[cols])
        lam = res.eigenvalues.to_numpy()
        if n_components is None:
            k = max(1, int(np.sum(lam > 1.0)))
        else:
            k = max(1, min(int(n_components), len(lam)))
        lam_k = np.clip(lam[:k], 0.0, None)
        sq = res.loadings.to_numpy()[:, :k] ** 2
        colsum = sq.sum(axis=0)
        share = lam_k / lam_k.sum() if lam_k.sum() > 0 else np.full(k, 1.0 / k)
        w = (sq / np.where(colsum > 0, colsum, 1.0)) @ share
        out[cols] = w / w.sum() if w.sum() > 0 else 1.0 / len(cols)
    return out
