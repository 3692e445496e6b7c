"""The sections of the report of a stored run (``innosim report RUN``).

Scenario and parameters; per-city yearly series (with the mean and a 5-95% band over the
replicates when the store holds several runs of the same scenario and scale that differ only by
seed); the firm-size CCDF and survival by age; talent flows between cities (Sankey) and moves
into and out of each city; the chain-master network across cities; the last year's summary.
Everything is read from the stored run (:class:`~innosim.store.runs.StoredRun`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from innosim.api import params_table
from innosim.data.bridge import load_geo
from innosim.errors import InnosimError
from innosim.model.runner import yearly
from innosim.params.scenario import load_scenario
from innosim.report.blocks import Cell, Fields, Figure, Note, Section, Table, Words, new_figure, png
from innosim.report.figures import DEFAULT_METRICS
from innosim.report.flows import chain_network, talent_sankey
from innosim.schema import TICKS_PER_YEAR
from innosim.store import RunStore

__all__ = ["BURN_IN_YEARS", "replicates_of", "run_sections", "survival_by_age"]

BURN_IN_YEARS = 1
"""Firms founded in the first year(s) of a run (the seeded start) are left out of survival."""

BAND = (0.05, 0.95)
"""Quantiles of the replicate band of the series figures."""

# metric -> (unit label key, factor applied before plotting)
_METRIC_UNITS: dict[str, tuple[str, float]] = {
    "value_added": ("u_value_added", 1.0),
    "firms": ("u_firms", 1.0),
    "unicorns": ("u_firms", 1.0),
    "talent_net_inflow_rate": ("u_percent_per_year", 100.0),
    "employment": ("u_persons", 1.0),
    "risk_appetite": ("u_percent", 100.0),
}
_SUMMARY = (
    ("value_added", "{:,.0f}"),
    ("firms", "{:,.0f}"),
    ("entries", "{:,.0f}"),
    ("exits", "{:,.0f}"),
    ("unicorns", "{:,.0f}"),
    ("chain_masters", "{:,.0f}"),
    ("talent_net_inflow_rate", "{:+.1%}"),
    ("graduates", "{:,.0f}"),
)
_SAME_DESIGN = ("scenario_hash", "persons_per_agent", "start_year", "end_year", "ticks", "disabled")
"""Runs are replicates of each other when these metadata agree (and their seeds differ)."""


def scenario_of(meta: dict[str, Any]) -> Any:
    """The run's scenario, read again from its file (or by name); None when it cannot be read."""
    for ref in (meta.get("scenario_path"), meta.get("scenario")):
        if not ref:
            continue
        try:
            return load_scenario(ref)
        except (InnosimError, OSError):
            continue
    return None


def run_words(meta: dict[str, Any], lang: str) -> tuple[Words, Any]:
    """The report's language for a run (Chinese city names from the scenario) and the scenario."""
    scenario = scenario_of(meta)
    names = {}
    if scenario is not None:
        names = {c.name: c.name_zh for c in scenario.cities if c.name_zh}
    return Words(lang, names), scenario


def replicates_of(stored: Any) -> list[Any]:
    """The stored runs beside ``stored`` (same results store) that are replicates of it: same
    scenario hash, scale, calendar and disabled mechanisms, another seed (one run per seed).
    ``stored`` is first; a run outside a store, or without a scenario hash, has only itself."""
    runs = [stored]
    key = tuple(json.dumps(stored.meta.get(k), sort_keys=True) for k in _SAME_DESIGN)
    if stored.meta.get("scenario_hash") is None:
        return runs
    seeds = {str(stored.meta.get("seed"))}
    try:
        siblings = sorted(p for p in Path(stored.path).parent.iterdir() if p.is_dir())
    except OSError:
        return runs
    store = RunStore(Path(stored.path).parent.parent)
    for path in siblings:
        if path.name.startswith(".") or path.resolve() == Path(stored.path).resolve():
            continue
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or str(meta.get("seed")) in seeds:
            continue
        if tuple(json.dumps(meta.get(k), sort_keys=True) for k in _SAME_DESIGN) != key:
            continue
        try:
            runs.append(store.load_run(path))
        except InnosimError:
            continue
        seeds.add(str(meta.get("seed")))
    return runs


