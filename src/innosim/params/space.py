"""The parameter space, declared once: groups and ranges taken from the declarations.

Everything that varies parameters (sweeps, sensitivity analysis, calibration, gap
decomposition, the dashboard's sliders) reads the space from here, and here reads it from the
:class:`~innosim.params.spec.ParamSpec` declarations in :mod:`innosim.params.declarations`
(name, scope, unit, bounds, default, lever group). Nothing else lists parameters by hand.

Groups
------
:data:`GROUPS` are the declared groups; :func:`group_params` lists a group's parameters in
declaration order; :func:`pick` names a selection out of one declared group (refusing, at import,
a name that is not declared in that group). The default selections of the experiments and the
dashboard's panels are built with it (see :data:`SENSITIVITY_FACTORS`, :data:`GAP_GROUPS`,
:data:`DASHBOARD_PANELS`).

Ranges
------
One grammar for a varied parameter, whoever reads it::

    RANGES := RANGE ("," RANGE)*
    RANGE  := [CITY "."] NAME ["=" (LOW ":" HIGH [":" N] | V1 "," V2 ...)]

* ``NAME`` a declared parameter; ``CITY.NAME`` one city's value of a city parameter;
* ``LOW:HIGH`` an inclusive range, ``:N`` the number of grid points;
* ``V1,V2,...`` listed values (a comma followed by a number continues the list, a comma
  followed by a name starts the next range);
* a bare ``NAME`` leaves the range to the caller (e.g. sensitivity's ``value ± 50%``).

:func:`parse_range` reads one range, :func:`parse_ranges` a comma-separated list. A caller says
which forms it accepts (``sweep`` takes every form but the bare name; ``sensitivity`` and
``calibrate`` take ``NAME`` and ``NAME=LOW:HIGH``); a form it does not take is refused with an
error naming the form it does.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

from innosim.errors import InputError
from innosim.params.declarations import BY_NAME, PARAMS
from innosim.params.spec import Group, ParamSpec

if TYPE_CHECKING:  # annotations only: the scenario module imports nothing from here
    from innosim.params.scenario import Scenario

__all__ = [
    "DASHBOARD_PANELS",
    "FORMS",
    "GAP_GROUPS",
    "GROUPS",
    "RANGE_SYNTAX",
    "SENSITIVITY_FACTORS",
    "RangeSpec",
    "bounds",
    "group_params",
    "lever_groups",
    "parse_range",
    "parse_ranges",
    "pick",
    "split_ranges",
]

GROUPS: tuple[str, ...] = get_args(Group)
"""The declared parameter groups (``ParamSpec.group``), in the schema's order."""


def group_params(
    group: str, *, scope: str | None = None, lever: bool | None = None
) -> tuple[str, ...]:
    """The parameters declared in ``group`` (optionally only those of a ``scope``, or only
    levers / non-levers), in declaration order."""
    if group not in GROUPS:
        raise ValueError(f"unknown parameter group {group!r}; expected one of {GROUPS}")
    return tuple(
        p.name
        for p in PARAMS
        if p.group == group
        and (scope is None or p.scope == scope)
        and (lever is None or p.lever == lever)
    )


def bounds(name: str) -> tuple[float, float]:
    """The declared inclusive ``(low, high)`` of a parameter: the widest range anything may vary
    it over (a slider's ends, a sweep's or a calibration prior's limits)."""
    spec = BY_NAME[name]
    return float(spec.low), float(spec.high)


def lever_groups() -> dict[str, tuple[str, ...]]:
    """Every declared group that has city levers -> those levers, in declaration order."""
    out = {g: group_params(g, scope="city", lever=True) for g in GROUPS}
    return {g: ps for g, ps in out.items() if ps}


def pick(group: str, *names: str) -> tuple[str, ...]:
    """``names``, each checked to be a city parameter declared in ``group`` (ValueError, at
    import of the module that declares the selection, otherwise)."""
    members = group_params(group, scope="city")
    for name in names:
        if name not in members:
            raise ValueError(f"{name!r} is not a city parameter of the declared group {group!r}")
    return tuple(names)


SENSITIVITY_FACTORS: tuple[str, ...] = (
    *pick("culture", "failure_tolerance", "stigma"),
    *pick("demand", "demand_consumer"),
    *pick("capital", "risk_appetite"),
    *pick("place", "labs", "compute"),
)
"""City parameters ``innosim sensitivity`` varies by default (for the city of ``--city``):
culture, demand, capital and the research and compute base. ``talent_programme`` is not among
them because the shipped scenarios' policy timelines *set* it from a year on, which would hide
the base value's effect."""

