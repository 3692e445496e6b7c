"""Explain the gap between two cities by exact Shapley values over parameter groups.

``innosim explain SCENARIO --gap A B --metric M`` splits the gap ``M(A) - M(B)`` (ensemble means
at the year read) across *groups* of city parameters (docs/compare_explain.md).

The game. The players are the groups ``G_1..G_n``. A coalition ``S`` is a set of groups; in the
coalition's scenario city ``B`` takes city ``A``'s values of every parameter in the groups of
``S`` (and, for a group with ``timeline = true``, ``A``'s policy timeline entries instead of its
own). Its value is how far that moves ``B`` toward ``A``::

    v(S) = M_B(scenario with S swapped) - M_B(baseline)          v(∅) = 0

With ``mirror=True`` the roles turn around: ``A`` takes ``B``'s values and
``v(S) = M_A(baseline) - M_A(scenario with S swapped)`` (how much of ``A``'s lead the groups
carry). Either way ``v`` is measured in units of the gap, ``v(all)`` is the part of the gap the
groups explain together, and ``gap - v(all)`` is the *residual*: what no swap of these groups
reaches (size, geography, GDP per capita, the other cities' reactions and every interaction with
them). It splits exactly into ``gap_left = M_A(all) - M_B(all)`` (the gap that remains with every
group swapped) and the ``reaction`` of the city that keeps its values.

Shapley values. ``φ_i = Σ_{S ⊆ N \\ {i}} |S|! (n-|S|-1)! / n! · (v(S ∪ {i}) - v(S))``, computed
exactly over all ``2^n`` coalitions (:func:`shapley_values`). They sum to ``v(all)``
(efficiency), give nothing to a group that changes nothing (null player) and split every
interaction equally between the groups involved.

Noise. Each coalition is an ensemble of ``R`` replicates, and replicate ``r`` of *every*
coalition uses the same seed (common random numbers). So ``v_r(S)`` for a fixed ``r`` is a value
function in its own right, its Shapley values ``φ_{i,r}`` satisfy efficiency exactly, and the
``R`` vectors ``φ_r`` are independent draws whose mean is the Shapley value of the mean game
(Shapley values are linear in ``v``). Reported: the mean, a 90% Student-t interval of the mean
(``lo``/``hi``) and the 5%/95% quantiles of ``φ_{i,r}`` over replicates (``q05``/``q95``).
Coalitions whose scenarios are identical (a group in which both cities have the same values)
run once.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from math import factorial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from innosim.engine.rng import replicate_seeds
from innosim.errors import InputError
from innosim.experiments.compare import (
    Figure,
    Progress,
    json_file,
    mean_interval,
    prepare,
    run_grid,
)
from innosim.experiments.ensemble import METRICS, REPLICATES, SEED, check_year
from innosim.experiments.executor import Executor
from innosim.inputs import dotted, pydantic_issue, read_toml
from innosim.outdir import write_outputs
from innosim.params import space
from innosim.params.declarations import BY_NAME
from innosim.params.scenario import PolicyChange, Scenario
from innosim.validation import validate_params

__all__ = [
    "DEFAULT_GROUPS",
    "EXPLAIN_COLUMNS",
    "MAX_GROUPS",
    "GapGroup",
    "coalition_scenario",
    "explain",
    "load_groups",
    "shapley_values",
    "write_explain",
]

MAX_GROUPS = 10
"""At most this many groups (2^10 = 1,024 coalitions)."""

EXPLAIN_COLUMNS: tuple[str, ...] = (
    "term",
    "kind",
    "mean",
    "lo",
    "hi",
    "q05",
    "q95",
    "se",
    "share_of_gap",
    "params",
)
"""Columns of :func:`explain`."""


@dataclass(frozen=True)
class GapGroup:
    """A player of the gap decomposition: city parameters (and optionally the policy timeline)
    swapped together.

    Attributes
    ----------
    name : str
    params : tuple of str
        City parameters the recipient city takes from the donor.
    timeline : bool
        The recipient's ``[[policy]]`` timeline entries are replaced by the donor's.
    note : str
        Why these parameters belong together.
    """

    name: str
    params: tuple[str, ...] = ()
    timeline: bool = False
    note: str = field(default="", compare=False)


DEFAULT_GROUPS: tuple[GapGroup, ...] = (
    GapGroup(
        "talent",
        space.GAP_GROUPS["talent"],
        note="The talent a city trains (university enrolment) and the base value of its talent "
        "programme. Population is left out: it is the city's size, which stays in the residual.",
    ),
    GapGroup(
        "culture",
        space.GAP_GROUPS["culture"],
        note="Tolerance of failure (C8-C10): how much of a failure is forgiven, the stigma and "
        "cost of restarting, process control and support for private firms.",
    ),
    GapGroup(
        "demand",
        space.GAP_GROUPS["demand"],
        note="The demand mix a young firm meets (C6, C7): consumer, enterprise and government "
        "demand and public procurement.",
    ),
    GapGroup(
        "capital",
        space.GAP_GROUPS["capital"],
        note="Venture capital per person at the start and investors' starting risk appetite (C9).",
    ),
    GapGroup(
        "place",
        space.GAP_GROUPS["place"],
        note="Place and hubs (C1, C2): labs, compute, chips, supply chain, links to other hubs and "
        "amenity. Coordinates are not swapped: geography stays in the residual.",
    ),
    GapGroup(
        "policy",
        space.GAP_GROUPS["policy"],
        timeline=True,
        note="Policy: the base values of the investment and subsidy levers and the city's "
        "[[policy]] timeline entries (which may set any lever from a year on).",
    ),
)
"""The default groups (shipped also as ``groups/default.toml``, to copy and edit), their
parameters taken from the declarations (:data:`innosim.params.space.GAP_GROUPS`). City
parameters left out, so in the residual: ``population`` (size) and ``productivity`` (GDP per
capita); the cities' coordinates are never swapped."""


