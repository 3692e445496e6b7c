"""Scenario files: TOML that overrides parameter defaults per city and adds a policy timeline.

A scenario names its cities (with coordinates), the calendar, the agent scale, parameter
overrides (global and per city, each optionally with its source), an optional wave timeline and
a policy timeline. Loading validates everything against the parameter declarations and raises
:class:`~innosim.errors.ScenarioError` with one paragraph naming file, field, value and
expectation. ``extends = "other"`` reuses another scenario and applies this file's changes on top
(cities matched by name), which is how counterfactual scenarios are written.

The resolved :class:`Scenario` is immutable; :meth:`Scenario.with_city_params` and
:meth:`Scenario.with_global_params` derive counterfactual copies.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from innosim.errors import ScenarioError
from innosim.inputs import dotted, pydantic_issue, read_toml
from innosim.params.declarations import BY_NAME, CITY_NAMES, GLOBAL_NAMES, LEVERS
from innosim.params.waves import DEFAULT_WAVES, WaveSpec
from innosim.schema import TICKS_PER_YEAR

__all__ = [
    "CityDef",
    "PolicyChange",
    "Scenario",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
]


# --------------------------------------------------------------------------- file schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ScenarioHeader(_Strict):
    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    start_year: int = Field(default=1999, ge=1900, le=2200)
    end_year: int = Field(default=2030, ge=1900, le=2300)
    reference_year: int = Field(default=2024, ge=1900, le=2300)
    persons_per_agent: float = Field(default=500.0, ge=1, le=1e7)
    seed: int = Field(default=20250207, ge=0, lt=2**63)
    units: str = ""


class _CityFile(_Strict):
    name: str = Field(min_length=1, max_length=64)
    name_zh: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    role: str = ""
    params: dict[str, Any] = {}


class PolicyChange(_Strict):
    """One entry of the policy timeline.

    From ``year`` (inclusive) to ``until`` (exclusive, optional), the lever of the city (or of
    every city with ``city = "*"``) is set to ``value`` (``mode = "set"``), raised by it
    (``"add"``) or multiplied by it (``"scale"``). Entries apply in file order.
    """

    city: str = Field(min_length=1)
    lever: str = Field(min_length=1)
    year: float = Field(ge=1900, le=2300)
    value: float
    mode: Literal["set", "add", "scale"] = "set"
    until: float | None = Field(default=None, ge=1900, le=2300)
    note: str = ""


class _ScenarioFile(_Strict):
    scenario: _ScenarioHeader
    extends: str | None = None
    params: dict[str, Any] = {}
    city: list[_CityFile] = []
    wave: list[WaveSpec] = []
    policy: list[PolicyChange] = []


# --------------------------------------------------------------------------- resolved scenario


@dataclass(frozen=True)
class CityDef:
    """A city of the scenario: name, coordinates and role (all data, never code paths)."""

    name: str
    lat: float
    lon: float
    name_zh: str = ""
    role: str = ""


@dataclass(frozen=True)
class Scenario:
    """A fully resolved, validated scenario.

    Attributes
    ----------
    name, title, description : str
    path : str
        File it came from ("<memory>" for derived scenarios).
    start_year, end_year, reference_year : int
    persons_per_agent : float
        Real persons a row of the sampled population stands for (at least one); firms are
        real firms whatever its value.
    seed : int
        Default root seed.
    cities : tuple of CityDef
    glob : dict of str to float
        Global parameter values (defaults merged with overrides).
    city : dict of str to numpy.ndarray
        City parameter values, one float64 array of length ``n_cities`` per parameter.
    waves : tuple of WaveSpec
    policy : tuple of PolicyChange
    sources : dict of str to str
        ``"param"`` or ``"City.param"`` -> source text, for values the scenario sets.
    """

    name: str
    title: str
    description: str
    path: str
    start_year: int
    end_year: int
    reference_year: int
    persons_per_agent: float
    seed: int
    cities: tuple[CityDef, ...]
    glob: dict[str, float]
    city: dict[str, np.ndarray]
    waves: tuple[WaveSpec, ...]
    policy: tuple[PolicyChange, ...]
    sources: dict[str, str] = field(default_factory=dict)

    # -- derived ---------------------------------------------------------------------------
    @property
    def n_cities(self) -> int:
        return len(self.cities)

    @property
    def city_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cities)

    @property
    def n_ticks(self) -> int:
        """Number of quarterly ticks from the start of ``start_year`` to the end of ``end_year``."""
        return (self.end_year - self.start_year + 1) * TICKS_PER_YEAR

    def city_index(self, name: str) -> int:
        """Index of a city by name (raises ScenarioError listing the known cities)."""
        for i, c in enumerate(self.cities):
            if c.name == name:
                return i
        raise ScenarioError(
            "unknown city",
            file=self.path,
            field="city",
            value=name,
            expected="one of " + ", ".join(self.city_names),
        )

    def to_dict(self) -> dict[str, Any]:
        """Canonical, JSON-serialisable content (used for the hash and run metadata)."""
        return {
            "name": self.name,
            "start_year": self.start_year,
            "end_year": self.end_year,
            "reference_year": self.reference_year,
            "persons_per_agent": self.persons_per_agent,
            "cities": [c.__dict__ for c in self.cities],
            "glob": {k: float(v) for k, v in sorted(self.glob.items())},
            "city": {k: [float(x) for x in v] for k, v in sorted(self.city.items())},
            "waves": [w.model_dump() for w in self.waves],
            "policy": [p.model_dump() for p in self.policy],
        }

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical content (the seed excluded: it is recorded separately)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    # -- derivation ------------------------------------------------------------------------
    def with_global_params(self, **values: float) -> Scenario:
        """Copy with global parameters replaced (validated against their declarations)."""
        glob = dict(self.glob)
        for name, value in values.items():
            glob[name] = _check_value(name, value, "global", self.path, f"params.{name}")
        return replace(self, glob=glob, path="<memory>")

    def with_city_params(self, city: str, **values: float) -> Scenario:
        """Copy with some of one city's parameters replaced (validated)."""
        i = self.city_index(city)
        arrays = {k: v.copy() for k, v in self.city.items()}
        for name, value in values.items():
            arrays[name][i] = _check_value(name, value, "city", self.path, f"{city}.{name}")
        return replace(self, city=arrays, path="<memory>")

    def with_scale(self, scale: float) -> Scenario:
        """Copy with ``scale`` times as many agents (``persons_per_agent / scale``)."""
        if not (isinstance(scale, int | float) and np.isfinite(scale) and 1e-4 <= scale <= 1e4):
            raise ScenarioError(
                "bad scale",
                file="command line",
                field="--scale",
                value=scale,
                expected="a number in [0.0001, 10000]",
            )
        return replace(self, persons_per_agent=self.persons_per_agent / scale)

    def with_end_year(self, year: int) -> Scenario:
        """Copy ending in ``year`` (must lie within [start_year, 2300])."""
        if not (isinstance(year, int) and self.start_year <= year <= 2300):
            raise ScenarioError(
                "bad final year",
                file="command line",
                field="--until",
                value=year,
                expected=f"a whole year in [{self.start_year}, 2300]",
            )
        return replace(self, end_year=year)


