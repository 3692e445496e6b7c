"""Consecutive compiled mechanisms fused into one call per tick.

At 10^4 agents a compiled mechanism's own work is a few to twenty microseconds, and calling it
from Python costs one to two more: the step reads the state's tables, and the call converts
a dozen or more arrays into the kernel's arguments. When several compiled mechanisms follow
each other in ``innosim.model.MECHANISMS`` (all seven in the core model of the Mesa
benchmark; two runs of three in the full model), :func:`fuse` replaces them by one step that
calls :func:`_tick` once: the same kernels, in the same order, on the same arguments and
streams, so a fused run is bit for bit the unfused one (tests/test_fast.py compares them).

Between the kernels the single steps do a little Python (``founding.founded``,
``finance.realisations_read``, ``exits.room`` and ``exits.finish``); the fused step does it
after the call, from the counts :func:`_tick` returns. A kernel that needs a larger table
(founding: firm rows; finance: ledger rows) makes :func:`_tick` return early, saying where; the
step grows the table and calls again from that mechanism, which redraws the same numbers as
the single step's retry does. Before the call the step gives exits room for every row the firm
table can hold, since founding adds rows inside the call.

``innosim.run(..., profile=True)`` times each mechanism and so runs them unfused.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit

from innosim.engine.kernels.layout import direct
from innosim.mechanisms import (
    accounting,
    exits,
    finance,
    founding,
    growth,
    orientation,
    waves,
)

ORDER = ("waves", "founding", "orientation", "growth", "finance", "exits", "accounting")
"""The fusable mechanisms, in the engine's order (``innosim.model.MECHANISMS``)."""


class Res(IntEnum):
    """Entries of ``res``, what :func:`_tick` returns: where the call stopped (-1: done), the
    rows the stopping kernel needs, and the counts of each mechanism that ran."""

    STOP = 0
    NEED = 1
    FOUNDED = 2
    DEALS = 3
    READ = 4
    DEAD = 5
    REALISED = 6
    SPLIT = 7


@njit(cache=True, inline="always")
def _asks_room(res, phase, k):
    """A kernel's -k (it needs k more rows): record where the call stopped and what for."""
    if k >= 0:
        return False
    res[Res.STOP] = phase
    res[Res.NEED] = -k
    return True


@njit(cache=True)
def _tick(
    first, on, res, t, levers, flows, rec, market, market_growth, market_lagged, fit, pool,
    productivity,
    innovation_share, graduate_rate, fund_performance, climate,
    pb, po, p_n, p_room, next_pid, fb, fo, f_n, f_room, next_id, ub, uo, u_n, lb, lo, l_n, l_room,
    r_fund, r_proceeds, r_amount, deals_only, out, ab, ao, at,
    w_ks, w_kp, w_start, w_growth, w_weight, fo_ks, fo_kp, or_ks, or_toc, g_ks, g_kp,
    fi_ks, fi_kp, e_ks, e_kp, a_kp, a_copy,
):  # fmt: skip
    """The mechanisms with ``on[i]`` (i indexes ``ORDER``), from ``ORDER[first]`` on.

    ``res`` receives, for the mechanisms that ran, the new firm rows, the new ledger rows,
    whether finance read the realisations, the dead firms and the realisations; ``res[0]``
    is -1 when every mechanism ran, else the index of the one that needs ``res[1]`` more rows
    (its table is unchanged and its stream rewound; those before it ran).
    """
    res[:] = 0
    res[Res.STOP] = -1
    split = np.zeros(1, np.int64)
    if first <= 0 and on[0]:
        waves.kernel(
            w_ks, w_kp, t, pool.sum(), w_start, w_growth, w_weight, market, market_growth,
            market_lagged, fit,
            fb, fo, f_n,
        )  # fmt: skip
    if first <= 1 and on[1]:
        k = founding.kernel(
            fo_ks, fo_kp, t, next_id, next_pid, market, market_growth, fit, pool, pb, po, p_n,
            p_room, fb, fo, f_n, f_room, levers, climate, flows, split,
        )  # fmt: skip
        if _asks_room(res, 1, k):
            return
        res[Res.FOUNDED] = k
        res[Res.SPLIT] = split[0]
        f_n += k
        p_n += split[0]
    if first <= 2 and on[2]:
        orientation.kernel(or_ks, fb, fo, f_n, or_toc, levers)
    if first <= 3 and on[3]:
        growth.kernel(
            g_ks, g_kp, t, market, market_lagged, pool, fit, levers, flows, pb, po, p_n, fb, fo,
            f_n,
        )  # fmt: skip
    if first <= 4 and on[4]:
        k = finance.kernel(
            fi_ks, fi_kp, t, deals_only, r_fund, r_proceeds, r_amount, levers,
            fund_performance, flows, ub, uo, u_n, fb, fo, f_n, lb, lo, l_n, l_room,
        )  # fmt: skip
        res[Res.READ] = 1
        if _asks_room(res, 4, k):
            return
        res[Res.DEALS] = k
        l_n += k
    if first <= 5 and on[5] and f_n > 0:
        nd, k = exits.kernel(
            e_ks, e_kp, t, flows, fb, fo, f_n, pb, po, p_n, lb, lo, l_n, ub, uo, out, ab, ao, at
        )  # fmt: skip
        res[Res.DEAD] = nd
        res[Res.REALISED] = k
        f_n -= nd
    if on[6]:
        accounting.kernel(
            a_kp, a_copy, pb, po, p_n, fb, fo, f_n, ub, uo, u_n, pool, productivity,
            innovation_share, graduate_rate, levers, climate, flows, rec,
        )  # fmt: skip


