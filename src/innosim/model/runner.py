"""The run loop: build the initial state, advance it tick by tick, collect results.

``run(scenario, seed)`` is the whole model in one screen: compile the parameters, build the
state, then for every tick reset the flows and call each mechanism's ``step`` in the order of
:data:`innosim.model.MECHANISMS`, then record. Only this loop advances ``state.t``.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from innosim.engine.invariants import Checker
from innosim.engine.kernels.cache import drop_stale
from innosim.engine.ops import weighted_rows
from innosim.engine.rng import stream
from innosim.engine.state import (
    CLIMATE,
    FIRM_COLUMNS,
    FUND_COLUMNS,
    LEDGER_COLUMNS,
    CityState,
    Flows,
    ModelParams,
    State,
    compile_params,
    lever_state,
    new_firms_table,
    new_people_table,
)
from innosim.engine.table import Table
from innosim.errors import ScenarioError
from innosim.mechanisms import climate
from innosim.model.fuse import fuse
from innosim.model.order import COMPILED, MECHANISMS, NAMES
from innosim.params.scenario import Scenario
from innosim.schema import (
    CODES,
    FLOW_SERIES,
    PAIR_SERIES,
    RATE_SERIES,
    SERIES_NAMES,
    SUMMARY_COLUMNS,
    TICKS_PER_YEAR,
    UNITS,
)

__all__ = ["RunResult", "init_state", "run", "yearly"]

GRADUATE_SHARE_AT_START = 0.15
"""Share of the starting pool with a degree (China's 2000 census: ~4% of adults nationally,
10-20% in provincial capitals)."""


def init_state(params: ModelParams, rng: np.random.Generator) -> State:
    """Initial state: people in every city, funds, no firms yet (firms are founded in year 1)."""
    g, c = params.g, params.c
    n_c = params.n_cities
    people0 = np.maximum(np.round(c.population * g.initial_population_share), 1).astype(np.int64)
    rows, weights = weighted_rows(people0, params.persons_per_agent)
    total = int(rows.sum())
    people = new_people_table(int(total * 1.25) + 64)
    lever_array, levers = lever_state(params)
    state = State(
        t=0,
        people=people,
        firms=new_firms_table(max(1024, int(people0.sum()) // 5000)),
        funds=Table(FUND_COLUMNS, n_c * int(g.funds_per_city)),
        ledger=Table(LEDGER_COLUMNS, 4096, fill={"realised_tick": -1}),
        city=CityState(
            productivity=c.productivity
            * np.exp(-g.productivity_growth * (params.reference_year - params.start_year)),
            infra_invested=np.zeros((n_c, 4)),
            access=np.ones((n_c, 4)),
            fit=np.ones((n_c, params.n_waves)),
            pool=people0.astype(np.float64),
            pool0=people0.astype(np.float64),
            fund_performance=np.ones(n_c),
            climate=np.zeros((len(CLIMATE), n_c)),
            innovation_share=np.zeros(n_c),
            vacancies=np.zeros(n_c),
            graduate_rate=c.students_enrolled / g.study_years / np.maximum(c.population, 1.0),
        ),
        levers=levers,
        market=np.zeros(params.n_waves),
        market_growth=np.zeros(params.n_waves),
        market_lagged=np.zeros(params.n_waves),
        flows=Flows(n_c),
        lever_array=lever_array,
    )
    grad = rng.random(total) < GRADUATE_SHARE_AT_START
    skill = np.where(grad, g.graduate_skill, g.nongraduate_skill) * rng.lognormal(0.0, 0.3, total)
    people.append(
        total,
        id=state.new_person_ids(total),
        city=np.repeat(np.arange(n_c), rows).astype(np.int8),
        employer=-1,
        skill=skill.astype(np.float32),
        weight=weights,
    )
    k = int(g.funds_per_city)
    fund_city = np.repeat(np.arange(n_c), k)
    cap = np.repeat(c.vc_capital_per_person * people0 / k, k)
    state.funds.append(
        n_c * k,
        city=fund_city.astype(np.int8),
        base_capital=cap,
        capital=cap,
        appetite=np.repeat(c.risk_appetite, k).astype(np.float32),
    )
    state.city.climate = climate.initial(state, params)
    return state


@dataclass
class RunResult:
    """Everything a run produced.

    Attributes
    ----------
    scenario : Scenario
    seed : int
    series : pandas.DataFrame
        One row per tick and city: ``tick, year, quarter, city`` and every series of
        :data:`innosim.schema.SERIES`.
    firms : pandas.DataFrame
        The firm registry: every firm that ever lived, with ``alive`` and the columns of the
        firms table (codes: orientation 0 To C / 1 To B / 2 To G; founder_history 0 first time /
        1 after failure / 2 after success; ``city`` and ``branch`` are city indices).
    firm_years : pandas.DataFrame
        Year-end panel of living firms (id, year, employment, revenue, valuation, ...).
    investments : pandas.DataFrame
        The venture ledger: one row per investment, with proceeds once realised.
    meta : dict
        Run metadata (scenario name and hash, seed, versions, timings, units).
    city_pairs : pandas.DataFrame
        One row per tick and ordered pair of cities: ``tick, year, quarter, origin, destination``
        and the series of :data:`PAIR_SERIES` (talent moves and chain procurement between
        cities; the talent Sankey and chain-master network of the report).
    """

    scenario: Scenario
    seed: int | str
    series: pd.DataFrame
    firms: pd.DataFrame
    firm_years: pd.DataFrame
    investments: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    city_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def yearly(self) -> pd.DataFrame:
        """Per-city yearly values (see :func:`yearly`)."""
        return yearly(self.series, int(self.scenario.glob["volatility_window_years"]))

    def summary(self, year: int | None = None) -> pd.DataFrame:
        """Per-city summary of one year (default: the last simulated year)."""
        y = self.yearly()
        year = int(y["year"].max()) if year is None else int(year)
        if year not in set(y["year"]):
            raise ScenarioError(
                "year outside the run",
                field="year",
                value=year,
                expected=f"a year in [{y['year'].min()}, {y['year'].max()}]",
            )
        return y.loc[y["year"] == year, list(SUMMARY_COLUMNS)].reset_index(drop=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables written to the results store."""
        out = {
            "series": self.series,
            "firms": self.firms,
            "firm_years": self.firm_years,
            "investments": self.investments,
        }
        if len(self.city_pairs.columns):
            out["city_pairs"] = self.city_pairs
        return out


