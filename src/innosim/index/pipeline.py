"""The whole TOP index in one call: data -> framework -> matrix -> scores -> ranks with intervals.

:func:`build_index` is what ``innosim index`` prints; :func:`compare_ranking` correlates the
index ranks with an external ranking (Spearman and Kendall, :mod:`scipy.stats`);
:func:`write_outputs` writes the tables and figures atomically.
"""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from innosim.data import load_dataset, resolve
from innosim.errors import InputError
from innosim.index import aggregate as agg
from innosim.index import figures
from innosim.index import outliers as out_mod
from innosim.index.framework import FrameworkSpec, indicator_matrix, load_framework
from innosim.index.uncertainty import (
    POWER_OF_TWO,
    Choices,
    MonteCarlo,
    Uncertainty,
    compute,
    monte_carlo,
    sobol,
)
from innosim.inputs import read_file
from innosim.outdir import write_staged
from innosim.validation import Arg, Hidden, Interval, validate_params

__all__ = [
    "TABLE_COLUMNS",
    "IndexResult",
    "build_index",
    "compare_ranking",
    "load_ranking",
    "write_outputs",
]

#: Columns of :attr:`IndexResult.table` (and of ``innosim index --format csv``), in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "city",
    "talent",
    "organization",
    "place",
    "score",
    "rank",
    "rank_low",
    "rank_high",
)


@dataclass(frozen=True)
class IndexResult:
    """Everything one index computation produced.

    Attributes
    ----------
    table : DataFrame
        :data:`TABLE_COLUMNS` plus ``rank_median``, best first: pillar and overall scores of the
        nominal choices (min-max 0-100), the nominal rank and the Monte Carlo rank interval.
    scores : DataFrame
        Index city: sub-pillar (``Pillar/Sub``), pillar and ``overall`` scores.
    raw, treated, normalised : DataFrame
        The indicator matrix as computed from the data, after outlier treatment, and
        normalised (nominal choices).
    coverage : DataFrame
        One row per (city, indicator): where the value came from (see
        :func:`~innosim.index.framework.indicator_matrix`).
    coverage_by_city : DataFrame
        city, indicators, covered, share, flagged (covered values whose rows carry a flag).
    outliers : DataFrame
        The outlier report of :func:`~innosim.index.outliers.treat`.
    mc : MonteCarlo or None
        The Monte Carlo analysis (None with ``draws=0``).
    sobol : DataFrame or None
        Sobol indices (None unless ``sobol_n`` was given).
    spec : FrameworkSpec
    meta : dict
        Files, seed, draws, choices and timings (seconds).
    """

    table: pd.DataFrame
    scores: pd.DataFrame
    raw: pd.DataFrame
    treated: pd.DataFrame
    normalised: pd.DataFrame
    coverage: pd.DataFrame
    coverage_by_city: pd.DataFrame
    outliers: pd.DataFrame
    mc: MonteCarlo | None
    sobol: pd.DataFrame | None
    spec: FrameworkSpec
    meta: dict[str, object] = field(default_factory=dict)


