"""innosim's core and its Mesa reference (benchmarks/mesa_reference) agree in distribution.

Setting: ``hangzhou-nanjing`` scaled to 3,000 person-agents, 10 years (1999-2008: firms of the
first five cohorts can be seen at age 5), 30 seeds per model. innosim runs with the non-core
mechanisms off (``disable=DISABLED``: policy, place, talent, careers, chains), the Mesa model
is the same core written one object per agent. The two draw from different random streams, so
runs are compared as ensembles, never seed by seed.

Outcomes of a run (``benchmarks.mesa_reference.compare.OUTCOMES``): entries, exits, living firms
at the end, unicorns (firms ever valued at ``unicorn_valuation`` or more), survival at 1 and 5
years (every cohort old enough to be seen at that age) and the funds' realised multiple
(proceeds / amounts of all realised investments).

Rule: for every outcome, |mean_mesa - mean_innosim| <= z * sqrt(se_mesa^2 + se_innosim^2),
the standard errors being each ensemble's sd / sqrt(n) and z = 3.19, the two-sided normal
quantile of a 99% interval Bonferroni-corrected over the 7 outcomes (family-wise 99%). Runs in
which an outcome is undefined (no realised investment) are left out of that outcome.

Two settings:

* the scenario as shipped. Without careers nobody is hired, so no firm grows to
  ``unicorn_valuation`` (2e4) or ``listing_valuation`` (8e3) in the core: both models must
  show zero unicorns, and the other outcomes are compared;
* the same with ``unicorn_valuation = 900`` and ``listing_valuation = 600`` in both models
  (about the top 5% and 10% of firm valuations at this scale), so that the unicorn, listing,
  founder-credit and dilution rules are compared too (about 10 unicorns per run).

The rule can fail: ``failure_cost`` raised by 10% (5.0 -> 5.5) in the Mesa run only is
detected (fewer entries and living firms). Seeds are fixed, so the outcome is deterministic.
The test is skipped when mesa is not installed (``pip install -e '.[bench]'``).
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

AGENTS = 3_000
YEARS = 10
N_SEEDS = 30
MESA_SEEDS = range(N_SEEDS)
INNOSIM_SEEDS = range(1000, 1000 + N_SEEDS)
LOW_THRESHOLDS = {"unicorn_valuation": 900.0, "listing_valuation": 600.0}


def _scenario(low_thresholds: bool, **mesa_only: float):
    sc = scaled_scenario("hangzhou-nanjing", AGENTS, YEARS)
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


def test_same_outcomes_as_shipped() -> None:
    mesa, inno = _mesa(False), _innosim(False)
    # the core alone hires nobody: no firm reaches unicorn valuation in either model
    assert mesa["unicorns"].sum() == 0 and inno["unicorns"].sum() == 0
    cmp = compare_ensembles(mesa, inno)
    report = format_comparison(cmp)
    print(report)
    assert mesa["entries"].mean() > 100 and np.isfinite(mesa["fund_x"]).sum() >= 2
    assert all(r["ok"] for r in cmp.values()), report


def test_same_outcomes_with_unicorns_and_listings() -> None:
    mesa, inno = _mesa(True), _innosim(True)
    assert mesa["unicorns"].mean() > 3 and inno["unicorns"].mean() > 3
    cmp = compare_ensembles(mesa, inno)
    report = format_comparison(cmp)
    print(report)
    assert all(r["ok"] for r in cmp.values()), report


def test_rule_detects_an_altered_parameter() -> None:
    altered = _mesa(True, failure_cost=5.5)
    cmp = compare_ensembles(altered, _innosim(True))
    report = format_comparison(cmp)
    print(report)
    failed = {k for k, r in cmp.items() if not r["ok"]}
    assert "entries" in failed, report
    assert set(failed) <= set(OUTCOMES)
