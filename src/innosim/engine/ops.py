"""Operations that keep links between tables consistent (used by several mechanisms)."""

from __future__ import annotations

import numpy as np

from innosim.engine.state import FOUNDER, WORKER, State

__all__ = ["release_people", "remove_people"]


def release_people(state: State, rows: np.ndarray) -> None:
    """Make the given people background workers, updating their employers' headcounts.

    Founders released this way are unlinked from their firm (``firm.founder = -1``).
    """
    if rows.size == 0:
        return
    p, f = state.people, state.firms
    emp = p.employer[rows]
    has = emp >= 0
    if has.any():
        np.subtract.at(f.employment, emp[has], 1)
        was_founder = rows[has & (p.status[rows] == FOUNDER)]
        if was_founder.size:
            fr = p.employer[was_founder]
            mine = f.founder[fr] == was_founder
            f.founder[fr[mine]] = -1
        state.flows.separations += np.bincount(p.city[rows[has]], minlength=state.flows.n)
    p.employer[rows] = -1
    p.status[rows] = WORKER


def remove_people(state: State, rows: np.ndarray) -> None:
    """Remove people from the system (retirement), keeping every link valid."""
    if rows.size == 0:
        return
    release_people(state, rows)
    src, dst = state.people.remove_swap(rows)
    if src.size and state.firms.n:
        f = state.firms
        fo = f.founder
        order = np.argsort(src)
        s_sorted = src[order]
        pos = np.searchsorted(s_sorted, fo)
        pos = np.minimum(pos, s_sorted.size - 1)
        hit = (fo >= 0) & (s_sorted[pos] == fo)
        fo[hit] = dst[order[pos[hit]]]
