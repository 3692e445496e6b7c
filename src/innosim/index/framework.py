"""Step 1 of the JRC handbook: the framework file, and the indicator matrix it defines.

A framework is a TOML file (the shipped one is ``innosim/index/frameworks/top.toml``, documented
indicator by indicator in ``docs/index.md``)::

    [framework]
    name = "top"
    year = 2024                      # vintage cap: each value is the latest at or before it

    [framework.pillar_weights]       # optional; must sum to 1
    Talent = 0.3333333333
    ...

    [[indicator]]
    name = "students_per_10k"        # column of the indicator matrix
    pillar = "Talent"
    sub_pillar = "education"         # optional
    source = "Students enrolled (...)"   # an indicator of the dataset, or a list (first found)
    denominator = "Resident population (year-end)"   # optional, an indicator of the dataset
    scale = 10000                    # value = source / denominator * scale
    direction = 1                    # +1 more is better, -1 less is better
    weight = 0.5                     # optional; given for all indicators of a pillar or none
    year = 2023                      # optional vintage cap of the source
    denominator_year = 2024          # optional vintage cap of the denominator
    unit = "students per 10k residents"
    rationale = "why this indicator measures the pillar"

:func:`load_framework` reads and validates it (unknown keys, a bad direction, weights that do
not sum to 1 within a pillar, malformed TOML: :class:`~innosim.errors.InputError` naming the
file, the field, the value and what was expected). :meth:`FrameworkSpec.check_data` refuses an
indicator (or denominator) the dataset does not have. :func:`indicator_matrix` turns a loaded
dataset into the matrix ``X`` (cities x indicators) the statistical core works on, with a
long coverage table saying where each value came from.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from innosim.data import resolve
from innosim.errors import InputError
from innosim.inputs import dotted, pydantic_issue, read_toml

__all__ = [
    "DEFAULT_FRAMEWORK",
    "PILLARS",
    "Framework",
    "FrameworkSpec",
    "Indicator",
    "IndicatorSpec",
    "check_weights",
    "default_framework_path",
    "framework_weights",
    "indicator_matrix",
    "load_framework",
    "normalise_within_pillar",
]

#: File name of the shipped framework inside the package (``innosim/index/frameworks/``).
DEFAULT_FRAMEWORK = "top.toml"
_WEIGHT_TOL = 1e-6


#: The pillars of the TOP frame, in display order.
PILLARS: tuple[str, ...] = ("Talent", "Organization", "Place")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the framework.

    Parameters
    ----------
    name : str
        Column name in the data matrix ``X``.
    pillar : str
        Pillar it is aggregated into (``Talent``, ``Organization`` or ``Place`` in the TOP frame).
    sub_pillar : str or None
        Optional sub-pillar; indicators without one form one unnamed sub-pillar of the pillar.
    direction : int
        ``+1`` when more is better, ``-1`` when less is better.
    weight : float
        Nominal (user) weight; non-negative.
    """

    name: str
    pillar: str
    sub_pillar: str | None = None
    direction: int = 1
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.direction not in (1, -1):
            raise InputError(
                f"indicator {self.name!r} has direction {self.direction!r}",
                field=f"{self.name}.direction",
                value=self.direction,
                expected="+1 or -1",
            )
        w = float(self.weight)
        if not np.isfinite(w) or w < 0:
            raise InputError(
                f"indicator {self.name!r} has weight {self.weight!r}",
                field=f"{self.name}.weight",
                value=self.weight,
                expected="a finite number >= 0",
            )


