"""Model state as structure-of-arrays, and the compiled parameters the mechanisms read.

Entities and their columns (row = one agent; links are integer row indices, ``-1`` = none):

``people`` (a row stands for ``weight`` real people: about ``persons_per_agent`` for the
    sampled population, exactly one for a founder or anyone who has founded)
    id int64 (counter), city int8 (where they live and work), status int8 (``WORKER``, or
    ``FOUNDER`` of a living firm), employer int32 (the firm a founder leads, else -1), skill
    float32 (human capital, graduate = 1), tenure int16 (ticks spent leading firms), ventures
    uint8, failures uint8, successes uint8, last_outcome int8 (0 none, 1 failure, 2 success),
    fresh bool (graduated this tick), weight int32 (real people the row stands for).
    A firm's staff are a headcount (``firms.employment``, real people), not rows: innovative
    firms are real firms at any agent scale, and people are a sample of the population.
``firms`` (rows stay sorted by id; dead firms are archived then compacted each tick)
    id int64, city int8 (headquarters), branch int8 (branch R&D city or -1), orientation int8
    (0 To C, 1 To B, 2 To G), wave int8, born int16 (tick), founder int32 (person row),
    founder_history int8, capability float32, employment int32, target float32, demand float32,
    revenue float32, revenue_year float32 (moving average of revenue, weight 0.2 per tick; the
    reference level for growth),
    procurement_in float32, procurement_out float32, wages float32, profit float32, cash float32,
    valuation float32, post_money float32, last_round int16, raised float32, rounds int8,
    retained float32 (share earlier investors keep after later rounds), chain_master bool,
    listed bool, unicorn_ever bool, success bool, died int16 (tick or -1), death_kind int8,
    parent int64 (the id of the firm whose employee founded it, a spinoff; -1 for none).
``funds``
    city int8, base_capital float64, capital float64 (dry powder), committed float64,
    invested float64, returned float64, appetite float32, deals int32.
``ledger`` (one row per investment; never compacted)
    fund int16, firm_id int64, firm_city int8, tick int16, round int8, amount float32,
    stake float32, retained_entry float32, proceeds float32, realised bool, realised_tick int16.
Cities are small arrays on :class:`CityState`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from innosim.engine.table import Table
from innosim.params.declarations import CITY_NAMES, GLOBAL_NAMES, LEVERS
from innosim.params.scenario import Scenario
from innosim.params.waves import REQUIREMENTS
from innosim.schema import FLOW_NAMES, TICKS_PER_YEAR

__all__ = [
    "CLIMATE",
    "EMPLOYEE",
    "FOUNDER",
    "TOB",
    "TOC",
    "TOG",
    "WORKER",
    "CityState",
    "ModelParams",
    "State",
    "compile_params",
    "new_firms_table",
    "new_people_table",
]

WORKER, EMPLOYEE, FOUNDER = 0, 1, 2  # EMPLOYEE: no row has it (staff are headcounts)
TOC, TOB, TOG = 0, 1, 2
DEATH_NONE, DEATH_FAILURE, DEATH_CLOSURE, DEATH_ACQUIRED = 0, 1, 2, 3

PEOPLE_COLUMNS = {
    "id": np.int64,
    "city": np.int8,
    "status": np.int8,
    "employer": np.int32,
    "skill": np.float32,
    "tenure": np.int16,
    "ventures": np.uint8,
    "failures": np.uint8,
    "successes": np.uint8,
    "last_outcome": np.int8,
    "fresh": np.bool_,
    "weight": np.int32,
}

FIRM_COLUMNS = {
    "id": np.int64,
    "city": np.int8,
    "branch": np.int8,
    "orientation": np.int8,
    "wave": np.int8,
    "born": np.int16,
    "founder": np.int32,
    "founder_history": np.int8,
    "capability": np.float32,
    "employment": np.int32,
    "target": np.float32,
    "demand": np.float32,
    "revenue": np.float32,
    "revenue_year": np.float32,
    "procurement_in": np.float32,
    "procurement_out": np.float32,
    "wages": np.float32,
    "profit": np.float32,
    "cash": np.float32,
    "valuation": np.float32,
    "post_money": np.float32,
    "last_round": np.int16,
    "raised": np.float32,
    "rounds": np.int8,
    "retained": np.float32,
    "chain_master": np.bool_,
    "listed": np.bool_,
    "unicorn_ever": np.bool_,
    "success": np.bool_,
    "died": np.int16,
    "death_kind": np.int8,
    "parent": np.int64,
}

FUND_COLUMNS = {
    "city": np.int8,
    "base_capital": np.float64,
    "capital": np.float64,
    "committed": np.float64,
    "invested": np.float64,
    "returned": np.float64,
    "appetite": np.float32,
    "deals": np.int32,
    "track_proceeds": np.float64,
    "track_invested": np.float64,
}

CLIMATE = (
    "successes",
    "unsuccessful",
    "restart_successes",
    "restart_unsuccessful",
    "capital",
    "capital_index",
    "tolerance_shift",
    "stigma_shift",
)
"""Rows of ``CityState.climate``, what a city's would-be founders see (the climate mechanism,
C8, C9): its ventures' successes and those that ended without one, and the same for founders
who had failed before,
discounted with the half-life ``peer_memory_years``; the venture dry powder within reach per
person (万元) and its ratio to the nation's; and what the city learned from its ventures, added
to its ``failure_tolerance`` and ``stigma`` levers."""

LEDGER_COLUMNS = {
    "fund": np.int16,
    "firm_id": np.int64,
    "firm_city": np.int8,
    "tick": np.int16,
    "round": np.int8,
    "amount": np.float32,
    "stake": np.float32,
    "retained_entry": np.float32,
    "proceeds": np.float32,
    "realised": np.bool_,
    "realised_tick": np.int16,
}


def new_people_table(capacity: int) -> Table:
    return Table(PEOPLE_COLUMNS, capacity, fill={"employer": -1, "weight": 1})


def new_firms_table(capacity: int) -> Table:
    return Table(
        FIRM_COLUMNS,
        capacity,
        fill={
            "branch": -1,
            "founder": -1,
            "died": -1,
            "orientation": -1,
            "retained": 1.0,
            "parent": -1,
        },
    )


@dataclass(frozen=True)
class ModelParams:
    """Parameters compiled for the mechanisms.

    ``g`` holds global values (floats), ``c`` city values (float64 arrays indexed by city).
    Time-varying policy levers are *not* read from here but from ``state.levers``.
    """

    g: SimpleNamespace
    c: SimpleNamespace
    n_cities: int
    city_names: tuple[str, ...]
    start_year: int
    reference_year: int
    n_ticks: int
    persons_per_agent: float
    dist_km: np.ndarray  # (n_cities, n_cities)
    wave_names: tuple[str, ...]
    wave_start: np.ndarray  # (n_waves,) tick the wave opens (may be negative)
    wave_weight: np.ndarray
    wave_growth: np.ndarray
    wave_toc: np.ndarray
    wave_req: np.ndarray  # (n_waves, 4) exponents for REQUIREMENTS
    policy_city: np.ndarray  # (n_policy,) city index or -1 for all
    policy_lever: tuple[str, ...]
    policy_start: np.ndarray  # tick (inclusive)
    policy_end: np.ndarray  # tick (exclusive)
    policy_value: np.ndarray
    policy_mode: tuple[str, ...]
    disabled: frozenset[str] = frozenset()

    @property
    def n_waves(self) -> int:
        return len(self.wave_names)

    def year_of(self, tick: int) -> int:
        return self.start_year + tick // TICKS_PER_YEAR


def _haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def compile_params(sc: Scenario, disabled: frozenset[str] = frozenset()) -> ModelParams:
    """Turn a resolved :class:`Scenario` into the arrays the mechanisms read."""
    tpy = TICKS_PER_YEAR
    g = SimpleNamespace(**{k: float(sc.glob[k]) for k in GLOBAL_NAMES})
    c = SimpleNamespace(**{k: np.asarray(sc.city[k], dtype=np.float64) for k in CITY_NAMES})
    lat = np.array([x.lat for x in sc.cities])
    lon = np.array([x.lon for x in sc.cities])
    waves = sc.waves
    req = np.array([[getattr(w, f"requires_{r}") for r in REQUIREMENTS] for w in waves], float)
    names = sc.city_names
    pol = sc.policy
    return ModelParams(
        g=g,
        c=c,
        n_cities=sc.n_cities,
        city_names=names,
        start_year=sc.start_year,
        reference_year=sc.reference_year,
        n_ticks=sc.n_ticks,
        persons_per_agent=float(sc.persons_per_agent),
        dist_km=_haversine_km(lat, lon),
        wave_names=tuple(w.name for w in waves),
        wave_start=np.array([round((w.start_year - sc.start_year) * tpy) for w in waves], int),
        wave_weight=np.array([w.weight for w in waves], float),
        wave_growth=np.array([w.growth_rate for w in waves], float),
        wave_toc=np.array([w.toc_share for w in waves], float),
        wave_req=req.reshape(len(waves), len(REQUIREMENTS)),
        policy_city=np.array([-1 if p.city == "*" else names.index(p.city) for p in pol], int),
        policy_lever=tuple(p.lever for p in pol),
        policy_start=np.array([round((p.year - sc.start_year) * tpy) for p in pol], int),
        policy_end=np.array(
            [10**9 if p.until is None else round((p.until - sc.start_year) * tpy) for p in pol],
            int,
        ),
        policy_value=np.array([p.value for p in pol], float),
        policy_mode=tuple(p.mode for p in pol),
        disabled=disabled,
    )


@dataclass
class CityState:
    """Per-city state (all arrays indexed by city)."""

    productivity: np.ndarray  # background value added per person per year (model CNY)
    infra_invested: np.ndarray  # (n_cities, 4) accumulated public investment per requirement
    access: np.ndarray  # (n_cities, 4) access to each requirement incl. hub links
    fit: np.ndarray  # (n_cities, n_waves) local cost advantage in each wave
    pool: np.ndarray  # real people living in the city (the rows' weights summed)
    pool0: np.ndarray  # real people at the start (congestion reference)
    fund_performance: np.ndarray  # smoothed realised multiple of the city's funds
    climate: np.ndarray  # (len(CLIMATE), n_cities): what founders see and what was learned
    innovation_share: np.ndarray  # innovative value added / total value added (last tick)
    vacancies: np.ndarray  # open positions last tick (people)
    graduate_rate: np.ndarray  # graduates per person per year (smoothed)


@dataclass
class Flows:
    """Per-tick flows per city, reset at the start of every tick.

    All flows live in one ``(len(FLOW_NAMES), n)`` float64 array (:attr:`array`, one reset per
    tick; compiled kernels take it whole); ``flows.entries`` etc. are views of its rows.
    """

    n: int
    names: tuple[str, ...] = FLOW_NAMES
    data: dict[str, np.ndarray] = field(default_factory=dict)
    array: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        self.array = np.zeros((len(self.names), self.n), dtype=np.float64)
        self.data = {k: self.array[i] for i, k in enumerate(self.names)}

    def reset(self) -> None:
        self.array.fill(0.0)

    # copies and pickles keep the views into their own array (``fl.x += v`` in a mechanism
    # also leaves the view as an instance attribute, which is not carried over)
    def __getstate__(self) -> dict:
        return {"n": self.n, "names": self.names, "array": self.array}

    def __setstate__(self, st: dict) -> None:
        self.n, self.names, self.array = st["n"], st["names"], st["array"]
        self.data = {k: self.array[i] for i, k in enumerate(self.names)}

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return object.__getattribute__(self, "data")[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class State:
    """Everything that changes during a run. Only the engine advances ``t``."""

    t: int
    people: Table
    firms: Table
    funds: Table
    ledger: Table
    city: CityState
    levers: SimpleNamespace
    market: np.ndarray  # (n_waves,) demand per tick (model CNY)
    market_growth: np.ndarray  # (n_waves,) positive growth of demand over the last year
    market_lagged: np.ndarray  # (n_waves,) demand ``procurement_lag_years`` ago (what clients buy)
    flows: Flows
    next_person_id: int = 0
    next_firm_id: int = 0
    realised_fund: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    realised_proceeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    realised_amount: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    # dead firms: mappings of column arrays (dicts; the compiled exits step appends views of
    # its archive table, innosim.mechanisms.exits.ArchivedFirms)
    archive: list[Mapping[str, np.ndarray]] = field(default_factory=list)
    firm_years: list[dict[str, np.ndarray]] = field(default_factory=list)
    record: dict[str, np.ndarray] = field(default_factory=dict)
    # the buffer ``record`` views: (len(SERIES), n_cities), row i = innosim.schema.SERIES[i];
    # the array ``levers`` views: (len(LEVERS), n_cities), row i = lever LEVERS[i]
    lever_array: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    record_array: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    # this tick's (n_cities, n_cities) city-pair records (origin row, destination column), views
    # into the run's arrays like ``record``: see ``innosim.schema.PAIR_SERIES``
    pairs: dict[str, np.ndarray] = field(default_factory=dict)

    def __setstate__(self, st: dict) -> None:
        # a copy or pickle copies views as arrays of their own: point ``record`` and ``levers``
        # back into the buffers they view
        self.__dict__.update(st)
        rec, arr = self.record, self.record_array
        if rec and arr.shape[0] == len(rec):
            self.record = {k: arr[i] for i, k in enumerate(rec)}
        names = list(vars(self.levers))
        if names and self.lever_array.shape[0] == len(names):
            self.levers = SimpleNamespace(**{k: self.lever_array[i] for i, k in enumerate(names)})

    def new_person_ids(self, k: int) -> np.ndarray:
        ids = np.arange(self.next_person_id, self.next_person_id + k, dtype=np.int64)
        self.next_person_id += k
        return ids

    def new_firm_ids(self, k: int) -> np.ndarray:
        ids = np.arange(self.next_firm_id, self.next_firm_id + k, dtype=np.int64)
        self.next_firm_id += k
        return ids


def lever_defaults(params: ModelParams) -> SimpleNamespace:
    """Base (pre-policy) lever values per city."""
    return SimpleNamespace(**{k: getattr(params.c, k).copy() for k in LEVERS})


def lever_state(params: ModelParams) -> tuple[np.ndarray, SimpleNamespace]:
    """The levers of a run: one ``(len(LEVERS), n_cities)`` float64 array (row i = lever
    ``LEVERS[i]``; compiled kernels take it whole) and a namespace of views of its rows
    (``state.levers.stigma``), both starting at the base values."""
    arr = np.stack([np.asarray(getattr(params.c, k), dtype=np.float64) for k in LEVERS])
    return arr, SimpleNamespace(**{k: arr[i] for i, k in enumerate(LEVERS)})
