"""The sourced city dataset: load and validate, normalise units, resolve conflicts, coverage.

:func:`load_dataset` reads ``data/cities_sourced.csv`` (or any file with the same columns) into
a tidy frame, one row per source row, every value keeping its source and note. :func:`resolve`
applies the conflict rule to get one value per (city, indicator, year); :func:`conflicts` lists
what it dropped and why. :func:`coverage` says which city has which indicator. See docs/data.md.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from pathlib import Path

import pandas as pd

from innosim.data.units import normalise_unit
from innosim.errors import InputError
from innosim.inputs import read_file

__all__ = [
    "COLUMNS",
    "FLAGS",
    "REQUIRED",
    "conflicts",
    "coverage",
    "coverage_by_city",
    "coverage_by_indicator",
    "default_data_path",
    "load_dataset",
    "parse_value",
    "resolve",
    "unparsed",
]

#: Columns a data file must have.
REQUIRED: tuple[str, ...] = (
    "city",
    "country",
    "indicator",
    "year",
    "value",
    "unit",
    "source",
    "note",
)

#: Columns of the loaded dataset, in order.
COLUMNS: tuple[str, ...] = (
    "row",
    "city",
    "country",
    "kind",
    "indicator",
    "year",
    "period",
    "value",
    "unit",
    "qualifier",
    "value_raw",
    "unit_raw",
    "source",
    "note",
    "flags",
)

#: Flags parsed from ``note`` (and ``indicator`` for CONFIRMATION), in this order.
FLAGS: tuple[str, ...] = ("DERIVED", "CONFLICT", "LOW_RELIABILITY", "VERIFY", "CONFIRMATION")

_FLAG_PATTERNS: dict[str, re.Pattern[str]] = {
    "DERIVED": re.compile(r"\bderived\b", re.I),
    "CONFLICT": re.compile(r"conflict", re.I),
    # "low reliability" with a space: the confirmation rows say "existing low-reliability GDP
    # row", which is about another row, not themselves.
    "LOW_RELIABILITY": re.compile(r"\blow reliability\b", re.I),
    "VERIFY": re.compile(r"\bverif(y|ied)\b|\buncertain\b", re.I),
}
_CONFIRMATION = re.compile(r"\(source confirmation\)", re.I)
_WEAK = ("LOW_RELIABILITY", "VERIFY")
_TOLERANCE = 0.01  # confirmation rows must agree within 1 %

_NUM = r"[-+]?\d+(?:\.\d+)?"
_RE_PLAIN = re.compile(rf"^({_NUM})$")
_RE_BOUND = re.compile(rf"^(>=|<=|≥|≤|>|<)\s*({_NUM})$")
_RE_ABOUT = re.compile(
    rf"^(?:about|approx\.?|approximately|around|circa|c\.|~|约)\s*({_NUM})$", re.I
)
_RE_RANGE = re.compile(r"^(\d+(?:\.\d+)?)\s*[-–—~]\s*(\d+(?:\.\d+)?)$")
_RE_MULTI = re.compile(rf"^({_NUM})(?:\s*/\s*{_NUM})+$")
_RE_REMARK = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


MAX_DATA_BYTES = 256 * 2**20
"""Largest data file read (the shipped one is about 100 kB)."""


def default_data_path() -> Path:
    """The shipped ``data/cities_sourced.csv`` ($INNOSIM_DATA, ./data, then the project's)."""
    env = os.environ.get("INNOSIM_DATA")
    if env:
        return Path(env)
    local = Path.cwd() / "data" / "cities_sourced.csv"
    if local.is_file():
        return local
    return Path(__file__).resolve().parents[3] / "data" / "cities_sourced.csv"


def parse_value(raw: str) -> tuple[float, str]:
    """A raw value as ``(number, qualifier)``.

    ====================================  ==========  ============================================
    raw                                   qualifier   number
    ====================================  ==========  ============================================
    ``21,860`` / ``4.7``                  ``''``      the number
    ``>350000`` / ``<5``                  ``>``/``<`` the bound (also ``>=``, ``<=``)
    ``about 4.4`` / ``about 4.4 (预计)``  ``~``       the number
    ``4-10``                              ``range``   the midpoint (7.0)
    ``12 / 8 / 2``                        ``multi``   the FIRST number (12.0); all in value_raw
    ``1st nationally for several years``  ``unparsed`` NaN
    ====================================  ==========  ============================================

    A trailing parenthesised remark (``(预计)``) is ignored; commas between digits are thousands
    separators.
    """
    text = " ".join(str(raw).split())
    text = _RE_REMARK.sub("", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    if m := _RE_PLAIN.match(text):
        return float(m[1]), ""
    if m := _RE_BOUND.match(text):
        op = {"≥": ">=", "≤": "<="}.get(m[1], m[1])
        return float(m[2]), op
    if m := _RE_ABOUT.match(text):
        return float(m[1]), "~"
    if m := _RE_RANGE.match(text):
        return (float(m[1]) + float(m[2])) / 2, "range"
    if m := _RE_MULTI.match(text):
        return float(m[1]), "multi"
    return math.nan, "unparsed"


def _parse_year(raw: str) -> tuple[int, str] | None:
    """``2024`` -> (2024, ''); ``2024-03`` / ``2022-12-31`` -> (year, raw); ``2022-2024`` and
    ``30 months to end-2023`` -> (last year named, raw). None when no year is named."""
    text = raw.strip()
    if re.fullmatch(r"\d{4}", text):
        return int(text), ""
    if m := re.fullmatch(r"(\d{4})-\d{1,2}(?:-\d{1,2})?", text):
        return int(m[1]), text
    years = re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", text)
    if years:
        return int(years[-1]), text
    return None


def _flags(indicator: str, note: str) -> str:
    found = [f for f, pat in _FLAG_PATTERNS.items() if pat.search(note)]
    if _CONFIRMATION.search(indicator):
        found.append("CONFIRMATION")
    return ",".join(found)


def _kind(city: str) -> str:
    if re.search(r"\(prov\.?\)|\bprovince\b", city, re.I):
        return "province"
    if re.search(r"\(region\)|\barea\b|\bregion\b", city, re.I):
        return "region"
    return "city"


def _read_csv(path: Path) -> pd.DataFrame:
    raw = read_file(path, "data file", InputError, MAX_DATA_BYTES, "an existing CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(
            f"the file is not UTF-8 text (bad byte on line {line})",
            file=str(path),
            field=f"line {line}",
            value=raw[e.start : e.start + 8],
            expected="a UTF-8 encoded CSV file",
        ) from None
    if not text.strip():
        raise InputError(
            "the data file is empty", file=str(path), expected="a header row and data rows"
        )
    try:
        with warnings.catch_warnings():
            # a first row longer than the header would silently become the index: refuse it
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=False)
    except pd.errors.ParserWarning:
        raise _malformed_csv(
            path, text, f"{_long_row(text)}: more fields than the header"
        ) from None
    except (pd.errors.ParserError, ValueError) as e:
        raise _malformed_csv(path, text, str(e)) from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty and len(df.columns):
        raise InputError(
            "the data file has a header but no data rows",
            file=str(path),
            field="row 2",
            expected="one row per (city, indicator, year, source) below the header",
        )
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            file=str(path),
            field="header (row 1)",
            value=list(df.columns),
            expected="the columns " + ", ".join(REQUIRED),
        )
    return df


