"""Sections of the report of an experiment: the ``--out`` directory of ``innosim validate``,
``compare``, ``explain``, ``index`` or ``sweep``.

A directory's kind is told by the files its command writes (:data:`KINDS`); a directory holding
the files of several commands gets the sections of each. Everything is read from those files
and every figure is drawn again here, with the words of the label catalog and city names in the
report's language (Chinese names from the experiment's scenario, else from
``data/city_geo.csv``):

- validate: the table of targets with the simulated mean, its 90% interval, the accepted range
  and pass/fail; where each simulated mean falls in its accepted range; and the figures
  ``innosim validate`` drew (survival and firm sizes, fund multiples, founders, city targets),
  which need the runs' raw data and are embedded as written (labels in English).
- compare: the policy's entries; each city's relative change per outcome with the 90% interval
  of the mean paired difference; the table of means and changes.
- explain: the waterfall of the gap between two cities by Shapley values over lever groups
  (:func:`innosim.report.waterfall.draw_waterfall`); the table of terms.
- index: the TOP score of each city with its Monte Carlo rank interval (ranked bars), one
  Talent/Organization/Place radar per city, and the table of scores and ranks.
- sweep: per metric, each city's replicate mean against the first varied parameter with the
  band between the 5% and 95% replicate quantiles (averaged over any other varied parameter);
  the phase diagram ``innosim sweep`` drew (labels in English); the summary per design point.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innosim.data.bridge import load_geo
from innosim.errors import InnosimError, InputError
from innosim.labels import LABELS
from innosim.params.scenario import load_scenario
from innosim.report.blocks import Cell, Fields, Figure, Note, Section, Table, Words, new_figure, png
from innosim.report.waterfall import draw_compare_panels, draw_waterfall

__all__ = ["KINDS", "experiment_kinds", "experiment_sections"]

KINDS: dict[str, tuple[str, ...]] = {
    "validate": ("validation.json", "validation.csv"),
    "compare": ("compare.json", "compare.csv"),
    "explain": ("explain.json", "explain.csv"),
    "index": ("index.csv", "meta.json"),
    "sweep": ("sweep.json", "summary.csv"),
}
"""Experiment kind -> the files its ``--out`` directory holds (all of them)."""

VALIDATION_FIGURES = ("firms", "finance", "founders", "cities")
"""``validation_<family>.png`` files of ``innosim validate``, embedded where present."""

_PASS, _FAIL, _RANGE = "#1b7f3b", "#b3261e", "#9fd8a8"


def experiment_kinds(directory: Path) -> list[str]:
    """The kinds of experiment whose output files are all in ``directory`` (maybe none)."""
    return [k for k, files in KINDS.items() if all((directory / f).is_file() for f in files)]


def experiment_sections(
    kinds: list[str], directory: Path, lang: str
) -> tuple[str, Words, list[Section]]:
    """The report's title, language and sections for the experiments in ``directory``."""
    read = _Reader(directory)
    w = Words(lang, _names(read, kinds))
    sections: list[Section] = []
    for kind in kinds:
        sections += _SECTIONS[kind](read, w)
    title = w.t(f"title_{kinds[0]}") if len(kinds) == 1 else w.t("title_experiments")
    return title, w, sections


# ---------------------------------------------------------------------------- reading


class _Reader:
    """Reads the files of one directory; a bad file is an InputError naming it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._json: dict[str, dict[str, Any]] = {}

    def json(self, name: str) -> dict[str, Any]:
        if name not in self._json:
            path = self.directory / name
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"cannot read the experiment's file ({exc})",
                    file=str(path),
                    expected="the JSON file its innosim command wrote",
                ) from None
            if not isinstance(data, dict):
                raise InputError(
                    "the experiment's file is not a JSON object",
                    file=str(path),
                    expected="the JSON file its innosim command wrote",
                )
            self._json[name] = data
        return self._json[name]

    def csv(self, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        path = self.directory / name
        try:
            df = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise InputError(
                f"cannot read the experiment's table ({exc})",
                file=str(path),
                expected="the CSV file its innosim command wrote",
            ) from None
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise InputError(
                "the experiment's table lacks columns",
                file=str(path),
                field=missing[0],
                expected="columns " + ", ".join(columns),
            )
        return df

    def png(self, name: str) -> str | None:
        path = self.directory / name
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return base64.b64encode(data).decode("ascii") if data[:4] == b"\x89PNG" else None


def _names(read: _Reader, kinds: list[str]) -> dict[str, str]:
    """English -> Chinese city names: data/city_geo.csv, then the experiment's scenario."""
    names: dict[str, str] = {}
    try:
        geo = load_geo()
        names.update({str(c): str(z) for c, z in geo["name_zh"].items() if isinstance(z, str)})
    except (InnosimError, OSError, KeyError, ValueError):
        pass

    for kind in kinds:
        ref = read.json(KINDS[kind][0]).get("scenario") if kind != "index" else None
        if not isinstance(ref, str) or not ref:
            continue
        try:
            sc = load_scenario(ref)
        except (InnosimError, OSError):
            continue
        names.update({c.name: c.name_zh for c in sc.cities if c.name_zh})
    return names


