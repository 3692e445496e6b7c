"""Every policy lever moves the model smoothly across its declared range (issue 16, point 9).

Each lever is set to five evenly spaced values from its lower to its upper bound, in every city
at once, on ``demo`` at 30% scale for 1999-2008 (two seeds). Between neighbouring grid points
the log of the total entries (plus one) and of the last year's value added may not jump by more
than a documented bound:

* levers in the founding penalty F (``failure_tolerance``, times ``failure_cost``;
  ``process_control``, ``private_support``, ``stigma``, ``restart_cost``, each with slope one):
  founding is a logit choice with scale s_q = sqrt(3)/pi (mechanisms/founding.py), so a step dF
  in the penalty changes a perceiver's odds of founding by at most exp(dF / s_q): the bound is
  dF / s_q plus 0.35 for the seeds' noise. With a normal opportunity value, lowering the
  tolerance from 0.25 to 0 cut entries 30-fold (a jump of 3.4 against a bound of 2.6 now);
* every other lever acts through markets, capital, infrastructure or people and must stay
  within a factor e^0.5 = 1.65 per quarter of its range (measured: at most 0.10).

Value added may change by at most a factor e^0.7 = 2 per quarter of a lever's range (the
procurement budget, money a city spends on its firms, moves it most: 0.52 from none to a
quarter of the range, then 0.35, 0.25, 0.17 — large, concave and smooth).
"""

from __future__ import annotations

import numpy as np
import pytest

import innosim
from innosim.mechanisms.founding import VALUE_SCALE
from innosim.params.declarations import BY_NAME, LEVERS

GRID = 5
SEEDS = (1, 2)
NOISE = 0.35
OTHER = 0.5
VALUE_ADDED = 0.7
PENALTY_SLOPE = {
    "process_control": 1.0,
    "private_support": 1.0,
    "stigma": 1.0,
    "restart_cost": 1.0,
}


def _scenario() -> innosim.Scenario:
    return innosim.load_scenario("demo").with_end_year(2008).with_scale(0.3)


def _bound(lever: str, step: float, sc: innosim.Scenario) -> float:
    if lever == "failure_tolerance":
        return step * sc.glob["failure_cost"] / VALUE_SCALE + NOISE
    if lever in PENALTY_SLOPE:
        return step * PENALTY_SLOPE[lever] / VALUE_SCALE + NOISE
    return OTHER


@pytest.mark.parametrize("lever", LEVERS)
def test_each_lever_moves_the_model_smoothly(lever):
    spec = BY_NAME[lever]
    base = _scenario()
    grid = np.linspace(spec.low, spec.high, GRID)
    entries, va = [], []
    for v in grid:
        sc = base
        for city in base.city_names:
            sc = sc.with_city_params(city, **{lever: float(v)})
        e, a = [], []
        for seed in SEEDS:
            y = innosim.run(sc, seed).yearly()
            e.append(y["entries"].sum())
            a.append(y[y["year"] == y["year"].max()]["value_added"].sum())
        entries.append(np.mean(e))
        va.append(np.mean(a))
    bound = _bound(lever, float(grid[1] - grid[0]), base)
    jump_e = np.abs(np.diff(np.log1p(entries)))
    jump_va = np.abs(np.diff(np.log(va)))
    assert jump_e.max() <= bound, (lever, grid, np.round(entries), bound)
    assert jump_va.max() <= VALUE_ADDED, (lever, grid, np.round(va), VALUE_ADDED)
