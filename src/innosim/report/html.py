"""One self-contained HTML report of a stored run (``innosim report``).

Figures are drawn with Matplotlib's object API into memory and embedded as base64 PNG; the CSS
is inline, so the file opens without a network. Every word comes from the label catalog
(:mod:`innosim.report.labels`) in the chosen language; city names come from the scenario
(``name_zh`` in Chinese). The file is written to a temporary name beside the target and renamed
over it.
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innosim.engine.run import yearly
from innosim.errors import InnosimError, InputError, StoreError
from innosim.report.figures import DEFAULT_METRICS
from innosim.report.labels import check_lang, label

__all__ = ["render_report", "report"]

DPI = 100
FIG_SIZE = (7.0, 3.8)
BURN_IN_YEARS = 1
"""Firms founded in the first year(s) of a run (the seeded start) are left out of survival."""

_TICKS_PER_YEAR = {"quarter": 4, "month": 12, "year": 1}
_CJK_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]
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


@dataclass(frozen=True)
class Figure:
    """One embedded figure: title, caption and base64 PNG."""

    title: str
    caption: str
    png: str


def report(
    run_ref: str | os.PathLike[str],
    lang: str = "en",
    out: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] = "results",
) -> Path:
    """Write the HTML report of a stored run and return its path.

    Parameters
    ----------
    run_ref : str or path
        A run id, a unique prefix of at least 4 characters, ``"latest"``, or a run directory.
    lang : {"en", "zh"}
        Language of every title, caption, axis label, table header and city name.
    out : str or path, optional
        HTML file to write (default: ``report.<lang>.html`` in the run directory).
    store : str or path
        Root of the results store.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        ``lang`` is not a report language.
    StoreError
        The run cannot be found or read, or ``out`` cannot be written.
    """
    from innosim.store import RunStore

    lang = check_lang(lang)
    stored = RunStore(store).load_run(run_ref)
    target = stored.path / f"report.{lang}.html" if out is None else Path(out)
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError(
            "the report file must end in .html",
            field="out",
            value=str(target),
            expected="a path like report.html in an existing, writable directory",
        )
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise InputError(
            "the report's directory does not exist or is not writable",
            field="out",
            value=str(target),
            expected="a path like report.html in an existing, writable directory",
        )
    html = render_report(stored, lang)
    _write_atomic(target, html)
    return target


def render_report(stored: Any, lang: str) -> str:
    """The HTML text of the report of a :class:`~innosim.store.runs.StoredRun`."""
    lang = check_lang(lang)
    meta = stored.meta
    scenario = _scenario(meta)
    english = [str(c) for c in meta.get("cities", [])]
    zh_names = {}
    if scenario is not None:
        zh_names = {c.name: c.name_zh for c in scenario.cities if c.name_zh}

    def city_name(city: object) -> str:
        name = english[int(city)] if isinstance(city, int | np.integer) else str(city)
        return zh_names.get(name, name) if lang == "zh" else name

    def t(key: str, **fields: object) -> str:
        return label(key, lang, **fields)

    window = int(meta.get("volatility_window_years", 5))
    series = stored.table("series")
    y = yearly(series, window)
    cities = list(dict.fromkeys(y["city"]))
    last_year = int(y["year"].max())
    tpy = _TICKS_PER_YEAR.get(str(meta.get("tick", "quarter")), 4)

    with _fonts(lang):
        series_figs = [_series_figure(y, m, cities, city_name, t) for m in DEFAULT_METRICS]
        firm_figs = [
            _ccdf_figure(stored.table("firm_years"), last_year, city_name, t),
            _survival_figure(stored.table("firms"), tpy, int(meta.get("ticks", 0)), city_name, t),
        ]
        talent_figs = [_talent_figure(series, cities, city_name, t)]

    tick = str(meta.get("tick", "quarter"))
    fields = [
        (t("f_name"), meta.get("scenario", ""), True),
        (t("f_title"), meta.get("title", ""), True),
        (
            t("f_calendar"),
            t(
                "calendar_value",
                start=meta.get("start_year", ""),
                end=meta.get("end_year", ""),
                ticks=meta.get("ticks", ""),
                tick=t(f"tick_{tick}") if f"tick_{tick}" in _tick_keys() else tick,
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
        (
            t("f_cities"),
            "、".join(city_name(c) for c in cities)
            if lang == "zh"
            else ", ".join(city_name(c) for c in cities),
            False,
        ),
    ]
    params = _params_table(scenario, city_name)
    summary_rows = []
    last = y[y["year"] == last_year]
    for row in last.itertuples(index=False):
        summary_rows.append(
            [city_name(row.city)] + [fmt.format(getattr(row, col)) for col, fmt in _SUMMARY]
        )
    env = _environment()
    return env.get_template("report.html.j2").render(
        lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en",
        t=t,
        fields=fields,
        params=params,
        params_header=[t("h_param"), t("h_unit")] + [city_name(c) for c in cities],
        series_figs=series_figs,
        firm_figs=firm_figs,
        talent_figs=talent_figs,
        summary_header=[t("h_city")] + [t(f"m_{c}") for c, _ in _SUMMARY],
        summary_rows=summary_rows,
        summary_caption=t("cap_summary", year=last_year),
    )


# ---------------------------------------------------------------------------- figures


def _new_figure() -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=FIG_SIZE, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("ignore", message=".*findfont.*")
        fig.savefig(buf, format="png", dpi=DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _finish(ax: Any, fig: Any, title: str, xlabel: str, ylabel: str, has_lines: bool) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if xlabel and not ax.get_xscale() == "log":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if has_lines:
        ax.legend(fontsize=8, frameon=False, loc="best")


def _series_figure(
    y: pd.DataFrame, metric: str, cities: list, city_name: Callable, t: Callable
) -> Figure:
    unit_key, factor = _METRIC_UNITS[metric]
    fig = _new_figure()
    ax = fig.subplots()
    for city in cities:
        rows = y[y["city"] == city]
        ax.plot(rows["year"], rows[metric] * factor, label=city_name(city), linewidth=1.5)
    title = t(f"m_{metric}")
    _finish(ax, fig, title, t("axis_year"), t(unit_key), bool(cities))
    caption = t("cap_series", metric=title, unit=t(unit_key))
    return Figure(title, caption, _png(fig))


def _ccdf_figure(firm_years: pd.DataFrame, year: int, city_name: Callable, t: Callable) -> Figure:
    fig = _new_figure()
    ax = fig.subplots()
    rows = firm_years[(firm_years["year"] == year) & (firm_years["employment"] > 0)]
    drawn = False
    for city, group in rows.groupby("city", sort=True):
        size = np.sort(group["employment"].to_numpy(dtype=float))
        share = 1.0 - np.arange(size.size) / size.size
        ax.step(size, share, where="post", label=city_name(city), linewidth=1.4)
        drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, t("no_data"), ha="center", va="center", transform=ax.transAxes)
    _finish(ax, fig, t("fig_ccdf"), t("axis_size"), t("axis_ccdf"), drawn)
    return Figure(t("fig_ccdf"), t("cap_ccdf", year=year), _png(fig))


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
    firms: pd.DataFrame, tpy: int, ticks: int, city_name: Callable, t: Callable
) -> Figure:
    fig = _new_figure()
    ax = fig.subplots()
    surv = survival_by_age(firms, tpy, ticks)
    for city, group in surv.groupby("city", sort=True):
        ax.plot(group["age"], 100.0 * group["alive"], marker="o", ms=3, label=city_name(city))
    if surv.empty:
        ax.text(0.5, 0.5, t("no_data"), ha="center", va="center", transform=ax.transAxes)
    _finish(ax, fig, t("fig_survival"), t("axis_age"), t("u_percent"), not surv.empty)
    return Figure(t("fig_survival"), t("cap_survival", burn=BURN_IN_YEARS), _png(fig))


def _talent_figure(series: pd.DataFrame, cities: list, city_name: Callable, t: Callable) -> Figure:
    fig = _new_figure()
    ax = fig.subplots()
    totals = series.groupby("city", sort=False)[["moves_in", "moves_out"]].sum()
    totals = totals.reindex(cities)
    x = np.arange(len(cities))
    ax.bar(x - 0.2, totals["moves_in"], width=0.4, label=t("leg_in"))
    ax.bar(x + 0.2, totals["moves_out"], width=0.4, label=t("leg_out"))
    ax.set_xticks(x, [city_name(c) for c in cities], fontsize=8)
    ax.set_title(t("fig_talent"), fontsize=11)
    ax.set_ylabel(t("u_agents"))
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, frameon=False)
    return Figure(t("fig_talent"), t("cap_talent"), _png(fig))


class _fonts:
    """Within the block, Matplotlib prefers a CJK font for Chinese text (where one is installed)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._ctx: Any = None

    def __enter__(self) -> None:
        import matplotlib

        rc = (
            {"font.sans-serif": _CJK_FONTS, "font.family": "sans-serif"}
            if self.lang == "zh"
            else {}
        )
        self._ctx = matplotlib.rc_context(rc)
        self._ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------------- tables and text


