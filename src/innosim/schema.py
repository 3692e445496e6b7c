"""What a run produces, declared once: time step, flows, series, city-pair series, summary.

Every layer that reads or writes a run's outputs takes their names, units and aggregation from
here: the state's flow rows (``engine.state.Flows``), the compiled kernels' row numbers
(``engine.kernels.layout``), the accounting mechanism that writes each tick's row of every series,
the run loop that assembles ``RunResult.series`` and ``city_pairs``, the yearly aggregation, the
statistics, the reports and the API's summaries.
"""

from __future__ import annotations

TICKS_PER_YEAR = 4
"""A tick is one quarter: see docs/architecture.md ("Time: why a quarter")."""

ORIENTATIONS = ("To C", "To B", "To G")
"""Codes of a firm's orientation (0, 1, 2)."""
FOUNDER_HISTORY = ("first_time", "after_failure", "after_success")
"""Codes of a firm's ``founder_history``."""
DEATH_KINDS = ("alive", "failure", "closure", "acquired")
"""Codes of a firm's ``death_kind``."""
CODES: dict[str, list[str]] = {
    "orientation": list(ORIENTATIONS),
    "founder_history": list(FOUNDER_HISTORY),
    "death_kind": list(DEATH_KINDS),
}
"""The integer codes of the result tables, as recorded in a run's ``meta["codes"]``."""

FLOWS: tuple[tuple[str, bool], ...] = (
    ("people_in", True),
    ("people_out", True),
    ("graduates", False),
    ("moves_in", True),
    ("moves_out", True),
    ("graduate_moves_in", True),
    ("graduate_moves_out", True),
    ("entries", True),
    ("spinoffs", True),
    ("exits", True),
    ("failures", True),
    ("listings", True),
    ("successes", True),
    ("unsuccessful", True),
    ("restart_successes", True),
    ("restart_unsuccessful", True),
    ("perceivers", True),
    ("deterred", True),
    ("restart_candidates", True),
    ("restarts", True),
    ("vc_invested", False),
    ("vc_returned", False),
    ("lp_inflow", False),
    ("hires", False),
    ("separations", False),
)
"""The per-tick flows per city, in the row order of :attr:`Flows.array`, each with whether it is
recorded as it is, as the series of the same name (the others enter series through accounting's
arithmetic: ``graduates`` annualised and scaled to persons, ``vc_invested`` to 亿元, ...)."""
FLOW_NAMES: tuple[str, ...] = tuple(name for name, _ in FLOWS)
"""The flows' names, in row order."""
RECORDED_FLOWS: tuple[str, ...] = tuple(name for name, recorded in FLOWS if recorded)
"""Flows recorded as they are, each as the series of the same name."""

SERIES: tuple[tuple[str, str, str], ...] = (
    ("population", "persons", "residents in the talent pool (real-equivalent)"),
    ("agents", "rows", "people rows living in the city (a sample: each stands for its weight)"),
    ("graduates", "persons/yr", "university graduates (annualised, real-equivalent)"),
    ("people_in", "persons/tick", "entrants to the pool (graduates and others)"),
    ("people_out", "persons/tick", "people leaving the labour force"),
    ("moves_in", "persons/tick", "people moving into the city"),
    ("moves_out", "persons/tick", "people moving out of the city"),
    ("graduate_moves_in", "persons/tick", "fresh graduates taking their first job in the city"),
    (
        "graduate_moves_out",
        "persons/tick",
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
    ("spinoffs", "firms/tick", "firms founded by an employee of an innovative firm (spinoffs)"),
    ("exits", "firms/tick", "firms that left the registry (failure, closure or acquisition)"),
    ("failures", "firms/tick", "firms that ran out of cash"),
    ("listings", "firms/tick", "firms that listed or were sold"),
    (
        "successes",
        "firms/tick",
        "ventures that succeeded (listed or sold above the capital raised, or became unicorns)",
    ),
    (
        "unsuccessful",
        "firms/tick",
        "ventures that left the registry without succeeding (failed, closed, or sold at or "
        "below the capital raised)",
    ),
    ("restart_successes", "firms/tick", "successes of founders who had failed before"),
    (
        "restart_unsuccessful",
        "firms/tick",
        "ventures of founders who had failed before that left without succeeding",
    ),
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
    ("perceivers", "persons/tick", "people who perceived an opportunity"),
    ("deterred", "persons/tick", "perceivers deterred by the failure penalty"),
    ("restart_candidates", "persons/tick", "perceivers who had failed before"),
    ("restarts", "persons/tick", "failed founders who founded again"),
    (
        "failure_tolerance",
        "share",
        "the city's tolerance of failure as founders face it: the lever plus what the city "
        "learned from its ventures' outcomes (C8)",
    ),
    ("stigma", "utils", "the stigma a failed founder faces: the lever plus what was learned (C8)"),
    (
        "capital_in_reach",
        "1e4 CNY/person",
        "venture dry powder within reach of the city's founders, distance-weighted, per person "
        "(万元; C9)",
    ),
)

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

PAIR_SERIES: tuple[tuple[str, str], ...] = (
    ("movers", "persons per tick"),
    ("graduate_movers", "persons per tick"),
    ("procurement", "model CNY per tick"),
)
"""City-pair series recorded per tick as (origin city, destination city) matrices, with units:
people moving home between cities (all, and fresh graduates choosing their first job's
city; careers), and chain masters' procurement from suppliers (masters' city to suppliers'
city, model CNY per tick; chains). Assembled into ``RunResult.city_pairs``."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "city",
    "value_added",
    "firms",
    "entries",
    "exits",
    "unicorns",
    "chain_masters",
    "talent_net_inflow_rate",
    "graduates",
)
"""Columns of a per-city summary of one year (:meth:`innosim.RunResult.summary`)."""

SERIES_NAMES: tuple[str, ...] = tuple(name for name, _, _ in SERIES)
"""The series' names, in the row order of the per-tick record."""
UNITS: dict[str, str] = {name: unit for name, unit, _ in SERIES}
"""Unit of every series."""

__all__ = [
    "CODES",
    "DEATH_KINDS",
    "FLOWS",
    "FLOW_NAMES",
    "FLOW_SERIES",
    "FOUNDER_HISTORY",
    "ORIENTATIONS",
    "PAIR_SERIES",
    "RATE_SERIES",
    "RECORDED_FLOWS",
    "SERIES",
    "SERIES_NAMES",
    "SUMMARY_COLUMNS",
    "TICKS_PER_YEAR",
    "UNITS",
]