@validate_params(
    {
        "draws": Arg([Interval(Integral, 0, None)], field="--draws", problem="bad number of draws"),
        "seed": Arg([Interval(Integral, 0, 2**63, closed="left")], field="--seed"),
        "sobol_n": Arg(
            [Hidden(None), POWER_OF_TWO], field="--sobol", problem="bad Sobol base sample size"
        ),
    }
)
def build_index(
    *,
    framework: str | os.PathLike[str] | FrameworkSpec | None = None,
    data: str | os.PathLike[str] | pd.DataFrame | None = None,
    cities: list[str] | None = None,
    draws: int = 1000,
    seed: int = 0,
    choices: Choices | None = None,
    uncertainty: Uncertainty | None = None,
    outlier_method: str = "winsorise",
    sobol_n: int | None = None,
) -> IndexResult:
    """Compute the TOP index with rank intervals.

    Parameters
    ----------
    framework : path, FrameworkSpec or None
        Framework file (default: the shipped ``top.toml``).
    data : path, DataFrame or None
        Data CSV or a loaded dataset (default: :func:`innosim.data.default_data_path`).
    cities : list of str, optional
        The cities compared (default: all cities of the data). Normalisation is relative to
        this set, so scores depend on it.
    draws : int
        Monte Carlo draws (0: no uncertainty analysis; rank_low = rank_high = rank).
    seed : int
        Seed of the uncertainty and sensitivity analyses.
    choices : Choices, optional
        Nominal choices (default: no imputation, min-max, arithmetic).
    uncertainty : Uncertainty, optional
        What the Monte Carlo varies (default :class:`Uncertainty`).
    outlier_method : {"winsorise", "log", "none"}
    sobol_n : int, optional
        Base sample size of a Sobol analysis (power of 2); none when omitted.

    Returns
    -------
    IndexResult
    """
    t0 = time.perf_counter()
    spec = framework if isinstance(framework, FrameworkSpec) else load_framework(framework)
    ds = data if isinstance(data, pd.DataFrame) else load_dataset(data)
    res = resolve(ds) if "resolution" not in ds.columns else ds
    raw, cov = indicator_matrix(res, spec, cities)
    if len(raw) < 2:
        raise InputError(
            "an index needs at least two cities",
            file="command line",
            field="--cities",
            value=list(raw.index),
            expected="two or more cities",
        )
    empty = [c for c in raw.columns if raw[c].isna().all()]
    if empty:
        raise InputError(
            f"no city of the selection has a value for {', '.join(empty)}",
            file=spec.path,
            value=empty,
            expected="indicators with at least one value among the cities compared",
        )
    fw = spec.framework
    treated, outlier_report = out_mod.treat(raw, method=outlier_method)
    t1 = time.perf_counter()
    nominal = choices or Choices()
    scores, normalised = compute(treated, fw, nominal)
    rank = agg.ranks(scores["overall"])
    t2 = time.perf_counter()
    mc = None
    if draws > 0:
        mc = monte_carlo(treated, fw, uncertainty, draws=draws, seed=seed, nominal=nominal)
    t3 = time.perf_counter()
    sob = None
    if sobol_n:
        sob = sobol(treated, fw, uncertainty, n=sobol_n, seed=seed, nominal=nominal)
    t4 = time.perf_counter()

    pillar = {p: p.lower() for p in fw.pillars}
    table = pd.DataFrame({"city": raw.index})
    for p in fw.pillars:
        table[pillar[p]] = scores[p].to_numpy()
    for p in ("talent", "organization", "place"):
        if p not in table.columns:
            table[p] = np.nan
    table["score"] = scores["overall"].to_numpy()
    table["rank"] = rank.to_numpy()
    if mc is not None:
        table["rank_low"] = mc.summary["rank_low"].to_numpy()
        table["rank_high"] = mc.summary["rank_high"].to_numpy()
        table["rank_median"] = mc.summary["rank_median"].to_numpy()
    else:
        table["rank_low"] = table["rank"]
        table["rank_high"] = table["rank"]
        table["rank_median"] = table["rank"].astype(float)
    extra = [p for p in pillar.values() if p not in TABLE_COLUMNS]
    table = table[[*TABLE_COLUMNS, "rank_median", *extra]]
    table = table.sort_values(["rank", "city"], kind="stable").reset_index(drop=True)
    for col in ("rank", "rank_low", "rank_high"):
        table[col] = table[col].astype("Int64")

    flagged = cov["has_value"] & (cov["flags"] != "")
    g = cov.assign(flagged=flagged).groupby("city", sort=False)
    by_city = pd.DataFrame(
        {
            "indicators": g["has_value"].size(),
            "covered": g["has_value"].sum(),
            "flagged": g["flagged"].sum(),
        }
    )
    by_city["share"] = by_city["covered"] / by_city["indicators"]
    by_city = by_city.reset_index()[["city", "indicators", "covered", "share", "flagged"]]
    meta: dict[str, object] = {
        "framework": spec.path,
        "data": ds.attrs.get("file"),
        "cities": len(raw),
        "indicators": len(spec.indicators),
        "draws": draws,
        "seed": seed,
        "choices": {
            "outliers": outlier_method,
            "imputation": nominal.imputation,
            "normalisation": nominal.normalisation,
            "aggregation": nominal.aggregation,
        },
        "seconds": {
            "load": t1 - t0,
            "nominal": t2 - t1,
            "monte_carlo": t3 - t2,
            "sobol": t4 - t3,
            "total": t4 - t0,
        },
    }
    return IndexResult(
        table=table,
        scores=scores,
        raw=raw,
        treated=treated,
        normalised=normalised,
        coverage=cov,
        coverage_by_city=by_city,
        outliers=outlier_report,
        mc=mc,
        sobol=sob,
        spec=spec,
        meta=meta,
    )


# --------------------------------------------------------------------------- comparison