@dataclass(frozen=True)
class Framework:
    """An indicator framework: indicators grouped into pillars (and sub-pillars).

    Parameters
    ----------
    indicators : tuple of Indicator
        The indicators, in order; names must be unique.
    pillar_weights : mapping of str to float, optional
        Weights of the pillars in the overall score; equal when omitted.
    """

    indicators: tuple[Indicator, ...]
    pillar_weights: Mapping[str, float] | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", tuple(self.indicators))
        if not self.indicators:
            raise InputError("the framework has no indicators", expected="at least one")
        names = [i.name for i in self.indicators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(
                f"duplicate indicators in the framework: {', '.join(dup)}",
                value=dup,
                expected="unique indicator names",
            )
        if self.pillar_weights is not None:
            pw = dict(self.pillar_weights)
            _check_keys(
                pw,
                self.pillars,
                "pillar weights do not match the pillars",
                "",
                field="pillar_weights",
                value=pw,
                expected=f"one weight for each of {', '.join(self.pillars)}",
            )
            vals = np.array(list(pw.values()), dtype=float)
            if not np.all(np.isfinite(vals)) or np.any(vals < 0) or vals.sum() <= 0:
                raise InputError(
                    "pillar weights must be finite, non-negative and not all zero",
                    field="pillar_weights",
                    value=pw,
                    expected="finite numbers >= 0 with a positive sum",
                )

    @classmethod
    def from_dict(
        cls,
        spec: Mapping[str, Mapping[str, object] | str],
        pillar_weights: Mapping[str, float] | None = None,
    ) -> Framework:
        """Build a framework from ``{indicator: {"pillar": ..., "direction": ..., ...}}``.

        A value may also be just the pillar name (direction +1, weight 1).
        """
        items = []
        for name, v in spec.items():
            if isinstance(v, str):
                items.append(Indicator(name=name, pillar=v))
                continue
            unknown = sorted(set(v) - {"pillar", "sub_pillar", "direction", "weight"})
            if unknown or "pillar" not in v:
                raise InputError(
                    f"bad framework entry for indicator {name!r}"
                    + (f"; unknown keys: {', '.join(unknown)}" if unknown else "; no pillar"),
                    field=name,
                    value=dict(v),
                    expected="keys pillar, and optionally sub_pillar, direction, weight",
                )
            items.append(
                Indicator(
                    name=name,
                    pillar=str(v["pillar"]),
                    sub_pillar=None if v.get("sub_pillar") is None else str(v["sub_pillar"]),
                    direction=int(v.get("direction", 1)),  # type: ignore[call-overload]
                    weight=float(v.get("weight", 1.0)),  # type: ignore[arg-type]
                )
            )
        return cls(tuple(items), pillar_weights)

    @property
    def names(self) -> list[str]:
        """Indicator names, in framework order."""
        return [i.name for i in self.indicators]

    @property
    def pillars(self) -> list[str]:
        """Pillar names: those of :data:`PILLARS` first in that order, then others as met."""
        seen = list(dict.fromkeys(i.pillar for i in self.indicators))
        return [p for p in PILLARS if p in seen] + [p for p in seen if p not in PILLARS]

    @property
    def pillar_of(self) -> pd.Series:
        """Series indicator -> pillar."""
        return pd.Series({i.name: i.pillar for i in self.indicators}, dtype=object)

    @property
    def group_of(self) -> pd.Series:
        """Series indicator -> sub-pillar (``""`` when none)."""
        return pd.Series({i.name: i.sub_pillar or "" for i in self.indicators}, dtype=object)

    @property
    def directions(self) -> pd.Series:
        """Series indicator -> direction (+1 / -1)."""
        return pd.Series({i.name: i.direction for i in self.indicators}, dtype=int)

    def members(self, pillar: str) -> list[str]:
        """Indicators of ``pillar``, in framework order."""
        return [i.name for i in self.indicators if i.pillar == pillar]

    def overall_weights(self) -> pd.Series:
        """Pillar weights in the overall score, summing to 1."""
        if self.pillar_weights is None:
            w = pd.Series(1.0, index=self.pillars)
        else:
            w = pd.Series({p: float(self.pillar_weights[p]) for p in self.pillars})
        return w / w.sum()

    def check_columns(self, X: pd.DataFrame) -> None:
        """Raise :class:`InputError` when an indicator of the framework is not a column of X."""
        missing = [n for n in self.names if n not in X.columns]
        if missing:
            raise InputError(
                f"indicators of the framework missing from the data: {', '.join(missing)}",
                value=missing,
                expected=f"columns {', '.join(self.names)}",
            )


def normalise_within_pillar(w: pd.Series, framework: Framework) -> pd.Series:
    """Rescale indicator weights ``w`` to sum to 1 within each pillar of ``framework``."""
    w = w.reindex(framework.names).astype(float)
    sums = w.groupby(framework.pillar_of).transform("sum")
    return w / sums


def framework_weights(framework: Framework) -> pd.Series:
    """The nominal weights written in the framework, validated and normalised within pillars."""
    return check_weights(
        {i.name: i.weight for i in framework.indicators}, framework, require_sum=False
    )


def check_weights(
    weights: Mapping[str, float] | pd.Series,
    framework: Framework,
    *,
    require_sum: bool = True,
    tol: float = 1e-6,
) -> pd.Series:
    """Validate user-given indicator weights.

    Parameters
    ----------
    weights : mapping or Series
        Indicator -> weight, one for every indicator of the framework and no other.
    framework : Framework
    require_sum : bool
        When true the weights of each pillar must already sum to 1 (within ``tol``); when false
        they are rescaled to do so.
    tol : float
        Tolerance on the pillar sums.

    Returns
    -------
    pandas.Series
        Indicator -> weight in framework order, summing to 1 within each pillar.

    Raises
    ------
    InputError
        Unknown or missing indicators, negative / non-finite weights, a pillar whose weights sum
        to 0 or (with ``require_sum``) not to 1.
    """
    w = pd.Series(dict(weights), dtype=float)
    _check_keys(
        w.index,
        framework.names,
        "weights do not match the framework",
        " indicators",
        field="weights",
        expected="one weight for every indicator of the framework",
    )
    w = w.reindex(framework.names)
    bad = w[~np.isfinite(w.to_numpy()) | (w.to_numpy() < 0)]
    if len(bad):
        raise InputError(
            f"weights must be finite and >= 0; bad: {', '.join(map(str, bad.index))}",
            field="weights",
            value=bad.to_dict(),
            expected="finite numbers >= 0",
        )
    sums = w.groupby(framework.pillar_of).sum()
    zero = sums[sums <= 0]
    if len(zero):
        raise InputError(
            f"weights of pillar(s) {', '.join(zero.index)} sum to 0",
            field="weights",
            value=zero.to_dict(),
            expected="a positive sum within each pillar",
        )
    if require_sum:
        off = sums[(sums - 1.0).abs() > tol]
        if len(off):
            raise InputError(
                "weights do not sum to 1 within pillar(s) "
                + ", ".join(f"{p} (sum {s:.6g})" for p, s in off.items()),
                field="weights",
                value=off.to_dict(),
                expected="weights summing to 1 within each pillar",
            )
    return normalise_within_pillar(w, framework)


def _check_keys(
    given: Iterable[str], wanted: Sequence[str], problem: str, noun: str, **error: Any
) -> None:
    """Raise InputError when ``given`` has names not in ``wanted`` or misses some of them."""
    given = list(given)
    unknown = sorted(set(given) - set(wanted))
    missing = [n for n in wanted if n not in given]
    if unknown or missing:
        raise InputError(
            problem
            + (f"; unknown{noun}: {', '.join(unknown)}" if unknown else "")
            + (f"; missing{noun}: {', '.join(missing)}" if missing else ""),
            **error,
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Header(_Strict):
    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    year: int | None = Field(default=None, ge=1900, le=2300)
    pillar_weights: dict[str, float] | None = None


class _IndicatorFile(_Strict):
    name: str = Field(min_length=1)
    pillar: str = Field(min_length=1)
    sub_pillar: str | None = None
    source: str | list[str] = Field(min_length=1)
    denominator: str | list[str] | None = Field(default=None, min_length=1)
    scale: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    direction: Literal[1, -1] = 1
    weight: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    year: int | None = Field(default=None, ge=1900, le=2300)
    denominator_year: int | None = Field(default=None, ge=1900, le=2300)
    unit: str = ""
    rationale: str = ""

    @field_validator("source", "denominator")
    @classmethod
    def _names(cls, v: Any) -> Any:
        if isinstance(v, list) and not all(isinstance(x, str) and x for x in v):
            raise ValueError("every entry must be a non-empty indicator name")
        return v

    @field_validator("direction", mode="before")
    @classmethod
    def _int_direction(cls, v: Any) -> Any:
        # TOML gives 1 / -1 as int; refuse 1.0, "1", true rather than coercing them
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("direction must be the integer 1 or -1")
        return v


class _File(_Strict):
    framework: _Header
    indicator: list[_IndicatorFile] = Field(min_length=1)


@dataclass(frozen=True)
class IndicatorSpec:
    """How one indicator of the framework is computed from the dataset.

    ``source`` and ``denominator`` are tuples of dataset indicators: a city's value is taken
    from the first of them it has a value for (a fallback for a city missing from the main
    source, e.g. an older or differently named list).

    ``value = source / denominator * scale`` (no denominator: ``source * scale``): the source is
    the latest value at or before ``year`` (else the framework's year; no cap when neither is
    set), the denominator the latest at or before ``denominator_year`` (else the framework's).
    """

    name: str
    pillar: str
    source: tuple[str, ...]
    sub_pillar: str | None = None
    denominator: tuple[str, ...] | None = None
    scale: float = 1.0
    direction: int = 1
    weight: float | None = None
    year: int | None = None
    denominator_year: int | None = None
    unit: str = ""
    rationale: str = ""


@dataclass(frozen=True)
class FrameworkSpec:
    """A loaded framework file: the :class:`Framework` of the core plus how to build ``X``."""

    name: str
    title: str
    description: str
    year: int | None
    indicators: tuple[IndicatorSpec, ...]
    framework: Framework
    path: str = "<memory>"
    pillar_weights: dict[str, float] | None = field(default=None)

    @property
    def names(self) -> list[str]:
        """Indicator names, in file order."""
        return [i.name for i in self.indicators]

    def table(self) -> pd.DataFrame:
        """One row per indicator: name, pillar, sub_pillar, source, denominator, scale, unit,
        direction, weight (nominal, normalised within the pillar), year, denominator_year,
        rationale."""
        w = framework_weights(self.framework)
        return pd.DataFrame(
            [
                {
                    "name": i.name,
                    "pillar": i.pillar,
                    "sub_pillar": i.sub_pillar or "",
                    "source": " | ".join(i.source),
                    "denominator": " | ".join(i.denominator or ()),
                    "scale": i.scale,
                    "unit": i.unit,
                    "direction": i.direction,
                    "weight": float(w[i.name]),
                    "year": i.year if i.year is not None else self.year,
                    "denominator_year": (
                        i.denominator_year if i.denominator_year is not None else self.year
                    ),
                    "rationale": i.rationale,
                }
                for i in self.indicators
            ]
        )

    def check_data(self, dataset: pd.DataFrame) -> None:
        """Raise :class:`InputError` when a source or denominator is not in the dataset."""
        known = set(dataset.loc[dataset["kind"] == "city", "indicator"])
        for k, ind in enumerate(self.indicators):
            for key in ("source", "denominator"):
                for wanted in getattr(ind, key) or ():
                    if wanted not in known:
                        self._unknown(k, ind.name, key, wanted, known, dataset)

    def _unknown(
        self, k: int, name: str, key: str, wanted: str, known: set[str], dataset: pd.DataFrame
    ) -> None:
        close = difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.5)
        raise InputError(
            f"indicator {name!r}: {key} is not an indicator of the data file "
            f"{dataset.attrs.get('file', '')}".rstrip(),
            file=self.path,
            field=f"indicator[{k}].{key}",
            value=wanted,
            expected="an indicator of the data file"
            + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else "")
            + " -- 'innosim data check' lists them",
        )


