"""Founders, failure, waves and chains: success by founder history, fear of failure, restarts
after stigma removal, incumbents' adoption of waves, chain margins and the orientation of
giants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from innosim.model.runner import RunResult
from innosim.params.scenario import Scenario
from innosim.schema import FOUNDER_HISTORY
from innosim.stats.registry import (
    ArgSpec,
    city_code,
    end_year,
    ratio,
    statistic,
    window_tick,
    window_year,
)

__all__ = [
    "fear_of_failure_share",
    "founder_success_rate",
    "incumbent_adoption_share",
    "lead_supplier_margin_ratio",
    "restart_response_to_stigma_removal",
    "stigma_removed",
    "to_c_share_of_giants",
]


STIGMA_PARAMS = ("stigma", "restart_cost")
"""City parameters set to zero in the counterfactual arm of the restart statistic."""
TOC = 0
"""Orientation code of To C firms."""


@statistic("founders", "share", ArgSpec("history", "choice", choices=FOUNDER_HISTORY))
def founder_success_rate(result: RunResult, history: str) -> float:
    """Share of ventures that succeed, among those of founders with the given ``history``
    (``first_time``, ``after_failure`` or ``after_success``).

    Success (``firms.success``, set by the exits mechanism) means a listing or acquisition
    above the capital raised, or reaching unicorn valuation (Gompers et al. 2010). Reads the
    firm registry: firms founded in the measured window with ``founder_history`` of that code
    whose outcome is known by the end of the run — they died (failure, closure, acquisition),
    listed, or succeeded; ventures still running without either are left out. NaN when none.
    Unit: share.
    """
    f = result.firms
    code = FOUNDER_HISTORY.index(history)
    known = (f["died"].astype(np.int64) >= 0) | f["listed"].astype(bool) | f["success"].astype(bool)
    sel = f[
        (f["born"].astype(np.int64) >= window_tick(result)) & known & (f["founder_history"] == code)
    ]
    if sel.empty:
        return math.nan
    return float(sel["success"].astype(bool).mean())


def _series_sum(result: RunResult, num: str, den: str, city: str | None) -> tuple[float, float]:
    s = result.series
    s = s[s["year"] >= window_year(result)]
    if city is not None:
        city_code(result, city)
        s = s[s["city"] == city]
    return float(s[num].sum()), float(s[den].sum())


@statistic("founders", "share", ArgSpec("city", "city", None))
def fear_of_failure_share(result: RunResult, city: str | None = None) -> float:
    """Share of people who saw an opportunity in a tick but did not found because of the
    failure penalty.

    Reads the per-tick series ``deterred`` and ``perceivers`` over the measured window's
    years, summed over all cities (or the one ``city``): ``sum deterred / sum perceivers``.
    NaN with no perceiver. Unit: share.
    """
    d, p = _series_sum(result, "deterred", "perceivers", city)
    return ratio(d, p) if p > 0 else math.nan


def stigma_removed(scenario: Scenario, city: str | None = None) -> Scenario:
    """The counterfactual arm of :func:`restart_response_to_stigma_removal`: ``stigma`` and
    ``restart_cost`` set to 0 in every city of the scenario, all else equal (``city`` only
    selects where the response is measured, not where stigma is removed)."""
    out = scenario
    zero = dict.fromkeys(STIGMA_PARAMS, 0.0)
    for name in scenario.city_names:
        out = out.with_city_params(name, **zero)
    return out


@statistic(
    "founders",
    "relative change",
    ArgSpec("city", "city", None),
    paired=True,
    counterfactual=stigma_removed,
)
def restart_response_to_stigma_removal(
    baseline: RunResult, counterfactual: RunResult, city: str | None = None
) -> float:
    """Relative change in failed founders' probability of founding again when the stigma
    parameters are set to zero, all else equal (a paired counterfactual).

    Called with a baseline run and a counterfactual run of the same seed whose scenario is
    ``CATALOG["restart_response_to_stigma_removal"].counterfactual(baseline_scenario)``
    (``stigma`` and ``restart_cost`` set to 0 in every city). In each arm the restart rate is
    ``r = sum restarts / sum restart_candidates`` from the per-tick series over the measured
    window's years (all cities, or ``city``); the statistic is ``r_cf / r_base - 1``. NaN when
    either arm has no candidate or the baseline rate is zero. Unit: relative change.
    """
    n0, d0 = _series_sum(baseline, "restarts", "restart_candidates", city)
    n1, d1 = _series_sum(counterfactual, "restarts", "restart_candidates", city)
    if d0 <= 0 or d1 <= 0 or n0 <= 0:
        return math.nan
    return (n1 / d1) / (n0 / d0) - 1.0


def _wave_starts(result: RunResult) -> Iterable[tuple[int, float]]:
    return enumerate(float(w.start_year) for w in result.scenario.waves)


@statistic("founders", "share", ArgSpec("years", "int", 5, low=1, high=100))
def incumbent_adoption_share(result: RunResult, years: int = 5) -> float:
    """Share of firms alive when a wave starts that move into that wave within ``years``.

    For each wave ``w`` of the scenario (``scenario.waves``, index = ``firm_years.wave`` code)
    whose first year ``S = ceil(start_year)`` lies at or after the measured window's first
    year and whose follow-up ends within the run (``S + years - 1 <= end_year``): the
    incumbents are the firms in ``firm_years`` at the year-end ``S - 1`` not already in ``w``;
    they adopt if they appear with wave ``w`` at any year-end ``S .. S + years - 1``. Pooled
    over waves: adopters / incumbents. NaN when no wave qualifies or has incumbents.
    Unit: share.
    """
    fy = result.firm_years
    if fy.empty:
        return math.nan
    first, last = window_year(result), end_year(result)
    yr = fy["year"].astype(np.int64)
    movers = incumbents = 0
    for w, start in _wave_starts(result):
        s = math.ceil(start)
        if s < first or s + years - 1 > last:
            continue
        inc = fy.loc[(yr == s - 1) & (fy["wave"] != w), "id"]
        later = fy.loc[(yr >= s) & (yr <= s + years - 1) & (fy["wave"] == w), "id"]
        incumbents += int(inc.nunique())
        movers += int(pd.Index(inc.unique()).isin(later.unique()).sum())
    return ratio(movers, incumbents) if incumbents > 0 else math.nan


@statistic("founders", "ratio")
def lead_supplier_margin_ratio(result: RunResult) -> float:
    """Operating margin of chain masters over that of their suppliers.

    Reads ``firm_years`` at year-ends in the measured window. Margin of a group =
    ``sum profit / sum revenue`` over its firm-years (``profit`` and ``revenue`` are the
    quarterly flows recorded at the year-end); chain masters are ``chain_master`` rows,
    suppliers are rows with ``procurement_in > 0`` (selling to a chain master) that are not
    chain masters. NaN when either group is empty, has no revenue, or the supplier margin is
    zero. Unit: ratio (negative when one margin is negative).
    """
    fy = result.firm_years
    fy = fy[fy["year"] >= window_year(result)]
    master = fy["chain_master"].astype(bool)
    supplier = (fy["procurement_in"] > 0) & ~master
    rm, rs = float(fy.loc[master, "revenue"].sum()), float(fy.loc[supplier, "revenue"].sum())
    if rm <= 0 or rs <= 0:
        return math.nan
    mm = float(fy.loc[master, "profit"].sum()) / rm
    ms = float(fy.loc[supplier, "profit"].sum()) / rs
    return ratio(mm, ms)


@statistic(
    "founders",
    "share",
    ArgSpec("kind", "choice", "chain_master", choices=("chain_master", "unicorn")),
)
def to_c_share_of_giants(result: RunResult, kind: str = "chain_master") -> float:
    """Share of chain masters (or ``kind="unicorn"``) that are To C.

    Reads ``firm_years`` at the last year-end of the run (the living firms then): the giants
    are the ``chain_master`` rows, or with ``kind="unicorn"`` the rows valued at least the
    scenario's ``unicorn_valuation``; the share with orientation To C (code 0). NaN when there
    is no giant. Unit: share.
    """
    fy = result.firm_years
    if fy.empty:
        return math.nan
    last = fy[fy["year"] == fy["year"].max()]
    if kind == "chain_master":
        giants = last[last["chain_master"].astype(bool)]
    else:
        giants = last[last["valuation"] >= float(result.scenario.glob["unicorn_valuation"])]
    if giants.empty:
        return math.nan
    return float((giants["orientation"] == TOC).mean())