def _num(x: Any) -> str:
    """A compact number: thousands separators for large values, 3 significant digits else."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _text(x: Any) -> str:
    """A text cell read from a table: empty for a missing value (None, NaN)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return str(x)


def _metric(w: Words, metric: str) -> str:
    """A yearly outcome's name from the catalog (``m_<metric>``), else as written."""
    return w.t(f"m_{metric}") if f"m_{metric}" in LABELS else metric


def _term(w: Words) -> Callable[[str], str]:
    return lambda g: w.t(f"g_{g}") if f"g_{g}" in LABELS else g


# ---------------------------------------------------------------------------- validate


def _validate(read: _Reader, w: Words) -> list[Section]:
    t = w.t
    data = read.json("validation.json")
    cols = ("statistic", "args", "scenario", "value", "lo", "hi", "low", "high", "passed")
    df = read.csv("validation.csv", cols)
    passed = int(df["passed"].astype(bool).sum())
    fields = Fields(
        [
            (t("f_targets"), str(data.get("targets", "")), True),
            (t("f_name"), str(data.get("scenario", "")), True),
            (t("f_replicates"), str(data.get("replicates", "")), False),
            (t("f_seed"), str(data.get("seed", "")), False),
            (t("f_result"), t("val_passed", passed=passed, total=len(df)), False),
        ]
    )
    rows = []
    for r in df.itertuples(index=False):
        ok = bool(r.passed)
        args = _text(r.args)
        ref = getattr(r, "reference", None)
        rows.append(
            [
                Cell(str(r.statistic), "code"),
                Cell(args, "code"),
                Cell(str(r.scenario), "code"),
                Cell(f"{_num(r.value)} [{_num(r.lo)}, {_num(r.hi)}]", "num"),
                Cell(f"{_num(r.low)} – {_num(r.high)}", "num"),
                Cell(_num(ref) if ref is not None else "–", "num"),
                Cell(t("pass") if ok else t("fail"), "pass" if ok else "fail"),
                Cell(_text(getattr(r, "source", "")), "code"),
            ]
        )
    header = [
        t("h_statistic"),
        t("h_args"),
        t("f_name"),
        t("h_simulated"),
        t("h_accepted"),
        t("h_reference"),
        t("h_result"),
        t("h_source"),
    ]
    table = Table(t("cap_val_table", replicates=data.get("replicates", "")), header, rows)
    blocks: list[Any] = [fields, table, _position_figure(df, w)]
    stored = []
    for family in VALIDATION_FIGURES:
        image = read.png(f"validation_{family}.png")
        if image is not None:
            stored.append(Figure(t(f"fig_val_{family}"), t(f"cap_val_{family}"), image))
    blocks += stored
    if not stored:
        blocks.append(Note(t("val_no_figures")))
    return [Section("validation", t("sec_validation"), blocks)]


