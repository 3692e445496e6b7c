"""Counts do not depend on the agent scale (issue 16, point 1).

Firms are real firms and people rows a weighted sample of the population, so a run with one row
per 250 people and a run with one row per person describe the same system: per city, the numbers
of firms, entries, exits and failures, the firms' headcount and the innovative value added must
agree within their seed intervals. The setting is small enough to run at one row per person: the
``demo`` cities shrunk to 1/40 of their people (33,000 to 525,000 people each at the start) and
1999-2010, so that together they still found hundreds of firms a year.

Rule: for every city and outcome, |mean_a - mean_b| <= z * sqrt(se_a^2 + se_b^2) with the
standard errors of 12 seeds per scale (for counts of firms at least the Poisson ones: a city
with one or two failures a run has too few distinct values for the sample variance) and z = 3.5 (a two-sided 99.95% interval: about 0.05% of
true agreements fail, over the 5 cities x 6 outcomes tested here about 1.5%). The check can
fail: the same comparison between a run and one with ``opportunity_rate`` 25% higher detects
the difference.
"""

from __future__ import annotations

import numpy as np
import pytest

import innosim

SHRINK = 40
SEEDS = range(12)
Z = 3.5
OUTCOMES = ("firms", "entries", "exits", "failures", "employment", "innovation_value_added")


def _small(persons_per_agent: float, **glob: float) -> innosim.Scenario:
    sc = innosim.load_scenario("demo").with_end_year(2010)
    for city in sc.city_names:
        i = sc.city_index(city)
        sc = sc.with_city_params(
            city,
            population=float(sc.city["population"][i]) / SHRINK,
            students_enrolled=float(sc.city["students_enrolled"][i]) / SHRINK,
        )
    if glob:
        sc = sc.with_global_params(**glob)
    return sc.with_scale(sc.persons_per_agent / persons_per_agent)


def _outcomes(sc: innosim.Scenario) -> dict[str, np.ndarray]:
    """(seeds, cities) arrays: stocks at the end of the last year, flows summed over the run."""
    out: dict[str, list] = {k: [] for k in OUTCOMES}
    for seed in SEEDS:
        y = innosim.run(sc, seed).yearly()
        last = y[y.year == y.year.max()].set_index("city").loc[list(sc.city_names)]
        total = y.groupby("city").sum(numeric_only=True).loc[list(sc.city_names)]
        for k in OUTCOMES:
            src = last if k in ("firms", "employment", "innovation_value_added") else total
            out[k].append(src[k].to_numpy(dtype=float))
    return {k: np.array(v) for k, v in out.items()}


COUNTS = ("firms", "entries", "exits", "failures")
"""Outcomes that are counts of firms: their standard error is at least the Poisson one."""


def _disagree(a: dict, b: dict) -> list[str]:
    bad = []
    n = len(SEEDS)
    for k in OUTCOMES:
        ma, mb = a[k].mean(axis=0), b[k].mean(axis=0)
        se = np.sqrt(a[k].var(axis=0, ddof=1) / n + b[k].var(axis=0, ddof=1) / n)
        if k in COUNTS:  # a dozen counts of one or two: the sample variance can be far too low
            se = np.maximum(se, np.sqrt((ma + mb) / n))
        for c in np.flatnonzero(np.abs(ma - mb) > Z * np.maximum(se, 1e-9)):
            bad.append(f"{k}[{c}]: {ma[c]:.1f} vs {mb[c]:.1f} (se {se[c]:.2f})")
    return bad


@pytest.fixture(scope="module")
def coarse() -> dict[str, np.ndarray]:
    return _outcomes(_small(250.0))


def test_one_row_per_person_and_per_250_people_agree(coarse) -> None:
    fine = _outcomes(_small(1.0))
    assert coarse["entries"].sum(axis=1).mean() > 100  # dozens of firms a year: a real test
    assert (coarse["firms"] > 0).all()
    bad = _disagree(coarse, fine)
    assert not bad, "; ".join(bad)


def test_the_check_detects_a_changed_entry_rate(coarse) -> None:
    sc = _small(
        250.0, opportunity_rate=1.25 * innosim.load_scenario("demo").glob["opportunity_rate"]
    )
    bad = _disagree(coarse, _outcomes(sc))
    assert any(b.startswith("entries") for b in bad), bad


def test_rows_are_a_sample_and_founders_are_single_people() -> None:
    sc = _small(250.0)
    r = innosim.run(sc, 1, check=True)  # conservation of people, links and headcounts each tick
    y = r.yearly()
    first = y[y.year == y.year.min()].set_index("city")
    # the rows stand for the real population, whatever their number
    people0 = sc.city["population"] * sc.glob["initial_population_share"]
    np.testing.assert_allclose(
        first["population"].loc[list(sc.city_names)].to_numpy(), people0, rtol=0.05
    )
    assert (first["agents"] < first["population"] / 100).all()
