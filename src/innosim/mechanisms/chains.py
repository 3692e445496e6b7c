"""Chain masters, suppliers in any city, branch R&D and value capture (claims C4, C11, C2).

Rule. A To C or To B firm that is among the ``chain_masters_per_wave`` largest firms of its wave
by revenue, holds at least ``chain_master_share`` of the wave's market and employs at least
``chain_master_min_size`` is a *chain master* (链主). A chain
master spends a share ``rho = procurement_share`` of its revenue on inputs from To B suppliers in
any city. Procurement from masters headquartered in city c reaches supplier city j in proportion
to

    G_{cj} = exp(-d_{cj} / L_s) * W_j,   W_j = sum_{i in j} a_i (1 + L_i / L_0) * A^{sc}_j,

(``L_s = supply_reach_km``; ``L_0 = size_reference``; ``A^{sc}`` the city's access to supply chains,
so supply-chain hubs draw orders, C2) and is split among the city's suppliers by their weights.
Suppliers earn the thin ``supplier_margin`` on it (growth mechanism), while the master keeps the
rest of the value: the lead firm captures most of the value of the chain (Linden, Kraemer and
Dedrick's iPad table; C4: a city of chain members "whose fate is decided by others").

Branch R&D. A chain master opens a branch in the city with the highest graduate density
(graduates per person per year), discounted by distance ``exp(-d/1000 km)``, other than its
headquarters; a share ``branch_share`` of its hiring goes there (C4: Xiaomi, Honor and OPPO R&D
branches in a university city). Wages paid at the branch count in the branch city's value added;
profits in the headquarters city's (C11).

References: Linden, Kraemer, Dedrick (2009/2012); Gereffi, Humphrey, Sturgeon (2005) on
governance of value chains; claims C4, C11.
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import TOB, TOG, ModelParams, State
from innosim.mechanisms.sampling import rank_within

NAME = "chains"


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, f, cs = params.g, state.firms, state.city
    n_c = params.n_cities
    if f.n == 0:
        return
    wave = f.wave.astype(np.int64)
    o = f.orientation.astype(np.int64)
    wave_total = np.maximum(state.market[wave], 1e-12)
    share = np.where(o == TOG, 0.0, f.revenue / wave_total)
    order = np.lexsort((-f.revenue, wave))  # by wave, largest revenue first
    rank = np.empty(f.n, dtype=np.int64)
    rank[order] = rank_within(wave[order])
    master = (
        (rank < g.chain_masters_per_wave)
        & (share >= g.chain_master_share)
        & (f.employment >= g.chain_master_min_size)
    )
    f.chain_master[:] = master
    out = np.where(master, g.procurement_share * f.revenue, 0.0)

    # suppliers ---------------------------------------------------------------------------
    supplier = (o == TOB) & ~master
    city = f.city.astype(np.int64)
    rel_sc = cs.access[:, 2] / max(float(cs.access[:, 2].mean()), 1e-12)
    size = 1.0 + f.employment / g.size_reference
    w = np.where(supplier, f.capability * size * rel_sc[city], 0.0)
    W = np.bincount(city, weights=w, minlength=n_c)
    P = np.bincount(city, weights=out, minlength=n_c)
    G = np.exp(-params.dist_km / g.supply_reach_km) * W[None, :]
    rowsum = G.sum(axis=1, keepdims=True)
    flow = np.where(rowsum > 0, P[:, None] * G / np.where(rowsum > 0, rowsum, 1.0), 0.0)
    into = flow.sum(axis=0)  # procurement received per supplier city
    f.procurement_in[:] = np.where(W[city] > 0, into[city] * w / np.maximum(W[city], 1e-300), 0.0)
    # masters pay only for what suppliers can deliver
    served = np.where(rowsum[:, 0] > 0, 1.0, 0.0)
    f.procurement_out[:] = out * served[city]
    state.pairs["procurement"] += flow  # masters' city (row) -> suppliers' city (column)

    # branch R&D --------------------------------------------------------------------------
    f.branch[~master] = -1
    new = master & (f.branch < 0)
    if new.any():
        dens = cs.graduate_rate[None, :] * np.exp(-params.dist_km / 1000.0)
        np.fill_diagonal(dens, -1.0)
        best = dens.argmax(axis=1)
        ok = dens.max(axis=1) > 0
        f.branch[new] = np.where(ok[city[new]], best[city[new]], -1).astype(np.int8)
