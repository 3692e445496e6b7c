"""Outcome accounting per city and tick (claims C11, C12).

Rule. *Value added* of city c per tick is its background economy plus the value added of
innovative firms, split by where it arises:

    VA_c = (N_c - E_c) y_c / 4 + sum_{people in c at firms} w_i + sum_{firms HQ in c} (R - P - W),

with N_c the pool, E_c people working in innovative firms, y_c background productivity, w_i the
wage cost of each employee (paid where they work: branch R&D wages count in the branch city),
and revenue R minus purchases from suppliers P minus wages W (operating surplus) in the
headquarters city: the lead firm's home captures the profit (C4, C11). Background productivity
grows at ``productivity_growth`` plus ``spillover_elasticity`` times the city's innovative share of
value added above the system's average (local spillovers, Jaffe et al. 1993): a city's
development lifts the income of most of its residents (C11).

Reported series (``SERIES``) are per city and tick. People-based quantities are scaled to
real-equivalent persons and 亿元 with ``persons_per_agent``; firm counts (firms, entries, exits,
unicorns, chain masters) are counts in the simulated replica, to be compared as ratios.
Growth volatility (C12) is computed from the yearly value-added series after the run.

References: claims C11, C12; Jaffe, Trajtenberg, Henderson (1993); Bettencourt et al. (2007).
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import TOC, ModelParams, State
from innosim.mechanisms._util import TPY, count_codes

NAME = "accounting"

SERIES: tuple[tuple[str, str, str], ...] = (
    ("population", "persons", "residents in the talent pool (real-equivalent)"),
    ("agents", "agents", "person-agents living in the city"),
    ("graduates", "persons/yr", "university graduates (annualised, real-equivalent)"),
    ("people_in", "agents/tick", "entrants to the pool (graduates and others)"),
    ("people_out", "agents/tick", "people leaving the labour force"),
    ("moves_in", "agents/tick", "people moving into the city"),
    ("moves_out", "agents/tick", "people moving out of the city"),
    ("graduate_moves_in", "agents/tick", "fresh graduates taking their first job in the city"),
    (
        "graduate_moves_out",
        "agents/tick",
        "fresh graduates of the city taking their first job elsewhere",
    ),
    (
        "talent_net_inflow_rate",
        "1/yr",
        "net moves of people already in the labour force (fresh graduates' first-job moves "
        "excluded, as in the Zhaopin ranking) / pool, annualised",
    ),
    (
        "graduate_net_inflow_rate",
        "1/yr",
        "fresh graduates' first-job net moves / the city's graduates (negative: it exports "
        "graduates, C5)",
    ),
    ("firms", "firms", "living innovative firms headquartered in the city"),
    ("entries", "firms/tick", "firms founded"),
    ("exits", "firms/tick", "firms that left the registry (failure, closure or acquisition)"),
    ("failures", "firms/tick", "firms that ran out of cash"),
    ("listings", "firms/tick", "firms that listed or were sold"),
    ("employment", "persons", "people working in innovative firms in the city (real-equivalent)"),
    ("unicorns", "firms", "living firms valued at or above unicorn_valuation"),
    ("unicorns_toc", "firms", "unicorns that are To C"),
    ("chain_masters", "firms", "chain masters headquartered in the city"),
    ("chain_masters_toc", "firms", "chain masters that are To C"),
    ("share_toc", "share", "share of living firms that are To C"),
    ("share_tob", "share", "share of living firms that are To B"),
    ("share_tog", "share", "share of living firms that are To G"),
    ("value_added", "1e8 CNY/yr", "value added, annualised, real-equivalent (亿元)"),
    ("innovation_value_added", "1e8 CNY/yr", "value added of innovative firms (亿元)"),
    ("value_added_per_capita", "1e4 CNY/yr", "value added per person of the pool (万元)"),
    ("income_per_capita", "1e4 CNY/yr", "labour income per person of the pool (万元)"),
    ("productivity", "1e4 CNY/yr", "background value added per person (万元)"),
    (
        "vc_invested",
        "1e8 CNY/yr",
        "venture capital invested in the city's firms (亿元, annualised)",
    ),
    ("vc_returned", "1e8 CNY/yr", "proceeds returned to the city's funds (亿元, annualised)"),
    ("fund_capital", "1e8 CNY", "dry powder of the city's funds (亿元)"),
    ("risk_appetite", "share", "mean risk appetite of the city's funds"),
    ("perceivers", "agents/tick", "people who perceived an opportunity"),
    ("deterred", "agents/tick", "perceivers deterred by the failure penalty"),
    ("restart_candidates", "agents/tick", "perceivers who had failed before"),
    ("restarts", "agents/tick", "failed founders who founded again"),
)

RECORDED_FLOWS: tuple[str, ...] = (
    "people_in",
    "people_out",
    "moves_in",
    "moves_out",
    "graduate_moves_in",
    "graduate_moves_out",
    "entries",
    "exits",
    "failures",
    "listings",
    "perceivers",
    "deterred",
    "restart_candidates",
    "restarts",
)
"""Flows (``state.flows``) recorded as they are, each as the series of the same name."""
FLOW_SERIES = frozenset(RECORDED_FLOWS)
"""Per-tick flows: a year's value is the sum over its ticks."""
RATE_SERIES = frozenset(
    {
        "talent_net_inflow_rate",
        "graduate_net_inflow_rate",
        "graduates",
        "value_added",
        "innovation_value_added",
        "value_added_per_capita",
        "income_per_capita",
        "vc_invested",
        "vc_returned",
    }
)
"""Annualised rates: a year's value is the mean over its ticks. Other series are stocks: a
year's value is the last tick's."""

