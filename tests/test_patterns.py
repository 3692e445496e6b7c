"""Patterns that must emerge from the rules (SYSTEM.md; issue 16). Where the pattern could be
put in by an input, the test also runs the model with the mechanism behind it neutralised, so
that it fails if the pattern is imposed rather than produced.

* C4: chain masters take the rent, their suppliers earn thin but positive margins.
* C6: enterprise and government clients buy yesterday's technology
  (``procurement_lag_years``), so To G firms follow their wave late and are left behind when
  the wind changes.
* C7: incumbents sometimes, not always, catch a new wave; consumer-facing firms most often.
* C12: To C-led growth is faster and more volatile than To B / To G-led growth.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import innosim

SEEDS = (1, 2)


def _demo(**glob: float) -> innosim.Scenario:
    sc = innosim.load_scenario("demo").with_end_year(2024)
    return sc.with_global_params(**glob) if glob else sc


def _revenue_by_wave(sc: innosim.Scenario) -> pd.DataFrame:
    """Revenue per (wave, orientation, year) of the firm-year panel, summed over cities and
    over the seeds."""
    frames = [innosim.run(sc, seed).firm_years for seed in SEEDS]
    fy = pd.concat(frames, ignore_index=True)
    return fy.groupby(["wave", "orientation", "year"])["revenue"].sum().rename("revenue")


def _mean_year(rev: pd.Series, wave: int, orientation: int) -> float:
    """Revenue-weighted mean year of one wave's firms of one orientation."""
    s = rev.loc[(wave, orientation)]
    return float(np.average(s.index.to_numpy(dtype=float), weights=s.to_numpy()))


@pytest.fixture(scope="module")
def revenue() -> dict[float, pd.Series]:
    return {lag: _revenue_by_wave(_demo(procurement_lag_years=lag)) for lag in (0.0, 4.0)}


def test_c6_to_g_firms_follow_their_wave_late(revenue) -> None:
    """Government demand for a wave comes ``procurement_lag_years`` after consumers': with a
    four-year lag the To G revenue of the early waves sits years later, relative to the To C
    revenue of the same wave, than without a lag."""
    shift = []
    for wave in (0, 1):  # PC internet (1997), e-commerce (2003)
        gap = {
            lag: _mean_year(rev, wave, 2) - _mean_year(rev, wave, 0) for lag, rev in revenue.items()
        }
        shift.append(gap[4.0] - gap[0.0])
    assert min(shift) > 1.0, shift


def test_c6_to_g_firms_are_left_behind_when_the_wave_declines(revenue) -> None:
    """The first wave's To G revenue peaks and then falls with the wave: its clients move on
    (before this rule, the procurement budget was wave-independent and To G firms of a dying
    wave kept their demand)."""
    s = revenue[4.0].loc[(0, 2)]
    assert s.idxmax() < 2024 and s.loc[2024] < 0.5 * s.max(), s.to_dict()


# ----------------------------------------------------------------------------------------- C4
def _margins(result: innosim.RunResult) -> tuple[float, float]:
    """(chain masters' operating margin, their suppliers' margin) over the measured window, as
    ``lead_supplier_margin_ratio`` computes them (profit / revenue summed over firm-years)."""
    fy = result.firm_years
    fy = fy[fy["year"] >= 2010]
    master = fy["chain_master"].astype(bool)
    supplier = (fy["procurement_in"] > 0) & ~master
    out = []
    for sel in (master, supplier):
        out.append(float(fy.loc[sel, "profit"].sum()) / float(fy.loc[sel, "revenue"].sum()))
    return out[0], out[1]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_c4_chain_masters_take_the_rent_suppliers_earn_thin_positive_margins(seed) -> None:
    """C4: the chain master captures the rent, its suppliers earn thin but positive margins on
    outsourced work; the lead/supplier margin ratio is well above one in every seed."""
    from innosim.stats.founders import lead_supplier_margin_ratio

    r = innosim.run(innosim.load_scenario("demo").with_end_year(2020), seed)
    lead, member = _margins(r)
    assert 0.0 < member < lead, (lead, member)
    assert lead_supplier_margin_ratio(r) > 1.5


# ----------------------------------------------------------------------------------------- C7
def _adoption_by_orientation(result: innosim.RunResult, years: int = 5) -> dict[int, float]:
    """Share of the firms alive when a wave starts (in an older wave) that are in it within
    ``years``, by orientation: ``incumbent_adoption_share`` split by the firms' orientation."""
    fy = result.firm_years
    last = int(fy["year"].max())
    moved = {o: 0 for o in (0, 1, 2)}
    alive = {o: 0 for o in (0, 1, 2)}
    for w, spec in enumerate(result.scenario.waves):
        s = int(np.ceil(spec.start_year))
        if s - 1 < int(fy["year"].min()) or s + years - 1 > last:
            continue
        inc = fy[(fy["year"] == s - 1) & (fy["wave"] != w)]
        later = fy[(fy["year"] >= s) & (fy["year"] <= s + years - 1) & (fy["wave"] == w)]
        adopted = inc["id"].isin(later["id"])
        for o in (0, 1, 2):
            sel = (inc["orientation"] == o).to_numpy()
            moved[o] += int(adopted[sel].sum())
            alive[o] += int(sel.sum())
    return {o: moved[o] / alive[o] for o in (0, 1, 2) if alive[o]}


