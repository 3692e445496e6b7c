"""Conservation laws and bounds, checked after every tick under ``--check``.

* People (real people, the rows' weights): for every city, pool(t) = pool(t-1) + entrants -
  leavers + moves in - moves out; every row stands for at least one person, a founder's for one.
* Firms: living firms(t) = living firms(t-1) + entries - exits.
* Links: every employer is a living firm led by that person; a firm's headcount is at least
  one if it has a founder, and never negative.
* Capital: for every fund, capital = start + commitments - invested + returned; ledger totals
  equal the funds' totals.
* Bounds: shares and appetites within [0, 1]; no NaN or infinity in any series or firm column.
"""

from __future__ import annotations

import numpy as np

from innosim.engine.state import FOUNDER, ModelParams, State
from innosim.errors import InvariantError

__all__ = ["Checker"]

SHARE_SERIES = ("share_toc", "share_tob", "share_tog", "risk_appetite")


class Checker:
    """Checks invariants around each tick; raises :class:`InvariantError` on a violation."""

    def __init__(self, params: ModelParams) -> None:
        self.params = params
        self._pool: np.ndarray | None = None
        self._firms = 0

    def before(self, state: State) -> None:
        p = state.people
        self._pool = np.bincount(p.city, weights=p.weight, minlength=self.params.n_cities)
        self._firms = state.firms.n

    def _fail(self, t: int, what: str) -> None:
        raise InvariantError(f"invariant violated at tick {t}: {what}")

    def after(self, state: State, data: dict[str, np.ndarray], t: int) -> None:
        p, f, fu, fl, led = state.people, state.firms, state.funds, state.flows, state.ledger
        n_c = self.params.n_cities
        pool = np.bincount(p.city, weights=p.weight, minlength=n_c)
        expect = self._pool + fl.people_in - fl.people_out + fl.moves_in - fl.moves_out
        if not np.array_equal(pool, expect):
            self._fail(t, f"people not conserved: pool {pool.tolist()} != {expect.tolist()}")
        if fl.moves_in.sum() != fl.moves_out.sum():
            self._fail(t, "moves in and out differ in total")
        od = state.pairs.get("movers")
        if od is not None and not (
            np.array_equal(od.sum(axis=1), fl.moves_out)
            and np.array_equal(od.sum(axis=0), fl.moves_in)
            and not od.diagonal().any()
        ):
            self._fail(t, "the city-pair movers matrix differs from moves out (rows) and in (cols)")
        if f.n != self._firms + fl.entries.sum() - fl.exits.sum():
            self._fail(
                t,
                f"firms {f.n} != {self._firms} + entries {fl.entries.sum():g} - exits "
                f"{fl.exits.sum():g}",
            )
        emp = p.employer
        if emp.size and (emp.max(initial=-1) >= f.n or emp.min(initial=0) < -1):
            self._fail(t, "a person links to a firm that does not exist")
        if (p.weight < 1).any():
            self._fail(t, "a people row stands for no one")
        if (p.weight[emp >= 0] != 1).any() or (p.status[emp >= 0] != FOUNDER).any():
            self._fail(t, "a firm is led by a row that is not one founder")
        if (f.employment < 0).any() or (f.employment[f.founder >= 0] < 1).any():
            self._fail(t, "a firm's headcount is negative, or below one with a founder")
        fo = f.founder
        if ((fo >= p.n) | (fo < -1)).any():
            self._fail(t, "a firm links to a founder that does not exist")
        linked = fo >= 0
        if (emp[fo[linked]] != np.flatnonzero(linked)).any():
            self._fail(t, "a founder is not employed by their own firm")
        cap = fu.base_capital + fu.committed - fu.invested + fu.returned
        if not np.allclose(cap, fu.capital, rtol=1e-9, atol=1e-6):
            self._fail(
                t, "fund capital does not balance (start + commitments - invested + returned)"
            )
        if (fu.capital < -1e-6).any():
            self._fail(t, "a fund invested more than its capital")
        if led.n:
            inv = np.bincount(led.fund, weights=led.amount.astype(np.float64), minlength=fu.n)
            ret = np.bincount(led.fund, weights=led.proceeds.astype(np.float64), minlength=fu.n)
            if not (
                np.allclose(inv, fu.invested, rtol=1e-5)
                and np.allclose(ret, fu.returned, rtol=1e-5)
            ):
                self._fail(t, "ledger totals differ from the funds' invested and returned")
        for k in SHARE_SERIES:
            row = data[k][t]
            if ((row < -1e-12) | (row > 1 + 1e-12)).any():
                self._fail(t, f"share {k} outside [0, 1]: {row.tolist()}")
        if ((fu.appetite < 0) | (fu.appetite > 1)).any():
            self._fail(t, "a fund's appetite is outside [0, 1]")
        for k, arr in data.items():
            if not np.isfinite(arr[t]).all():
                self._fail(t, f"series {k} is not finite")
        for k in ("capability", "revenue", "cash", "valuation", "target", "demand"):
            if not np.isfinite(getattr(f, k)).all():
                self._fail(t, f"firm column {k} is not finite")
        if not np.isfinite(p.skill).all():
            self._fail(t, "a person's skill is not finite")