LABOUR_SHARE = 0.5  # share of background value added paid as labour income (China ~0.5, NBS)


def step(state: State, params: ModelParams, rng: np.random.Generator) -> None:
    g, p, f, cs, fl, rec = (
        params.g,
        state.people,
        state.firms,
        state.city,
        state.flows,
        state.record,
    )
    n_c, ppa = params.n_cities, params.persons_per_agent
    pool = count_codes(p.city, n_c).astype(np.float64)
    cs.pool[:] = pool
    safe_pool = np.maximum(pool, 1.0)
    innov = count_codes(p.city, n_c, p.employer >= 0).astype(np.float64)

    # value added --------------------------------------------------------------------------
    bg = (pool - innov) * cs.productivity / TPY
    if f.n:
        linked = np.flatnonzero(p.employer >= 0)
        where = p.city[linked].astype(np.int64)
        per_head = f.wages / np.maximum(f.employment, 1)
        wages_here = np.bincount(where, weights=per_head[p.employer[linked]], minlength=n_c)
        surplus = f.revenue - f.procurement_out - f.wages
        hq = f.city.astype(np.int64)
        surplus_here = np.bincount(hq, weights=surplus, minlength=n_c)
    else:
        wages_here = surplus_here = np.zeros(n_c)
    innov_va = wages_here + surplus_here
    va = bg + innov_va
    share = np.clip(innov_va / np.where(va > 0, va, 1.0), 0.0, 1.0)
    cs.innovation_share[:] = share
    mean_share = float(np.average(share, weights=safe_pool))
    cs.productivity *= np.exp(
        (g.productivity_growth + g.spillover_elasticity * (share - mean_share)) / TPY
    )
    cs.graduate_rate[:] = 0.9 * cs.graduate_rate + 0.1 * fl.graduates * TPY / safe_pool

    yuan = TPY * ppa / 1e4  # model CNY per tick -> 亿元 per year, real-equivalent
    rec["population"][:] = pool * ppa
    rec["agents"][:] = pool
    rec["graduates"][:] = fl.graduates * TPY * ppa
    for k in RECORDED_FLOWS:
        rec[k][:] = getattr(fl, k)
    net = (fl.moves_in - fl.graduate_moves_in) - (fl.moves_out - fl.graduate_moves_out)
    rec["talent_net_inflow_rate"][:] = net * TPY / safe_pool
    rec["graduate_net_inflow_rate"][:] = np.where(
        fl.graduates > 0,
        (fl.graduate_moves_in - fl.graduate_moves_out) / np.maximum(fl.graduates, 1),
        0.0,
    )
    rec["employment"][:] = innov * ppa
    rec["value_added"][:] = va * yuan
    rec["innovation_value_added"][:] = innov_va * yuan
    rec["value_added_per_capita"][:] = va * TPY / safe_pool
    rec["income_per_capita"][:] = (LABOUR_SHARE * bg + wages_here) * TPY / safe_pool
    rec["productivity"][:] = cs.productivity
    rec["vc_invested"][:] = fl.vc_invested * yuan
    rec["vc_returned"][:] = fl.vc_returned * yuan
    fu = state.funds
    fcity = fu.city.astype(np.int64)
    rec["fund_capital"][:] = np.bincount(fcity, weights=fu.capital, minlength=n_c) * ppa / 1e4
    nf = np.bincount(fcity, minlength=n_c)
    rec["risk_appetite"][:] = np.bincount(fcity, weights=fu.appetite, minlength=n_c) / np.maximum(
        nf, 1
    )

    # firms ---------------------------------------------------------------------------------
    if f.n:
        hq = f.city.astype(np.int64)
        o = f.orientation
        firms = np.bincount(hq, minlength=n_c).astype(np.float64)
        uni = f.valuation >= g.unicorn_valuation
        rec["firms"][:] = firms
        rec["unicorns"][:] = np.bincount(hq[uni], minlength=n_c)
        rec["unicorns_toc"][:] = np.bincount(hq[uni & (o == TOC)], minlength=n_c)
        cm = f.chain_master
        rec["chain_masters"][:] = np.bincount(hq[cm], minlength=n_c)
        rec["chain_masters_toc"][:] = np.bincount(hq[cm & (o == TOC)], minlength=n_c)
        safe_f = np.maximum(firms, 1.0)
        for k, code in (("share_toc", 0), ("share_tob", 1), ("share_tog", 2)):
            rec[k][:] = np.bincount(hq[o == code], minlength=n_c) / safe_f
    else:
        for k in (
            "firms",
            "unicorns",
            "unicorns_toc",
            "chain_masters",
            "chain_masters_toc",
            "share_toc",
            "share_tob",
            "share_tog",
        ):
            rec[k][:] = 0.0