# --------------------------------------------------------------------------- loading


def _scenario_dirs() -> list[Path]:
    dirs: list[Path] = []
    env = os.environ.get("INNOSIM_SCENARIOS")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.append(Path.cwd() / "scenarios")
    # the project checkout (editable install): src/innosim/params/scenario.py -> repo root
    dirs.append(Path(__file__).resolve().parents[3] / "scenarios")
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def list_scenarios() -> dict[str, Path]:
    """Shipped and local scenarios by name (first found wins: $INNOSIM_SCENARIOS, ./scenarios,
    the project's scenarios/)."""
    found: dict[str, Path] = {}
    for d in _scenario_dirs():
        if d.is_dir():
            for p in sorted(d.glob("*.toml")):
                found.setdefault(p.stem, p)
    return found


def find_scenario(ref: str | os.PathLike[str]) -> Path:
    """Resolve a scenario reference (a path, or the name of a shipped scenario) to a file."""
    p = Path(ref)
    if p.suffix == ".toml" or p.exists() or os.sep in str(ref):
        if not p.is_file():
            raise ScenarioError(
                "scenario file not found",
                file=str(p),
                value=str(ref),
                expected="an existing .toml file or the name of a scenario ("
                + ", ".join(sorted(list_scenarios()))
                + ")",
            )
        return p
    known = list_scenarios()
    if str(ref) in known:
        return known[str(ref)]
    close = difflib.get_close_matches(str(ref), list(known), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ScenarioError(
        "unknown scenario" + hint,
        file=None,
        field="SCENARIO",
        value=str(ref),
        expected="a path to a .toml file or one of: " + ", ".join(sorted(known)),
    )


def load_scenario(ref: str | os.PathLike[str]) -> Scenario:
    """Load, validate and resolve a scenario.

    Parameters
    ----------
    ref : str or path
        Path to a TOML file, or the name of a scenario in ``scenarios/``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Missing file, malformed TOML, unknown or mistyped fields, unknown cities or parameters,
        values out of bounds — with file, field, value and what was expected.
    """
    return _load(find_scenario(ref), chain=())


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, "scenario file", ScenarioError)