def yearly(series: pd.DataFrame, window: int = 5) -> pd.DataFrame:
    """Aggregate a per-tick series to years: flows summed, annualised rates averaged, stocks at
    year end; adds ``growth_volatility`` (rolling sd of yearly log value-added growth over
    ``window`` years) per city."""
    agg: dict[str, str] = {}
    for name in SERIES_NAMES:
        agg[name] = "sum" if name in FLOW_SERIES else "mean" if name in RATE_SERIES else "last"
    y = series.groupby(["city", "year"], sort=False).agg(agg).reset_index()
    y = y.sort_values(["city", "year"], kind="stable")
    logva = np.log(y["value_added"].clip(lower=1e-12))
    y["va_growth"] = logva.groupby(y["city"]).diff()
    y["growth_volatility"] = y.groupby("city")["va_growth"].transform(
        lambda s: s.rolling(window, min_periods=2).std()
    )
    order = {c: i for i, c in enumerate(series["city"].drop_duplicates())}
    y["_o"] = y["city"].map(order)
    return y.sort_values(["year", "_o"]).drop(columns="_o").reset_index(drop=True)


_KERNELS_CHECKED = False


def _fresh_kernels() -> None:
    """Once per process, before the first kernel is loaded: drop cached kernels compiled for
    another layout (see :mod:`innosim.engine.kernels.cache`; ``make setup`` does it too)."""
    global _KERNELS_CHECKED
    if not _KERNELS_CHECKED:
        drop_stale()
        _KERNELS_CHECKED = True


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("innosim", "numpy", "numba", "pandas", "pydantic", "duckdb", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    check: bool = False,
    disable: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
    profile: bool = False,
) -> RunResult:
    """Run one simulation.

    Parameters
    ----------
    scenario : Scenario
        A resolved scenario (:func:`innosim.load_scenario`).
    seed : int or numpy.random.SeedSequence, optional
        Root seed; defaults to the scenario's. A ``SeedSequence`` (e.g. one of
        :func:`innosim.engine.rng.replicate_seeds`) is used as the root directly.
    check : bool
        Check the conservation laws and bounds after every tick (raises InvariantError).
    disable : iterable of str
        Mechanisms to switch off (see ``innosim.model.NAMES``); ``accounting`` cannot be.
    progress : callable, optional
        Called as ``progress(ticks_done, n_ticks)`` after each tick.
    profile : bool
        Record the time spent in each mechanism in ``meta["timings"]`` (the compiled
        mechanisms then run one call each, not fused: the same results).

    Returns
    -------
    RunResult
    """
    disabled = frozenset(disable)
    unknown = disabled - set(NAMES)
    if unknown or "accounting" in disabled:
        raise ScenarioError(
            "cannot disable these mechanisms",
            field="disable",
            value=sorted(unknown | (disabled & {"accounting"})),
            expected="names among " + ", ".join(n for n in NAMES if n != "accounting"),
        )
    if seed is None:
        seed = scenario.seed
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    if isinstance(seed, np.random.SeedSequence):
        # a spawned replicate: root entropy and spawn key, e.g. "20250207/3"
        key = "/".join(str(k) for k in root.spawn_key)
        seed_repr: int | str = f"{root.entropy}/{key}" if key else int(root.entropy)
    else:
        seed_repr = int(seed)
    _fresh_kernels()
    params = compile_params(scenario, disabled)
    steps = []
    for m in MECHANISMS:
        if m.NAME in disabled:
            continue
        rng = stream(root, m.NAME)
        # a compiled mechanism prepares its kernel's constants and stream once per run
        step = m.make(params, rng) if hasattr(m, "make") else m.step
        steps.append((m.NAME, step, rng))
    if not profile:  # one call per run of consecutive compiled mechanisms
        steps = fuse(steps)
    state = init_state(params, stream(root, "init"))
    n_ticks, n_c = params.n_ticks, params.n_cities
    names = list(SERIES_NAMES)
    # per-tick records: the mechanisms write this tick's row of every series into one buffer
    # (``state.record`` holds views of its rows), copied into the run's arrays after the tick
    data3 = np.zeros((n_ticks, len(names), n_c))
    data = {k: data3[:, i, :] for i, k in enumerate(names)}
    state.record_array = np.zeros((len(names), n_c))
    state.record = {k: state.record_array[i] for i, k in enumerate(names)}
    pair3 = np.zeros((n_ticks, len(PAIR_SERIES), n_c, n_c))
    pair_data = {k: pair3[:, i] for i, (k, _) in enumerate(PAIR_SERIES)}
    pair_buf = np.zeros((len(PAIR_SERIES), n_c, n_c))
    state.pairs = {k: pair_buf[i] for i, (k, _) in enumerate(PAIR_SERIES)}
    checker = Checker(params) if check else None
    timings = dict.fromkeys([s[0] for s in steps], 0.0)
    t_start = time.perf_counter()
    agent_steps = 0
    for t in range(n_ticks):
        state.t = t
        state.flows.reset()
        state.record_array.fill(0.0)
        pair_buf.fill(0.0)
        if checker:
            checker.before(state)
        for name, step, rng in steps:
            if profile:
                t0 = time.perf_counter()
                step(state, params, rng)
                timings[name] += time.perf_counter() - t0
            else:
                step(state, params, rng)
        agent_steps += state.people.n + state.firms.n + state.funds.n
        data3[t] = state.record_array
        pair3[t] = pair_buf
        if state.t % TICKS_PER_YEAR == TICKS_PER_YEAR - 1:
            _record_firm_year(state, params)
        if checker:
            checker.after(state, data, t)
        if progress:
            progress(t + 1, n_ticks)
    elapsed = time.perf_counter() - t_start
    return _assemble(
        scenario,
        params,
        state,
        data,
        pair_data,
        seed_repr,
        elapsed,
        agent_steps,
        timings if profile else None,
        sorted(disabled),
    )