def test_c7_incumbents_sometimes_but_not_always_catch_a_new_wave() -> None:
    """C1, C7: when a wave opens, some incumbents move into it and many do not; firms that serve
    consumers read the market and move most, those held by enterprise and government clients
    least. With the adaptation rates at zero nobody moves: the pattern is the adaptation rule's."""
    from innosim.stats.founders import incumbent_adoption_share

    sc = _demo()
    r = innosim.run(sc, 1)
    share = incumbent_adoption_share(r)
    assert 0.05 < share < 0.95, share
    by = _adoption_by_orientation(r)
    assert by[0] > by[1] > by[2] > 0.0, by
    never = innosim.run(
        sc.with_global_params(
            adaptation_rate_toc=0.0, adaptation_rate_tob=0.0, adaptation_rate_tog=0.0
        ),
        1,
    )
    assert incumbent_adoption_share(never) < 0.02


# ---------------------------------------------------------------------------------------- C12
def _innovation_growth(sc: innosim.Scenario, city: str) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard deviation) of the yearly log growth of a city's innovative value added,
    2004-2024, one entry per seed."""
    mean, sd = [], []
    for seed in range(1, 9):
        y = innosim.run(sc, seed).yearly()
        x = y[y["city"] == city].set_index("year")["innovation_value_added"].loc[2004:2024]
        g = np.diff(np.log(np.maximum(x.to_numpy(dtype=float), 1e-9)))
        mean.append(g.mean())
        sd.append(g.std(ddof=1))
    return np.array(mean), np.array(sd)


def test_c12_to_c_led_growth_is_faster_and_more_volatile() -> None:
    """C12: the same city with a consumer-led demand mix grows its innovative economy faster,
    and more unevenly, than with an enterprise- and government-led mix (same seeds; on
    average over eight: since founding is a logit choice the faster growth is not in every
    seed, 5.1% against 4.6% a year and 6 seeds of 8, while the volatility is twice as high)."""
    sc = _demo()
    toc = sc.with_city_params(
        "Nanjing", demand_consumer=2.0, demand_enterprise=0.3, demand_government=0.1
    )
    tob = sc.with_city_params(
        "Nanjing", demand_consumer=0.3, demand_enterprise=2.0, demand_government=1.0
    )
    g_c, v_c = _innovation_growth(toc, "Nanjing")
    g_b, v_b = _innovation_growth(tob, "Nanjing")
    assert g_c.mean() > g_b.mean() and (g_c > g_b).sum() >= 5, (g_c, g_b)
    assert v_c.mean() > 1.5 * v_b.mean(), (v_c, v_b)


# ----------------------------------------------------------------------------------------- C9
TWIN_SEEDS = tuple(range(8))
LOOP_OFF = {"appetite_learning_rate": 0.0, "lp_performance_elasticity": 0.0}
"""With these and the ``climate`` mechanism switched off, nothing a city sees feeds back: fund
appetite stays at the lever, commitments do not follow performance, founders do not respond to
capital in reach or to their peers' outcomes, and culture does not learn."""


def _twins(path, shock: bool) -> innosim.Scenario:
    """Two identical cities (Hangzhou's values, 960 km apart), 1999-2020; with ``shock``, the
    first has bold capital and a tolerant culture by policy in 2000-2005 (an early boom), then
    the same levers as the other."""
    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "scenarios" / "hangzhou-nanjing.toml").read_text("utf-8"))
    params = data["city"][0]["params"]
    lines = [
        "[scenario]", 'name = "twins"', 'title = "Twin cities"', "start_year = 1999",
        "end_year = 2020", "reference_year = 2024", "persons_per_agent = 1500", "seed = 1", "",
    ]  # fmt: skip
    for name, lon in (("Alpha", 110.0), ("Beta", 120.0)):
        lines += ["[[city]]", f'name = "{name}"', "lat = 30.0", f"lon = {lon}", "[city.params]"]
        for k, v in params.items():
            lines.append(f"{k} = {float(v['value'] if isinstance(v, dict) else v)!r}")
        lines.append("")
    if shock:
        for lever in ("risk_appetite", "failure_tolerance"):
            lines += [
                "[[policy]]", 'city = "Alpha"', f'lever = "{lever}"', "year = 2000",
                "until = 2006", "value = 1.0", 'mode = "set"', "",
            ]  # fmt: skip
    path.write_text("\n".join(lines), encoding="utf-8")
    # spinoffs (another path-dependent channel, Klepper's) are off in both arms: the test
    # isolates C9's loop
    return innosim.load_scenario(path).with_global_params(spinoff_rate=0.0)