def _pydantic_error(path: Path, err: ValidationError, data: dict[str, Any]) -> ScenarioError:
    loc, value, kind, msg = pydantic_issue(err, data)
    if kind == "missing":
        return ScenarioError(
            "required field is missing",
            file=str(path),
            field=dotted(loc),
            expected=_expected_for(loc),
        )
    if kind == "extra_forbidden":
        return ScenarioError(
            "unknown field",
            file=str(path),
            field=dotted(loc),
            value=value,
            expected="one of the fields " + _known_fields(loc),
        )
    return ScenarioError(
        msg,
        file=str(path),
        field=dotted(loc),
        value=value,
        expected=_expected_for(loc),
    )


def _model_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = _ScenarioFile
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        f = model.model_fields.get(part)
        if f is None:
            return None
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        cand = args[0] if args else ann
        model = cand if isinstance(cand, type) and issubclass(cand, BaseModel) else None
    return model


def _known_fields(loc: tuple[Any, ...]) -> str:
    model = _model_for(loc)
    return ", ".join(model.model_fields) if model else "documented in docs/scenarios.md"


def _expected_for(loc: tuple[Any, ...]) -> str:
    model = _model_for(loc)
    if model is None or not loc:
        return "see docs/scenarios.md"
    f = model.model_fields.get(loc[-1])
    if f is None:
        return "see docs/scenarios.md"
    ann = getattr(f.annotation, "__name__", str(f.annotation))
    bounds = [
        f"{name} {getattr(m, name)}"
        for m in f.metadata
        for name in ("ge", "gt", "le", "lt", "min_length")
        if getattr(m, name, None) is not None
    ]
    return f"{ann}" + (f" ({', '.join(bounds)})" if bounds else "")


def _check_value(name: str, value: Any, scope: str, file: str, fld: str) -> float:
    spec = BY_NAME.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(BY_NAME), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ScenarioError(
            "unknown parameter" + hint,
            file=file,
            field=fld,
            value=name,
            expected="a declared parameter (run 'innosim params' to list them)",
        )
    if spec.scope != scope:
        where = "under [params]" if spec.scope == "global" else "under a city's [city.params]"
        raise ScenarioError(
            f"'{name}' is a {spec.scope} parameter",
            file=file,
            field=fld,
            value=value,
            expected=f"it to be set {where}",
        )
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        raise ScenarioError(
            "wrong type", file=file, field=fld, value=value, expected=spec.expected()
        )
    try:
        v = float(value)
    except OverflowError:  # an integer beyond the float range
        v = math.inf
    if not np.isfinite(v) or not spec.low <= v <= spec.high:
        raise ScenarioError(
            "value out of bounds", file=file, field=fld, value=value, expected=spec.expected()
        )
    if spec.integer and v != int(v):
        raise ScenarioError(
            "not a whole number", file=file, field=fld, value=value, expected=spec.expected()
        )
    return v


