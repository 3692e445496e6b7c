"""Vectorised sampling helpers shared by the mechanisms (no per-agent Python loops)."""

from __future__ import annotations

import numpy as np

from innosim.schema import TICKS_PER_YEAR


def per_tick(rate_per_year: float | np.ndarray) -> float | np.ndarray:
    """Probability per tick of an event with the given yearly hazard rate."""
    return -np.expm1(-np.asarray(rate_per_year, dtype=np.float64) / TICKS_PER_YEAR)


SMALL_CODES = 32  # up to this many codes, count_codes counts code by code


def count_codes(codes: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    """``np.bincount(codes[mask], minlength=n)`` (int64) for small integer codes such as cities.

    ``np.bincount`` first converts the codes to ``intp`` and, with a mask, needs the masked
    copy; for a handful of cities it is several times faster to compare and count code by code
    (``count_nonzero(codes == i)``, one vectorised pass over one byte per row each). With a mask
    and one-byte codes, the mask is folded into the codes (``codes + n * mask``) so that each
    count stays one pass. The counts are integers, so the result is identical either way.
    """
    if n > SMALL_CODES or codes.dtype.itemsize != 1:
        sel = codes if mask is None else codes[mask]
        return np.bincount(sel, minlength=n).astype(np.int64, copy=False)
    if mask is None:
        return np.array([np.count_nonzero(codes == i) for i in range(n)], dtype=np.int64)
    folded = codes + mask.view(np.int8) * np.int8(n)  # masked rows carry code + n (<= 2n - 1)
    return np.array([np.count_nonzero(folded == i + n) for i in range(n)], dtype=np.int64)


def people_per_city(people, n: int) -> np.ndarray:
    """Real people living in each of ``n`` cities: the weights of a people table's rows summed
    by city (float64, exact: integer sums)."""
    return np.bincount(people.city, weights=people.weight, minlength=n)


def sample_rows(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Rows of ``range(n)`` each chosen independently with probability ``p`` (sorted).

    Draws the count from a binomial and the rows without replacement, which costs O(k) rather
    than O(n) random numbers when ``p`` is small.
    """
    if n <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1:
        return np.arange(n, dtype=np.int64)
    k = int(rng.binomial(n, p))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    rows = rng.choice(n, size=k, replace=False, shuffle=False)
    rows.sort()
    return rows.astype(np.int64, copy=False)


def stochastic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Round each value up with probability equal to its fractional part (unbiased)."""
    x = np.asarray(x, dtype=np.float64)
    base = np.floor(x)
    return (base + (rng.random(x.shape) < (x - base))).astype(np.int64)


def categorical_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one category per item from the probability row ``probs[rows[i]]``.

    ``probs`` has shape (n_rows, n_categories) with rows summing to one (or zero: then category
    0 is returned).
    """
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = np.where(cum[:, -1] > 0, np.maximum(cum[:, -1], 1.0), 0.0)
    u = rng.random(rows.size)
    cat = (u[:, None] >= cum[rows]).sum(axis=1)
    return np.minimum(cat, probs.shape[1] - 1)


def rank_within(groups: np.ndarray) -> np.ndarray:
    """Rank of each element within its group, in the order the elements appear (0, 1, ...).

    ``groups`` must be sorted.
    """
    n = groups.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    return np.arange(n) - first
