"""Run the Mesa reference of innosim's core and print per-year aggregates.

    .venv/bin/python -m benchmarks.mesa_reference.run --agents 1000 --years 5
    .venv/bin/python benchmarks/mesa_reference/run.py --agents 10000 --years 5 --compare

``--agents`` sets ``persons_per_agent`` so that the cities' starting pools are sampled as that
many person rows (as benchmarks/bench_engine.py does); firms are real firms, so their number does
not depend on it. ``--compare`` also runs innosim on the same
scenario and seed with the non-core mechanisms disabled and prints its table and timing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.mesa_reference.compare import scaled_scenario
from benchmarks.mesa_reference.model import DISABLED, TICKS_PER_YEAR, InnoModel

import innosim


def _survival(born_died: list[tuple[int, int]], tick_end: int, age_years: int) -> float:
    """Share of firms old enough to be seen at ``age_years`` that lived that long."""
    h = TICKS_PER_YEAR * age_years
    cohort = [(b, d) for b, d in born_died if b + h <= tick_end]
    if not cohort:
        return math.nan
    return sum(1 for b, d in cohort if d < 0 or d - b >= h) / len(cohort)


def _multiple(realised: list[tuple[int, float, float]], tick_end: int) -> float:
    """Realised proceeds / amounts of the investments realised up to ``tick_end`` (cumulative)."""
    got = sum(p for t, p, _ in realised if t < tick_end)
    paid = sum(a for t, _, a in realised if t < tick_end)
    return got / paid if paid > 0 else math.nan


def table(
    start_year: int,
    ticks: list[dict],
    born_died: list[tuple[int, int]],
    realised: list[tuple[int, float, float]],
    secs: list[float],
) -> list[dict]:
    rows = []
    for y in range(len(ticks) // TICKS_PER_YEAR):
        q = ticks[y * TICKS_PER_YEAR : (y + 1) * TICKS_PER_YEAR]
        end = (y + 1) * TICKS_PER_YEAR
        # a firm's state at the end of year y: died after ``end`` counts as alive then
        bd = [(b, d if 0 <= d < end else -1) for b, d in born_died if b < end]
        rows.append(
            {
                "year": start_year + y,
                "entries": sum(r["entries"] for r in q),
                "exits": sum(r["exits"] for r in q),
                "firms": q[-1]["firms"],
                "unicorns": q[-1]["unicorns"],
                "surv1": _survival(bd, end, 1),
                "surv5": _survival(bd, end, 5),
                "fund_x": _multiple(realised, end),
                "s/yr": sum(secs[y * TICKS_PER_YEAR : (y + 1) * TICKS_PER_YEAR])
                if secs
                else math.nan,
            }
        )
    return rows


def show(title: str, rows: list[dict]) -> None:
    print(title)
    print(
        f"{'year':>5} {'entries':>8} {'exits':>6} {'firms':>6} {'unicorns':>8} "
        f"{'surv1':>6} {'surv5':>6} {'fund_x':>7} {'s/yr':>8}"
    )
    for r in rows:
        print(
            f"{r['year']:>5} {r['entries']:>8.0f} {r['exits']:>6.0f} {r['firms']:>6.0f} "
            f"{r['unicorns']:>8.0f} {r['surv1']:>6.3f} {r['surv5']:>6.3f} {r['fund_x']:>7.3f} "
            f"{r['s/yr']:>8.3f}"
        )


def run_mesa(sc, seed: int) -> tuple[list[dict], float, float]:
    t0 = time.perf_counter()
    model = InnoModel(sc, seed=seed)
    t_init = time.perf_counter() - t0
    secs = []
    for _ in range(sc.n_ticks):
        t1 = time.perf_counter()
        model.step()
        secs.append(time.perf_counter() - t1)
    born_died = [(f.born, f.died) for f in model.registry]
    realised = [(i.realised_tick, i.proceeds, i.amount) for i in model.ledger if i.realised]
    rows = table(sc.start_year, model.records, born_died, realised, secs)
    return rows, t_init, sum(secs)


def run_innosim(sc, seed: int) -> tuple[list[dict], float]:
    res = innosim.run(sc, seed, disable=sorted(DISABLED))
    s = res.series.groupby("tick")[["entries", "exits", "firms", "unicorns"]].sum()
    ticks = s.reset_index().to_dict("records")
    f = res.firms
    born_died = list(zip(f["born"].astype(int), f["died"].astype(int), strict=True))
    inv = res.investments
    inv = inv[inv["realised"]]
    realised = list(
        zip(
            inv["realised_tick"].astype(int),
            inv["proceeds"].astype(float),
            inv["amount"].astype(float),
            strict=True,
        )
    )
    loop = float(res.meta["wall_seconds"])
    rows = table(sc.start_year, ticks, born_died, realised, [loop / sc.n_ticks] * sc.n_ticks)
    return rows, loop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="hangzhou-nanjing")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compare", action="store_true", help="also run innosim (core only)")
    a = ap.parse_args(argv)
    sc = scaled_scenario(a.scenario, a.agents, a.years)
    rows, t_init, loop = run_mesa(sc, a.seed)
    show(
        f"Mesa reference: {a.scenario}, {a.agents} agents, {a.years} years, seed {a.seed}",
        rows,
    )
    per_year = loop / a.years
    print(f"mesa: init {t_init:.3f} s, loop {loop:.3f} s, {per_year:.4f} s per simulated year")
    if a.compare:
        rows_i, loop_i = run_innosim(sc, a.seed)
        show(f"innosim (disable={','.join(sorted(DISABLED))})", rows_i)
        per_i = loop_i / a.years
        print(
            f"innosim: loop {loop_i:.3f} s, {per_i:.4f} s per simulated year; "
            f"mesa / innosim = {per_year / max(per_i, 1e-12):.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