# --------------------------------------------------------------------------- groups files


class _GroupModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    params: list[str] = []
    timeline: bool = False
    note: str = ""


class _GroupsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: list[_GroupModel] = Field(min_length=1)


def _groups_dirs() -> list[Path]:
    dirs = [Path.cwd() / "groups", Path(__file__).resolve().parents[3] / "groups"]
    return list(dict.fromkeys(dirs))


def check_groups(groups: Sequence[GapGroup], file: str) -> tuple[GapGroup, ...]:
    """Check a list of groups (names unique, known city parameters each in one group, at most
    one timeline group, 1 to :data:`MAX_GROUPS` groups); InputError naming ``file`` else."""
    groups = tuple(groups)
    if not 1 <= len(groups) <= MAX_GROUPS:
        raise InputError(
            "wrong number of groups",
            file=file,
            field="group",
            value=len(groups),
            expected=f"1 to {MAX_GROUPS} groups (2^n coalitions are run)",
        )
    seen: dict[str, str] = {}
    names: set[str] = set()
    timeline = None
    for i, g in enumerate(groups):
        if g.name in names:
            raise InputError(
                "duplicate group name",
                file=file,
                field=f"group[{i}].name",
                value=g.name,
                expected="each group named once",
            )
        names.add(g.name)
        if not g.params and not g.timeline:
            raise InputError(
                "the group swaps nothing",
                file=file,
                field=f"group[{i}].params",
                value=[],
                expected="at least one city parameter, or timeline = true",
            )
        for j, p in enumerate(g.params):
            spec = BY_NAME.get(p)
            if spec is None or spec.scope != "city":
                cities = [s.name for s in BY_NAME.values() if s.scope == "city"]
                raise InputError(
                    "unknown city parameter"
                    if spec is None
                    else f"'{p}' is a global parameter (the same in every city)",
                    file=file,
                    field=f"group[{i}].params[{j}]",
                    value=p,
                    expected="a city parameter: " + ", ".join(cities),
                )
            if p in seen:
                raise InputError(
                    f"parameter already in group '{seen[p]}'",
                    file=file,
                    field=f"group[{i}].params[{j}]",
                    value=p,
                    expected="each parameter in at most one group (Shapley players are disjoint)",
                )
            seen[p] = g.name
        if g.timeline:
            if timeline is not None:
                raise InputError(
                    f"the policy timeline is already swapped by group '{timeline}'",
                    file=file,
                    field=f"group[{i}].timeline",
                    value=True,
                    expected="timeline = true in at most one group",
                )
            timeline = g.name
    return groups