def _tick_keys() -> set[str]:
    from innosim.report.labels import LABELS

    return {k for k in LABELS if k.startswith("tick_")}


def _scenario(meta: dict[str, Any]) -> Any:
    """The run's scenario, read again from its file (or by name); None when it cannot be read."""
    from innosim.params.scenario import load_scenario

    for ref in (meta.get("scenario_path"), meta.get("scenario")):
        if not ref:
            continue
        try:
            return load_scenario(ref)
        except (InnosimError, OSError):
            continue
    return None


def _params_table(scenario: Any, city_name: Callable) -> list[list[str]] | None:
    if scenario is None:
        return None
    from innosim.api import params_table

    p = params_table(scenario)
    p = p[p["scope"] == "city"]
    names = list(dict.fromkeys(p["name"]))
    cities = list(dict.fromkeys(p["city"]))
    rows = []
    for name in names:
        sub = p[p["name"] == name].set_index("city")
        rows.append(
            [name, str(sub["unit"].iloc[0])]
            + [f"{float(sub.loc[c, 'value']):,.4g}" if c in sub.index else "" for c in cities]
        )
    return rows


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("innosim.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write_atomic(target: Path, text: str) -> None:
    directory = target.parent if str(target.parent) else Path(".")
    expected = "a path like report.html in an existing, writable directory"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise StoreError(
            f"cannot write the report ({exc.strerror})", file=str(target), expected=expected
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StoreError(
            f"cannot write the report ({exc.strerror})", file=str(target), expected=expected
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
