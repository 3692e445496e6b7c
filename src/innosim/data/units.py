"""One table that turns the units found in the sourced data into base units.

Values in ``data/cities_sourced.csv`` are copied as the source states them, in the source's unit
(亿元, 万人, "10k CNY (万元)", "companies (global city rank 3)" ...). :data:`UNITS` maps each unit
to a multiplying factor and a base unit; :func:`normalise_unit` looks a raw unit up.

Base units
----------
``CNY``, ``USD``
    Money in yuan / US dollars (亿元 = 1e8 CNY, 万元 = 1e4 CNY, 亿美元 = 1e8 USD).
``persons``, ``persons/yr``
    People (万人 = 1e4 persons).
``count``
    Anything counted: companies, enterprises, institutions, universities, patents,
    applications, articles, labs, deals. The indicator name says what is counted.
``count per 10k persons``
    Intensities such as "patents per 10k residents" (kept per 10k, as published).
``percent``, ``percent of GDP``
    Percentages stay percentages (4.4 % -> 4.4, not 0.044).
``rank``
    An ordinal position (1 = best).
``index``
    A score on the publisher's scale (e.g. a reference city = 100).

Annotated units
---------------
A source often adds a remark to the unit ("companies (global city rank 3)",
"index (<reference city>=100), rank 4", "亿元 (28.8% of GDP)"). The lookup tries, in order: the unit
as written, the part before the first comma, the part before the first parenthesis. The remark is
kept in the dataset's ``unit_raw`` column; it never changes the value.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["UNITS", "Unit", "normalise_unit", "unit_table"]


class Unit(NamedTuple):
    """How a raw unit converts: ``value_base = value_raw * factor``, in ``base``."""

    factor: float
    base: str
    meaning: str


_CNY_1E8 = Unit(1e8, "CNY", "亿元: 100 million yuan")
_CNY_1E4 = Unit(1e4, "CNY", "万元: 10 thousand yuan")
_PERS_1E4 = Unit(1e4, "persons", "万人: 10 thousand persons")
_USD_1E8 = Unit(1e8, "USD", "亿美元: 100 million US dollars")

#: Every unit present in the shipped data (after stripping remarks), with its conversion.
UNITS: dict[str, Unit] = {
    # money
    "亿元": _CNY_1E8,
    "100 million CNY (亿元)": _CNY_1E8,
    "100 million CNY": _CNY_1E8,
    "万元": _CNY_1E4,
    "10k CNY (万元)": _CNY_1E4,
    "万元 (10k CNY)": _CNY_1E4,
    "10k CNY": _CNY_1E4,
    "CNY": Unit(1.0, "CNY", "yuan"),
    "元": Unit(1.0, "CNY", "yuan"),
    "亿美元": _USD_1E8,
    "100 million USD (亿美元)": _USD_1E8,
    "100 million USD": _USD_1E8,
    "billion USD": Unit(1e9, "USD", "billion US dollars"),
    "USD": Unit(1.0, "USD", "US dollars"),
    # people
    "万人": _PERS_1E4,
    "10k persons (万人)": _PERS_1E4,
    "10k persons": _PERS_1E4,
    "persons": Unit(1.0, "persons", "persons"),
    "persons/yr": Unit(1.0, "persons/yr", "persons per year"),
    # counts
    **{
        u: Unit(1.0, "count", f"number of {u}")
        for u in (
            "count",
            "companies",
            "enterprises",
            "institutions",
            "universities",
            "patents",
            "applications",
            "articles",
            "labs",
            "deals",
        )
    },
    "patents per 10k residents": Unit(
        1.0, "count per 10k persons", "patents per 10 thousand residents"
    ),
    # shares, ranks, scores
    "%": Unit(1.0, "percent", "percent"),
    "% of GDP": Unit(1.0, "percent of GDP", "percent of GDP"),
    "rank": Unit(1.0, "rank", "ordinal position, 1 = first"),
    "rank of 100": Unit(1.0, "rank", "ordinal position among 100, 1 = first"),
    "index points": Unit(1.0, "index", "index points"),
    "index": Unit(1.0, "index", "score on the publisher's scale"),
}


def _candidates(raw: str) -> list[str]:
    u = " ".join(raw.split())
    return [u, u.split(",")[0].strip(), re.sub(r"\s*[(（].*$", "", u).strip()]


def normalise_unit(raw: str) -> Unit | None:
    """The conversion of a raw unit, or None when the table does not know it.

    >>> normalise_unit("100 million CNY (亿元)").factor
    100000000.0
    >>> normalise_unit("companies (global city rank 3)").base
    'count'
    """
    for cand in _candidates(raw):
        if cand in UNITS:
            return UNITS[cand]
    return None


def unit_table() -> list[tuple[str, float, str, str]]:
    """The table as rows ``(raw unit, factor, base unit, meaning)``, for docs and the CLI."""
    return [(k, u.factor, u.base, u.meaning) for k, u in UNITS.items()]
