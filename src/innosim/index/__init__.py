"""The TOP composite index: the statistical core (OECD/JRC handbook steps 3-8).

A pure library over a pandas DataFrame ``X`` (rows: units such as cities; columns: indicators;
NaN: missing) and a :class:`Framework` (indicator -> pillar, sub-pillar, direction, weight). It
never imports the simulation engine. Every function is deterministic and takes its methodological
choices as arguments, so an uncertainty analysis can call it in a Monte Carlo loop::

    Xt, _ = outliers.treat(X, method="winsorise")
    Xi, _ = impute.impute(Xt, method="mean")
    Xn = normalise.normalise(Xi, "minmax", framework.directions)
    w = weights.equal(framework)
    scores = aggregate.aggregate(Xn, framework, "arithmetic", w)
    r = aggregate.ranks(scores["overall"])

See ``docs/index.md`` for the formulas.
"""

from __future__ import annotations

from innosim.index import aggregate, coherence, impute, normalise, outliers, weights
from innosim.index.weights import PILLARS, Framework, Indicator

__all__ = [
    "PILLARS",
    "Framework",
    "Indicator",
    "aggregate",
    "coherence",
    "impute",
    "normalise",
    "outliers",
    "weights",
]