def _twin_gap(sc: innosim.Scenario, loop: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per seed: (Alpha's firms / Beta's - 1 in 2020, Alpha's failure tolerance - Beta's)."""
    gaps, culture = [], []
    for seed in TWIN_SEEDS:
        run = (
            innosim.run(sc, seed)
            if loop
            else innosim.run(sc.with_global_params(**LOOP_OFF), seed, disable={"climate"})
        )
        y = run.yearly().set_index(["year", "city"])
        a, b = y.loc[(2020, "Alpha")], y.loc[(2020, "Beta")]
        gaps.append(a["firms"] / b["firms"] - 1.0)
        culture.append(a["failure_tolerance"] - b["failure_tolerance"])
    return np.array(gaps), np.array(culture)


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    d = tmp_path_factory.mktemp("twins")
    shocked, calm = _twins(d / "shock.toml", True), _twins(d / "calm.toml", False)
    return {
        "loop": _twin_gap(shocked, True),
        "off": _twin_gap(shocked, False),
        "calm": _twin_gap(calm, True),
    }


def test_c9_identical_cities_diverge_after_an_early_boom(twins) -> None:
    """Path dependence: 14 years after a five-year boom in one of two identical cities, the
    city that boomed has more firms and a more tolerant culture, though its levers are the
    other's again; without the boom the twins stay alike. A temporary push may or may not tip
    a city (C12): the boom tips it in most seeds, not necessarily all."""
    gap, culture = twins["loop"]
    assert gap.mean() > 0.25 and (gap > 0.2).mean() >= 0.75, gap
    assert culture.mean() > 0.03, culture
    calm_gap, calm_culture = twins["calm"]
    assert abs(calm_gap.mean()) < 0.1 and abs(calm_culture.mean()) < 0.03, (calm_gap, calm_culture)


def test_c9_the_loop_keeps_the_gap_open(twins) -> None:
    """Without the feedback (fund appetite and commitments from returns, founders from capital
    in reach and peers' outcomes, learned culture) the boom's lead fades: the loop is what keeps
    it (the mean gap with the loop larger than without it by more than two standard errors)."""
    on, off = twins["loop"][0], twins["off"][0]
    se = np.sqrt(on.var(ddof=1) / len(on) + off.var(ddof=1) / len(off))
    assert on.mean() - off.mean() > 2.0 * se, (on, off)


# ------------------------------------------------------------------------------ spinoffs (C8)
@pytest.fixture(scope="module")
def spinoff_runs() -> list[innosim.RunResult]:
    return [innosim.run(_demo(), seed) for seed in SEEDS]


def test_spinoffs_are_founded_where_their_parents_are(spinoff_runs):
    """Every spinoff's parent is in the registry, born before it and headquartered in its city
    (employees found where they work)."""
    for run in spinoff_runs:
        f = run.firms.set_index("id")
        sp = f[f["parent"] >= 0]
        assert len(sp) > 100
        par = f.loc[sp["parent"]]
        assert (par["born"].to_numpy() <= sp["born"].to_numpy()).all()
        assert (par["city"].to_numpy() == sp["city"].to_numpy()).all()
        # (a spinoff starts in its parent's wave, tests/test_fast.py; either may move later)


def test_spinoffs_concentrate_where_firms_succeeded(spinoff_runs):
    """Klepper's pattern: spinoffs come from successful firms, so the city with the most
    successful ventures (Hangzhou, from its rules, not from a spinoff input: every city has the
    same spinoff parameters) has a larger share of the spinoffs than of the other entrants, and
    spinoffs succeed at least as often as other entrants of the same years."""
    for run in spinoff_runs:
        f = run.firms
        f = f[f["born"] <= (2016 - run.scenario.start_year) * 4]  # old enough to have an outcome
        sp, other = f[f["parent"] >= 0], f[f["parent"] < 0]
        hz = run.scenario.city_index("Hangzhou")
        assert (sp["city"] == hz).mean() > (other["city"] == hz).mean()
        assert sp["success"].mean() >= other["success"].mean() - 0.01, (
            sp["success"].mean(),
            other["success"].mean(),
        )


def test_no_spinoffs_without_the_rate():
    f = innosim.run(_demo(spinoff_rate=0.0).with_end_year(2008), 1).firms
    assert (f["parent"] < 0).all() and len(f) > 100