def _long_row(text: str) -> str:
    """``"line N"`` of the row with more fields than the header (1-based): pandas warns
    about the first data row only (longer rows after it are tokenizer errors)."""
    rows = csv.reader(io.StringIO(text))
    try:
        width = len(next(rows, []))
        for row in rows:
            if len(row) > width:
                return f"line {rows.line_num}"
    except csv.Error:  # a field over the csv module's limit: pandas' first data row is longest
        pass
    lines = text.splitlines()
    first = next((k for k in range(2, len(lines) + 1) if lines[k - 1].strip()), 2)
    return f"line {first}"


def _malformed_csv(path: Path, text: str, message: str) -> InputError:
    """A CSV syntax error naming the line (pandas says "line N", 1-based, or "row N" for the
    N-th row after the header) and showing it."""
    lines = text.splitlines()
    line = None
    if m := re.search(r"\bline (\d+)", message):
        line = int(m[1])
    elif m := re.search(r"\brow (\d+)", message):
        line = int(m[1]) + 1
    shown = lines[line - 1] if line is not None and 0 < line <= len(lines) else None
    return InputError(
        f"malformed CSV ({' '.join(message.split())})",
        file=str(path),
        field=f"line {line}" if line is not None else "whole file",
        value=None if shown is None else shown[:200],
        expected="comma-separated values with a header row, the same number of fields on "
        "every line and every quote closed",
    )


