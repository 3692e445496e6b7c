"""Failure, exit and the recycling of founders and staff (claims C8, C9).

Rule. *Failure.* A firm fails when its cash is negative after the finance mechanism had its
chance to fund it, or, with yearly hazard ``base_hazard``, for reasons the model does not
represent; a firm with neither staff nor founder closes. *Success.* A firm reaches unicorn status
the first time its valuation is at least ``unicorn_valuation``; a firm that is at least
``exit_min_age`` old and valued at least ``listing_valuation`` lists with yearly hazard
``exit_rate``; a venture-backed firm at least two years old is acquired with yearly hazard
``acquisition_rate`` (absorbed: it leaves the registry). A founder's venture *succeeds* if it lists
above the capital it raised or becomes a unicorn (the definition of Gompers et al. 2010, used by
``founder_success_rate``).

*Realisation.* At a listing every unrealised investment in the firm returns
``stake * retained_now / retained_at_entry * valuation`` (later rounds dilute earlier ones). At
an acquisition investors hold a non-participating liquidation preference of
``liquidation_preference`` times their amount (Kaplan and Strömberg 2003: standard in venture
contracts): each takes the larger of its converted share and its preference, preferences
sharing the price pro rata when it cannot pay them all. At a failure an investment returns
``liquidation_recovery`` of the amount. Funds get the proceeds as dry powder
and the realised multiples feed their appetite next tick (finance mechanism, C9).

*Recycling.* Staff of any firm that leaves the registry (failure, closure or acquisition)
return to the labour market (they are a headcount, not rows); its founder gains
``failure_learning`` skill and, unless the venture succeeded, carries a failure in their history,
which the city's stigma and restart cost then price when they think of founding again (C8:
"failure is the organic nutrient of the innovation soil"). Dead firms are archived for the firm
registry and compacted out of the state; people's links are remapped.

References: Gompers, Kovner, Lerner, Scharfstein (2010); Landier (2005); Kerr et al. (2014);
US BLS Business Employment Dynamics (survival by age).

Implementation. One kernel call per tick does the whole step in this order, on the full-capacity
columns:

1. *Events*, one pass over the firms each: unicorns (first time at ``unicorn_valuation``),
   listings (eligible firms draw at ``exit_rate``), acquisitions (venture-backed firms at least
   two years old draw at ``acquisition_rate``), founders credited as they succeed; then the
   deaths (cash below zero, the ``base_hazard`` drawn by geometric skips over the rows, empty
   firms, the acquired), with ``died`` / ``death_kind`` and the exit and failure flows.
2. *Realisation*: one scan of the open ledger rows finds those of this tick's listed, acquired
   and dead firms (binary search of the firm id among the event firms' ids, sorted as the
   firm rows are); they are then realised in this order (listings, acquisitions
   with the liquidation preference shared pro rata, liquidations), each row at its fund
   (capital, returned) and the fund city's ``vc_returned``. The kernel writes this tick's
   (fund, proceeds, amount) into a scratch buffer that the step appends to
   ``state.realised_*`` (for finance next tick) on ticks with realisations.
3. *Recycling and compaction*: the dead firms' staff are counted as separations; one pass over
   the people recycles the founders of the dead firms and remaps the employer rows that move
   (those from the first dead row on); then,
   column by column (as bytes, so every firm column goes, whatever the layout), the dead rows
   are copied to the run's archive table and the runs of live rows between them move down
   over the gaps, in order (one ``memmove`` each).

The archive table is a firm table (same columns, order and dtypes) filled from a row that only
grows; a full one is replaced by a new one, never overwritten. The entry of ``state.archive``
is an :class:`ArchivedFirms`, the mapping of views of its rows that ``Table.take`` would give as
copies, extended tick after tick while the table lasts, so that a tick does not create 31
arrays. The firm table is then truncated to its live rows (``Table.truncate``, which gives
memory back as ``Table.compact`` does).
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import (
    FIRM_ITEMSIZE,
    FL,
    F,
    L,
    P,
    U,
    b1,
    blank,
    constants,
    direct,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    memmove,
    record,
    u8,
)
from innosim.engine.kernels.rng import seed_state, skip, uniform
from innosim.engine.kernels.select import rows_at_least
from innosim.engine.state import (
    DEATH_ACQUIRED,
    DEATH_CLOSURE,
    DEATH_FAILURE,
    WORKER,
    new_firms_table,
)
from innosim.mechanisms.sampling import per_tick
from innosim.schema import TICKS_PER_YEAR

NAME = "exits"

ExitsConstants = record(
    "ExitsConstants",
    __name__,
    ("exit_min_age", "liquidation_recovery", "liquidation_preference"),
    (
        "unicorn_valuation_f32", "listing_valuation_f32", "exit_per_tick",
        "acquisition_per_tick", "base_hazard_per_tick", "failure_learning_half",
        "ticks_per_year",
    ),
)  # fmt: skip
"""The kernel's constants (``kp``): the declared parameters of that name, then the
``unicorn_valuation`` and ``listing_valuation`` thresholds rounded to float32 (NumPy compares
the float32 valuations with them in float32), ``exit_rate``, ``acquisition_rate`` and
``base_hazard`` as probabilities per tick, the skill a failure teaches (``failure_learning / 2``,
float32) and :data:`~innosim.schema.TICKS_PER_YEAR`."""
NO_CONSTANTS = blank(ExitsConstants)

_ARCHIVE_ROWS = 4096  # smallest archive table (rows)


@njit(cache=True)
def _succeed(r, success, founder, successes, last_outcome, flows, f_city, history):
    """Firm row ``r`` succeeded: flag it, credit its founder, count it in its city's
    ``successes`` (and ``restart_successes`` if its founder had failed before)."""
    success[r] = True
    fo = founder[r]
    if fo >= 0:
        successes[fo] = min(int(successes[fo]) + 1, 255)
        last_outcome[fo] = 2
    c = f_city[r]
    flows[FL.successes, c] += 1.0
    if history[r] == 1:
        flows[FL.restart_successes, c] += 1.0


@njit(cache=True)
def _retire(fb, fo, n, ab, ao, at, dead_rows, nd):
    """Copy the dead firm rows to rows ``at ...`` of the archive table, then move the live rows
    after the first dead one down over the gaps, in order (each run of live rows between dead
    ones moves down by the number of dead rows before it): every column, as bytes."""
    for c in range(FIRM_ITEMSIZE.shape[0]):
        s = FIRM_ITEMSIZE[c]
        col, arc = fb[fo[c] : fo[c + 1]], ab[ao[c] : ao[c + 1]]
        for j in range(nd):
            memmove(arc, (at + j) * s, col, dead_rows[j] * s, s)
        for j in range(nd):
            lo = dead_rows[j] + 1
            hi = dead_rows[j + 1] if j + 1 < nd else n
            if hi > lo:
                memmove(col, (lo - j - 1) * s, col, lo * s, (hi - lo) * s)


@njit(cache=True)
def kernel(
    ks, kp, t, flows, fb, fo, f_n, pb, po, p_n, lb, lo, l_n, ub, uo, realised_out, ab, ao, at
):
    """One tick of exits on firm rows ``[0, f_n)``; returns (dead firms, realisations).

    Tables come as (block, offsets): firms ``fb, fo``, people ``pb, po``, ledger ``lb, lo``,
    funds ``ub, uo``, the archive ``ab, ao`` (a firm table whose rows ``at ...`` are free for
    up to ``f_n`` dead firms). The live firm rows end as ``[0, f_n - dead)``; this tick's
    realisations go to ``realised_out[:, :k]`` (fund, proceeds, amount; room for the open
    ledger rows is the caller's).
    """
    id_, f_city, born = i64(fb, fo, F.id), i8(fb, fo, F.city), i16(fb, fo, F.born)
    founder, employment = i32(fb, fo, F.founder), i32(fb, fo, F.employment)
    history = i8(fb, fo, F.founder_history)
    cash, valuation, raised = f32(fb, fo, F.cash), f32(fb, fo, F.valuation), f32(fb, fo, F.raised)
    rounds, retained = i8(fb, fo, F.rounds), f32(fb, fo, F.retained)
    listed, unicorn_ever, success = (
        b1(fb, fo, F.listed),
        b1(fb, fo, F.unicorn_ever),
        b1(fb, fo, F.success),
    )
    died, death_kind = i16(fb, fo, F.died), i8(fb, fo, F.death_kind)
    p_city, status, employer = i8(pb, po, P.city), i8(pb, po, P.status), i32(pb, po, P.employer)
    skill, failures, successes = (
        f32(pb, po, P.skill),
        u8(pb, po, P.failures),
        u8(pb, po, P.successes),
    )
    last_outcome = i8(pb, po, P.last_outcome)
    l_fund, l_firm_id, l_amount = i16(lb, lo, L.fund), i64(lb, lo, L.firm_id), f32(lb, lo, L.amount)
    l_stake, l_retained_entry = f32(lb, lo, L.stake), f32(lb, lo, L.retained_entry)
    l_proceeds, l_realised = f32(lb, lo, L.proceeds), b1(lb, lo, L.realised)
    l_realised_tick = i16(lb, lo, L.realised_tick)
    fu_city, fu_capital, fu_returned = (
        i8(ub, uo, U.city),
        f64(ub, uo, U.capital),
        f64(ub, uo, U.returned),
    )
    n = f_n
    n_c = flows.shape[1]
    # 0 no event, 1 listed this tick, 2 acquired, 3 otherwise dead (whose open investments are
    # realised in that order); dead[r]: the firm leaves the registry
    ev = np.zeros(n, np.int8)
    dead = np.zeros(n, np.bool_)

    # unicorns ------------------------------------------------------------------------------
    for r in range(n):
        if valuation[r] >= kp.unicorn_valuation_f32 and not unicorn_ever[r]:
            unicorn_ever[r] = True
            if not success[r]:
                _succeed(r, success, founder, successes, last_outcome, flows, f_city, history)

    # listings ------------------------------------------------------------------------------
    exit_per_tick = kp.exit_per_tick
    if exit_per_tick > 0.0:
        for r in range(n):
            if (
                not listed[r]
                and valuation[r] >= kp.listing_valuation_f32
                and (t - born[r]) / kp.ticks_per_year >= kp.exit_min_age
                and uniform(ks) < exit_per_tick
            ):
                listed[r] = True
                ev[r] = 1
                if valuation[r] > raised[r] and not success[r]:
                    _succeed(r, success, founder, successes, last_outcome, flows, f_city, history)
                flows[FL.listings, f_city[r]] += 1.0

    # acquisitions --------------------------------------------------------------------------
    acquisition_per_tick = kp.acquisition_per_tick
    if acquisition_per_tick > 0.0:
        for r in range(n):
            if (
                not listed[r]
                and rounds[r] > 0
                and (t - born[r]) / kp.ticks_per_year >= 2.0
                and uniform(ks) < acquisition_per_tick
            ):
                ev[r] = 2
                dead[r] = True
                if valuation[r] > raised[r] and not success[r]:
                    _succeed(r, success, founder, successes, last_outcome, flows, f_city, history)

    # failures and closures -----------------------------------------------------------------
    base_hazard_per_tick = kp.base_hazard_per_tick
    if base_hazard_per_tick > 0.0:
        log1m = math.log1p(-base_hazard_per_tick) if base_hazard_per_tick < 1.0 else -math.inf
        r = skip(ks, log1m) if base_hazard_per_tick < 1.0 else 0
        while r < n:
            dead[r] = True
            r += 1 + (skip(ks, log1m) if base_hazard_per_tick < 1.0 else 0)
    nd = 0
    n_ev = 0
    for r in range(n):
        broke = cash[r] < 0.0 and ev[r] != 2
        if broke or (employment[r] <= 0 and founder[r] < 0):
            dead[r] = True
        if dead[r]:
            nd += 1
            died[r] = t
            if ev[r] == 2:
                death_kind[r] = DEATH_ACQUIRED
            elif broke:
                death_kind[r] = DEATH_FAILURE
            else:
                death_kind[r] = DEATH_CLOSURE
            if ev[r] == 0:
                ev[r] = 3
            c = f_city[r]
            flows[FL.exits, c] += 1.0
            if broke:
                flows[FL.failures, c] += 1.0
            if not success[r]:
                flows[FL.unsuccessful, c] += 1.0
                if history[r] == 1:
                    flows[FL.restart_unsuccessful, c] += 1.0
        if ev[r] != 0:
            n_ev += 1

    # realisation of the open investments in this tick's listed, acquired and dead firms ----
    k = 0
    if n_ev > 0 and l_n > 0:
        ev_rows = np.empty(n_ev, np.int64)
        j = 0
        for r in range(n):
            if ev[r] != 0:
                ev_rows[j] = r
                j += 1
        lo_id = id_[ev_rows[0]]
        hi_id = id_[ev_rows[n_ev - 1]]
        m_row = np.empty(l_n, np.int64)  # open ledger rows of event firms, in ledger order
        m_ev = np.empty(l_n, np.int64)  # and the event firm's index in ev_rows
        m = 0
        for i in range(l_n):
            if l_realised[i]:
                continue
            fid = l_firm_id[i]
            if fid < lo_id or fid > hi_id:
                continue
            a, b = 0, n_ev  # first event firm with id >= fid
            while a < b:
                h = (a + b) >> 1
                if id_[ev_rows[h]] < fid:
                    a = h + 1
                else:
                    b = h
            if id_[ev_rows[a]] == fid:
                m_row[m] = i
                m_ev[m] = a
                m += 1
        if m > 0:
            proceeds = np.empty(m)
            owed_f = np.zeros(n_ev)
            paid_f = np.zeros(n_ev)
            by_city = np.zeros(n_c)
            liquidation_preference = kp.liquidation_preference
            for phase in range(1, 4):
                got = False
                for q in range(m):
                    r = ev_rows[m_ev[q]]
                    if ev[r] != phase:
                        continue
                    got = True
                    i = m_row[q]
                    amount = np.float64(l_amount[i])
                    if phase == 3:
                        proceeds[q] = amount * kp.liquidation_recovery
                    else:
                        frac = (
                            np.float64(l_stake[i])
                            * np.float64(retained[r])
                            / max(np.float64(l_retained_entry[i]), 1e-12)
                        )
                        proceeds[q] = frac * np.float64(valuation[r])
                        if phase == 2 and liquidation_preference > 0.0:
                            owed_f[m_ev[q]] += amount * liquidation_preference
                if not got:
                    continue
                if phase == 2 and liquidation_preference > 0.0:
                    # the preferences share the price pro rata, each investment takes the
                    # larger of its converted share and its preference, scaled back to the
                    # price where they would pay more than it
                    for q in range(m):
                        r = ev_rows[m_ev[q]]
                        if ev[r] != 2:
                            continue
                        v = np.float64(valuation[r])
                        owed = np.float64(l_amount[m_row[q]]) * liquidation_preference
                        pr = owed * min(1.0, v / max(owed_f[m_ev[q]], 1e-12))
                        proceeds[q] = max(proceeds[q], pr)
                        paid_f[m_ev[q]] += proceeds[q]
                    for q in range(m):
                        r = ev_rows[m_ev[q]]
                        if ev[r] != 2:
                            continue
                        v = np.float64(valuation[r])
                        paid = paid_f[m_ev[q]]
                        if paid > v:
                            proceeds[q] *= v / paid
                by_city[:] = 0.0
                for q in range(m):
                    r = ev_rows[m_ev[q]]
                    if ev[r] != phase:
                        continue
                    i = m_row[q]
                    pq = proceeds[q]
                    l_proceeds[i] = pq
                    l_realised[i] = True
                    l_realised_tick[i] = t
                    fund = l_fund[i]
                    fu_capital[fund] += pq
                    fu_returned[fund] += pq
                    by_city[fu_city[fund]] += pq
                    realised_out[0, k] = fund
                    realised_out[1, k] = pq
                    realised_out[2, k] = np.float64(l_amount[i])
                    k += 1
                for c in range(n_c):
                    flows[FL.vc_returned, c] += by_city[c]

    if nd == 0:
        return 0, k

    # recycle the people of the dead firms, remap everyone else's employer ------------------
    dead_rows = np.empty(nd, np.int64)
    new_row = np.empty(n, np.int32)  # for rows from the first dead one on
    fd = -1
    j = 0
    for r in range(n):
        if dead[r]:
            if fd < 0:
                fd = r
            dead_rows[j] = r
            j += 1
        if fd >= 0:
            new_row[r] = -1 if dead[r] else r - j
    failure_learning_half = np.float32(kp.failure_learning_half)
    # the people of the firms from the first dead row on (the others keep their rows)
    rows = np.empty(p_n, np.int32)
    for q in range(rows_at_least(employer, p_n, fd, rows)):
        i = rows[q]
        e = employer[i]
        if dead[e]:
            skill[i] += failure_learning_half
            if founder[e] == i:
                skill[i] += failure_learning_half
                if not success[e]:
                    failures[i] = min(int(failures[i]) + 1, 255)
                    last_outcome[i] = 1
            flows[FL.separations, p_city[i]] += 1.0
            employer[i] = -1
            status[i] = WORKER
        else:
            employer[i] = new_row[e]
    for j in range(nd):
        r = dead_rows[j]
        staff = employment[r] - (1 if founder[r] >= 0 else 0)  # back to the labour market
        if staff > 0:
            flows[FL.separations, f_city[r]] += staff
        employment[r] = 0

    _retire(fb, fo, n, ab, ao, at, dead_rows, nd)
    return nd, k


class ArchivedFirms(MutableMapping):
    """Firms archived by the compiled step: rows ``[start, stop)`` of an archive table, as the
    mapping ``Table.take`` gives (the firm columns in ``FIRM_COLUMNS`` order, with the firm
    table's dtypes), its arrays views made on access.

    The step appends one to ``state.archive`` and extends its ``stop`` while it archives into
    the same table (one entry for many ticks: no 31 arrays per tick). Writing to it, or
    deleting or popping a column (as the run's assembly does), first turns it into a plain dict
    of views of the rows it has then, which the step no longer extends; copies and pickles are
    plain dicts.
    """

    __slots__ = ("_cols", "_own", "start", "stop")

    def __init__(self, cols: dict[str, np.ndarray], start: int, stop: int) -> None:
        self._cols = cols  # the archive table's columns (full capacity)
        self.start = start
        self.stop = stop
        self._own: dict[str, np.ndarray] | None = None

    def _view(self, name: str) -> np.ndarray:
        return self._cols[name][self.start : self.stop]

    def _fixed(self) -> dict[str, np.ndarray]:
        if self._own is None:
            self._own = dict(zip(self._cols, map(self._view, self._cols), strict=True))
        return self._own

    def __getitem__(self, name: str) -> np.ndarray:
        if self._own is not None:
            return self._own[name]
        return self._view(name)

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self._fixed()[name] = value

    def __delitem__(self, name: str) -> None:
        del self._fixed()[name]

    def __iter__(self):
        return iter(self._cols if self._own is None else self._own)

    def __len__(self) -> int:
        return len(self._cols if self._own is None else self._own)

    def __reduce__(self):
        return (dict, (dict(self.items()),))

    def __repr__(self) -> str:
        return f"ArchivedFirms(rows={self.stop - self.start})"


def make(params, rng):
    g = params.g
    kp = constants(
        ExitsConstants,
        g,
        derived={
            # NumPy compares the float32 valuations with the thresholds in float32
            "unicorn_valuation_f32": np.float32(g.unicorn_valuation),
            "listing_valuation_f32": np.float32(g.listing_valuation),
            "exit_per_tick": per_tick(g.exit_rate),
            "acquisition_per_tick": per_tick(g.acquisition_rate),
            "base_hazard_per_tick": per_tick(g.base_hazard),
            "failure_learning_half": np.float32(g.failure_learning / 2),
            "ticks_per_year": TICKS_PER_YEAR,
        },
    )
    ks = seed_state(rng)
    call = direct(kernel)
    # the run's archive table, its first free row and the entry of state.archive that ends
    # there; the realisations' scratch buffer
    box = {
        "arch": new_firms_table(_ARCHIVE_ROWS),
        "at": 0,
        "entry": None,
        "out": np.empty((3, 256)),
    }

    def step(state, params, rng) -> None:
        f = state.firms
        n = f.n
        if n == 0:
            return
        arch, at, out = room(box, n, state.ledger.n)
        p, led, u = state.people, state.ledger, state.funds
        nd, k = call(
            ks, kp, state.t, state.flows.array, f.block, f.offsets, n, p.block, p.offsets, p.n,
            led.block, led.offsets, led.n, u.block, u.offsets, out, arch.block, arch.offsets, at,
        )  # fmt: skip
        finish(state, box, n, nd, k)

    step.parts = (ks, kp, box)  # for the fused tick (fast.tick)
    return step


def room(box: dict, firms: int, ledger: int):
    """(archive table, its first free row, realisations buffer) with room for ``firms`` dead
    firms and ``ledger`` realisations: a new archive table when the current one is too full
    (the archived rows keep the old one), a larger buffer when needed."""
    if box["at"] + firms > box["arch"].capacity:
        box["arch"] = new_firms_table(max(_ARCHIVE_ROWS, 4 * firms))
        box["at"] = 0
    if ledger > box["out"].shape[1]:
        box["out"] = np.empty((3, 2 * ledger))
    return box["arch"], box["at"], box["out"]


def finish(state, box: dict, n: int, nd: int, k: int) -> None:
    """After the kernel (``n`` firm rows, ``nd`` of them dead, ``k`` realisations): keep the
    realisations for finance next tick, record the archived rows in ``state.archive`` and
    truncate the firm table to its live rows."""
    arch, at, out = box["arch"], box["at"], box["out"]
    if k:  # this tick's realisations, for finance next tick
        fund, got, paid = out[0, :k].astype(np.int64), out[1, :k].copy(), out[2, :k].copy()
        if state.realised_fund.size:
            fund = np.concatenate((state.realised_fund, fund))
            got = np.concatenate((state.realised_proceeds, got))
            paid = np.concatenate((state.realised_amount, paid))
        state.realised_fund, state.realised_proceeds, state.realised_amount = fund, got, paid
    if nd:
        entry, archive = box["entry"], state.archive
        if (
            archive
            and archive[-1] is entry
            and entry._own is None
            and entry._cols is arch.raw
            and entry.stop == at
        ):
            entry.stop = at + nd  # the rows follow the entry's in the same table
        else:
            box["entry"] = entry = ArchivedFirms(arch.raw, at, at + nd)
            archive.append(entry)
        box["at"] = at + nd
        state.firms.truncate(n - nd)  # the kernel compacted the rows; the table may shrink


__all__ = ["ArchivedFirms", "finish", "make", "room"]