def run_sections(stored: Any, w: Words, scenario: Any, bands: bool = True) -> list[Section]:
    """The sections of the report of one stored run, in the language of ``w``."""
    meta = stored.meta
    t = w.t
    window = int(meta.get("volatility_window_years", 5))
    series = stored.table("series")
    y = yearly(series, window)
    cities = [str(c) for c in dict.fromkeys(y["city"])]
    last_year = int(y["year"].max())
    tpy = TICKS_PER_YEAR
    runs = replicates_of(stored) if bands else [stored]
    ys = [y] + [yearly(r.table("series"), window) for r in runs[1:]]
    seeds = sorted((str(r.meta.get("seed")) for r in runs), key=_seed_order)

    series_blocks: list[Any] = []
    if len(runs) > 1:
        series_blocks.append(Note(t("band_note", n=len(runs), seeds=w.join(seeds))))
    series_blocks += [_series_figure(ys, m, cities, w) for m in DEFAULT_METRICS]
    firm_blocks = [
        _ccdf_figure(_named(stored.table("firm_years"), meta), cities, last_year, w),
        _survival_figure(
            _named(stored.table("firms"), meta), cities, tpy, int(meta.get("ticks", 0)), w
        ),
    ]
    tables = set(stored.tables)
    pairs = stored.table("city_pairs") if "city_pairs" in tables else pd.DataFrame()
    talent_blocks: list[Any] = []
    if pairs.empty:
        talent_blocks.append(Note(t("pairs_missing")))
    else:
        talent_blocks.append(talent_sankey(pairs, cities, w))
    talent_blocks.append(_talent_figure(series, cities, w))
    if pairs.empty:
        chain_blocks: list[Any] = [Note(t("pairs_missing"))]
    else:
        last = y[y["year"] == last_year].set_index("city")["chain_masters"]
        coords = _coordinates(scenario, cities)
        chain_blocks = [chain_network(pairs, last.to_dict(), cities, coords, w)]

    summary_rows = []
    for row in y[y["year"] == last_year].itertuples(index=False):
        summary_rows.append(
            [Cell(w.city(row.city))]
            + [Cell(fmt.format(getattr(row, col)), "num") for col, fmt in _SUMMARY]
        )
    summary = Table(
        t("cap_summary", year=last_year),
        [t("h_city")] + [t(f"m_{c}") for c, _ in _SUMMARY],
        summary_rows,
    )
    params = _params_table(scenario, w)
    return [
        Section("scenario", t("sec_scenario"), [_fields(stored, w, cities)]),
        Section(
            "params",
            t("sec_params"),
            [Note(t("params_missing"))] if params is None else [Note(t("params_note")), params],
        ),
        Section("series", t("sec_series"), series_blocks),
        Section("firms", t("sec_firms"), firm_blocks),
        Section("talent", t("sec_talent"), talent_blocks),
        Section("chains", t("sec_chains"), chain_blocks),
        Section("summary", t("sec_summary"), [summary]),
    ]


def _seed_order(seed: str) -> tuple[int, int, str]:
    """Integer seeds first, in numeric order, then the others as text."""
    try:
        return (0, int(seed), "")
    except ValueError:
        return (1, 0, seed)


