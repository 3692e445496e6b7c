"""The local climate for founders: what they see, and the culture it teaches (claims C8, C9).

Rule. Would-be founders judge their city by what happened around them (Giannetti and Simonov
2009; Nanda and Sorensen 2010) and by whether money is at hand (Samila and Sorenson 2011). After
every tick each city updates what it remembers, discounted with the half-life
``peer_memory_years`` (``k = 0.5^(1 / (4 H))`` per tick):

    S_c <- k S_c + successes_c,            F_c <- k F_c + unsuccessful_c,
    R+_c <- k R+_c + restart_successes_c,  R-_c <- k R-_c + restart_unsuccessful_c,

(a success: a venture listed or sold above what it raised, or became a unicorn; unsuccessful: it
left the registry without one, failed, closed or sold cheaply; R+ and R-: the same for founders
who had failed before). Against the nation's
success share ``s = sum S / sum (S + F)`` the city believes its ventures' odds are

    s_c = (S_c + n0 s) / (S_c + F_c + n0),    r_c = (R+_c + n0 s) / (R+_c + R-_c + n0)

(a Beta prior of strength ``n0 = peer_prior_strength`` at the national share: a city's own
record counts once it has seen a few dozen outcomes). What it learned moves its culture,

    dT_c += (kappa ln(s_c / s) - nu dT_c) / 4,
    dG_c += (-kappa ln(r_c / s) - nu dG_c) / 4,

with ``kappa = culture_learning_rate`` and ``nu = culture_anchor_rate`` (per year), each shift
kept within ``[-culture_range, culture_range]``: a city whose
ventures succeed more often than the nation's grows more tolerant of failure, one whose failed
founders come back and succeed stigmatises failure less (Landier 2005: stigma is an equilibrium
that follows who fails and tries again), and both fade back to the institutions at rate ``nu``.
Founders face

    failure_tolerance_c + dT_c  (clipped to [0, 1]),   stigma_c + dG_c  (clipped to [0, 10]),

where the levers are what the scenario and its policies set: the run moves the culture from the
starting values a scenario gives (C8: "failure is the organic nutrient of the innovation soil").
In a scenario of one city the nation is that city, and nothing is learned.

The venture dry powder within reach of a city's founders, per person, is a two-step floating
catchment (Luo and Wang 2003): each fund's capital is shared by the people within its reach,
and a city sums the shares of the funds within its own,

    K_c = sum_j w_cj capital_j / sum_c' w_c'j pool_c',   w = exp(-distance / fund_reach_km),

(Sorenson and Stuart 2001: deals decay with distance). Founders perceive opportunities at a rate
times ``(K_c / K)^eps_K``, ``K`` the nation's capital per person and ``eps_K =
capital_entry_elasticity`` (founding mechanism; Samila and Sorenson 2011, whose estimates with
year effects are relative to the nation). With finance (funds' appetite and commitments follow
their realised returns, Kaplan and Schoar 2005) this closes C9's loop at the city level: failures
make capital cautious and founders fearful, and few bets mean few successes; an early success
does the opposite, and two cities that start alike can diverge.

References: Landier (2005); Giannetti and Simonov (2009); Nanda and Sorensen (2010); Samila and
Sorenson (2011); Sorenson and Stuart (2001); Kaplan and Schoar (2005); Luo and Wang (2003).

Implementation. NumPy over per-city arrays (``state.city.climate``, rows ``CLIMATE``), after
accounting, from the tick's flows. Accounting records what founders faced in the tick (the
tolerance and stigma of :func:`culture`, the capital in reach), also when this mechanism is
off. Founding reads the shifts through :func:`culture` and the
capital index ``climate[CL.capital_index]`` on the next tick. Without this mechanism (the core
model) the shifts stay zero and the index one: founding is as before.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import CL, LV
from innosim.engine.state import ModelParams, State
from innosim.params.declarations import BY_NAME
from innosim.schema import TICKS_PER_YEAR

NAME = "climate"

TOLERANCE_BOUNDS = (BY_NAME["failure_tolerance"].low, BY_NAME["failure_tolerance"].high)
STIGMA_BOUNDS = (BY_NAME["stigma"].low, BY_NAME["stigma"].high)

_REMEMBERED = (
    (CL.successes, "successes"),
    (CL.unsuccessful, "unsuccessful"),
    (CL.restart_successes, "restart_successes"),
    (CL.restart_unsuccessful, "restart_unsuccessful"),
)


@njit(cache=True)
def culture(levers, climate, out):
    """Write into ``out[0]`` and ``out[1]`` (one entry per city) the failure tolerance and the
    stigma that founders face: the levers plus what the city learned, within the levers'
    bounds (the one place the two are combined)."""
    for c in range(out.shape[1]):
        tol = levers[LV.failure_tolerance, c] + climate[CL.tolerance_shift, c]
        sti = levers[LV.stigma, c] + climate[CL.stigma_shift, c]
        out[0, c] = min(max(tol, TOLERANCE_BOUNDS[0]), TOLERANCE_BOUNDS[1])
        out[1, c] = min(max(sti, STIGMA_BOUNDS[0]), STIGMA_BOUNDS[1])


def fund_reach(params: ModelParams) -> np.ndarray:
    """``exp(-distance / fund_reach_km)``, cities by cities: how much of a fund's deal flow a
    firm in another city is (finance draws the fund a firm pitches with it; Sorenson and
    Stuart 2001)."""
    return np.exp(-params.dist_km / params.g.fund_reach_km).astype(np.float64)


def capital_in_reach(state: State, params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """(K_c, K_c / K): the capital of the funds within reach of each city per person, a two-step
    floating catchment (万元 per person), and its ratio to the nation's capital per person (ones
    when there is none). A fund's capital is what limited partners committed to it (its
    starting capital and every commitment since: the fund family's size, which follows its
    performance), not its dry powder of the moment."""
    fu, pool = state.funds, np.maximum(state.city.pool, 1.0)
    n_c = params.n_cities
    size = np.maximum(fu.base_capital + fu.committed, 0.0)
    powder = np.bincount(fu.city.astype(np.int64), weights=size, minlength=n_c)
    reach = fund_reach(params)  # symmetric, ones on the diagonal
    per_person = powder / (reach @ pool)  # each city's funds, shared by the people in reach
    k = reach @ per_person
    nation = powder.sum() / pool.sum()
    return k, (k / nation if nation > 0 else np.ones(n_c))


def beliefs(
    climate: np.ndarray, pool: np.ndarray, prior_strength: float
) -> tuple[np.ndarray, np.ndarray]:
    """(ln(m_c), ln(r_c / s)): how many more successes than the nation's rate would give a
    city has seen (a shrunk standardised ratio), and how much better than the nation's ventures
    its failed founders' next ventures do (zeros until the nation has seen a success and a
    venture end without one)."""
    succ, fail = climate[CL.successes], climate[CL.unsuccessful]
    n_c = climate.shape[1]
    if succ.sum() <= 0.0 or fail.sum() <= 0.0:
        return np.zeros(n_c), np.zeros(n_c)
    n0 = prior_strength
    expected = pool * succ.sum() / max(pool.sum(), 1.0)
    seen = np.log(np.maximum(succ + n0, 1e-12) / np.maximum(expected + n0, 1e-12))
    s = succ.sum() / (succ.sum() + fail.sum())
    won, lost = climate[CL.restart_successes], climate[CL.restart_unsuccessful]
    told = won + lost + n0
    restart = np.where(told > 0, (won + n0 * s) / np.maximum(told, 1e-300), s)
    return (
        np.clip(seen, -3.0, 3.0),
        np.clip(np.log(np.maximum(restart, 1e-12) / s), -3.0, 3.0),
    )


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, cl, fl = params.g, state.city.climate, state.flows
    keep = 0.5 ** (1.0 / (TICKS_PER_YEAR * g.peer_memory_years))
    for row, flow in _REMEMBERED:  # the four remembered outcomes
        cl[row] = keep * cl[row] + getattr(fl, flow)
    e, e_restart = beliefs(cl, state.city.pool, g.peer_prior_strength)
    kappa, nu = g.culture_learning_rate, g.culture_anchor_rate
    dt = 1.0 / TICKS_PER_YEAR
    cl[CL.tolerance_shift] += dt * (kappa * e - nu * cl[CL.tolerance_shift])
    cl[CL.stigma_shift] += dt * (-kappa * e_restart - nu * cl[CL.stigma_shift])
    bound = g.culture_range  # what a culture can learn, either way
    np.clip(cl[CL.tolerance_shift], -bound, bound, out=cl[CL.tolerance_shift])
    np.clip(cl[CL.stigma_shift], -bound, bound, out=cl[CL.stigma_shift])
    cl[CL.capital], cl[CL.capital_index] = capital_in_reach(state, params)


def initial(state: State, params: ModelParams) -> np.ndarray:
    """The climate at the start: nothing seen or learned yet, the capital in reach of the
    starting funds (an index of one everywhere when the mechanism is off, so that founding is
    then as without it)."""
    cl = np.zeros((len(CL), params.n_cities))
    cl[CL.capital], cl[CL.capital_index] = capital_in_reach(state, params)
    if NAME in params.disabled:
        cl[CL.capital_index] = 1.0
    return cl


__all__ = ["beliefs", "capital_in_reach", "culture", "fund_reach", "initial", "step"]
