"""Aggregate outcomes of one run of either model, and the ensemble comparison rule.

Used by ``tests/test_mesa_equivalence.py`` (equivalence at half the population) and by
``benchmarks/bench_speed.py`` (timing at equal agent counts and horizons).

Outcomes of one run over its whole horizon (``OUTCOMES``):

    entries   firms founded
    exits     firms that left the registry (failure, closure or acquisition)
    firms     living firms at the end
    unicorns  firms that were ever valued at ``unicorn_valuation`` or more
    surv1     share of firms old enough to be seen at age 1 year that lived that long
    surv5     the same at 5 years (the ``survival_rate`` rule over every cohort so far)
    fund_x    realised proceeds / amounts of every realised investment (NaN if none)

The rule (``compare_ensembles``): for each outcome the two ensembles' means must differ by no
more than ``z`` times the standard error of the difference of two independent means,
``sqrt(s_a^2 / n_a + s_b^2 / n_b)``, with ``z`` the two-sided normal quantile of a 99% interval
Bonferroni-corrected over the outcomes compared (family-wise 99%: 7 outcomes -> z = 3.19).
Runs whose outcome is undefined (NaN: no cohort old enough, no realisation) are left out of
that outcome's ensemble; an outcome defined in fewer than 2 runs of either ensemble fails. Two
ensembles with zero variance agree only if their means are equal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
from benchmarks.mesa_reference.model import DISABLED, TICKS_PER_YEAR, InnoModel

import innosim

OUTCOMES = ("entries", "exits", "firms", "unicorns", "surv1", "surv5", "fund_x")


PEOPLE_PARAMS = ("population", "students_enrolled")
"""City parameters that count real people (scaled by ``scaled_scenario``'s ``population``)."""


def scaled_scenario(
    name: str, agents: int, years: int, population: float = 1.0
) -> innosim.Scenario:
    """``name`` with ``persons_per_agent`` set so the starting pools add up to ``agents``
    person-agents (rows), run for ``years`` years from its start year (as bench_engine.py does).

    ``population`` (default 1) scales every city's real people (``PEOPLE_PARAMS``: population
    and students enrolled): firms are real firms, so their number follows the real people, not
    the agents; a smaller population is a smaller system with the same rules per person.
    Spinoffs are off (``NOT_IN_REFERENCE``)."""
    sc = innosim.load_scenario(name)
    if population != 1.0:
        for i, city in enumerate(sc.city_names):
            sc = sc.with_city_params(
                city, **{k: float(sc.city[k][i] * population) for k in PEOPLE_PARAMS}
            )
    persons = float((sc.city["population"] * sc.glob["initial_population_share"]).sum())
    ppa = persons / agents
    sc = sc.with_global_params(**NOT_IN_REFERENCE)
    return sc.with_scale(sc.persons_per_agent / ppa).with_end_year(sc.start_year + years - 1)


NOT_IN_REFERENCE = {"spinoff_rate": 0.0}
"""Rules of the core the Mesa reference does not implement, switched off in both models:
spinoffs (founding's employees of innovative firms; issue 16, point 4)."""


def _survival(born: np.ndarray, died: np.ndarray, tick_end: int, age_years: int) -> float:
    h = TICKS_PER_YEAR * age_years
    seen = born + h <= tick_end
    if not seen.any():
        return math.nan
    lived = (died[seen] < 0) | (died[seen] - born[seen] >= h)
    return float(lived.mean())


def _outcomes(
    born, died, unicorn_ever, realised_proceeds, realised_amount, exits, n_ticks
) -> dict[str, float]:
    born = np.asarray(born, dtype=np.int64)
    died = np.asarray(died, dtype=np.int64)
    paid = float(np.sum(realised_amount))
    return {
        "entries": float(born.size),
        "exits": float(exits),
        "firms": float((died < 0).sum()),
        "unicorns": float(np.sum(unicorn_ever)),
        "surv1": _survival(born, died, n_ticks, 1),
        "surv5": _survival(born, died, n_ticks, 5),
        "fund_x": float(np.sum(realised_proceeds)) / paid if paid > 0 else math.nan,
    }


def mesa_outcomes(sc: innosim.Scenario, seed: int) -> dict[str, float]:
    """Run the Mesa reference; outcomes plus ``loop_seconds`` (the steps only)."""
    model = InnoModel(sc, seed=seed)
    t0 = time.perf_counter()
    for _ in range(sc.n_ticks):
        model.step()
    loop = time.perf_counter() - t0
    reg = model.registry
    real = [i for i in model.ledger if i.realised]
    out = _outcomes(
        [f.born for f in reg],
        [f.died for f in reg],
        [f.unicorn_ever for f in reg],
        [i.proceeds for i in real],
        [i.amount for i in real],
        sum(r["exits"] for r in model.records),
        sc.n_ticks,
    )
    out["loop_seconds"] = loop
    return out


def innosim_outcomes(sc: innosim.Scenario, seed: int) -> dict[str, float]:
    """Run innosim with the non-core mechanisms disabled; outcomes plus ``loop_seconds``."""
    res = innosim.run(sc, seed, disable=sorted(DISABLED))
    f, inv = res.firms, res.investments
    real = inv[inv["realised"]] if len(inv) else inv
    out = _outcomes(
        f["born"].to_numpy(),
        f["died"].to_numpy(),
        f["unicorn_ever"].to_numpy(),
        real["proceeds"].to_numpy(np.float64) if len(real) else [],
        real["amount"].to_numpy(np.float64) if len(real) else [],
        res.series["exits"].sum(),
        sc.n_ticks,
    )
    out["loop_seconds"] = float(res.meta["wall_seconds"])
    return out


def ensemble(runner, sc: innosim.Scenario, seeds: Iterable[int]) -> dict[str, np.ndarray]:
    """Outcomes of ``runner(sc, seed)`` for every seed, one array per outcome."""
    rows = [runner(sc, int(s)) for s in seeds]
    return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in rows[0]}