def _split_value(raw: Any, file: str, fld: str) -> tuple[Any, str]:
    """A parameter value is a number or a table ``{value = x, source = "..."}``."""
    if isinstance(raw, dict):
        extra = set(raw) - {"value", "source", "note"}
        if extra or "value" not in raw:
            raise ScenarioError(
                "bad parameter table",
                file=file,
                field=fld,
                value=raw,
                expected="a number, or a table with 'value' and optional 'source' and 'note'",
            )
        src = str(raw.get("source", ""))
        if raw.get("note"):
            src = f"{src} ({raw['note']})" if src else str(raw["note"])
        return raw["value"], src
    return raw, ""


def _extended(path: Path, ref: str) -> Path:
    """The file an ``extends`` names: a scenario name (found on the search path, see
    :func:`list_scenarios`) or a ``.toml`` path relative to the extending file that stays in its
    directory (or below). Absolute paths, ``..`` out of the directory and symbolic links
    pointing elsewhere are refused, so a scenario file can only pull in scenarios, never an
    arbitrary file."""
    file = str(path)
    if "/" not in ref and "\\" not in ref and not ref.endswith(".toml"):
        known = list_scenarios()
        if ref in known:
            return known[ref]
        close = difflib.get_close_matches(ref, list(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ScenarioError(
            "the scenario it extends cannot be found" + hint,
            file=file,
            field="extends",
            value=ref,
            expected="the name of a scenario (" + ", ".join(sorted(known)) + ") or a .toml "
            "file in this file's directory",
        )
    where = path.parent.resolve()
    target = (path.parent / ref).resolve()
    if Path(ref).is_absolute() or not ref.endswith(".toml") or not target.is_relative_to(where):
        raise ScenarioError(
            "the scenario it extends lies outside this file's directory",
            file=file,
            field="extends",
            value=ref,
            expected=f"the name of a scenario or a relative path to a .toml file inside {where}",
        )
    if not target.is_file():
        raise ScenarioError(
            "the scenario it extends does not exist",
            file=file,
            field="extends",
            value=ref,
            expected="the name of a scenario or a path (relative to this file) to an existing "
            ".toml file",
        )
    return path.parent / ref


def _load(path: Path, chain: tuple[Path, ...]) -> Scenario:
    resolved = path.resolve()
    if resolved in chain:
        raise ScenarioError(
            "scenario extends itself in a cycle",
            file=str(path),
            field="extends",
            value=" -> ".join(str(p) for p in (*chain, path)),
            expected="a chain of 'extends' without cycles",
        )
    data = _read_toml(path)
    try:
        sf = _ScenarioFile.model_validate(data)
    except ValidationError as err:
        raise _pydantic_error(path, err, data) from None
    file = str(path)
    base: Scenario | None = None
    if sf.extends:
        parent = _extended(path, sf.extends)
        base = _load(parent, (*chain, resolved))
    hdr = sf.scenario
    given = hdr.model_fields_set

    def header(name: str) -> Any:
        if base is not None and name not in given:
            return getattr(base, name)
        return getattr(hdr, name)

    start_year, end_year = header("start_year"), header("end_year")
    if end_year < start_year:
        raise ScenarioError(
            "end_year is before start_year",
            file=file,
            field="scenario.end_year",
            value=end_year,
            expected=f"a year >= {start_year}",
        )

    # cities: from the base, then this file's (same name: update; new name: append)
    cities: list[CityDef] = list(base.cities) if base else []
    city_raw: list[dict[str, Any]] = [{} for _ in cities]
    for i, c in enumerate(sf.city):
        idx = next((k for k, x in enumerate(cities) if x.name == c.name), None)
        cd = CityDef(name=c.name, lat=c.lat, lon=c.lon, name_zh=c.name_zh, role=c.role)
        if idx is None:
            cities.append(cd)
            city_raw.append({})
            idx = len(cities) - 1
        else:
            cities[idx] = cd
        for pname, raw in c.params.items():
            city_raw[idx][pname] = (raw, f"city[{i}].params.{pname}")
    if not cities:
        raise ScenarioError(
            "the scenario has no cities",
            file=file,
            field="city",
            expected="at least one [[city]] table with name, lat and lon",
        )
    names = [c.name for c in cities]
    dupes = sorted(
        {c.name for i, c in enumerate(sf.city) if any(c.name == d.name for d in sf.city[:i])}
    )
    if dupes:
        raise ScenarioError(
            "duplicate city",
            file=file,
            field="city",
            value=dupes[0],
            expected="each city named once",
        )
    if len(cities) > 120:
        raise ScenarioError(
            "too many cities",
            file=file,
            field="city",
            value=len(cities),
            expected="at most 120 cities (city indices are int8)",
        )

    sources = dict(base.sources) if base else {}
    glob = dict(base.glob) if base else {n: BY_NAME[n].default for n in GLOBAL_NAMES}
    for pname, raw in sf.params.items():
        fld = f"params.{pname}"
        value, src = _split_value(raw, file, fld)
        glob[pname] = _check_value(pname, value, "global", file, fld)
        if src:
            sources[pname] = src

    n = len(cities)
    arrays: dict[str, np.ndarray] = {}
    for pname in CITY_NAMES:
        arr = np.full(n, BY_NAME[pname].default, dtype=np.float64)
        if base:
            for k, cd in enumerate(cities):
                if cd.name in base.city_names:
                    arr[k] = base.city[pname][base.city_index(cd.name)]
        arrays[pname] = arr
    for k, overrides in enumerate(city_raw):
        for pname, (raw, fld) in overrides.items():
            value, src = _split_value(raw, file, fld)
            arrays_v = _check_value(pname, value, "city", file, fld)
            arrays[pname][k] = arrays_v
            if src:
                sources[f"{cities[k].name}.{pname}"] = src

    waves = tuple(sf.wave) if sf.wave else (base.waves if base else DEFAULT_WAVES)
    policy = (base.policy if base else ()) + tuple(sf.policy)
    for i, pc in enumerate(sf.policy):
        if pc.city != "*" and pc.city not in names:
            raise ScenarioError(
                "unknown city",
                file=file,
                field=f"policy[{i}].city",
                value=pc.city,
                expected="'*' or one of " + ", ".join(names),
            )
        if pc.lever not in LEVERS:
            close = difflib.get_close_matches(pc.lever, LEVERS, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ScenarioError(
                "unknown policy lever" + hint,
                file=file,
                field=f"policy[{i}].lever",
                value=pc.lever,
                expected="one of " + ", ".join(LEVERS),
            )
        if pc.until is not None and pc.until <= pc.year:
            raise ScenarioError(
                "'until' is not after 'year'",
                file=file,
                field=f"policy[{i}].until",
                value=pc.until,
                expected=f"a year after {pc.year:g}",
            )
        if pc.mode == "set":
            _check_value(pc.lever, pc.value, "city", file, f"policy[{i}].value")

    return Scenario(
        name=hdr.name,
        title=header("title"),
        description=header("description"),
        path=file,
        start_year=start_year,
        end_year=end_year,
        reference_year=header("reference_year"),
        persons_per_agent=header("persons_per_agent"),
        seed=header("seed"),
        cities=tuple(cities),
        glob=glob,
        city=arrays,
        waves=waves,
        policy=policy,
        sources=sources,
    )