def default_framework_path() -> Path:
    """Path of the shipped framework (works from a source tree, an editable or a wheel install)."""
    return Path(str(resources.files("innosim.index") / "frameworks" / DEFAULT_FRAMEWORK))


def load_framework(path: str | os.PathLike[str] | None = None) -> FrameworkSpec:
    """Read and validate a framework TOML file.

    Parameters
    ----------
    path : path-like, optional
        The file (default: the shipped ``top.toml``, :func:`default_framework_path`).

    Returns
    -------
    FrameworkSpec

    Raises
    ------
    InputError
        Missing or malformed file, an unknown or missing field, a bad direction (not +1/-1),
        a negative weight, weights given for only some indicators of a pillar or not summing to
        1 within it, pillar weights not naming exactly the pillars or not summing to 1, a
        duplicate indicator name -- naming the file, the field, the value and the expectation.
    """
    p = Path(path) if path is not None else default_framework_path()
    data = read_toml(p, "framework file")
    try:
        parsed = _File.model_validate(data)
    except ValidationError as e:
        # union members (source = "x" or ["x", "y"]) appear in the location: keep the field
        loc, value, kind, msg = pydantic_issue(e, data, drop=("str", "list[str]"))
        if kind == "missing":
            value, msg = None, "required field is missing"
        raise InputError(
            msg, file=str(p), field=dotted(loc), value=value, expected=_expect(loc)
        ) from None
    head = parsed.framework
    specs = tuple(
        IndicatorSpec(
            **{
                **ind.model_dump(),
                "source": _names(ind.source),
                "denominator": None if ind.denominator is None else _names(ind.denominator),
            }
        )
        for ind in parsed.indicator
    )
    seen: dict[str, int] = {}
    for k, ind in enumerate(specs):
        if ind.name in seen:
            raise InputError(
                f"indicator name repeats indicator[{seen[ind.name]}]",
                file=str(p),
                field=f"indicator[{k}].name",
                value=ind.name,
                expected="unique indicator names",
            )
        seen[ind.name] = k
    _check_weights(specs, str(p))
    pillars = list(dict.fromkeys(i.pillar for i in specs))
    pw = head.pillar_weights
    if pw is not None:
        unknown = sorted(set(pw) - set(pillars))
        missing = [q for q in pillars if q not in pw]
        if unknown or missing:
            raise InputError(
                "pillar weights do not match the pillars of the indicators"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else ""),
                file=str(p),
                field="framework.pillar_weights",
                value=pw,
                expected=f"one weight for each of {', '.join(pillars)}",
            )
        vals = np.array(list(pw.values()), dtype=float)
        if not np.all(np.isfinite(vals)) or np.any(vals < 0) or abs(vals.sum() - 1) > _WEIGHT_TOL:
            raise InputError(
                f"pillar weights must be >= 0 and sum to 1 (they sum to {vals.sum():.6g})",
                file=str(p),
                field="framework.pillar_weights",
                value=pw,
                expected="non-negative pillar weights summing to 1",
            )
    fw = Framework(
        tuple(
            Indicator(
                name=i.name,
                pillar=i.pillar,
                sub_pillar=i.sub_pillar,
                direction=i.direction,
                weight=1.0 if i.weight is None else i.weight,
            )
            for i in specs
        ),
        pw,
    )
    return FrameworkSpec(
        name=head.name,
        title=head.title,
        description=head.description,
        year=head.year,
        indicators=specs,
        framework=fw,
        path=str(p),
        pillar_weights=None if pw is None else dict(pw),
    )


