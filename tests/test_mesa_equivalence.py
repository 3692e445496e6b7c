"""innosim's core and its Mesa reference (benchmarks/mesa_reference) agree in distribution.

Setting: ``hangzhou-nanjing`` with every city's real people halved (``population`` and
``students_enrolled`` x 0.5: 27.6 million people at the start), sampled as 3,000 person rows
(about 9,200 people each), 10 years (1999-2008: firms of the first five cohorts can be seen at
age 5), 20 seeds per model. innosim runs with the non-core mechanisms off (``disable=DISABLED``:
policy, place, talent, careers, chains), the Mesa model is the same core written one object per
agent (one ``Person`` per person row with its ``weight``, one ``Firm`` per real firm). The two
draw from different random streams, so runs are compared as ensembles, never seed by seed.

Why this setting. Firms are real firms at any agent scale, so their number follows the real
people, not the rows: the scenario as shipped founds about 13,600 firms in 10 years, and the Mesa
model (about 20 us per living firm and tick) then needs about 4 s a run, two minutes an ensemble
of 30 and six for the three ensembles below. Fewer real people is a smaller system under the
same per-person rules (markets, venture capital and founding all scale with the people), so the
population is scaled, not the rules. Not below one half: investments need firms near their
wave's capability frontier (the best firm of the wave, which rises with the number of firms), so
a much smaller system funds almost no firm and leaves the funds' multiple undefined (at x 0.02,
about 270 firms, no run of either model realised an investment); at x 0.5 every run realises
some (about 7, from failures and acquisitions). 20 seeds keep a Mesa ensemble under a minute.

Outcomes of a run (``benchmarks.mesa_reference.compare.OUTCOMES``): entries, exits, living firms
at the end, unicorns (firms ever valued at ``unicorn_valuation`` or more), survival at 1 and 5
years (every cohort old enough to be seen at that age) and the funds' realised multiple
(proceeds / amounts of all realised investments).

Rule: for every outcome, |mean_mesa - mean_innosim| <= z * sqrt(se_mesa^2 + se_innosim^2),
the standard errors being each ensemble's sd / sqrt(n) and z = 3.19, the two-sided normal
quantile of a 99% interval Bonferroni-corrected over the 7 outcomes (family-wise 99%). Runs in
which an outcome is undefined (no realised investment) are left out of that outcome.

Two settings:

* the scenario's parameters as shipped. Without careers nobody is hired, so every firm is its
  founder alone (a headcount of one): revenue is capped at 22.5 (万元) a quarter and no firm comes
  near ``unicorn_valuation`` (7.2e5, US$1bn) or ``listing_valuation`` (1e5): both models must show
  zero unicorns, and the other outcomes are compared;
* the same with ``unicorn_valuation = 1200`` and ``listing_valuation = 950`` in both models, so
  that the unicorn and founder-credit rules (and with them the serial founders' premium) are
  compared too; listings stay rare (about one run in two lists a firm). They are the
  top 5% and 10% of firm valuations in this setting, measured: the 95th and 90th percentiles of
  every firm's highest valuation (checked each tick) in 3 Mesa runs (about 20,000 firms) were
  1,190 and 953. That gives about 330 unicorns per run, not the 10 of the old per-agent setting:
  valuations of one-person firms stop at about 1,800 (the revenue cap times the multiple and the
  largest growth premium), so 10 unicorns among some 6,800 firms would put the threshold on that
  cap.

The rule can fail: ``failure_cost`` raised by 10% (5.0 -> 5.5) in the Mesa run only is
detected (fewer entries). Seeds are fixed, so the outcome is deterministic. The test is skipped
when mesa is not installed (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mesa")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.mesa_reference.compare import (  # noqa: E402
    OUTCOMES,
    compare_ensembles,
    ensemble,
    format_comparison,
    innosim_outcomes,
    mesa_outcomes,
    scaled_scenario,
)

POPULATION = 0.5  # every city's real people (population, students enrolled) halved
AGENTS = 3_000
YEARS = 10
N_SEEDS = 20
MESA_SEEDS = range(N_SEEDS)
INNOSIM_SEEDS = range(1000, 1000 + N_SEEDS)
LOW_THRESHOLDS = {"unicorn_valuation": 1200.0, "listing_valuation": 950.0}


def _scenario(low_thresholds: bool, **mesa_only: float):
    sc = scaled_scenario("hangzhou-nanjing", AGENTS, YEARS, population=POPULATION)
    if low_thresholds:
        sc = sc.with_global_params(**LOW_THRESHOLDS)
    if mesa_only:
        sc = sc.with_global_params(**mesa_only)
    return sc


@cache
def _mesa(low_thresholds: bool, **mesa_only: float) -> dict[str, np.ndarray]:
    return ensemble(mesa_outcomes, _scenario(low_thresholds, **mesa_only), MESA_SEEDS)


@cache
def _innosim(low_thresholds: bool) -> dict[str, np.ndarray]:
    return ensemble(innosim_outcomes, _scenario(low_thresholds), INNOSIM_SEEDS)


@pytest.mark.slow
def test_same_outcomes_as_shipped() -> None:
    mesa, inno = _mesa(False), _innosim(False)
    # the core alone hires nobody: no firm reaches unicorn valuation in either model
    assert mesa["unicorns"].sum() == 0 and inno["unicorns"].sum() == 0
    cmp = compare_ensembles(mesa, inno)
    report = format_comparison(cmp)
    print(report)
    assert mesa["entries"].mean() > 1000
    assert np.isfinite(mesa["fund_x"]).sum() >= N_SEEDS // 2, report
    assert np.isfinite(inno["fund_x"]).sum() >= N_SEEDS // 2, report
    assert all(r["ok"] for r in cmp.values()), report


@pytest.mark.slow
def test_same_outcomes_with_unicorns_and_listings() -> None:
    mesa, inno = _mesa(True), _innosim(True)
    assert mesa["unicorns"].mean() > 50 and inno["unicorns"].mean() > 50
    cmp = compare_ensembles(mesa, inno)
    report = format_comparison(cmp)
    print(report)
    assert all(r["ok"] for r in cmp.values()), report


@pytest.mark.slow
def test_rule_detects_an_altered_parameter() -> None:
    altered = _mesa(True, failure_cost=5.5)
    cmp = compare_ensembles(altered, _innosim(True))
    report = format_comparison(cmp)
    print(report)
    failed = {k for k, r in cmp.items() if not r["ok"]}
    assert "entries" in failed, report
    assert set(failed) <= set(OUTCOMES)
