"""City statistics: a city's yearly metric, the ratio of two cities' metrics, and the urban
scaling exponent of a metric across the scenario's cities.

Read the per-city yearly table (``result.yearly()``: flows summed over a year's ticks,
annualised rates averaged, stocks at the year end, ``growth_volatility`` the rolling sd of
yearly log value-added growth). ``year`` defaults to the last simulated year; a year outside
the run gives NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from innosim.model.runner import RunResult
from innosim.stats.registry import ArgSpec, city_code, ratio, statistic

__all__ = ["METRICS", "city_ratio", "city_scaling_exponent", "city_value"]

METRICS = (
    "value_added",
    "value_added_per_capita",
    "unicorns",
    "chain_masters",
    "firms",
    "entries",
    "exits",
    "employment",
    "graduates",
    "talent_net_inflow_rate",
    "vc_invested",
    "growth_volatility",
)
"""City metrics the statistics accept (columns of ``RunResult.yearly()``)."""

METRIC = ArgSpec("metric", "choice", choices=METRICS)
YEAR = ArgSpec("year", "int", None, low=1900, high=2300)


def _year_rows(result: RunResult, year: int | None) -> pd.DataFrame:
    y = result.yearly()
    if y.empty:
        return y
    year = int(y["year"].max()) if year is None else int(year)
    return y[y["year"] == year]


def _value(rows: pd.DataFrame, city: str, metric: str) -> float:
    v = rows.loc[rows["city"] == city, metric]
    if v.empty:
        return math.nan
    return float(v.iloc[0])


@statistic("cities", "unit of the metric", ArgSpec("city", "city"), METRIC, YEAR)
def city_value(result: RunResult, city: str, metric: str, year: int | None = None) -> float:
    """A city's value of ``metric`` in ``year`` (default: the last simulated year).

    Reads ``result.yearly()``: the row of that city and year, column ``metric`` (its unit is
    that of the series, e.g. 1e8 CNY/yr for ``value_added``; firm counts are counts in the
    simulated replica). NaN for a year outside the run or an undefined value (e.g.
    ``growth_volatility`` in the first years). Unit: that of the metric.
    """
    city_code(result, city)
    return _value(_year_rows(result, year), city, metric)


def _ratio_parts(
    city_a: str, city_b: str, metric: str, year: int | None = None
) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    return (
        ("city_value", {"city": city_a, "metric": metric, "year": year}),
        ("city_value", {"city": city_b, "metric": metric, "year": year}),
    )


@statistic(
    "cities",
    "ratio",
    ArgSpec("city_a", "city"),
    ArgSpec("city_b", "city"),
    METRIC,
    YEAR,
    ratio_parts=_ratio_parts,
)
def city_ratio(
    result: RunResult, city_a: str, city_b: str, metric: str, year: int | None = None
) -> float:
    """:func:`city_value` of ``city_a`` over that of ``city_b`` (same metric and year).

    Reads ``result.yearly()``. NaN when the denominator is zero or either value is undefined.
    Unit: ratio (dimensionless). Over an ensemble ``innosim validate`` reports the ratio of the
    two cities' ensemble means (the ratio estimator; ``Statistic.ratio_parts``), with the 90%
    interval of the per-replicate ratios.
    """
    city_code(result, city_a)
    city_code(result, city_b)
    rows = _year_rows(result, year)
    return ratio(_value(rows, city_a, metric), _value(rows, city_b, metric))


@statistic("cities", "dimensionless (elasticity)", METRIC, YEAR)
def city_scaling_exponent(result: RunResult, metric: str, year: int | None = None) -> float:
    """Log-log slope of a city metric on population across the scenario's cities.

    Reads ``result.yearly()`` for ``year`` (default: the last simulated year): OLS slope of
    ``log(metric)`` on ``log(population)`` (the ``population`` series, real-equivalent persons)
    over the cities where both are positive and finite. NaN with fewer than two such cities
    or no variation in population. Unit: dimensionless (elasticity; 1 is linear scaling).
    """
    rows = _year_rows(result, year)
    if rows.empty:
        return math.nan
    x = rows["population"].to_numpy(np.float64)
    y = rows[metric].to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return math.nan
    lx, ly = np.log(x[ok]), np.log(y[ok])
    dx = lx - lx.mean()
    sxx = float((dx * dx).sum())
    if sxx <= 1e-12:
        return math.nan
    return float((dx * (ly - ly.mean())).sum() / sxx)