_FIRM_YEAR_COLUMNS = (
    "id", "city", "orientation", "wave", "employment", "revenue", "profit", "procurement_in",
    "procurement_out", "valuation", "chain_master", "listed",
)  # fmt: skip
"""Firm columns copied as they are into the firm-year panel (with ``year`` and ``age_years``)."""


def _record_firm_year(state: State, params: ModelParams) -> None:
    """Append this year's rows of the firm-year panel (one copy per column of the live rows,
    read from the table's full-capacity columns: at 10^4 agents this runs in about half the
    time of attribute access, which makes a view per column)."""
    f = state.firms
    n, raw = f.n, f.raw
    chunk = {
        "id": raw["id"][:n].copy(),
        "year": np.full(n, params.year_of(state.t), dtype=np.int16),
        "age_years": ((state.t - raw["born"][:n]) / TICKS_PER_YEAR).astype(np.float32),
    }
    for k in _FIRM_YEAR_COLUMNS[1:]:
        chunk[k] = raw[k][:n].copy()
    state.firm_years.append(chunk)


def _concat(chunks: list, columns: dict[str, Any]) -> dict[str, np.ndarray]:
    """Join the chunks (mappings of column arrays, same keys) column by column, emptying the
    list as it goes.

    The joined columns are allocated first (``np.empty``: their pages become resident only as
    they are written) and each chunk is copied in and dropped in turn, so the peak memory is
    the joined table plus one chunk, not twice the table, whether a chunk's columns are
    separate arrays or views of one buffer (the compiled exits step archives firms into
    shared tables).
    """
    if not chunks:
        return {k: np.zeros(0, dtype=v) for k, v in columns.items()}
    first = chunks[0]
    names = list(first)
    total = sum(len(c[names[0]]) for c in chunks)
    out = {k: np.empty(total, dtype=first[k].dtype) for k in names}
    at = 0
    for i in range(len(chunks)):
        chunk, chunks[i] = chunks[i], None
        m = len(chunk[names[0]])
        for k in names:
            out[k][at : at + m] = chunk[k]
        at += m
        del chunk
    chunks.clear()
    return out