def load_groups(path: str | os.PathLike[str] | None = None) -> tuple[GapGroup, ...]:
    """Load a groups file (TOML: ``[[group]]`` tables with ``name``, ``params``, optional
    ``timeline`` and ``note``); ``None`` gives :data:`DEFAULT_GROUPS`. A bare name is looked up
    in ``./groups`` and the project's ``groups/``.

    Raises
    ------
    InputError
        Missing or malformed file, unknown fields or parameters, a parameter in two groups,
        more than one timeline group, duplicate names, too many groups.
    """
    if path is None:
        return DEFAULT_GROUPS
    p = Path(path)
    if not (p.suffix == ".toml" or p.exists() or os.sep in str(path)):
        for d in _groups_dirs():
            if (d / f"{path}.toml").is_file():
                p = d / f"{path}.toml"
                break
    file = str(p)
    if not p.is_file():
        raise InputError(
            "groups file not found",
            file="command line",
            field="--groups",
            value=str(path),
            expected="an existing TOML groups file, or comma-separated names of default groups: "
            + ", ".join(g.name for g in DEFAULT_GROUPS),
        )
    data = read_toml(p, "groups file")
    try:
        gf = _GroupsFile.model_validate(data)
    except ValidationError as err:
        loc, value, kind, msg = pydantic_issue(err, data)
        raise InputError(
            "unknown field" if kind == "extra_forbidden" else msg,
            file=file,
            field=dotted(loc),
            value=value,
            expected="[[group]] tables with name (text), params (list of city parameters), "
            "optional timeline (true/false) and note",
        ) from None
    groups = [GapGroup(g.name, tuple(g.params), g.timeline, g.note) for g in gf.group]
    return check_groups(groups, file)


def _resolve_groups(
    groups: str | os.PathLike[str] | Sequence[str | GapGroup] | Mapping[str, Any] | None,
) -> tuple[GapGroup, ...]:
    if groups is None or isinstance(groups, str | os.PathLike):
        return load_groups(groups)
    if isinstance(groups, Mapping):
        items = [
            v if isinstance(v, GapGroup) else GapGroup(str(k), tuple(v)) for k, v in groups.items()
        ]
        return check_groups(items, "groups argument")
    by_name = {g.name: g for g in DEFAULT_GROUPS}
    out = []
    for g in groups:
        if isinstance(g, GapGroup):
            out.append(g)
        elif g in by_name:
            out.append(by_name[g])
        else:
            raise InputError(
                "unknown group",
                file="command line",
                field="--groups",
                value=g,
                expected="a groups file or names of default groups: " + ", ".join(by_name),
            )
    return check_groups(out, "groups argument")


# --------------------------------------------------------------------------- Shapley values


def shapley_values(v: np.ndarray) -> np.ndarray:
    """Exact Shapley values of a game given by its values on every coalition.

    Parameters
    ----------
    v : numpy.ndarray
        Shape ``(2^n, ...)``: ``v[mask]`` is the value of the coalition whose members are the
        set bits of ``mask`` (player ``i`` is bit ``i``). Trailing axes (e.g. replicates) are
        carried along. ``v[0]`` need not be 0; only differences enter.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, ...)``: ``φ_i = Σ_{S ∌ i} |S|!(n-|S|-1)!/n! (v[S | i] - v[S])``. They sum to
        ``v[all] - v[0]`` (efficiency).
    """
    v = np.asarray(v, dtype=float)
    m = v.shape[0]
    n = m.bit_length() - 1
    if m != 1 << n or n < 1:
        raise ValueError(f"v must have 2^n rows for some n >= 1, got {m}")
    masks = np.arange(m)
    size = np.array([bin(k).count("1") for k in range(m)])
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    out = np.empty((n, *v.shape[1:]))
    for i in range(n):
        bit = 1 << i
        without = masks[(masks & bit) == 0]
        w = weight[size[without]].reshape(-1, *([1] * (v.ndim - 1)))
        out[i] = (w * (v[without | bit] - v[without])).sum(axis=0)
    return out


