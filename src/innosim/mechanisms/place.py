"""Place: infrastructure stocks and hub links (claims C1, C2).

Rule. Each city holds stocks of four inputs that waves may require — compute, chips, supply
chain and labs — starting from the scenario's endowments ``K0``. Public investment (the policy
levers ``compute_investment`` and ``lab_investment``) accumulates in ``I`` and depreciates:

    I_{c,k}(t+1) = I_{c,k}(t) (1 - delta/4) + invest_{c,k}(t)/4,      K = K0 + I.

A city's *access* to an input includes what its links reach (C2: a robot maker's R&D centre
placed to reach a chip hub and a supply-chain hub):

    A_{c,k} = K_{c,k} + h_c * sum_{j != c} exp(-d_{cj} / L) K_{j,k},

with hub-link strength ``h_c`` and distance scale ``L = link_reach_km``. The local cost
advantage of city c in wave w (C1: compute -> algorithms -> deployment) is

    fit_{c,w} = exp( e * sum_k r_{w,k} * log(A_{c,k} / mean_c A_{.,k}) ),

with ``e = requirement_elasticity`` and ``r_{w,k}`` the wave's requirement exponents: 1 for a
city of average access or for a wave that requires nothing. Founding (which wave to enter) and
growth (productivity in a wave) read ``fit``.

References: Bettencourt et al. (2007); Ahrend et al. (2017) on agglomeration; the article's C1
triangle compute -> algorithm R&D -> deployment and C2 hub effect.
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import ModelParams, State

NAME = "place"


def endowment(params: ModelParams) -> np.ndarray:
    """Starting stocks (n_cities, 4) in the order of ``REQUIREMENTS``."""
    c = params.c
    return np.stack([c.compute, c.chips, c.supply_chain, c.labs], axis=1)


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, lv, cs = params.g, state.levers, state.city
    invest = np.zeros_like(cs.infra_invested)
    invest[:, 0] = lv.compute_investment
    invest[:, 3] = lv.lab_investment
    cs.infra_invested *= 1.0 - g.infrastructure_depreciation / 4
    cs.infra_invested += invest / 4
    stock = endowment(params) + cs.infra_invested
    link = np.exp(-params.dist_km / g.link_reach_km)
    np.fill_diagonal(link, 0.0)
    cs.access[:] = stock + params.c.hub_link[:, None] * (link @ stock)
    rel = cs.access / np.maximum(cs.access.mean(axis=0, keepdims=True), 1e-9)
    logrel = np.log(np.maximum(rel, 1e-6))  # (n_cities, 4)
    cs.fit[:] = np.exp(g.requirement_elasticity * logrel @ params.wave_req.T)