def _names(v: str | list[str]) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v)


def _expect(loc: tuple[Any, ...]) -> str:
    last = str(loc[-1]) if loc else ""
    return {
        "direction": "1 (more is better) or -1 (less is better)",
        "weight": "a finite number >= 0",
        "scale": "a finite number > 0",
        "year": "a year between 1900 and 2300",
        "denominator_year": "a year between 1900 and 2300",
        "name": "a non-empty name",
        "pillar": "a pillar name such as Talent, Organization or Place",
        "source": "the name of an indicator of the data file",
        "indicator": "at least one [[indicator]] table",
        "framework": "a [framework] table with a name",
    }.get(
        last,
        "the fields documented in docs/index.md ([framework]: name, title, description, year, "
        "pillar_weights; [[indicator]]: name, pillar, sub_pillar, source, denominator, scale, "
        "direction, weight, year, denominator_year, unit, rationale)",
    )


def _check_weights(specs: tuple[IndicatorSpec, ...], path: str) -> None:
    """Per pillar: weights given for all indicators or none; when given, they sum to 1."""
    pillars = list(dict.fromkeys(i.pillar for i in specs))
    for pillar in pillars:
        idx = [k for k, i in enumerate(specs) if i.pillar == pillar]
        given = [k for k in idx if specs[k].weight is not None]
        if not given:
            continue
        if len(given) < len(idx):
            k = next(k for k in idx if specs[k].weight is None)
            raise InputError(
                f"pillar {pillar!r} gives weights to some indicators but not to {specs[k].name!r}",
                file=path,
                field=f"indicator[{k}].weight",
                expected="a weight for every indicator of the pillar, or for none (equal weights)",
            )
        total = sum(float(specs[k].weight or 0.0) for k in idx)
        if abs(total - 1.0) > _WEIGHT_TOL:
            raise InputError(
                f"the weights of pillar {pillar!r} sum to {total:.6g}",
                file=path,
                field=f"indicator[{idx[0]}].weight",
                value={specs[k].name: specs[k].weight for k in idx},
                expected="indicator weights summing to 1 within each pillar",
            )


