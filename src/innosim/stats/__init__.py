"""The statistics catalog: named, documented statistics of simulation runs.

>>> from innosim.stats import CATALOG, check_args
>>> CATALOG["survival_rate"](result, age_years=5)     # doctest: +SKIP

Every statistic is a pure function of one :class:`~innosim.model.runner.RunResult` (a baseline
and a counterfactual for the paired ``restart_response_to_stigma_removal``) returning a float,
NaN when undefined. One module per family: :mod:`~innosim.stats.firms` (firm dynamics),
:mod:`~innosim.stats.finance` (venture finance), :mod:`~innosim.stats.founders` (founders,
failure, waves, chains) and :mod:`~innosim.stats.cities` (city metrics). The registry
(:mod:`~innosim.stats.registry`) holds :data:`CATALOG` and :func:`check_args`. Definitions and
choices: ``docs/statistics.md``.
"""

from __future__ import annotations

from innosim.stats.registry import (
    BURN_IN_YEARS,
    CATALOG,
    REQUIRED,
    ArgSpec,
    Statistic,
    check_args,
)

# Registration order is the catalog's order (firms, finance, founders, cities).
# isort: off
from innosim.stats import firms, finance, founders, cities
# isort: on

__all__ = [
    "BURN_IN_YEARS",
    "CATALOG",
    "REQUIRED",
    "ArgSpec",
    "Statistic",
    "check_args",
    "cities",
    "finance",
    "firms",
    "founders",
]