GAP_GROUPS: dict[str, tuple[str, ...]] = {
    "talent": (*pick("talent", "students_enrolled"), *pick("policy", "talent_programme")),
    "culture": group_params("culture", scope="city"),
    "demand": group_params("demand", scope="city"),
    "capital": group_params("capital", scope="city"),
    "place": pick("place", "labs", "compute", "chips", "supply_chain", "hub_link", "amenity"),
    "policy": tuple(p for p in group_params("policy", scope="city") if p != "talent_programme"),
}
"""The players of ``innosim explain``'s default gap decomposition: the declared groups' city
parameters, except that the talent player is the city's enrolment with the base value of its
talent programme (a policy lever: it acts on talent), the policy player the other policy
levers, and ``population`` (the city's size) and ``productivity`` (its GDP per capita) stay in
the residual. ``place`` is the whole declared group, in the order the shipped
``groups/default.toml`` lists it."""

DASHBOARD_PANELS: dict[str, tuple[str, ...]] = {
    "culture": pick("culture", "failure_tolerance"),
    "demand": pick("demand", "demand_consumer", "demand_enterprise", "demand_government"),
    "capital": pick("capital", "risk_appetite"),
    "place": (
        *pick("place", "labs", "compute"),
        *pick("policy", "lab_investment", "compute_investment"),
    ),
    "talent": pick("policy", "talent_programme"),
}
"""The dashboard's lever panels (panel -> city parameters, each taken from its declared group):
the research base with the policy levers that build it, the talent programme on the talent
panel."""


# --------------------------------------------------------------------------- ranges

RANGE_SYNTAX = (
    "NAME=LOW:HIGH[:N] or NAME=V1,V2,... where NAME is a parameter or CITY.PARAMETER, "
    "e.g. failure_tolerance=0.3:0.9:5"
)
"""The range grammar, as error messages state it."""

FORMS = ("name", "span", "grid", "list")
"""The forms of a range: ``NAME``, ``NAME=LOW:HIGH``, ``NAME=LOW:HIGH:N``, ``NAME=V1,V2,...``."""

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_CONTINUES = re.compile(r"^\s*[+-]?(\d|\.\d)")


@dataclass(frozen=True)
class RangeSpec:
    """One parsed range.

    Attributes
    ----------
    text : str
        What was typed.
    name : str
        The declared parameter.
    city : str or None
        The city prefix (``None``: none was given).
    low, high : float or None
        The inclusive range (``None`` for a bare name).
    n : int or None
        Grid points (``LOW:HIGH:N``).
    values : tuple of float
        Listed values (``V1,V2,...``); ``low``/``high`` are their minimum and maximum.
    """

    text: str
    name: str
    city: str | None
    low: float | None
    high: float | None
    n: int | None = None
    values: tuple[float, ...] = ()

    @property
    def spec(self) -> ParamSpec:
        return BY_NAME[self.name]

    @property
    def form(self) -> str:
        if self.values:
            return "list"
        if self.low is None:
            return "name"
        return "grid" if self.n is not None else "span"


def _expected(forms: Collection[str]) -> str:
    if set(forms) >= {"span", "grid", "list"}:
        return RANGE_SYNTAX + ("" if "name" not in forms else "; or a bare NAME")
    shown = {"name": "NAME", "span": "NAME=LOW:HIGH", "grid": "NAME=LOW:HIGH:N"}
    shown["list"] = "NAME=V1,V2,..."
    words = [shown[f] for f in FORMS if f in forms]
    return (
        " or ".join(words) + " where NAME is a parameter or CITY.PARAMETER, "
        "e.g. failure_tolerance=0.3:0.9"
    )


def _num(text: str, raw: str, field: str, forms: Collection[str]) -> float:
    t = text.strip()
    if not _NUMBER.match(t):
        raise InputError(
            "not a number", file="command line", field=field, value=raw, expected=_expected(forms)
        )
    return float(t)


