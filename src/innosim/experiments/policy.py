"""Policy files: a policy timeline and parameter settings applied on top of a scenario.

A policy file (TOML, docs/compare_explain.md) describes *one intervention* to compare with a
scenario's baseline (``innosim compare``):

.. code-block:: toml

    [about]                     # optional
    name = "tolerance"
    title = "A city forgives failure from 2025"

    [[policy]]                  # timeline entries, the fields of a scenario's [[policy]]
    city = "B"
    lever = "failure_tolerance"
    year = 2025
    value = 0.8
    note = "bankruptcy reform"

    [[set]]                     # parameters set from a year on (or from the start)
    city = "B"                  # omit for a global parameter; "*" for every city
    param = "vc_capital_per_person"
    value = 6.0

``[[policy]]`` entries have the fields of a scenario's timeline (``city, lever, year, value``,
optional ``mode, until, note``). An entry whose ``(city, lever, year)`` equals an entry of the
scenario replaces it in place; any other entry is appended after the scenario's entries (entries
apply in order, so it wins from its year on).

``[[set]]`` entries set a parameter (``param``) to ``value``. Without ``year`` (or with a year
at or before the scenario's start) the value replaces the scenario's from the start: a city
parameter's base value or a global parameter. With a later ``year`` the parameter must be a city
*lever* (only levers change during a run, through the policy timeline): the entry becomes a
``set`` timeline entry from that year, appended after the ``[[policy]]`` entries.

Validation happens in two steps, each naming the file and the field: :func:`load_policy` checks
what the file alone can tell (fields, lever and parameter names, bounds of ``set`` values);
:func:`apply_policy` checks it against a scenario (cities, years within the horizon) and returns
the policy scenario.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from innosim.errors import InputError, ScenarioError
from innosim.inputs import dotted, pydantic_issue, read_toml
from innosim.params.declarations import BY_NAME, LEVERS
from innosim.params.scenario import PolicyChange, Scenario

__all__ = ["PolicyFile", "apply_policy", "find_policy", "load_policy"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _About(_Strict):
    name: str = ""
    title: str = ""
    description: str = ""


class _SetEntry(_Strict):
    param: str = Field(min_length=1)
    value: float
    city: str | None = None
    year: float | None = Field(default=None, ge=1900, le=2300)
    note: str = ""
    source: str = ""


class _PolicyFileModel(_Strict):
    about: _About = _About()
    policy: list[PolicyChange] = []  # the scenario files' own [[policy]] schema
    set: list[_SetEntry] = []


@dataclass(frozen=True)
class PolicyFile:
    """A loaded, validated policy file (not yet applied to a scenario).

    Attributes
    ----------
    path : str
        The file it came from (``"<memory>"`` when built in Python).
    name, title, description : str
        From ``[about]`` (``name`` defaults to the file's stem).
    policy : tuple of PolicyChange
        Timeline entries, in file order.
    sets : tuple of dict
        ``[[set]]`` entries: ``param, value, city`` (None: global), ``year`` (None: from the
        start), ``note``.
    """

    path: str
    name: str
    title: str
    description: str
    policy: tuple[PolicyChange, ...]
    sets: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content (recorded with results)."""
        return {
            "path": self.path,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "policy": [p.model_dump() for p in self.policy],
            "set": [dict(s) for s in self.sets],
        }


def _policy_dirs() -> list[Path]:
    dirs = [Path.cwd() / "policies", Path(__file__).resolve().parents[3] / "policies"]
    return list(dict.fromkeys(dirs))


def find_policy(ref: str | os.PathLike[str]) -> Path:
    """A policy file from a path or the name of a file in ``./policies`` or the project's
    ``policies/`` (InputError listing the names found otherwise)."""
    p = Path(ref)
    if p.suffix == ".toml" or p.exists() or os.sep in str(ref):
        if not p.is_file():
            raise InputError(
                "policy file not found",
                file=str(p),
                field="--policy",
                value=str(ref),
                expected="an existing TOML policy file or the name of one in policies/",
            )
        return p
    known: dict[str, Path] = {}
    for d in _policy_dirs():
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                known.setdefault(f.stem, f)
    if str(ref) in known:
        return known[str(ref)]
    raise InputError(
        "unknown policy file",
        file="command line",
        field="--policy",
        value=str(ref),
        expected="a path to a .toml file or one of: " + (", ".join(sorted(known)) or "(none)"),
    )


def _value_error(name: str, value: float, file: str, fld: str) -> None:
    spec = BY_NAME[name]
    if not spec.low <= value <= spec.high:
        raise InputError(
            "value out of bounds", file=file, field=fld, value=value, expected=spec.expected()
        )
    if spec.integer and value != int(value):
        raise InputError(
            "not a whole number", file=file, field=fld, value=value, expected=spec.expected()
        )


def _known(name: str, names: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def load_policy(path: str | os.PathLike[str]) -> PolicyFile:
    """Load and validate a policy file.

    Parameters
    ----------
    path : str or path
        A path, or the name of a file in ``policies/`` (see :func:`find_policy`).

    Returns
    -------
    PolicyFile

    Raises
    ------
    InputError
        Missing or malformed file, unknown fields, unknown levers or parameters, a ``set`` value
        outside its parameter's bounds, an empty file; the message names file, field, value and
        what was expected.
    """
    p = find_policy(path)
    file = str(p)
    data = read_toml(p, "policy file")
    try:
        pf = _PolicyFileModel.model_validate(data)
    except ValidationError as err:
        loc, value, kind, msg = pydantic_issue(err, data)
        if kind == "extra_forbidden":
            raise InputError(
                "unknown field",
                file=file,
                field=dotted(loc),
                value=value,
                expected="[about] (name, title, description), [[policy]] (city, lever, year, "
                "value, mode, until, note) and [[set]] (param, value, city, year, note, source)",
            ) from None
        raise InputError(
            "required field is missing" if kind == "missing" else msg,
            file=file,
            field=dotted(loc),
            value=value,
            expected="see docs/compare_explain.md (policy files)",
        ) from None
    if not pf.policy and not pf.set:
        raise InputError(
            "the policy file changes nothing",
            file=file,
            field="policy",
            expected="at least one [[policy]] or [[set]] entry",
        )
    entries: list[PolicyChange] = []
    for i, e in enumerate(pf.policy):
        if e.lever not in LEVERS:
            raise InputError(
                "unknown policy lever" + _known(e.lever, LEVERS),
                file=file,
                field=f"policy[{i}].lever",
                value=e.lever,
                expected="one of " + ", ".join(LEVERS),
            )
        if e.mode == "set":
            _value_error(e.lever, e.value, file, f"policy[{i}].value")
        if e.until is not None and e.until <= e.year:
            raise InputError(
                "'until' is not after 'year'",
                file=file,
                field=f"policy[{i}].until",
                value=e.until,
                expected=f"a year after {e.year:g}",
            )
        entries.append(e)
    sets: list[dict[str, Any]] = []
    for i, s in enumerate(pf.set):
        spec = BY_NAME.get(s.param)
        if spec is None:
            raise InputError(
                "unknown parameter" + _known(s.param, list(BY_NAME)),
                file=file,
                field=f"set[{i}].param",
                value=s.param,
                expected="a declared parameter (run 'innosim params' to list them)",
            )
        if spec.scope == "global" and s.city not in (None, ""):
            raise InputError(
                f"'{s.param}' is a global parameter: it has no city",
                file=file,
                field=f"set[{i}].city",
                value=s.city,
                expected="no 'city' field for a global parameter",
            )
        if spec.scope == "city" and not s.city:
            raise InputError(
                f"'{s.param}' is a city parameter: say which city",
                file=file,
                field=f"set[{i}].city",
                expected="a city of the scenario, or '*' for every city",
            )
        _value_error(s.param, s.value, file, f"set[{i}].value")
        sets.append(
            {
                "param": s.param,
                "value": float(s.value),
                "city": s.city or None,
                "year": s.year,
                "note": s.note or s.source,
            }
        )
    return PolicyFile(
        path=file,
        name=pf.about.name or p.stem,
        title=pf.about.title,
        description=pf.about.description,
        policy=tuple(entries),
        sets=tuple(sets),
    )


def _check_year(year: float, sc: Scenario, file: str, fld: str) -> None:
    if not sc.start_year <= year < sc.end_year + 1:
        raise InputError(
            "year outside the scenario's horizon",
            file=file,
            field=fld,
            value=year,
            expected=f"a year from {sc.start_year} to before {sc.end_year + 1} (scenario "
            f"{sc.name} runs {sc.start_year}-{sc.end_year})",
        )


def _check_city(city: str, sc: Scenario, file: str, fld: str) -> None:
    if city != "*" and city not in sc.city_names:
        raise InputError(
            "unknown city" + _known(city, list(sc.city_names)),
            file=file,
            field=fld,
            value=city,
            expected=f"'*' or a city of scenario {sc.name}: " + ", ".join(sc.city_names),
        )


def apply_policy(scenario: Scenario, policy: PolicyFile) -> Scenario:
    """The scenario with the policy file applied (see the module docstring for the rules).

    Raises
    ------
    InputError
        A city the scenario does not have, a year outside its horizon, or a non-lever parameter
        set from a year after the start (naming the policy file and the field).
    """
    file = policy.path
    sc = scenario
    timeline = list(sc.policy)
    glob: dict[str, float] = {}
    per_city: dict[str, dict[str, float]] = {}
    for i, e in enumerate(policy.policy):
        _check_city(e.city, sc, file, f"policy[{i}].city")
        _check_year(e.year, sc, file, f"policy[{i}].year")
        same = next(
            (
                k
                for k, old in enumerate(timeline)
                if (old.city, old.lever, old.year) == (e.city, e.lever, e.year)
            ),
            None,
        )
        if same is None:
            timeline.append(e)
        else:
            timeline[same] = e
    for i, s in enumerate(policy.sets):
        year = s["year"]
        fld = f"set[{i}]"
        if s["city"] is not None:
            _check_city(s["city"], sc, file, f"{fld}.city")
        if year is not None:
            _check_year(year, sc, file, f"{fld}.year")
        from_start = year is None or year <= sc.start_year
        if not from_start:
            if not BY_NAME[s["param"]].lever:
                raise InputError(
                    f"'{s['param']}' is not a policy lever, so it cannot change during a run",
                    file=file,
                    field=f"{fld}.year",
                    value=year,
                    expected=f"no year (or {sc.start_year}) to set it from the start, or a lever: "
                    + ", ".join(LEVERS),
                )
            timeline.append(
                PolicyChange(
                    city=s["city"], lever=s["param"], year=year, value=s["value"], note=s["note"]
                )
            )
        elif s["city"] is None:
            glob[s["param"]] = s["value"]
        else:
            targets = sc.city_names if s["city"] == "*" else (s["city"],)
            for c in targets:
                per_city.setdefault(c, {})[s["param"]] = s["value"]
    try:
        if glob:
            sc = sc.with_global_params(**glob)
        for c, values in per_city.items():
            sc = sc.with_city_params(c, **values)
    except ScenarioError as e:  # pragma: no cover - values were checked in load_policy
        raise InputError(
            e.problem, file=file, field=e.field, value=e.value, expected=e.expected
        ) from None
    return replace(sc, policy=tuple(timeline), path="<memory>")