def z_value(n_outcomes: int = len(OUTCOMES), level: float = 0.99) -> float:
    """Two-sided normal quantile of a ``level`` interval, Bonferroni-corrected."""
    alpha = (1.0 - level) / n_outcomes
    return NormalDist().inv_cdf(1.0 - alpha / 2.0)


def compare_ensembles(
    a: dict[str, np.ndarray],
    b: dict[str, np.ndarray],
    outcomes: Iterable[str] = OUTCOMES,
    level: float = 0.99,
) -> dict[str, dict[str, float]]:
    """Per outcome: both means, their standard errors, the allowed difference and ``ok``."""
    outcomes = tuple(outcomes)
    z = z_value(len(outcomes), level)
    out = {}
    for k in outcomes:
        xa, xb = a[k][np.isfinite(a[k])], b[k][np.isfinite(b[k])]
        if xa.size < 2 or xb.size < 2:  # undefined: counts as a failure of the rule
            nan = math.nan
            out[k] = dict.fromkeys(("mean_a", "se_a", "mean_b", "se_b", "diff", "allowed"), nan)
            out[k].update(n_a=int(xa.size), n_b=int(xb.size), z=z, ok=False)
            continue
        se_a = float(xa.std(ddof=1) / math.sqrt(xa.size))
        se_b = float(xb.std(ddof=1) / math.sqrt(xb.size))
        diff = float(xa.mean() - xb.mean())
        allowed = z * math.hypot(se_a, se_b)
        out[k] = {
            "mean_a": float(xa.mean()),
            "se_a": se_a,
            "n_a": int(xa.size),
            "mean_b": float(xb.mean()),
            "se_b": se_b,
            "n_b": int(xb.size),
            "diff": diff,
            "allowed": allowed,
            "z": z,
            "ok": bool(abs(diff) <= allowed),
        }
    return out


def format_comparison(cmp: dict[str, dict[str, float]], a: str = "mesa", b: str = "innosim") -> str:
    lines = [
        f"{'outcome':<9} {a + ' mean':>11} {'± se':>8} {b + ' mean':>13} {'± se':>8} "
        f"{'diff':>8} {'allowed':>8}  ok"
    ]
    for k, r in cmp.items():
        lines.append(
            f"{k:<9} {r['mean_a']:>11.4g} {r['se_a']:>8.3g} {r['mean_b']:>13.4g} "
            f"{r['se_b']:>8.3g} {r['diff']:>8.3g} {r['allowed']:>8.3g}  {r['ok']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Compare ensembles of both models from the command line."""
    import argparse

    ap = argparse.ArgumentParser(description="Ensembles of innosim's core and the Mesa reference")
    ap.add_argument("--scenario", default="hangzhou-nanjing")
    ap.add_argument("--agents", type=int, default=3000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=30, help="runs per model")
    ap.add_argument(
        "--population",
        type=float,
        default=1.0,
        help="scale of every city's real people (population, students enrolled); "
        "the equivalence test uses 0.02",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="global parameter for both models (repeatable), e.g. unicorn_valuation=1200",
    )
    ap.add_argument(
        "--mesa-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="global parameter for the Mesa model only (a deliberate difference)",
    )
    a = ap.parse_args(argv)

    def parse(items: list[str]) -> dict[str, float]:
        return {k: float(v) for k, v in (x.split("=", 1) for x in items)}

    sc = scaled_scenario(a.scenario, a.agents, a.years, a.population)
    if a.set:
        sc = sc.with_global_params(**parse(a.set))
    sc_mesa = sc.with_global_params(**parse(a.mesa_set)) if a.mesa_set else sc
    t0 = time.perf_counter()
    mesa = ensemble(mesa_outcomes, sc_mesa, range(a.seeds))
    t1 = time.perf_counter()
    inno = ensemble(innosim_outcomes, sc, range(1000, 1000 + a.seeds))
    t2 = time.perf_counter()
    print(
        f"{a.scenario} (population x {a.population:g}), {a.agents} agents, {a.years} years, "
        f"{a.seeds} seeds per model "
        f"(Mesa {t1 - t0:.1f} s, innosim {t2 - t1:.1f} s)"
    )
    cmp = compare_ensembles(mesa, inno)
    print(format_comparison(cmp))
    print("agree" if all(r["ok"] for r in cmp.values()) else "DIFFER")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
