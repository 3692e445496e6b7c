"""What the dashboard does, as plain Python: no Solara here, so every rule is unit-tested.

The page sends only *names and numbers*: a shipped scenario's name, an agent scale chosen from
:data:`SCALES`, a seed, and a :class:`Policy` (per-city lever values and wave start years).
:func:`prepare` validates all of it against the parameter declarations and the size cap and
builds the :class:`~innosim.params.scenario.Scenario` to run; :func:`execute` runs it through
:func:`innosim.run` inside a process-wide :class:`RunGate` (a bounded number of simultaneous
runs and of waiting ones), reporting progress and stopping when asked. Results are kept as small
yearly tables (:class:`RunOutcome`), never as files: nothing from the page becomes a path.

Limits (docs/dashboard.md): :data:`MAX_AGENT_TICKS` per run, :data:`MAX_CONCURRENT_RUNS`
running and :data:`MAX_WAITING_RUNS` waiting across all sessions of a server process.
"""

from __future__ import annotations

import io
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from innosim.errors import InputError
from innosim.index import build_index
from innosim.model.runner import run as run_model
from innosim.params import space
from innosim.params.declarations import BY_NAME
from innosim.params.scenario import Scenario, list_scenarios, load_scenario

__all__ = [
    "DEFAULT_SCALE",
    "DOWNLOAD_FORMATS",
    "INDEX_DRAWS",
    "LEVER_GROUPS",
    "LEVER_PARAMS",
    "MAX_AGENT_TICKS",
    "MAX_CONCURRENT_RUNS",
    "MAX_SEED",
    "MAX_WAITING_RUNS",
    "SCALES",
    "SERIES_METRICS",
    "BusyError",
    "Policy",
    "Prepared",
    "RunGate",
    "RunOutcome",
    "RunRequest",
    "SizeError",
    "compare_table",
    "default_scale",
    "download_bytes",
    "download_name",
    "estimate_agent_ticks",
    "execute",
    "index_table",
    "lever_bounds",
    "prepare",
    "scenario_names",
    "shipped_scenario",
    "wave_bounds",
]

# --------------------------------------------------------------------------- limits

MAX_AGENT_TICKS: Final = 12_000_000
"""Largest run the dashboard accepts, in person-agent-ticks (agents x quarterly ticks).

The ``demo`` scenario at scale 1 is about 6.7 million (two seconds on one core); a request over
the cap is refused with a message before anything runs."""

MAX_CONCURRENT_RUNS: Final = 2
"""Runs executing at once in one server process, all sessions together."""

MAX_WAITING_RUNS: Final = 8
"""Runs allowed to wait for a free slot; one more is refused as "busy" (never queued forever)."""

