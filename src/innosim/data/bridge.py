"""The bridge from the sourced dataset to the simulator: scenario initial conditions.

One documented mapping (:data:`MAPPING`, docs/data.md "Bridge to the simulator") turns the
rows of ``data/cities_sourced.csv`` into the city parameters of a scenario:

=====================  ======================================================================
parameter              from the data (latest value at or before the reference year)
=====================  ======================================================================
``population``         resident population (year-end), persons
``students_enrolled``  students enrolled in undergraduate and junior-college programmes
                       (yearbook series first, then the bulletin series)
``productivity``       GDP per capita in 10^4 CNY (model CNY per person and year); the
                       reported GDP per capita, else GDP / resident population (DERIVED)
``labs``               ``0.5 + Double First-Class universities / 6`` (the convention of the
                       shipped two-city scenario: a city without such a university has
                       half the national-average lab stock, one with six has 1.5 times it)
=====================  ======================================================================

A city missing from the data for a parameter keeps the declared default (the generated file
says so). Outcomes the model must produce rather than take as input -- unicorns, listed
companies, value added (GDP), talent flows (the talent attraction index and graduates
attracted) -- are returned by :func:`reference_outcomes` and written into the scenario file as
comments, for comparison with the simulated outcomes.

:func:`scenario_from_dataset` builds the scenario document, :func:`scenario_toml` renders it
as a commented TOML file (``tools/gen_china16.py`` writes ``scenarios/china-16.toml`` with
it; a test checks that the shipped file is exactly what it produces).
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from innosim.data.dataset import default_data_path, load_dataset, resolve
from innosim.errors import InputError

__all__ = [
    "MAPPING",
    "OUTCOMES",
    "ParamMap",
    "default_geo_path",
    "load_geo",
    "reference_outcomes",
    "scenario_from_dataset",
    "scenario_toml",
]


@dataclass(frozen=True)
class ParamMap:
    """How one city parameter is read from the dataset.

    ``value = transform(first indicator of ``indicators`` the city has)``; with ``ratio`` the
    fallback is ``indicator_a / indicator_b`` when none of ``indicators`` is there.
    """

    param: str
    indicators: tuple[str, ...]
    unit: str
    rule: str
    factor: float = 1.0
    offset: float = 0.0
    ratio: tuple[str, str] | None = None


_POP = "Resident population (year-end)"

#: The dataset -> scenario mapping, one entry per city parameter (docs/data.md).
MAPPING: tuple[ParamMap, ...] = (
    ParamMap(
        "population",
        (_POP,),
        "persons",
        "resident population at year end",
    ),
    ParamMap(
        "students_enrolled",
        (
            "Students enrolled (regular+vocational undergrad & junior college, "
            "普通、职业本专科在校生)",
            "Students enrolled (undergrad+vocational)",
            "Students enrolled (regular undergrad+vocational, 普通本专科在校生)",
        ),
        "persons",
        "undergraduate and junior-college students enrolled",
    ),
    ParamMap(
        "productivity",
        ("GDP per capita",),
        "10^4 CNY per person and year",
        "GDP per capita / 10^4 (else GDP / resident population, DERIVED)",
        factor=1e-4,
        ratio=("GDP", _POP),
    ),
    ParamMap(
        "labs",
        ("Double First-Class universities (2nd-round list)", "Double First-Class universities"),
        "index",
        "0.5 + Double First-Class universities / 6",
        factor=1.0 / 6.0,
        offset=0.5,
    ),
)

#: Outcomes the model produces (compared, never set): label -> dataset indicators (first found).
OUTCOMES: dict[str, tuple[str, ...]] = {
    "value added (GDP), CNY": ("GDP",),
    "unicorns (ZGC 2024)": ("Unicorns (China Unicorn Report 2024, ZGC)",),
    "A-share listed companies": ("A-share listed companies",),
    "STAR Market listed companies": ("STAR Market listed companies",),
    "talent attraction index (Zhaopin/Zeping)": ("Talent attraction index (Zhaopin/Zeping)",),
    "new graduates attracted per year": ("New college graduates (<35) attracted per year",),
}


def default_geo_path() -> Path:
    """``city_geo.csv`` beside the default data file, else the project's ``data/city_geo.csv``."""
    beside = default_data_path().parent / "city_geo.csv"
    if beside.is_file():
        return beside
    return Path(__file__).resolve().parents[3] / "data" / "city_geo.csv"