def _named(frame: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with its integer ``city`` codes replaced by the run's city names."""
    names = [str(c) for c in meta.get("cities", [])]
    if "city" not in frame.columns or not pd.api.types.is_integer_dtype(frame["city"]):
        return frame
    out = frame.copy()
    out["city"] = [names[int(c)] if 0 <= int(c) < len(names) else str(c) for c in frame["city"]]
    return out


# ---------------------------------------------------------------------------- figures


def _finish(ax: Any, title: str, xlabel: str, ylabel: str, legend: bool) -> None:
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if xlabel and ax.get_xscale() != "log":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if legend:
        ax.legend(fontsize=8, frameon=False, loc="best")


def _series_figure(ys: Sequence[pd.DataFrame], metric: str, cities: list[str], w: Words) -> Figure:
    """Per-city yearly ``metric``: one line per city for one run; for replicates, the mean over
    runs with the 5-95% band between runs."""
    unit_key, factor = _METRIC_UNITS[metric]
    fig = new_figure()
    ax = fig.subplots()
    for k, city in enumerate(cities):
        colour = f"C{k % 10}"
        frames = [y.loc[y["city"] == city, ["year", metric]].set_index("year") for y in ys]
        if len(frames) == 1:
            rows = frames[0][metric] * factor
            ax.plot(rows.index, rows, label=w.city(city), linewidth=1.5, color=colour)
            continue
        wide = pd.concat([f[metric] for f in frames], axis=1) * factor
        lo, hi = (wide.quantile(q, axis=1) for q in BAND)
        ax.fill_between(wide.index, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(wide.index, wide.mean(axis=1), label=w.city(city), linewidth=1.5, color=colour)
    title = w.t(f"m_{metric}")
    _finish(ax, title, w.t("axis_year"), w.t(unit_key), bool(cities))
    if len(ys) > 1:
        caption = w.t("cap_series_band", metric=title, unit=w.t(unit_key), n=len(ys))
    else:
        caption = w.t("cap_series", metric=title, unit=w.t(unit_key))
    return Figure(title, caption, png(fig))


def _ccdf_figure(firm_years: pd.DataFrame, cities: list[str], year: int, w: Words) -> Figure:
    """Firm-size CCDF in ``year``: share of living firms with at least n employees (log-log)."""
    fig = new_figure()
    ax = fig.subplots()
    rows = firm_years[(firm_years["year"] == year) & (firm_years["employment"] > 0)]
    drawn = False
    for k, city in enumerate(cities):  # colours as in the series figures
        group = rows[rows["city"] == city]
        if group.empty:
            continue
        size = np.sort(group["employment"].to_numpy(dtype=float))
        share = 1.0 - np.arange(size.size) / size.size
        ax.step(size, share, where="post", label=w.city(city), linewidth=1.4, color=f"C{k % 10}")
        drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, w.t("no_data"), ha="center", va="center", transform=ax.transAxes)
    _finish(ax, w.t("fig_ccdf"), w.t("axis_size"), w.t("axis_ccdf"), drawn)
    return Figure(w.t("fig_ccdf"), w.t("cap_ccdf", year=year), png(fig))


def survival_by_age(firms: pd.DataFrame, ticks_per_year: int, ticks: int) -> pd.DataFrame:
    """Share of firms founded after the burn-in still alive at each whole age, per city.

    Columns ``city``, ``age`` (years), ``at_risk`` (firms old enough to have reached that age by
    the end of the run) and ``alive`` (share of those alive at that age).
    """
    start = BURN_IN_YEARS * ticks_per_year
    f = firms[firms["born"] >= start]
    end = ticks if ticks > 0 else int(f["born"].max(initial=0)) + 1
    rows = []
    for city, group in f.groupby("city", sort=True):
        born = group["born"].to_numpy(dtype=np.int64)
        died = group["died"].to_numpy(dtype=np.int64)
        lifetime = np.where(died < 0, np.iinfo(np.int64).max, died - born)
        for age in range(0, (end - start) // ticks_per_year + 1):
            reach = born + age * ticks_per_year < end
            n = int(reach.sum())
            if n == 0:
                break
            alive = float((lifetime[reach] > age * ticks_per_year).mean())
            rows.append({"city": city, "age": age, "at_risk": n, "alive": alive})
    return pd.DataFrame(rows, columns=["city", "age", "at_risk", "alive"])


def _survival_figure(
    firms: pd.DataFrame, cities: list[str], tpy: int, ticks: int, w: Words
) -> Figure:
    """Survival by age per city (:func:`survival_by_age`), in percent."""
    fig = new_figure()
    ax = fig.subplots()
    surv = survival_by_age(firms, tpy, ticks)
    for k, city in enumerate(cities):
        group = surv[surv["city"] == city]
        if group.empty:
            continue
        ax.plot(
            group["age"],
            100.0 * group["alive"],
            marker="o",
            ms=3,
            label=w.city(city),
            color=f"C{k % 10}",
        )
    if surv.empty:
        ax.text(0.5, 0.5, w.t("no_data"), ha="center", va="center", transform=ax.transAxes)
    _finish(ax, w.t("fig_survival"), w.t("axis_age"), w.t("u_percent"), not surv.empty)
    return Figure(w.t("fig_survival"), w.t("cap_survival", burn=BURN_IN_YEARS), png(fig))


def _talent_figure(series: pd.DataFrame, cities: list[str], w: Words) -> Figure:
    """People moving into and out of each city over the whole run (bars)."""
    fig = new_figure()
    ax = fig.subplots()
    totals = series.groupby("city", sort=False)[["moves_in", "moves_out"]].sum()
    totals = totals.reindex(cities)
    x = np.arange(len(cities))
    ax.bar(x - 0.2, totals["moves_in"], width=0.4, label=w.t("leg_in"))
    ax.bar(x + 0.2, totals["moves_out"], width=0.4, label=w.t("leg_out"))
    ax.set_xticks(x, [w.city(c) for c in cities], fontsize=8)
    ax.set_title(w.t("fig_talent"), fontsize=11)
    ax.set_ylabel(w.t("u_agents"))
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, frameon=False)
    return Figure(w.t("fig_talent"), w.t("cap_talent"), png(fig))


# ---------------------------------------------------------------------------- tables and text


def _coordinates(scenario: Any, cities: list[str]) -> dict[str, tuple[float, float]]:
    """City -> (longitude, latitude): the scenario's, else ``data/city_geo.csv``'s."""
    coords: dict[str, tuple[float, float]] = {}
    try:
        geo = load_geo()
        for city, r in geo.iterrows():
            coords[str(city)] = (float(r["lon"]), float(r["lat"]))
    except (InnosimError, OSError, KeyError, ValueError):
        pass
    if scenario is not None:
        for c in scenario.cities:
            coords[c.name] = (float(c.lon), float(c.lat))
    return {c: coords[c] for c in cities if c in coords}


def _fields(stored: Any, w: Words, cities: list[str]) -> Fields:
    meta = stored.meta
    t = w.t
    tick = str(meta.get("tick", "quarter"))
    tick_text = t(f"tick_{tick}") if tick in ("quarter", "month", "year") else tick
    return Fields(
        [
            (t("f_name"), str(meta.get("scenario", "")), True),
            (t("f_title"), str(meta.get("title", "")), True),
            (
                t("f_calendar"),
                t(
                    "calendar_value",
                    start=meta.get("start_year", ""),
                    end=meta.get("end_year", ""),
                    ticks=meta.get("ticks", ""),
                    tick=tick_text,
                ),
                False,
            ),
            (
                t("f_scale"),
                t(
                    "scale_value",
                    ppa=float(meta.get("persons_per_agent", 0.0)),
                    scale=float(meta.get("scale", 1.0)),
                ),
                False,
            ),
            (t("f_seed"), str(meta.get("seed", "")), False),
            (t("f_run"), stored.run_id, True),
            (t("f_created"), str(meta.get("created", "")), False),
            (t("f_cities"), w.join(w.city(c) for c in cities), False),
        ]
    )


def _params_table(scenario: Any, w: Words) -> Table | None:
    if scenario is None:
        return None
    p = params_table(scenario)
    p = p[p["scope"] == "city"]
    names = list(dict.fromkeys(p["name"]))
    cities = list(dict.fromkeys(p["city"]))
    rows = []
    for name in names:
        sub = p[p["name"] == name].set_index("city")
        rows.append(
            [Cell(name, "code"), Cell(str(sub["unit"].iloc[0]), "code")]
            + [
                Cell(f"{float(sub.loc[c, 'value']):,.4g}" if c in sub.index else "", "num")
                for c in cities
            ]
        )
    header = [w.t("h_param"), w.t("h_unit")] + [w.city(c) for c in cities]
    return Table(w.t("cap_params"), header, rows)