SCALES: Final[tuple[float, ...]] = (0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
"""Agent scales offered by the page (times the scenario's agents, as ``innosim run --scale``)."""

DEFAULT_SCALE: Final = 0.5

MAX_SEED: Final = 2**32 - 1
"""Largest seed the page accepts."""

WAVE_LEAD_YEARS: Final = 10
"""A wave may start up to this many years before the scenario's first year."""

INDEX_DRAWS: Final = 200
"""Monte Carlo draws of the index view (computed once per server process)."""

DOWNLOAD_FORMATS: Final = ("csv", "parquet")

SOURCE: Final = "dashboard"
"""What error messages name as the file a value came from."""

LEVER_GROUPS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = tuple(space.DASHBOARD_PANELS.items())
"""The per-city levers the page shows, by panel; each is a declared city parameter taken from its
declared group (:data:`innosim.params.space.DASHBOARD_PANELS`)."""

LEVER_PARAMS: Final[tuple[str, ...]] = tuple(p for _, ps in LEVER_GROUPS for p in ps)

SERIES_METRICS: Final[tuple[str, ...]] = (
    "value_added",
    "firms",
    "unicorns",
    "talent_net_inflow_rate",
)
"""Yearly columns drawn per city and compared between policies."""

_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

for _p in LEVER_PARAMS:  # pragma: no cover - guards the table above
    if _p not in BY_NAME or BY_NAME[_p].scope != "city":
        raise RuntimeError(f"dashboard lever {_p!r} is not a declared city parameter")


class SizeError(InputError):
    """A run request over :data:`MAX_AGENT_TICKS`; carries the numbers for the page's message."""

    def __init__(self, agent_ticks: int, agents: int, ticks: int) -> None:
        self.agent_ticks = agent_ticks
        self.agents = agents
        self.ticks = ticks
        super().__init__(
            "run too large",
            file=SOURCE,
            field="scale",
            value=f"{agent_ticks:,} agent-ticks ({agents:,} agents x {ticks} quarters)",
            expected=f"at most {MAX_AGENT_TICKS:,} agent-ticks; choose a smaller scale",
        )


class BusyError(InputError):
    """Every run slot is taken and the waiting line is full."""

    def __init__(self) -> None:
        super().__init__(
            "the server is busy",
            file=SOURCE,
            field="run",
            value=f"{MAX_CONCURRENT_RUNS} running and {MAX_WAITING_RUNS} waiting",
            expected="a free slot; try again in a moment",
        )


class _Cancelled(Exception):
    """Raised inside the model's progress callback to stop a run (never leaves this module)."""


# --------------------------------------------------------------------------- scenarios


def scenario_names() -> tuple[str, ...]:
    """Names of the scenarios the page may choose from (those :func:`innosim.list_scenarios`
    finds on the server; never a path)."""
    return tuple(sorted(n for n in list_scenarios() if _NAME_RE.fullmatch(n)))


@lru_cache(maxsize=16)
def _load_named(name: str, path: str, mtime: float) -> Scenario:
    return load_scenario(Path(path))


def shipped_scenario(name: object) -> Scenario:
    """The scenario called ``name``; an :class:`InputError` for anything that is not the exact
    name of a listed scenario (paths, ``..``, file names, non-strings)."""
    known = list_scenarios()
    if not (isinstance(name, str) and _NAME_RE.fullmatch(name) and name in known):
        raise InputError(
            "unknown scenario",
            file=SOURCE,
            field="scenario",
            value=name,
            expected="one of " + ", ".join(scenario_names()) + " (names only, never a path)",
        )
    path = known[name]
    return _load_named(name, str(path), path.stat().st_mtime)


def lever_bounds(param: str) -> tuple[float, float]:
    """Declared (low, high) of a lever: the slider range, and what :func:`prepare` accepts."""
    return space.bounds(param)


def wave_bounds(sc: Scenario) -> tuple[int, int]:
    """Years a wave of ``sc`` may start in: from :data:`WAVE_LEAD_YEARS` before its first year
    to its last year."""
    return sc.start_year - WAVE_LEAD_YEARS, sc.end_year


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Policy:
    """Lever settings that differ from the scenario's own values.

    Attributes
    ----------
    levers : dict of (city, parameter) to float
        Start values of per-city levers (parameters among :data:`LEVER_PARAMS`); the scenario's
        ``[[policy]]`` timeline still applies from its years.
    waves : dict of str to int
        Start year of technology waves, by wave name.
    """

    levers: Mapping[tuple[str, str], float] = field(default_factory=dict)
    waves: Mapping[str, int] = field(default_factory=dict)

    def with_lever(self, city: str, param: str, value: float) -> Policy:
        """Copy with one lever set."""
        return replace(self, levers={**self.levers, (city, param): float(value)})

    def with_wave(self, name: str, year: int) -> Policy:
        """Copy with one wave's start year set."""
        return replace(self, waves={**self.waves, name: int(year)})


@dataclass(frozen=True)
class RunRequest:
    """Everything the page asks for one run: names and numbers only."""

    scenario: str
    scale: float = DEFAULT_SCALE
    seed: int = 1
    policy: Policy = field(default_factory=Policy)
    label: str = "A"


@dataclass(frozen=True)
class Prepared:
    """A validated request with the scenario it runs and its size."""

    request: RunRequest
    scenario: Scenario
    agent_ticks: int


def estimate_agent_ticks(sc: Scenario) -> tuple[int, int, int]:
    """``(agent_ticks, agents, ticks)`` of a run of ``sc``: the cities' reference-year
    population in person-agents times the quarterly ticks (an upper-end estimate: the model
    starts smaller, ``initial_population_share`` of it)."""
    agents = math.ceil(float(np.sum(sc.city["population"])) / sc.persons_per_agent)
    return agents * sc.n_ticks, agents, sc.n_ticks


def default_scale(sc: Scenario) -> float:
    """The largest offered scale up to :data:`DEFAULT_SCALE` whose run of ``sc`` fits under
    :data:`MAX_AGENT_TICKS` (the smallest offered scale when none does)."""
    fits = [
        s
        for s in SCALES
        if s <= DEFAULT_SCALE and estimate_agent_ticks(sc.with_scale(s))[0] <= MAX_AGENT_TICKS
    ]
    return max(fits) if fits else SCALES[0]


def _number(value: object, fld: str, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError("not a number", file=SOURCE, field=fld, value=value, expected=expected)
    v = float(value)
    if not math.isfinite(v):
        raise InputError(
            "not a finite number", file=SOURCE, field=fld, value=value, expected=expected
        )
    return v


def prepare(request: RunRequest) -> Prepared:
    """Validate a request and build its scenario.

    Raises
    ------
    InputError
        An unknown scenario name (or anything path-like), a scale outside :data:`SCALES`, a seed
        outside [0, :data:`MAX_SEED`], an unknown city, lever or wave, a value outside its
        declared bounds; :class:`SizeError` when the run exceeds :data:`MAX_AGENT_TICKS`.
    """
    sc = shipped_scenario(request.scenario)
    scale = _number(request.scale, "scale", "one of " + ", ".join(f"{s:g}" for s in SCALES))
    if scale not in SCALES:
        raise InputError(
            "scale not offered",
            file=SOURCE,
            field="scale",
            value=request.scale,
            expected="one of " + ", ".join(f"{s:g}" for s in SCALES),
        )
    seed = request.seed
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not (0 <= int(seed) <= MAX_SEED)
    ):
        raise InputError(
            "bad seed",
            file=SOURCE,
            field="seed",
            value=seed,
            expected=f"a whole number in [0, {MAX_SEED}]",
        )
    by_city: dict[str, dict[str, float]] = {}
    for key, raw in dict(request.policy.levers).items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise InputError(
                "bad lever key",
                file=SOURCE,
                field="levers",
                value=key,
                expected="a (city, lever) pair",
            )
        city, param = key
        if city not in sc.city_names:
            raise InputError(
                "unknown city",
                file=SOURCE,
                field="levers",
                value=city,
                expected="one of " + ", ".join(sc.city_names),
            )
        if param not in LEVER_PARAMS:
            raise InputError(
                "not a dashboard lever",
                file=SOURCE,
                field=f"{city}.{param}",
                value=param,
                expected="one of " + ", ".join(LEVER_PARAMS),
            )
        low, high = lever_bounds(param)
        v = _number(raw, f"{city}.{param}", f"a number in [{low:g}, {high:g}]")
        if not low <= v <= high:
            raise InputError(
                "value out of bounds",
                file=SOURCE,
                field=f"{city}.{param}",
                value=raw,
                expected=f"a number in [{low:g}, {high:g}]",
            )
        by_city.setdefault(city, {})[param] = v
    for city, values in by_city.items():
        sc = sc.with_city_params(city, **values)
    waves = {w.name: w for w in sc.waves}
    first, last = wave_bounds(sc)
    for name, raw in dict(request.policy.waves).items():
        if name not in waves:
            raise InputError(
                "unknown wave",
                file=SOURCE,
                field="waves",
                value=name,
                expected="one of " + ", ".join(waves),
            )
        y = _number(raw, f"waves.{name}", f"a whole year in [{first}, {last}]")
        if y != int(y) or not first <= y <= last:
            raise InputError(
                "wave start out of range",
                file=SOURCE,
                field=f"waves.{name}",
                value=raw,
                expected=f"a whole year in [{first}, {last}]",
            )
        waves[name] = waves[name].model_copy(update={"start_year": float(y)})
    if request.policy.waves:
        sc = replace(sc, waves=tuple(waves.values()), path="<memory>")
    sc = sc.with_scale(scale)
    agent_ticks, agents, ticks = estimate_agent_ticks(sc)
    if agent_ticks > MAX_AGENT_TICKS:
        raise SizeError(agent_ticks, agents, ticks)
    return Prepared(replace(request, seed=int(seed), scale=scale), sc, agent_ticks)


# --------------------------------------------------------------------------- running


class RunGate:
    """A process-wide bound on simultaneous runs: ``max_running`` run, ``max_waiting`` wait,
    any further request is refused with :class:`BusyError`.

    Waiting polls ``should_stop`` so a cancelled request leaves the line at once.
    """

    def __init__(self, max_running: int, max_waiting: int, poll_s: float = 0.1) -> None:
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.poll_s = poll_s
        self._cond = threading.Condition()
        self._running = 0
        self._waiting = 0

    @property
    def load(self) -> tuple[int, int]:
        """``(running, waiting)`` now."""
        with self._cond:
            return self._running, self._waiting

    @contextmanager
    def slot(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Hold one run slot for the block; raises :class:`BusyError` when the line is full and
        ``_Cancelled`` when ``should_stop()`` turns true while waiting."""
        with self._cond:
            if self._running >= self.max_running:
                if self._waiting >= self.max_waiting:
                    raise BusyError()
                self._waiting += 1
                if on_wait:
                    on_wait()
                try:
                    while self._running >= self.max_running:
                        if should_stop():
                            raise _Cancelled()
                        self._cond.wait(self.poll_s)
                finally:
                    self._waiting -= 1
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify()


GATE: Final = RunGate(MAX_CONCURRENT_RUNS, MAX_WAITING_RUNS)
"""The gate every dashboard run of this process goes through."""


@dataclass(frozen=True)
class RunOutcome:
    """What a session keeps of a finished run: its yearly table and how it was made.

    Attributes
    ----------
    request : RunRequest
    scenario : str
        Name of the scenario run.
    cities : tuple of (str, str)
        ``(name, name_zh)`` of each city, in the scenario's order.
    yearly : pandas.DataFrame
        :func:`innosim.yearly` of the run (one row per city and year).
    agent_ticks : int
        Size estimate the request was admitted with.
    seconds : float
        Wall time of the run.
    """

    request: RunRequest
    scenario: str
    cities: tuple[tuple[str, str], ...]
    yearly: pd.DataFrame
    agent_ticks: int
    seconds: float

    @property
    def last_year(self) -> int:
        """Last simulated year."""
        return int(self.yearly["year"].max())

    def final(self, metric: str) -> pd.Series:
        """``metric`` in the last year, indexed by city."""
        y = self.yearly
        return y.loc[y["year"] == self.last_year].set_index("city")[metric]


def execute(
    prepared: Prepared,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_wait: Callable[[], None] | None = None,
    gate: RunGate = GATE,
) -> RunOutcome | None:
    """Run a prepared request inside ``gate``; ``None`` when stopped.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    progress : callable, optional
        ``progress(ticks_done, n_ticks)`` after every tick.
    should_stop : callable
        Polled while waiting for a slot and after every tick; when it returns True the run
        stops (the model's progress callback raises a private exception) and ``None`` is
        returned.
    on_wait : callable, optional
        Called once if the request has to wait for a slot.
    gate : RunGate
        Default: the process-wide :data:`GATE`.

    Raises
    ------
    BusyError
        No slot free and the waiting line full.
    """

    def tick(done: int, total: int) -> None:
        if should_stop():
            raise _Cancelled()
        if progress:
            progress(done, total)

    req = prepared.request
    try:
        with gate.slot(should_stop, on_wait):
            t0 = time.perf_counter()
            result = run_model(prepared.scenario, seed=req.seed, progress=tick)
            seconds = time.perf_counter() - t0
    except _Cancelled:
        return None
    sc = prepared.scenario
    return RunOutcome(
        request=req,
        scenario=req.scenario,
        cities=tuple((c.name, c.name_zh or c.name) for c in sc.cities),
        yearly=result.yearly(),
        agent_ticks=prepared.agent_ticks,
        seconds=seconds,
    )


# --------------------------------------------------------------------------- tables, downloads


def compare_table(a: RunOutcome, b: RunOutcome) -> pd.DataFrame:
    """Last-year values of :data:`SERIES_METRICS` under policies A and B, per city.

    Columns: ``city, metric, a, b, diff`` (``b - a``) and ``rel_change`` (``diff / |a|``, NaN
    when ``a`` is 0). Both runs must be of the same scenario and last year.
    """
    if a.scenario != b.scenario or a.last_year != b.last_year:
        raise InputError(
            "runs not comparable",
            file=SOURCE,
            field="compare",
            value=f"{a.scenario} to {a.last_year} vs {b.scenario} to {b.last_year}",
            expected="two runs of the same scenario and calendar",
        )
    rows: list[dict[str, Any]] = []
    for metric in SERIES_METRICS:
        va, vb = a.final(metric), b.final(metric)
        for city, _ in a.cities:
            x, y = float(va[city]), float(vb[city])
            rows.append(
                {
                    "city": city,
                    "metric": metric,
                    "a": x,
                    "b": y,
                    "diff": y - x,
                    "rel_change": (y - x) / abs(x) if x != 0 else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def download_bytes(df: pd.DataFrame, fmt: Literal["csv", "parquet"] | str) -> bytes:
    """``df`` as a CSV (UTF-8, no index) or Parquet file, in memory."""
    if fmt == "csv":
        return df.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    raise InputError(
        "unknown download format",
        file=SOURCE,
        field="format",
        value=fmt,
        expected="one of " + ", ".join(DOWNLOAD_FORMATS),
    )


def download_name(outcome: RunOutcome, fmt: str) -> str:
    """File name offered for a download (built here, from validated names and numbers)."""
    req = outcome.request
    return f"innosim-{outcome.scenario}-policy{req.label}-seed{req.seed}-scale{req.scale:g}.{fmt}"


# --------------------------------------------------------------------------- index

_INDEX_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _index() -> pd.DataFrame:

    return build_index(draws=INDEX_DRAWS, seed=0).table


def index_table() -> pd.DataFrame:
    """The TOP index of the sourced cities (:func:`innosim.index.build_index`, shipped framework
    and data, :data:`INDEX_DRAWS` draws, seed 0): the same for everyone, so computed once per
    process. A copy is returned."""
    with _INDEX_LOCK:
        return _index().copy()


@lru_cache(maxsize=1)
def chinese_city_names() -> dict[str, str]:
    """City name -> Chinese name, from every listed scenario that gives one (for the index,
    whose data file has English names only)."""
    out: dict[str, str] = {}
    for name in scenario_names():
        try:
            sc = shipped_scenario(name)
        except InputError:
            continue
        for c in sc.cities:
            if c.name_zh:
                out.setdefault(c.name, c.name_zh)
    return out