def load_geo(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """City coordinates: a CSV with ``city, name_zh, lat, lon, source`` (index: city)."""
    p = Path(path) if path is not None else default_geo_path()
    try:
        df = pd.read_csv(p, dtype={"city": str, "name_zh": str, "source": str})
    except FileNotFoundError:
        raise InputError(
            "coordinates file not found", file=str(p), expected="a CSV city,name_zh,lat,lon,source"
        ) from None
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise InputError(
            f"cannot read the coordinates file ({type(e).__name__})",
            file=str(p),
            expected="a CSV city,name_zh,lat,lon,source",
        ) from None
    missing = [c for c in ("city", "name_zh", "lat", "lon", "source") if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}",
            file=str(p),
            field="header (row 1)",
            value=list(df.columns),
            expected="the columns city, name_zh, lat, lon, source",
        )
    bad = df[~(df["lat"].between(-90, 90) & df["lon"].between(-180, 180))]
    if len(bad):
        raise InputError(
            "coordinates out of range",
            file=str(p),
            field=f"row {int(bad.index[0]) + 2}",
            value=bad.iloc[0][["lat", "lon"]].tolist(),
            expected="lat in [-90, 90] and lon in [-180, 180]",
        )
    df = df.fillna({"name_zh": "", "source": ""}).set_index("city")
    df.attrs["file"] = str(p)
    return df


def _latest(res: pd.DataFrame, indicator: str, city: str, year: int) -> pd.Series | None:
    rows = res[
        (res["indicator"] == indicator)
        & (res["city"] == city)
        & (res["year"] <= year)
        & res["value"].map(lambda v: isinstance(v, float) and math.isfinite(v))
    ]
    if rows.empty:
        return None
    return rows.sort_values(["year", "row"]).iloc[-1]


def _cite(r: pd.Series) -> str:
    text = f"data/cities_sourced.csv row {int(r['row'])}: {r['city']}, {r['indicator']}, "
    text += f"{r['period'] or r['year']}, {r['value_raw']} {r['unit_raw']}"
    if r["flags"]:
        text += f" [{r['flags']}]"
    return text + f" ({r['source']})"


def _param_value(res: pd.DataFrame, m: ParamMap, city: str, year: int) -> tuple[float, str] | None:
    for ind in m.indicators:
        r = _latest(res, ind, city, year)
        if r is not None:
            return m.offset + m.factor * float(r["value"]), f"{m.rule}; {_cite(r)}"
    if m.ratio is not None:
        a, b = (_latest(res, ind, city, year) for ind in m.ratio)
        if a is not None and b is not None and float(b["value"]) > 0:
            v = m.offset + m.factor * float(a["value"]) / float(b["value"])
            return v, f"DERIVED {m.ratio[0]} / {m.ratio[1]}; {_cite(a)}; {_cite(b)}"
    return None


def reference_outcomes(
    dataset: pd.DataFrame | None = None, cities: list[str] | None = None, year: int = 2024
) -> pd.DataFrame:
    """Observed outcomes per city (long: city, outcome, value, year, row, citation)."""
    res = _resolved(dataset)
    rows = []
    for city in cities or _cities(res):
        for label, inds in OUTCOMES.items():
            for ind in inds:
                r = _latest(res, ind, city, year)
                if r is not None:
                    rows.append(
                        {
                            "city": city,
                            "outcome": label,
                            "value": float(r["value"]),
                            "year": int(r["year"]),
                            "row": int(r["row"]),
                            "citation": _cite(r),
                        }
                    )
                    break
    return pd.DataFrame(rows, columns=["city", "outcome", "value", "year", "row", "citation"])


def _resolved(dataset: pd.DataFrame | None) -> pd.DataFrame:
    ds = load_dataset() if dataset is None else dataset
    return ds if "resolution" in ds.columns else resolve(ds)


def _cities(res: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(res.loc[res["kind"] == "city", "city"]))


