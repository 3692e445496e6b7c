"""The TOP composite index (OECD/JRC handbook steps 1 and 3-10).

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

The framework file, the indicator matrix built from the sourced dataset, the uncertainty and
sensitivity analyses and the figures sit on top of that core; :func:`build_index` runs
everything (``innosim index``)::

    result = build_index(draws=1000, seed=0)
    result.table                  # city, talent, organization, place, score, rank, rank_low, ...

See ``docs/index.md`` for the formulas.
"""

from __future__ import annotations

from innosim.index import aggregate, coherence, impute, normalise, outliers, uncertainty, weights
from innosim.index.framework import (
    PILLARS,
    Framework,
    FrameworkSpec,
    Indicator,
    IndicatorSpec,
    default_framework_path,
    indicator_matrix,
    load_framework,
)
from innosim.index.pipeline import (
    TABLE_COLUMNS,
    IndexResult,
    build_index,
    compare_ranking,
    load_ranking,
    write_outputs,
)
from innosim.index.uncertainty import Choices, Uncertainty, compute, monte_carlo, sobol

__all__ = [
    "PILLARS",
    "TABLE_COLUMNS",
    "Choices",
    "Framework",
    "FrameworkSpec",
    "IndexResult",
    "Indicator",
    "IndicatorSpec",
    "Uncertainty",
    "aggregate",
    "build_index",
    "coherence",
    "compare_ranking",
    "compute",
    "default_framework_path",
    "impute",
    "indicator_matrix",
    "load_framework",
    "load_ranking",
    "monte_carlo",
    "normalise",
    "outliers",
    "sobol",
    "uncertainty",
    "weights",
    "write_outputs",
]