# --------------------------------------------------------------------------- coalitions


def coalition_scenario(
    sc: Scenario,
    groups: Sequence[GapGroup],
    mask: int,
    recipient: str,
    donor: str,
) -> Scenario:
    """The scenario of coalition ``mask``: ``recipient`` takes ``donor``'s values of the
    parameters of every group whose bit is set (and its policy timeline for a timeline group).

    Timeline swap: the recipient's own entries are removed, and every entry of the donor is
    followed by a copy addressed to the recipient (so entries for every city, ``"*"``, keep their
    order relative to the copies, as the donor sees them).
    """
    chosen = [g for i, g in enumerate(groups) if mask >> i & 1]
    j = sc.city_index(donor)
    values = {p: float(sc.city[p][j]) for g in chosen for p in g.params}
    out = sc.with_city_params(recipient, **values) if values else sc
    if any(g.timeline for g in chosen):
        timeline: list[PolicyChange] = []
        for e in sc.policy:
            if e.city == recipient:
                continue
            timeline.append(e)
            if e.city == donor:
                timeline.append(e.model_copy(update={"city": recipient}))
        out = replace(out, policy=tuple(timeline))
    return out


def _changed(sc: Scenario, g: GapGroup, recipient: str, donor: str) -> list[str]:
    i, j = sc.city_index(recipient), sc.city_index(donor)
    out = [p for p in g.params if sc.city[p][i] != sc.city[p][j]]
    if g.timeline:
        own = [e.model_dump(exclude={"city", "note"}) for e in sc.policy if e.city == recipient]
        theirs = [e.model_dump(exclude={"city", "note"}) for e in sc.policy if e.city == donor]
        if own != theirs:
            out.append("[[policy]] timeline")
    return out


# --------------------------------------------------------------------------- explain


@dataclass
class _Detail:
    phi: np.ndarray  # (n_groups, R)
    v: np.ndarray  # (2^n, R)
    gap: np.ndarray  # (R,)
    m_a: np.ndarray  # (2^n, R)
    m_b: np.ndarray  # (2^n, R)