def load_ranking(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an external ranking: a CSV with the columns ``city`` and ``rank`` (numbers).

    Raises
    ------
    InputError
        Missing or unreadable file, a missing column, an empty city, a non-numeric rank, a city
        listed twice.
    """
    p = Path(path)
    # a regular file of bounded size (not /dev/zero, not a pipe), as every loader reads
    raw = read_file(p, "ranking file", InputError, 16 * 2**20, "a CSV with columns city,rank")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"cannot read the ranking file ({type(e).__name__})",
            file=str(p),
            expected="a readable UTF-8 CSV with columns city,rank",
        ) from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise InputError(
            f"malformed CSV ({e})".replace("\n", " "),
            file=str(p),
            expected="a CSV with columns city,rank",
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("city", "rank") if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            file=str(p),
            field="header (row 1)",
            value=list(df.columns),
            expected="the columns city,rank",
        )
    out = []
    for i, r in enumerate(df.to_dict("records")):
        city, rank = str(r["city"]).strip(), str(r["rank"]).strip()
        where = f"row {i + 2}"
        if not city:
            raise InputError(
                "empty city", file=str(p), field=f"{where}, city", expected="a city name"
            )
        try:
            value = float(rank)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise InputError(
                "the rank is not a number",
                file=str(p),
                field=f"{where}, rank",
                value=rank,
                expected="a number such as 3",
            )
        out.append((city, value))
    ranking = pd.DataFrame(out, columns=["city", "rank"])
    dup = sorted(set(ranking["city"][ranking["city"].duplicated()]))
    if dup:
        raise InputError(
            "a city is listed twice",
            file=str(p),
            field="city",
            value=dup,
            expected="each city once",
        )
    ranking.attrs["file"] = str(p)
    return ranking


def compare_ranking(table: pd.DataFrame, ranking: pd.DataFrame) -> dict[str, object]:
    """Spearman and Kendall (tau-b) correlations between the index ranks and ``ranking``.

    Parameters
    ----------
    table : DataFrame
        With ``city`` and ``rank`` (e.g. :attr:`IndexResult.table`).
    ranking : DataFrame
        With ``city`` and ``rank`` (e.g. from :func:`load_ranking`).

    Returns
    -------
    dict
        ``n`` (cities in both), ``cities``, ``spearman``, ``spearman_p``, ``kendall``,
        ``kendall_p``, ``only_index`` and ``only_ranking`` (cities in one of them only).
        Correlations are NaN with fewer than 3 shared cities.
    """
    a = table[["city", "rank"]].astype({"rank": float})
    b = ranking[["city", "rank"]].astype({"rank": float})
    m = a.merge(b, on="city", suffixes=("_index", "_external"))
    res: dict[str, object] = {
        "n": len(m),
        "cities": list(m["city"]),
        "only_index": sorted(set(a["city"]) - set(b["city"])),
        "only_ranking": sorted(set(b["city"]) - set(a["city"])),
        "spearman": float("nan"),
        "spearman_p": float("nan"),
        "kendall": float("nan"),
        "kendall_p": float("nan"),
    }
    if len(m) >= 3:
        rho = stats.spearmanr(m["rank_index"], m["rank_external"])
        tau = stats.kendalltau(m["rank_index"], m["rank_external"])
        res |= {
            "spearman": float(rho.statistic),
            "spearman_p": float(rho.pvalue),
            "kendall": float(tau.statistic),
            "kendall_p": float(tau.pvalue),
        }
    return res


# --------------------------------------------------------------------------- output files


def write_outputs(result: IndexResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the tables and figures of ``result`` into ``out_dir``, atomically.

    Everything is written into a temporary directory beside ``out_dir`` first, then each file
    is moved into place with :func:`os.replace`; if anything fails, nothing new is left in
    ``out_dir`` and the temporary directory is removed.

    Files: ``index.csv`` / ``index.parquet`` (the table), ``scores.csv`` (all sub-pillar and
    pillar scores), ``indicators.csv`` (raw matrix), ``normalised.csv``, ``coverage.csv``,
    ``outliers.csv``, ``mc_ranks.parquet`` and ``mc_draws.csv`` (with draws), ``sobol.csv``
    (with Sobol), ``meta.json``, and the figures ``ranks.png`` (ranked bars with rank
    intervals), ``radar.png`` (T/O/P per city), ``heatmap.png`` (normalised indicators).

    Returns
    -------
    list of Path
        The files written, in ``out_dir``.
    """

    def write(tmp: Path) -> None:
        r = result
        r.table.to_csv(tmp / "index.csv", index=False)
        r.table.to_parquet(tmp / "index.parquet", index=False)
        r.scores.rename_axis("city").to_csv(tmp / "scores.csv")
        r.raw.rename_axis("city").to_csv(tmp / "indicators.csv")
        r.normalised.rename_axis("city").to_csv(tmp / "normalised.csv")
        r.coverage.to_csv(tmp / "coverage.csv", index=False)
        r.outliers.rename_axis("indicator").to_csv(tmp / "outliers.csv")
        r.spec.table().to_csv(tmp / "framework.csv", index=False)
        if r.mc is not None:
            r.mc.ranks.to_parquet(tmp / "mc_ranks.parquet", index=False)
            r.mc.draws.to_csv(tmp / "mc_draws.csv", index_label="draw")
        if r.sobol is not None:
            r.sobol.to_csv(tmp / "sobol.csv", index=False)
        (tmp / "meta.json").write_text(json.dumps(r.meta, indent=2, default=str) + "\n")
        figures.rank_bars(r.table, tmp / "ranks.png")
        figures.radar(r.table, tmp / "radar.png")
        figures.heatmap(r.normalised, r.spec, tmp / "heatmap.png")

    return write_staged(out_dir, write)