def load_dataset(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load, validate and normalise a sourced data file.

    Parameters
    ----------
    path : path-like, optional
        A CSV with the columns ``city, country, indicator, year, value, unit, source, note``
        (default: :func:`default_data_path`).

    Returns
    -------
    DataFrame
        One row per file row with the columns :data:`COLUMNS`: ``row`` (spreadsheet row, header
        = 1), ``value`` in the base ``unit`` (see :mod:`innosim.data.units`), ``value_raw`` /
        ``unit_raw`` as written, ``qualifier`` (see :func:`parse_value`), ``year`` (int) with
        ``period`` holding a non-plain year as written, ``flags`` (comma list of :data:`FLAGS`),
        ``kind`` (city, province or region).

    Raises
    ------
    InputError
        Missing or unreadable file, not UTF-8, a missing column, an empty city / indicator /
        source / value, an unknown unit, a year that names no year, or a row repeated verbatim
        -- naming the file, the row (1-based, header = row 1), the field, the value and what was
        expected.
    """
    p = Path(path) if path is not None else default_data_path()
    df = _read_csv(p)
    records = []
    seen: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2
        rec = {k: str(r[k]).strip() for k in REQUIRED}

        def bad(
            field: str, problem: str, expected: str, value: object, row: int = row
        ) -> InputError:
            return InputError(
                problem, file=str(p), field=f"row {row}, {field}", value=value, expected=expected
            )

        for field in ("city", "indicator", "source", "value", "unit"):
            if not rec[field]:
                raise bad(field, f"empty {field}", f"a non-empty {field}", r[field])
        key = tuple(rec[k] for k in ("city", "indicator", "year", "value", "unit", "source"))
        if key in seen:
            raise bad("city", f"row repeats row {seen[key]} verbatim", "each row once", rec["city"])
        seen[key] = row
        unit = normalise_unit(rec["unit"])
        if unit is None:
            raise bad(
                "unit",
                "unknown unit",
                "a unit listed in innosim.data.units.UNITS (see docs/data.md)",
                rec["unit"],
            )
        year = _parse_year(rec["year"])
        if year is None:
            raise bad(
                "year", "no year given", "a year such as 2024, 2024-03 or 2022-2024", rec["year"]
            )
        number, qualifier = parse_value(rec["value"])
        if math.isinf(number * unit.factor):
            raise bad(
                "value",
                "number too large",
                f"a number below {1.8e308 / unit.factor:.3g} {rec['unit']}",
                rec["value"],
            )
        records.append(
            {
                "row": row,
                "city": rec["city"],
                "country": rec["country"],
                "kind": _kind(rec["city"]),
                "indicator": rec["indicator"],
                "year": year[0],
                "period": year[1],
                "value": number * unit.factor,
                "unit": unit.base,
                "qualifier": qualifier,
                "value_raw": rec["value"],
                "unit_raw": rec["unit"],
                "source": rec["source"],
                "note": rec["note"],
                "flags": _flags(rec["indicator"], rec["note"]),
            }
        )
    out = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    out["row"] = out["row"].astype(int)
    out["year"] = out["year"].astype(int)
    out["value"] = out["value"].astype(float)
    out.attrs["file"] = str(p)
    return out


def unparsed(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose value is not a number at all (value NaN, qualifier ``unparsed``)."""
    cols = ["row", "city", "indicator", "year", "value_raw", "unit_raw", "note"]
    return df.loc[df["qualifier"] == "unparsed", cols].reset_index(drop=True)


def _has(flags: str, *names: str) -> bool:
    got = set(flags.split(",")) if flags else set()
    return any(n in got for n in names)


def _add_flag(flags: str, name: str) -> str:
    got = [f for f in flags.split(",") if f] if flags else []
    return flags if name in got else ",".join([*got, name])


def _resolve(df: pd.DataFrame) -> pd.DataFrame:
    """All rows with ``kept`` (bool), ``resolution`` (why) and ``kept_row`` (for dropped)."""
    out = df.copy()
    out["kept"] = True
    out["resolution"] = ""
    out["kept_row"] = pd.array([pd.NA] * len(out), dtype="Int64")

    def note(i: object, text: str) -> None:
        prev = out.at[i, "resolution"]
        out.at[i, "resolution"] = f"{prev}; {text}" if prev else text

    conf = out["flags"].map(lambda f: _has(f, "CONFIRMATION"))

    # 1. duplicates: one value per (city, indicator, year)
    live = out[~conf]
    for _, g in live.groupby(["city", "indicator", "year"], sort=False):
        if len(g) < 2:
            continue
        order = sorted(
            g.index,
            key=lambda i: (
                not math.isfinite(out.at[i, "value"]),
                _has(out.at[i, "flags"], *_WEAK),
                _has(out.at[i, "flags"], "DERIVED"),
                int(out.at[i, "row"]),
            ),
        )
        winner = order[0]
        w = out.loc[winner]
        for i in order[1:]:
            lose = out.loc[i]
            if not math.isfinite(lose["value"]) and math.isfinite(w["value"]):
                why = "has no number"
            elif _has(lose["flags"], *_WEAK) and not _has(w["flags"], *_WEAK):
                why = "is flagged LOW_RELIABILITY/VERIFY"
            elif _has(lose["flags"], "DERIVED") and not _has(w["flags"], "DERIVED"):
                why = "is DERIVED"
            else:
                why = "comes later in the file"
            out.at[i, "kept"] = False
            out.at[i, "kept_row"] = int(w["row"])
            note(i, f"duplicate of row {w['row']}; dropped because it {why}")
            note(winner, f"preferred over row {lose['row']}")
    # 2. confirmation rows: drop when they agree with the (kept) value they confirm
    for i in out.index[conf]:
        c = out.loc[i]
        base = re.sub(r"\s*\(source confirmation\)", "", c["indicator"], flags=re.I).strip()
        targets = out[
            (out["city"] == c["city"])
            & (out["indicator"] == base)
            & (out["year"] == c["year"])
            & ~conf
            & out["kept"]
        ]
        agree = [
            t
            for t in targets.itertuples()
            if math.isfinite(t.value)
            and math.isfinite(c["value"])
            and abs(c["value"] - t.value) <= _TOLERANCE * abs(t.value)
        ]
        if agree:
            t = agree[0]
            out.at[i, "kept"] = False
            out.at[i, "kept_row"] = int(t.row)
            note(i, f"confirms row {t.row} ({base}) within 1%; dropped")
            note(t.Index, f"confirmed by row {c['row']}")
        else:
            shown = ", ".join(f"row {t.row}" for t in targets.itertuples()) or "no row"
            note(i, f"does not confirm {shown} ({base} {c['year']}) within 1%; kept, flagged")
            out.at[i, "flags"] = _add_flag(out.at[i, "flags"], "CONFLICT")
            for t in targets.itertuples():
                out.at[t.Index, "flags"] = _add_flag(out.at[t.Index, "flags"], "CONFLICT")
                note(t.Index, f"disagrees with confirmation row {c['row']}")

    return out


def resolve(df: pd.DataFrame) -> pd.DataFrame:
    """One value per (city, indicator, year), by the conflict rule of docs/data.md.

    1. Among rows with the same (city, indicator, year) the kept one is the first of: a row
       with a number (not ``unparsed``); a row without LOW_RELIABILITY/VERIFY; a row without
       DERIVED; the earliest row in the file.
    2. A "(source confirmation)" row is then dropped when it agrees within 1 % with the kept
       row of the same city, year and base indicator (e.g. GDP); that row's ``resolution``
       says "confirmed by row N". When it disagrees (or confirms nothing) it is kept and both
       rows get the CONFLICT flag.

    Returns the kept rows with a ``resolution`` column ('' when nothing happened); the dropped
    ones, with their reason, come from :func:`conflicts`.
    """
    out = _resolve(df)
    kept = out[out["kept"]].drop(columns=["kept", "kept_row"]).reset_index(drop=True)
    kept.attrs = dict(df.attrs)
    return kept


def conflicts(df: pd.DataFrame) -> pd.DataFrame:
    """The rows :func:`resolve` drops: row, city, indicator, year, value_raw, kept_row, reason."""
    out = _resolve(df)
    gone = out[~out["kept"]]
    cols = ["row", "city", "indicator", "year", "value_raw", "unit_raw", "kept_row", "resolution"]
    return gone[cols].rename(columns={"resolution": "reason"}).reset_index(drop=True)


def coverage(df: pd.DataFrame) -> pd.DataFrame:
    """Which city has which indicator, at the latest year it is reported.

    ``df`` is a loaded dataset (resolved here when it has no ``resolution`` column). The grid is
    every city (``kind == 'city'``) by every indicator reported for at least one city
    (confirmation rows excluded). Columns: city, indicator, year (latest reported, <NA> when
    none), value, unit, has_value (a number exists), flags, city_share (share of indicators the
    city covers), indicator_share (share of cities covered).
    """
    res = df if "resolution" in df.columns else resolve(df)
    cities_rows = res[
        (res["kind"] == "city") & ~res["flags"].map(lambda f: _has(f, "CONFIRMATION"))
    ]
    cities = list(dict.fromkeys(cities_rows["city"]))
    indicators = list(dict.fromkeys(cities_rows["indicator"]))
    latest = (
        cities_rows.sort_values(["year", "row"])
        .groupby(["city", "indicator"], sort=False)
        .tail(1)
        .set_index(["city", "indicator"])
    )
    rows = []
    for c in cities:
        for ind in indicators:
            if (c, ind) in latest.index:
                r = latest.loc[(c, ind)]
                rows.append(
                    (
                        c,
                        ind,
                        int(r["year"]),
                        r["value"],
                        r["unit"],
                        math.isfinite(r["value"]),
                        r["flags"],
                    )
                )
            else:
                rows.append((c, ind, pd.NA, math.nan, "", False, ""))
    cov = pd.DataFrame(
        rows, columns=["city", "indicator", "year", "value", "unit", "has_value", "flags"]
    )
    cov["year"] = cov["year"].astype("Int64")
    cov["has_value"] = cov["has_value"].astype(bool)
    cov["city_share"] = cov.groupby("city", sort=False)["has_value"].transform("mean")
    cov["indicator_share"] = cov.groupby("indicator", sort=False)["has_value"].transform("mean")
    return cov


def _coverage_by(cov: pd.DataFrame, key: str, count: str) -> pd.DataFrame:
    """Per ``key``: ``count`` (rows), covered, share, flagged (covered values with a flag)."""
    flagged = cov["has_value"] & (cov["flags"] != "")
    g = cov.assign(flagged=flagged).groupby(key, sort=False)
    out = pd.DataFrame(
        {
            count: g["has_value"].size(),
            "covered": g["has_value"].sum(),
            "flagged": g["flagged"].sum(),
        }
    )
    out["share"] = out["covered"] / out[count]
    return out.reset_index()[[key, count, "covered", "share", "flagged"]]


def coverage_by_city(cov: pd.DataFrame) -> pd.DataFrame:
    """Per city: indicators, covered, share, flagged (covered values carrying any flag)."""
    return _coverage_by(cov, "city", "indicators")


def coverage_by_indicator(cov: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: cities, covered, share, flagged; most covered first."""
    out = _coverage_by(cov, "indicator", "cities")
    return out.sort_values("covered", ascending=False, kind="stable").reset_index(drop=True)