@validate_params({"replicates": REPLICATES, "seed": SEED})
def explain(
    scenario: str | os.PathLike[str] | Scenario,
    *,
    gap: tuple[str, str],
    metric: str = "unicorns",
    groups: str | os.PathLike[str] | Sequence[str | GapGroup] | Mapping[str, Any] | None = None,
    replicates: int = 10,
    year: int | None = None,
    seed: int | None = None,
    scale: float | None = None,
    mirror: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Split the gap ``metric(A) - metric(B)`` across parameter groups by exact Shapley values.

    Parameters
    ----------
    scenario : str, path or Scenario
    gap : (str, str)
        Cities ``(A, B)``; the gap is ``A - B``.
    metric : str
        A yearly outcome (:data:`innosim.experiments.ensemble.METRICS`).
    groups : path, sequence or mapping, optional
        A groups file, names of default groups, :class:`GapGroup` objects, or a mapping
        ``name -> [parameters]``; default :data:`DEFAULT_GROUPS`.
    replicates : int
        Replicates per coalition (the same seeds in every coalition).
    year : int, optional
        Year at which the metric is read (default: the scenario's ``reference_year``); runs stop
        there.
    seed : int, optional
        Root seed (default: the scenario's).
    scale : float, optional
        Agent scale (see :func:`innosim.simulate`).
    mirror : bool
        ``False`` (default): ``B`` takes ``A``'s values, ``v(S) = M_B(S) - M_B(∅)``. ``True``:
        ``A`` takes ``B``'s values, ``v(S) = M_A(∅) - M_A(S)``.
    workers : int, optional
        Worker processes (default: one per CPU).
    progress : callable, optional
        Called as ``progress(runs_done, runs_total)``.
    executor : Executor, optional
        Where the runs go (:class:`innosim.experiments.executor.Executor`: a local pool, a Dask
        LocalCluster or a Dask scheduler); overrides ``workers``. Results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EXPLAIN_COLUMNS`. One row per group (``kind = "group"``: its Shapley
        value), then ``explained`` (``kind = "total"``, ``v(all)``, the sum of the groups),
        ``residual`` (``gap - v(all)``), its two parts (``kind = "residual_part"``):
        ``gap_left`` (``M_A(all) - M_B(all)``, the gap that remains in the scenario with every
        group swapped) and ``reaction`` (the rest: how the city that keeps its values changes
        when the other takes them, e.g. A losing people and capital to a B that became like it),
        and ``gap`` (the baseline gap ``A - B``). ``mean``;
        ``lo``/``hi`` a 90% t interval of the mean; ``q05``/``q95`` quantiles over replicates;
        ``se`` the standard error; ``share_of_gap = mean / mean gap``; ``params`` the group's
        parameters that differ between the two cities (empty: a null player). ``attrs``:
        ``scenario, city_a, city_b, metric, year, replicates, seed, scale, mirror, groups,
        level_a, level_b`` (baseline means), ``level_swapped`` (the recipient's mean with every
        group swapped), ``share_explained`` (``v(all) / gap``), ``gap_closed`` (``1 - gap_left /
        gap``, as :func:`innosim.gap_closed`), ``efficiency_error`` (largest
        ``|Σφ_r - v_r(all)|`` over replicates), ``coalitions`` (per coalition: groups, mean
        ``v``, the two cities' means), ``phi_replicates`` (per group, per replicate), ``runs``,
        ``seconds``.

    Raises
    ------
    InputError
        Unknown city or metric, the same city twice, a bad groups file, a year outside the
        scenario.
    """
    sc, n, root = prepare(scenario, scale, replicates, seed, workers)
    if metric not in METRICS:
        raise InputError(
            "unknown metric",
            file="command line",
            field="--metric",
            value=metric,
            expected="one of " + ", ".join(METRICS),
        )
    try:
        a, b = (str(x) for x in gap)
    except (TypeError, ValueError):
        raise InputError(
            "bad city pair",
            file="command line",
            field="--gap",
            value=gap,
            expected="two cities A B (the gap is A - B)",
        ) from None
    for c in (a, b):
        if c not in sc.city_names:
            raise InputError(
                "unknown city",
                file="command line",
                field="--gap",
                value=c,
                expected=f"a city of scenario {sc.name}: " + ", ".join(sc.city_names),
            )
    if a == b:
        raise InputError(
            "the two cities are the same",
            file="command line",
            field="--gap",
            value=f"{a} {b}",
            expected="two different cities",
        )
    gs = _resolve_groups(groups)
    y = check_year(year, sc, min(max(sc.reference_year, sc.start_year), sc.end_year))
    recipient, donor = (a, b) if mirror else (b, a)
    t0 = time.perf_counter()
    base = sc.with_end_year(y)
    k = len(gs)
    scenarios = [coalition_scenario(base, gs, mask, recipient, donor) for mask in range(1 << k)]
    seeds = replicate_seeds(root, n)
    arr = run_grid(scenarios, seeds, workers=workers, progress=progress, executor=executor)
    mi = METRICS.index(metric)
    ia, ib = sc.city_index(a), sc.city_index(b)
    m_a, m_b = arr[:, :, ia, mi], arr[:, :, ib, mi]  # (2^k, R)
    v = (m_a[0] - m_a) if mirror else (m_b - m_b[0])
    phi = shapley_values(v)
    d = _Detail(phi=phi, v=v, gap=m_a[0] - m_b[0], m_a=m_a, m_b=m_b)
    out = _table(d, gs, sc, recipient, donor)
    eff = float(np.max(np.abs(phi.sum(axis=0) - v[-1]))) if n else 0.0
    gap_mean = float(d.gap.mean())
    recip = m_a if mirror else m_b
    out.attrs.update(
        scenario=sc.name,
        city_a=a,
        city_b=b,
        metric=metric,
        year=y,
        replicates=n,
        seed=root,
        scale=1.0 if scale is None else float(scale),
        mirror=bool(mirror),
        game=(
            "A takes B's values; v(S) = M_A(baseline) - M_A(S swapped)"
            if mirror
            else "B takes A's values; v(S) = M_B(S swapped) - M_B(baseline)"
        ),
        groups=[
            {"name": g.name, "params": list(g.params), "timeline": g.timeline, "note": g.note}
            for g in gs
        ],
        level_a=float(m_a[0].mean()),
        level_b=float(m_b[0].mean()),
        level_swapped=float(recip[-1].mean()),
        share_explained=float(v[-1].mean() / gap_mean) if gap_mean != 0 else math.nan,
        gap_closed=float(1 - (m_a[-1] - m_b[-1]).mean() / gap_mean) if gap_mean else math.nan,
        efficiency_error=eff,
        coalitions=[
            {
                "mask": mask,
                "groups": [g.name for i, g in enumerate(gs) if mask >> i & 1],
                "v_mean": float(v[mask].mean()),
                "a_mean": float(m_a[mask].mean()),
                "b_mean": float(m_b[mask].mean()),
            }
            for mask in range(1 << k)
        ],
        phi_replicates={g.name: phi[i].tolist() for i, g in enumerate(gs)},
        runs=n * len({s.hash for s in scenarios}),
        seconds=round(time.perf_counter() - t0, 2),
    )
    return out


def _row(term: str, kind: str, x: np.ndarray, gap_mean: float, params: str = "") -> dict:
    mean, se, half = mean_interval(x)
    mean, se, half = float(mean), float(se), float(half)
    return {
        "term": term,
        "kind": kind,
        "mean": mean,
        "lo": mean - half,
        "hi": mean + half,
        "q05": float(np.quantile(x, 0.05)),
        "q95": float(np.quantile(x, 0.95)),
        "se": se,
        "share_of_gap": mean / gap_mean if gap_mean != 0 else math.nan,
        "params": params,
    }


def _table(
    d: _Detail, gs: Sequence[GapGroup], sc: Scenario, recipient: str, donor: str
) -> pd.DataFrame:
    gap_mean = float(d.gap.mean())
    rows = [
        _row(g.name, "group", d.phi[i], gap_mean, ", ".join(_changed(sc, g, recipient, donor)))
        for i, g in enumerate(gs)
    ]
    rows.append(_row("explained", "total", d.v[-1], gap_mean))
    residual = d.gap - d.v[-1]
    gap_left = d.m_a[-1] - d.m_b[-1]
    rows.append(_row("residual", "residual", residual, gap_mean))
    rows.append(_row("gap_left", "residual_part", gap_left, gap_mean))
    rows.append(_row("reaction", "residual_part", residual - gap_left, gap_mean))
    rows.append(_row("gap", "gap", d.gap, gap_mean))
    return pd.DataFrame(rows, columns=list(EXPLAIN_COLUMNS))


def write_explain(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    figures: Mapping[str, Figure] | None = None,
) -> list[Path]:
    """Write ``explain.csv`` (the table), ``explain.json`` (table and attributes: coalitions,
    per-replicate Shapley values) and ``coalitions.csv`` into ``out_dir``, all atomically, with
    the ``figures`` drawn from the table (file name -> ``draw(df, path)``;
    the report layer's ``write_explain`` adds ``waterfall.png``)."""
    coal = pd.DataFrame(df.attrs["coalitions"])
    coal["groups"] = coal["groups"].map(lambda g: "+".join(g))
    return write_outputs(
        out_dir,
        {
            "explain.csv": lambda p: df.to_csv(p, index=False),
            "explain.json": lambda p: json_file(p, df, "rows"),
            "coalitions.csv": lambda p: coal.to_csv(p, index=False),
            **{name: partial(draw, df) for name, draw in (figures or {}).items()},
        },
    )