# --------------------------------------------------------------------------- the matrix


def _latest(
    dataset: pd.DataFrame, indicators: tuple[str, ...], cap: int | None
) -> dict[str, tuple[float, int, int, str, str]]:
    """city -> (value, year, row, flags, indicator): the latest numeric value at or before
    ``cap`` of the first of ``indicators`` the city has."""
    out: dict[str, tuple[float, int, int, str, str]] = {}
    for ind in indicators:
        for city, v in _latest_one(dataset, ind, cap).items():
            out.setdefault(city, (*v, ind))
    return out


def _latest_one(
    dataset: pd.DataFrame, indicator: str, cap: int | None
) -> dict[str, tuple[float, int, int, str]]:
    rows = dataset[
        (dataset["indicator"] == indicator)
        & (dataset["kind"] == "city")
        & np.isfinite(dataset["value"].to_numpy(dtype=float))
    ]
    if cap is not None:
        rows = rows[rows["year"] <= cap]
    rows = rows.sort_values(["year", "row"]).groupby("city", sort=False).tail(1)
    return {
        r.city: (float(r.value), int(r.year), int(r.row), str(r.flags))
        for r in rows.itertuples(index=False)
    }


def _check_numbers(dataset: pd.DataFrame, spec: FrameworkSpec) -> None:
    """Refuse a row of an indicator the framework uses whose value is not a number."""
    used = {n for i in spec.indicators for n in (*i.source, *(i.denominator or ()))}
    bad = dataset[
        dataset["indicator"].isin(used)
        & (dataset["kind"] == "city")
        & ~np.isfinite(dataset["value"].to_numpy(dtype=float))
    ]
    if len(bad):
        r = bad.iloc[0]
        raise InputError(
            f"the value of {r['city']}, {r['indicator']}, {r['year']} is not a number, and the "
            f"framework {Path(spec.path).name} uses this indicator",
            file=dataset.attrs.get("file"),
            field=f"row {r['row']}, value",
            value=r.get("value_raw", r["value"]),
            expected="a number such as 1234.5 (also '>5', 'about 4', '4-10'; see docs/data.md), "
            "or no row for that city",
        )


