"""Operations that keep links between tables consistent (used by several mechanisms)."""

from __future__ import annotations

import numpy as np

from innosim.engine.state import FOUNDER, WORKER, State

__all__ = ["release_people", "remove_people", "weighted_rows"]


def weighted_rows(people: np.ndarray, persons_per_agent: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows that stand for ``people`` real people per city (integers, one entry per city).

    Returns ``(rows, weights)``: how many rows each city gets, ``ceil(people / persons_per_agent)``,
    and every row's weight (cities in order), the city's people shared as evenly as integers
    allow (the first rows one more). The weights sum to ``people`` exactly, so the sampled
    population is the real one whatever the agent scale.
    """
    people = np.asarray(people, dtype=np.int64)
    per = max(float(persons_per_agent), 1.0)
    rows = np.where(people > 0, np.ceil(people / per), 0).astype(np.int64)
    city = np.repeat(np.arange(people.size), rows)
    start = np.concatenate([[0], np.cumsum(rows)[:-1]])
    k = np.arange(city.size) - start[city]
    base = np.where(rows > 0, people // np.maximum(rows, 1), 0)
    extra = np.where(rows > 0, people % np.maximum(rows, 1), 0)
    weights = base[city] + (k < extra[city])
    return rows, weights.astype(np.int32)


def release_people(state: State, rows: np.ndarray) -> None:
    """Make the given people background workers: founders leave their firms (the firm's
    headcount falls by one and ``firm.founder`` becomes -1)."""
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