def _position_figure(df: pd.DataFrame, w: Words) -> Figure:
    """Where each simulated mean (and its 90% interval) falls in the target's accepted range,
    rescaled so that the range runs from 0 to 1; values beyond [-1, 2] are drawn at the edge."""
    span = (df["high"] - df["low"]).to_numpy(dtype=float)
    ok = np.isfinite(span) & (span > 0)
    low = df["low"].to_numpy(dtype=float)

    def rel(col: str) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, (df[col].to_numpy(dtype=float) - low) / span, np.nan)

    mean, lo, hi = rel("value"), rel("lo"), rel("hi")
    n = len(df)
    fig = new_figure((7.0, 1.2 + 0.38 * max(n, 1)))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    ax.axvspan(0, 1, color=_RANGE, alpha=0.5, lw=0, label=w.t("leg_range"))
    for k, r in enumerate(df.itertuples(index=False)):
        if not math.isfinite(mean[k]):
            continue
        colour = _PASS if bool(r.passed) else _FAIL
        m = float(np.clip(mean[k], -1.0, 2.0))
        a, b = (float(np.clip(v, -1.0, 2.0)) for v in (lo[k], hi[k]))
        if math.isfinite(a) and math.isfinite(b):
            ax.plot([a, b], [y[k], y[k]], color=colour, lw=2)
        marker = "o" if -1.0 < mean[k] < 2.0 else (">" if mean[k] >= 2.0 else "<")
        ax.plot(m, y[k], marker, color=colour, ms=6)
    labels = [
        f"{r.statistic} {r.args}" if isinstance(r.args, str) and r.args else str(r.statistic)
        for r in df.itertuples(index=False)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(-1.05, 2.05)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(w.t("axis_val_position"))
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    title = w.t("fig_val_position")
    ax.set_title(title, fontsize=11)
    return Figure(title, w.t("cap_val_position"), png(fig))


# ---------------------------------------------------------------------------- compare


def _compare(read: _Reader, w: Words) -> list[Section]:
    t = w.t
    a = read.json("compare.json")
    cols = ("city", "metric", "baseline_mean", "policy_mean", "diff_mean", "diff_lo", "diff_hi")
    df = read.csv("compare.csv", cols)
    pol = a.get("policy") if isinstance(a.get("policy"), dict) else {}
    fields = Fields(
        [
            (t("f_name"), str(a.get("scenario", "")), True),
            (t("f_policy"), str(pol.get("title") or pol.get("name", "")), True),
            (t("f_year"), str(a.get("year", "")), False),
            (t("f_replicates"), str(a.get("replicates", "")), False),
            (t("f_seed"), str(a.get("seed", "")), False),
            (t("f_scale"), str(a.get("scale", "")), False),
        ]
    )
    entries = [e for e in pol.get("policy", []) if isinstance(e, dict)]
    policy_rows = [
        [
            Cell(w.city(e.get("city", ""))),
            Cell(str(e.get("lever", e.get("param", ""))), "code"),
            Cell(_num(e.get("year")), "num"),
            Cell(_num(e.get("value")), "num"),
            Cell(str(e.get("mode", "")), "code"),
            Cell(_text(e.get("note")), "code"),
        ]
        for e in entries
    ]
    blocks: list[Any] = [fields]
    if policy_rows:
        header = [t("h_city"), t("h_lever"), t("f_year"), t("h_value"), t("h_mode"), t("h_note")]
        blocks.append(Table(t("cap_policy"), header, policy_rows))
    blocks.append(_compare_figure(df, w, a))
    rows = []
    for r in df.itertuples(index=False):
        base = float(r.baseline_mean)
        rel = float(r.diff_mean) / abs(base) if base else math.nan
        rows.append(
            [
                Cell(w.city(r.city)),
                Cell(_metric(w, str(r.metric))),
                Cell(_num(r.baseline_mean), "num"),
                Cell(_num(r.policy_mean), "num"),
                Cell(f"{_num(r.diff_mean)} [{_num(r.diff_lo)}, {_num(r.diff_hi)}]", "num"),
                Cell("–" if not math.isfinite(rel) else f"{100 * rel:+.1f}%", "num"),
            ]
        )
    header = [
        t("h_city"),
        t("h_metric"),
        t("h_baseline"),
        t("h_policy"),
        t("h_change_ci"),
        t("h_change_pct"),
    ]
    blocks.append(Table(t("cap_compare_table", year=a.get("year", "")), header, rows))
    return [Section("compare", t("sec_compare"), blocks)]


def _compare_figure(df: pd.DataFrame, w: Words, a: dict[str, Any]) -> Figure:
    """One panel per outcome: each city's change (policy minus baseline, % of the baseline mean)
    with the 90% interval of the mean paired difference (drawn by ``draw_compare_panels``)."""

    metrics = list(dict.fromkeys(df["metric"]))
    cities = list(dict.fromkeys(df["city"]))
    ncols = min(3, max(len(metrics), 1))
    nrows = -(-len(metrics) // ncols) if metrics else 1
    fig = new_figure((3.6 * ncols, 0.32 * len(cities) * nrows + 1.3 * nrows + 0.4))
    draw_compare_panels(
        fig,
        df,
        city_name=w.city,
        metric_name=lambda m: _metric(w, m),
        xlabel=w.t("axis_change_pct"),
    )
    title = w.t("fig_compare")
    fig.suptitle(title, fontsize=11)
    caption = w.t("cap_compare", year=a.get("year", ""), replicates=a.get("replicates", ""))
    return Figure(title, caption, png(fig))


# ---------------------------------------------------------------------------- explain


def _explain(read: _Reader, w: Words) -> list[Section]:

    t = w.t
    a = read.json("explain.json")
    df = read.csv("explain.csv", ("term", "kind", "mean", "lo", "hi", "share_of_gap"))
    need = ("city_a", "city_b", "level_a", "level_b", "metric", "year", "replicates")
    missing = [k for k in need if k not in a]
    if missing:
        raise InputError(
            "the experiment's file lacks a field",
            file=str(read.directory / "explain.json"),
            field=missing[0],
            expected="the explain.json written by innosim explain --out",
        )
    df.attrs = {k: v for k, v in a.items() if k != "rows"}
    city_a, city_b = w.city(a["city_a"]), w.city(a["city_b"])
    metric = _metric(w, str(a["metric"]))
    share = a.get("share_explained")
    fields = Fields(
        [
            (t("f_name"), str(a.get("scenario", "")), True),
            (t("f_gap"), t("gap_value", a=city_a, b=city_b, metric=metric), False),
            (t("f_year"), str(a["year"]), False),
            (t("f_replicates"), str(a["replicates"]), False),
            (t("f_seed"), str(a.get("seed", "")), False),
            (t("f_scale"), str(a.get("scale", "")), False),
            (
                t("f_explained"),
                "–" if not isinstance(share, int | float) else f"{float(share):.0%}",
                False,
            ),
        ]
    )
    text = {k: t(f"wf_{k}") for k in ("baseline", "swapped", "gap_left", "reacts", "who")}
    text["share"] = t("wf_share")
    text["title"] = t("wf_title")
    fig = draw_waterfall(df, text, name=w.city, metric=metric, term=_term(w))
    figure = Figure(
        t("fig_waterfall"),
        t("cap_waterfall", a=city_a, b=city_b, metric=metric, year=a["year"]),
        png(fig),
    )
    term = _term(w)
    rows = []
    for r in df.itertuples(index=False):
        if r.kind == "group":
            name = term(str(r.term))
        else:
            name = t(f"term_{r.term}") if f"term_{r.term}" in LABELS else str(r.term)
        share_gap = float(r.share_of_gap)
        rows.append(
            [
                Cell(name),
                Cell(_num(r.mean), "num"),
                Cell(f"[{_num(r.lo)}, {_num(r.hi)}]", "num"),
                Cell("–" if not math.isfinite(share_gap) else f"{100 * share_gap:.0f}%", "num"),
                Cell(_text(getattr(r, "params", "")) if r.kind == "group" else "", "code"),
            ]
        )
    header = [t("h_term"), t("h_shapley"), t("h_ci"), t("h_share_gap"), t("h_params")]
    table = Table(t("cap_explain_table"), header, rows)
    return [Section("explain", t("sec_explain"), [fields, figure, table])]


# ---------------------------------------------------------------------------- index

_PILLARS = ("talent", "organization", "place")


def _index(read: _Reader, w: Words) -> list[Section]:
    t = w.t
    meta = read.json("meta.json")
    cols = ("city", *_PILLARS, "score", "rank", "rank_low", "rank_high")
    df = read.csv("index.csv", cols).sort_values("rank", kind="stable")
    fields = Fields(
        [
            (t("f_framework"), str(meta.get("framework", "")), True),
            (t("f_data"), str(meta.get("data", "")), True),
            (t("f_cities"), str(meta.get("cities", len(df))), False),
            (t("f_indicators"), str(meta.get("indicators", "")), False),
            (t("f_draws"), str(meta.get("draws", "")), False),
            (t("f_seed"), str(meta.get("seed", "")), False),
        ]
    )
    rows = [
        [
            Cell(str(int(r.rank)), "num"),
            Cell(w.city(r.city)),
            Cell(f"{float(r.score):.1f}", "num"),
            *(Cell(f"{float(getattr(r, p)):.1f}", "num") for p in _PILLARS),
            Cell(f"{int(r.rank_low)}–{int(r.rank_high)}", "num"),
        ]
        for r in df.itertuples(index=False)
    ]
    header = [
        t("h_rank"),
        t("h_city"),
        t("h_score"),
        *(t(f"pillar_{p}") for p in _PILLARS),
        t("h_rank_interval"),
    ]
    table = Table(t("cap_index_table", draws=meta.get("draws", "")), header, rows)
    return [
        Section("index", t("sec_index"), [fields, _rank_figure(df, w), _radar_figure(df, w), table])
    ]


def _rank_figure(df: pd.DataFrame, w: Words) -> Figure:
    """Overall TOP score per city, best on top, labelled with the rank and its 5-95% interval."""
    d = df.sort_values("rank", ascending=False, kind="stable")
    fig = new_figure((7.0, 0.34 * len(d) + 1.3))
    ax = fig.subplots()
    y = np.arange(len(d))
    ax.barh(y, d["score"].to_numpy(dtype=float), color="#4C78A8")
    ax.set_yticks(y, [w.city(c) for c in d["city"]], fontsize=8)
    for k, r in enumerate(d.itertuples(index=False)):
        ax.text(
            float(r.score) + 1.0,
            k,
            f"{int(r.rank)}  [{int(r.rank_low)}–{int(r.rank_high)}]",
            va="center",
            fontsize=8,
        )
    top = float(np.nanmax(d["score"])) if len(d) else 100.0
    ax.set_xlim(0, max(105.0, top * 1.15))
    ax.set_xlabel(w.t("axis_score"))
    title = w.t("fig_ranks")
    ax.set_title(title, fontsize=11)
    return Figure(title, w.t("cap_ranks"), png(fig))


def _radar_figure(df: pd.DataFrame, w: Words) -> Figure:
    """One Talent/Organization/Place radar (scores 0-100) per city, in rank order.

    The radars are triangles drawn in one Cartesian axes (Talent at the top, then Organization
    and Place clockwise; grey rings at 25, 50, 75 and 100): sixteen polar axes take seconds to
    lay out and draw, this takes a fraction of that."""
    n = len(df)
    cols = min(4, max(n, 1))
    rows = max(math.ceil(n / cols), 1)
    fig = new_figure((2.4 * cols, 2.5 * rows + 0.4))
    ax = fig.subplots()
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(_PILLARS)) / len(_PILLARS)
    unit = np.column_stack([np.cos(angles), np.sin(angles)])
    names = [w.t(f"pillar_{p}") for p in _PILLARS]
    for k, r in enumerate(df.itertuples(index=False)):
        centre = np.array([k % cols, -(k // cols) * 1.1]) * 2.6
        for ring in (0.25, 0.5, 0.75, 1.0):
            tri = centre + unit * ring
            ax.fill(tri[:, 0], tri[:, 1], fill=False, ec="#bbbbbb", lw=0.6)
        for u in unit:
            ax.plot(
                [centre[0], centre[0] + u[0]], [centre[1], centre[1] + u[1]], c="#bbbbbb", lw=0.6
            )
        vals = np.clip(np.nan_to_num([float(getattr(r, p)) for p in _PILLARS]), 0, 100) / 100
        poly = centre + unit * vals[:, None]
        ax.fill(poly[:, 0], poly[:, 1], color="#4C78A8", alpha=0.3, lw=0)
        ax.fill(poly[:, 0], poly[:, 1], fill=False, ec="#4C78A8", lw=1.4)
        for u, name in zip(unit, names, strict=True):
            x, y = centre + u * 1.12
            ha = "center" if abs(u[0]) < 0.1 else ("left" if u[0] > 0 else "right")
            ax.text(x, y, name, ha=ha, va="bottom" if u[1] > 0 else "top", fontsize=7)
        ax.text(
            centre[0],
            centre[1] + 1.45,
            f"{w.city(r.city)} (#{int(r.rank)})",
            ha="center",
            fontsize=9,
        )
    ax.set_aspect("equal")
    ax.set_axis_off()
    title = w.t("fig_radar")
    fig.suptitle(title, fontsize=11)
    return Figure(title, w.t("cap_radar"), png(fig))


# ---------------------------------------------------------------------------- sweep

MAX_SWEEP_METRICS = 3
"""Metrics of a sweep drawn as figures (all are in the table)."""
MAX_SWEEP_ROWS = 300
"""Rows of the sweep's summary shown (the rest are in summary.csv)."""


def _sweep(read: _Reader, w: Words) -> list[Section]:
    t = w.t
    a = read.json("sweep.json")
    params = [p for p in a.get("params", []) if isinstance(p, dict) and "label" in p]
    labels = [str(p["label"]) for p in params]
    metrics = [str(m) for m in a.get("metrics", [])]
    cols = ("point", "city", *labels, *(f"{m}_{k}" for m in metrics for k in ("mean", "lo", "hi")))
    df = read.csv("summary.csv", cols)
    ranges = w.join(f"{p['label']} {_num(p.get('low'))}–{_num(p.get('high'))}" for p in params)
    fields = Fields(
        [
            (t("f_name"), str(a.get("scenario", "")), True),
            (t("f_design"), str(a.get("design", "")), True),
            (t("f_params"), ranges, True),
            (t("f_points"), str(a.get("n_points", "")), False),
            (t("f_replicates"), str(a.get("replicates", "")), False),
            (t("f_seed"), str(a.get("seed", "")), False),
            (t("f_year"), str(a.get("year", "")), False),
        ]
    )
    blocks: list[Any] = [fields]
    if labels and metrics:
        blocks += [_sweep_figure(df, labels, m, w, a) for m in metrics[:MAX_SWEEP_METRICS]]
    phase = read.png("phase.png")
    if phase is not None:
        blocks.append(Figure(t("fig_phase"), t("cap_phase"), phase))
    cities = list(dict.fromkeys(df["city"]))
    shown = df.head(MAX_SWEEP_ROWS)
    rows = [
        [
            Cell(str(int(r["point"])), "num"),
            *(Cell(_num(r[p]), "num") for p in labels),
            Cell(w.city(r["city"])),
            *(
                Cell(f"{_num(r[f'{m}_mean'])} [{_num(r[f'{m}_lo'])}, {_num(r[f'{m}_hi'])}]", "num")
                for m in metrics
            ),
        ]
        for _, r in shown.iterrows()
    ]
    header = [t("h_point"), *labels, t("h_city"), *(_metric(w, m) for m in metrics)]
    caption = t("cap_sweep_table", year=a.get("year", ""), replicates=a.get("replicates", ""))
    if len(df) > len(shown):
        caption += " " + t("sweep_more", shown=len(shown), total=len(df))
    blocks.append(Table(caption, header, rows))
    if not cities:
        blocks.append(Note(t("no_data")))
    return [Section("sweep", t("sec_sweep"), blocks)]


def _sweep_figure(
    df: pd.DataFrame, labels: list[str], metric: str, w: Words, a: dict[str, Any]
) -> Figure:
    """Each city's replicate mean of ``metric`` against the first varied parameter, with the
    5-95% band between replicates; points are averaged over any other varied parameter."""
    x = labels[0]
    fig = new_figure()
    ax = fig.subplots()
    for k, city in enumerate(dict.fromkeys(df["city"])):
        d = df[df["city"] == city].groupby(x, sort=True).mean(numeric_only=True)
        colour = f"C{k % 10}"
        xs = d.index.to_numpy(dtype=float)
        ax.fill_between(xs, d[f"{metric}_lo"], d[f"{metric}_hi"], color=colour, alpha=0.2, lw=0)
        ax.plot(xs, d[f"{metric}_mean"], marker="o", ms=3, color=colour, label=w.city(city))
    name = _metric(w, metric)
    title = w.t("fig_sweep", metric=name)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(x)
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    key = "cap_sweep" if len(labels) == 1 else "cap_sweep_avg"
    caption = w.t(
        key, metric=name, param=x, year=a.get("year", ""), replicates=a.get("replicates", "")
    )
    return Figure(title, caption, png(fig))


_SECTIONS: dict[str, Callable[[_Reader, Words], list[Section]]] = {
    "validate": _validate,
    "compare": _compare,
    "explain": _explain,
    "index": _index,
    "sweep": _sweep,
}