def indicator_matrix(
    dataset: pd.DataFrame,
    spec: FrameworkSpec,
    cities: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw indicator matrix of a framework over a resolved dataset.

    Parameters
    ----------
    dataset : DataFrame
        A dataset from :func:`innosim.data.load_dataset`; it is resolved here
        (:func:`innosim.data.resolve`) when it has no ``resolution`` column.
    spec : FrameworkSpec
    cities : list of str, optional
        Cities to keep, in this order (default: every city of the data, in file order).

    Returns
    -------
    X : DataFrame
        Index: city; columns: the framework's indicators; values in the indicator's unit
        (``source / denominator * scale``), NaN where the city lacks the source or the
        denominator.
    coverage : DataFrame
        One row per (city, indicator): ``pillar``, ``has_value``, ``value``, ``source`` (the
        dataset indicator used), ``year`` and ``row`` of the source value, ``denominator_year`` and
        ``denominator_row``, ``flags`` (of both rows).

    Raises
    ------
    InputError
        A source or denominator not in the data; a non-numeric value of one; an unknown city.
    """
    res = dataset if "resolution" in dataset.columns else resolve(dataset)
    spec.check_data(res)
    all_cities = list(dict.fromkeys(res.loc[res["kind"] == "city", "city"]))
    if cities is None:
        cities = all_cities
    else:
        unknown = [c for c in cities if c not in all_cities]
        if unknown:
            raise InputError(
                f"unknown cit{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}",
                file="command line",
                field="--cities",
                value=unknown,
                expected="cities of the data file: " + ", ".join(all_cities),
            )
        dup = sorted({c for c in cities if cities.count(c) > 1})
        if dup:
            raise InputError(
                "a city is named twice",
                file="command line",
                field="--cities",
                value=dup,
                expected="each city once",
            )
    _check_numbers(res, spec)
    X = pd.DataFrame(index=pd.Index(cities, name="city"), columns=spec.names, dtype=float)
    cov_rows = []
    for ind in spec.indicators:
        cap = ind.year if ind.year is not None else spec.year
        dcap = ind.denominator_year if ind.denominator_year is not None else spec.year
        num = _latest(res, ind.source, cap)
        den = _latest(res, ind.denominator, dcap) if ind.denominator else {}
        for c in cities:
            n = num.get(c)
            d = den.get(c) if ind.denominator else (1.0, None, None, "", "")
            value = math.nan
            if n is not None and d is not None and d[0] != 0:
                value = n[0] / d[0] * ind.scale
            X.at[c, ind.name] = value
            both = [x[3] for x in (n, d) if x is not None]
            flags = ",".join(dict.fromkeys(f for fl in both for f in fl.split(",") if f))
            cov_rows.append(
                {
                    "city": c,
                    "indicator": ind.name,
                    "pillar": ind.pillar,
                    "has_value": bool(np.isfinite(value)),
                    "value": value,
                    "source": "" if n is None else n[4],
                    "year": None if n is None else n[1],
                    "row": None if n is None else n[2],
                    "denominator_year": None if d is None else d[1],
                    "denominator_row": None if d is None else d[2],
                    "flags": flags,
                }
            )
    cov = pd.DataFrame(cov_rows)
    for col in ("year", "row", "denominator_year", "denominator_row"):
        cov[col] = cov[col].astype("Int64")
    X.attrs["file"] = dataset.attrs.get("file")
    return X, cov