def scenario_from_dataset(
    dataset: pd.DataFrame | None = None,
    *,
    cities: list[str] | None = None,
    geo: pd.DataFrame | None = None,
    name: str = "china-16",
    title: str = "",
    description: str = "",
    reference_year: int = 2024,
    start_year: int = 1999,
    end_year: int = 2030,
    persons_per_agent: float = 2000.0,
    seed: int = 20250207,
) -> dict[str, Any]:
    """A scenario document (the content of a scenario TOML file) built from the data.

    Parameters
    ----------
    dataset : DataFrame, optional
        A loaded (or resolved) dataset (default: :func:`innosim.data.load_dataset`).
    cities : list of str, optional
        Cities, in this order (default: every city of the data, in file order).
    geo : DataFrame, optional
        Coordinates (default: :func:`load_geo`); every city needs a row.
    name, title, description, reference_year, start_year, end_year, persons_per_agent, seed
        The ``[scenario]`` header.

    Returns
    -------
    dict
        ``{"scenario": {...}, "city": [{"name", "name_zh", "lat", "lon", "role",
        "params": {param: {"value", "source"}}}], "defaults": {city: [params kept at the
        declared default]}, "outcomes": DataFrame}``. ``defaults`` and ``outcomes`` are not part
        of the scenario schema: :func:`scenario_toml` writes them as comments.
    """
    res = _resolved(dataset)
    g = load_geo() if geo is None else geo
    chosen = cities or _cities(res)
    known = set(_cities(res))
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise InputError(
            f"unknown cit{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}",
            field="cities",
            value=unknown,
            expected="cities of the data file",
        )
    no_geo = [c for c in chosen if c not in g.index]
    if no_geo:
        raise InputError(
            f"no coordinates for {', '.join(no_geo)}",
            file=g.attrs.get("file"),
            value=no_geo,
            expected="a row city,name_zh,lat,lon,source for every city of the scenario",
        )
    city_docs = []
    defaults: dict[str, list[str]] = {}
    for c in chosen:
        params: dict[str, dict[str, Any]] = {}
        for m in MAPPING:
            got = _param_value(res, m, c, reference_year)
            if got is None:
                defaults.setdefault(c, []).append(m.param)
                continue
            value, source = got
            params[m.param] = {"value": float(f"{value:.6g}"), "source": source}
        city_docs.append(
            {
                "name": c,
                "name_zh": str(g.at[c, "name_zh"]),
                "lat": float(g.at[c, "lat"]),
                "lon": float(g.at[c, "lon"]),
                "role": "",
                "params": params,
                "geo_source": str(g.at[c, "source"]),
            }
        )
    return {
        "scenario": {
            "name": name,
            "title": title,
            "description": description,
            "start_year": start_year,
            "end_year": end_year,
            "reference_year": reference_year,
            "persons_per_agent": persons_per_agent,
            "seed": seed,
        },
        "city": city_docs,
        "defaults": defaults,
        "outcomes": reference_outcomes(res, chosen, reference_year),
    }


def _s(text: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def scenario_toml(doc: dict[str, Any], header: str = "") -> str:
    """Render a document of :func:`scenario_from_dataset` as a commented scenario TOML file.

    Parameters
    ----------
    doc : dict
    header : str
        Comment lines put at the top (each prefixed ``# ``).
    """
    buf = io.StringIO()
    for line in header.splitlines():
        buf.write(f"# {line}".rstrip() + "\n")
    if header:
        buf.write("\n")
    buf.write("[scenario]\n")
    for k, v in doc["scenario"].items():
        buf.write(f"{k} = {_s(v) if isinstance(v, str) else _num(v)}\n")
    outcomes: pd.DataFrame = doc["outcomes"]
    for c in doc["city"]:
        buf.write("\n[[city]]\n")
        buf.write(f"name = {_s(c['name'])}\n")
        buf.write(f"name_zh = {_s(c['name_zh'])}\n")
        buf.write(f"lat = {_num(c['lat'])}  # {c['geo_source']}\n")
        buf.write(f"lon = {_num(c['lon'])}\n")
        kept = doc["defaults"].get(c["name"], [])
        if kept:
            buf.write(f"# not in the data, declared default kept: {', '.join(kept)}\n")
        obs = outcomes[outcomes["city"] == c["name"]]
        if len(obs):
            buf.write("# observed outcomes (compare, not inputs):\n")
            for r in obs.itertuples(index=False):
                buf.write(f"#   {r.outcome}: {r.value:,.6g} ({r.year}, row {r.row})\n")
        buf.write("[city.params]\n")
        for p, v in c["params"].items():
            buf.write(f"{p} = {{ value = {_num(v['value'])}, source = {_s(v['source'])} }}\n")
    return buf.getvalue()