def _assemble(
    scenario: Scenario,
    params: ModelParams,
    state: State,
    data: dict[str, np.ndarray],
    pair_data: dict[str, np.ndarray],
    seed: int | str,
    elapsed: float,
    agent_steps: int,
    timings: dict[str, float] | None,
    disabled: list[str],
) -> RunResult:
    n_ticks, n_c = params.n_ticks, params.n_cities
    ticks = np.repeat(np.arange(n_ticks), n_c)
    series = pd.DataFrame(
        {
            "tick": ticks.astype(np.int32),
            "year": (params.start_year + ticks // TICKS_PER_YEAR).astype(np.int32),
            "quarter": (ticks % TICKS_PER_YEAR + 1).astype(np.int8),
            "city": pd.Categorical(
                np.tile(np.array(params.city_names), n_ticks), categories=list(params.city_names)
            ).astype(str),
        }
    )
    for k, arr in data.items():
        series[k] = arr.reshape(-1)
    agents_final = {"people": state.people.n, "firms": state.firms.n, "funds": state.funds.n}
    # The result frames are built while the state is freed piece by piece (people first: they are
    # not part of the result), so that the peak memory of a large run is not the state plus a
    # copy of everything it recorded.
    state.people.free()
    n_alive = state.firms.n
    chunks = [*state.archive, state.firms.to_dict()]
    state.archive.clear()
    state.firms.free()
    reg = _concat(chunks, FIRM_COLUMNS)
    first, *rest = reg  # the registry's first column (id), then alive, then the others
    n_all = len(reg["id"])
    alive = np.r_[np.zeros(n_all - n_alive, bool), np.ones(n_alive, bool)]
    reg = {first: reg[first], "alive": alive, **{k: reg[k] for k in rest}}
    order = np.argsort(reg["id"], kind="stable")  # by id, as sort_values("id", kind="stable")
    for k in list(reg):
        reg[k] = reg[k][order]
    firms = pd.DataFrame(reg, copy=False)
    del reg
    fy = pd.DataFrame(_concat(state.firm_years, {}), copy=False)
    state.firm_years.clear()
    inv = pd.DataFrame(state.ledger.to_dict(), copy=False)
    state.ledger.free()
    meta: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_path": scenario.path,
        "scenario_hash": scenario.hash,
        "seed": seed,
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "persons_per_agent": params.persons_per_agent,
        "cities": list(params.city_names),
        "waves": list(params.wave_names),
        "mechanisms": [n for n in NAMES if n not in disabled],
        "disabled": disabled,
        # the core mechanisms are Numba kernels (the "numba" backend of innosim <= 0.1, whose
        # run ids include it; "numpy" runs of those versions came from a removed twin)
        "backend": "numba",
        "compiled": [n for n in COMPILED if n not in disabled],
        "ticks": n_ticks,
        "tick": "quarter",
        "wall_seconds": elapsed,
        "agent_steps": agent_steps,
        "agents_final": agents_final,
        "versions": _versions(),
        "codes": {k: list(v) for k, v in CODES.items()},
        "units": dict(UNITS),
    }
    if timings is not None:
        meta["timings"] = timings
    meta["pair_units"] = dict(PAIR_SERIES)
    return RunResult(scenario, seed, series, firms, fy, inv, meta, _city_pairs(params, pair_data))


def _city_pairs(params: ModelParams, pair_data: dict[str, np.ndarray]) -> pd.DataFrame:
    """The per-tick city-pair matrices as a long table (tick-major, then origin, destination)."""
    n_ticks, n_c = params.n_ticks, params.n_cities
    ticks = np.repeat(np.arange(n_ticks), n_c * n_c)
    names = list(params.city_names)
    out = pd.DataFrame(
        {
            "tick": ticks.astype(np.int32),
            "year": (params.start_year + ticks // TICKS_PER_YEAR).astype(np.int32),
            "quarter": (ticks % TICKS_PER_YEAR + 1).astype(np.int8),
            "origin": np.tile(np.repeat(np.array(names), n_c), n_ticks),
            "destination": np.tile(np.array(names), n_ticks * n_c),
        }
    )
    for k, arr in pair_data.items():
        out[k] = arr.reshape(-1)
    return out