def parse_range(
    text: str,
    scenario: Scenario | None = None,
    *,
    field: str = "--param",
    forms: Collection[str] = ("span", "grid", "list"),
    strict: bool = False,
) -> RangeSpec:
    """Parse one range (see the module docstring) and check it against the declarations (and,
    given a scenario, its cities).

    Parameters
    ----------
    text : str
    scenario : Scenario, optional
        Checks a city prefix against its cities.
    field : str
        The option errors name (``--param``, ``--params``, ``--free``).
    forms : collection of str
        The forms accepted (:data:`FORMS`).
    strict : bool
        Refuse ``LOW == HIGH`` too (a range that must have a width).

    Raises
    ------
    InputError
        Bad syntax or a form not accepted, unknown parameter (with close matches) or city, a city
        prefix on a global parameter, values out of the declared bounds, an empty range, a bad
        ``N``, a value listed twice.
    """
    bad = set(forms) - set(FORMS)
    if bad or not forms:
        raise ValueError(f"forms must be a non-empty subset of {FORMS}, not {tuple(forms)}")
    raw = str(text)
    lhs, eq, rhs = (s.strip() for s in raw.partition("="))
    if not eq and "name" not in forms:
        raise InputError(
            "bad parameter range",
            file="command line",
            field=field,
            value=raw,
            expected=_expected(forms),
        )
    city: str | None = None
    name = lhs
    if "." in lhs:
        city, name = (s.strip() for s in lhs.rsplit(".", 1))
    spec = BY_NAME.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(BY_NAME), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(
            "unknown parameter" + hint,
            file="command line",
            field=field,
            value=raw,
            expected="a declared parameter (run 'innosim params' to list them), optionally "
            "prefixed by a city: CITY.NAME",
        )
    if city is not None:
        if spec.scope == "global":
            raise InputError(
                f"'{name}' is a global parameter: it has no per-city value",
                file="command line",
                field=field,
                value=raw,
                expected=f"'{name}' without a city prefix",
            )
        if scenario is not None and city not in scenario.city_names:
            raise InputError(
                "unknown city",
                file="command line",
                field=field,
                value=raw,
                expected=f"a city of {scenario.name}: " + ", ".join(scenario.city_names),
            )
    if not eq:
        return RangeSpec(raw, name, city, None, None)
    where = f"{field} {lhs}"
    n: int | None = None
    values: tuple[float, ...] = ()
    if "," in rhs:
        if "list" not in forms:
            raise InputError(
                "a list of values is not accepted here",
                file="command line",
                field=where,
                value=raw,
                expected=_expected(forms),
            )
        values = tuple(_num(v, raw, where, forms) for v in rhs.split(","))
        if len(set(values)) != len(values):
            raise InputError(
                "a value is listed twice",
                file="command line",
                field=where,
                value=raw,
                expected="distinct values",
            )
        low, high = min(values), max(values)
    else:
        parts = rhs.split(":")
        allowed = {2: "span", 3: "grid"}
        if len(parts) not in allowed or allowed[len(parts)] not in forms:
            problem = "bad parameter range"
            if len(parts) == 3 and "span" in forms:
                problem = "a number of grid points is not accepted here"
            raise InputError(
                problem, file="command line", field=where, value=raw, expected=_expected(forms)
            )
        low, high = _num(parts[0], raw, where, forms), _num(parts[1], raw, where, forms)
        if len(parts) == 3:
            t = parts[2].strip()
            if not t.isdigit() or not 1 <= int(t) <= 10_000:
                raise InputError(
                    "bad number of grid points",
                    file="command line",
                    field=where,
                    value=raw,
                    expected="N a whole number in [1, 10000]",
                )
            n = int(t)
        if low > high or (strict and low == high):
            raise InputError(
                "the range is empty (LOW > HIGH)"
                if low > high
                else "the range is empty (LOW = HIGH)",
                file="command line",
                field=where,
                value=raw,
                expected=f"LOW {'<' if strict else '<='} HIGH, e.g. {name}="
                f"{min(low, high):g}:{max(low, high) if low != high else spec.high:g}",
            )
    for v in values or (low, high):
        if not math.isfinite(v) or not spec.low <= v <= spec.high:
            raise InputError(
                "value outside the parameter's bounds",
                file="command line",
                field=where,
                value=v,
                expected=spec.expected(),
            )
        if spec.integer and values and v != int(v):
            raise InputError(
                "not a whole number",
                file="command line",
                field=where,
                value=v,
                expected=spec.expected(),
            )
    return RangeSpec(raw, name, city, float(low), float(high), n, values)


def split_ranges(text: str) -> list[str]:
    """Split a comma-separated list of ranges: a comma followed by a number continues a list of
    values (``x=1,2``), any other comma starts the next range (``x=1:2,City.y``)."""
    items: list[str] = []
    for piece in text.split(","):
        if items and "=" in items[-1] and _CONTINUES.match(piece):
            items[-1] += "," + piece
        else:
            items.append(piece)
    return [s.strip() for s in items if s.strip()]


def parse_ranges(
    specs: str | Sequence[str],
    scenario: Scenario | None = None,
    *,
    field: str = "--params",
    forms: Collection[str] = ("name", "span"),
    strict: bool = True,
) -> list[RangeSpec]:
    """Parse ranges given as a comma-separated string (:func:`split_ranges`) or a sequence of
    strings (each may itself be a comma-separated list), each with :func:`parse_range`.

    Raises
    ------
    InputError
        No range at all, or a bad one (see :func:`parse_range`).
    """
    texts = [specs] if isinstance(specs, str) else [str(s) for s in specs]
    items = [item for t in texts for item in split_ranges(t)]
    if not items:
        raise InputError(
            "no parameter named",
            file="command line",
            field=field,
            value=specs,
            expected="comma-separated NAME or NAME=LOW:HIGH, e.g. 'failure_tolerance=0.2:0.9'",
        )
    return [parse_range(i, scenario, field=field, forms=forms, strict=strict) for i in items]