_EMPTY = (finance.NO_FUND, finance.NO_PROCEEDS, finance.NO_AMOUNT)


def _fused(parts: dict[str, tuple]):
    """The step running the compiled mechanisms ``parts`` (name -> the single step's
    ``parts``) through one :func:`_tick` call per tick (more only when a table must grow)."""
    on = np.array([name in parts for name in ORDER])
    res = np.zeros(len(Res), np.int64)
    dummy_f = np.zeros(1)
    dummy_u = np.zeros(4, np.uint64)
    w = parts.get("waves", (dummy_u, waves.NO_CONSTANTS, np.zeros(1, np.int64), dummy_f, dummy_f))
    fo_ = parts.get("founding", (dummy_u, founding.NO_CONSTANTS))
    or_ = parts.get("orientation", (dummy_u, dummy_f))
    g = parts.get("growth", (dummy_u, growth.NO_CONSTANTS))
    fi = parts.get("finance", (dummy_u, finance.NO_CONSTANTS))
    has_exits = "exits" in parts
    e_ks, e_kp, box = parts["exits"] if has_exits else (dummy_u, exits.NO_CONSTANTS, None)
    a = parts.get("accounting", (accounting.NO_CONSTANTS, accounting.COPY_ROWS))
    consts = (*w, *fo_, *or_, *g, *fi, e_ks, e_kp, *a)
    no_out = dummy_f.reshape(1, 1)
    tick = direct(_tick)
    has_founding, has_finance = bool(on[1]), bool(on[4])  # they add firm and ledger rows

    def step(state, params, rng) -> None:
        first, deals_only = 0, False
        for _ in range(3):  # at most: founding grows the firm table, finance the ledger
            p, f, u, led, cs = state.people, state.firms, state.funds, state.ledger, state.city
            if has_exits:  # room for the rows founding and finance may add within the call
                arch, at, out = exits.room(
                    box,
                    f.capacity if has_founding else f.n,
                    led.capacity if has_finance else led.n,
                )
                ab, ao = arch.block, arch.offsets
            else:
                at, out, ab, ao = 0, no_out, p.block, p.offsets
            realised = (
                (state.realised_fund, state.realised_proceeds, state.realised_amount)
                if has_finance and not deals_only
                else _EMPTY
            )
            tick(
                first, on, res, state.t, state.lever_array, state.flows.array,
                state.record_array, state.market, state.market_growth, state.market_lagged,
                cs.fit, cs.pool,
                cs.productivity, cs.innovation_share, cs.graduate_rate, cs.fund_performance,
                cs.climate,
                p.block, p.offsets, p.n, p.capacity - p.n, state.next_person_id, f.block,
                f.offsets, f.n, f.capacity - f.n,
                state.next_firm_id, u.block, u.offsets, u.n, led.block, led.offsets, led.n,
                led.capacity - led.n, *realised, deals_only, out, ab, ao, at, *consts,
            )  # fmt: skip
            founding.founded(state, int(res[Res.FOUNDED]), int(res[Res.SPLIT]))
            if res[Res.READ]:
                finance.realisations_read(state)
            if res[Res.DEALS]:
                led.claim(int(res[Res.DEALS]))
            if has_exits and (res[Res.DEAD] or res[Res.REALISED]):  # f.n: the rows exits saw
                exits.finish(state, box, f.n, int(res[Res.DEAD]), int(res[Res.REALISED]))
            stop = int(res[Res.STOP])
            if stop < 0:
                return
            step.retries += 1
            if stop == 1:  # founding: more firm and people rows
                f.reserve(f.n + int(res[Res.NEED]))
                p.reserve(p.n + int(res[Res.NEED]))
            else:  # finance: more ledger rows; feedback and commitments are done
                led.reserve(led.n + int(res[Res.NEED]))
                deals_only = True
            first = stop
        raise AssertionError("a fused kernel asked for room twice")  # pragma: no cover

    step.retries = 0  # calls made again after a table grew (for the tests)
    return step


def fuse(steps: list[tuple]) -> list[tuple]:
    """``steps`` (the engine's (name, step, rng) list) with every run of two or more
    consecutive compiled steps replaced by one fused step named ``"a+b+..."``."""
    out: list[tuple] = []
    run: list[tuple] = []

    def flush() -> None:
        if len(run) >= 2:
            parts = {name: s.parts for name, s, _ in run}
            out.append(("+".join(parts), _fused(parts), None))
        else:
            out.extend(run)
        run.clear()

    for entry in steps:
        name, s, _ = entry
        if not (name in ORDER and hasattr(s, "parts")):  # a NumPy step ends the run
            flush()
            out.append(entry)
            continue
        if run and ORDER.index(name) <= ORDER.index(run[-1][0]):
            flush()
        run.append(entry)
    flush()
    return out


__all__ = ["ORDER", "fuse"]
