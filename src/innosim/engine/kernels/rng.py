"""Random numbers inside compiled kernels: xoshiro256** (Blackman and Vigna 2021).

A kernel cannot take a ``numpy.random.Generator`` cheaply (Numba unboxes it in ~15 µs per
call, more than a whole mechanism should cost at 10^4 agents), so each compiled mechanism keeps
its own xoshiro256** state: four ``uint64`` words, seeded once per run from the mechanism's own
named stream (``innosim.engine.rng.stream``), so streams stay independent by mechanism and a
run is determined by its seed. The state array is advanced in place.

References: D. Blackman and S. Vigna (2021), "Scrambled linear pseudorandom number
generators", ACM TOMS 47(4); the reference C code at https://prng.di.unimi.it/.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_U5 = np.uint64(5)
_U9 = np.uint64(9)
_U7 = np.uint64(7)
_U57 = np.uint64(57)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_U11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2^-53


def seed_state(rng: np.random.Generator) -> np.ndarray:
    """Four ``uint64`` words of state drawn from ``rng`` (never all zero)."""
    s = rng.bit_generator.random_raw(4).astype(np.uint64)
    if not s.any():  # pragma: no cover - probability 2^-256
        s[0] = np.uint64(1)
    return s


@njit(cache=True)
def next_u64(s: np.ndarray) -> np.uint64:
    """The next 64-bit output; advances ``s`` (xoshiro256**)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    x = s1 * _U5
    result = ((x << _U7) | (x >> _U57)) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return result


@njit(cache=True)
def uniform(s: np.ndarray) -> float:
    """Uniform on [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _U11) * _TWO_M53


def _ziggurat_tables(layers: int = 128, r: float = 3.442619855899, v: float = 9.91256303526217e-3):
    """Layer edges x[0..layers] and ratios x[i+1]/x[i] of the normal ziggurat (Marsaglia and
    Tsang 2000, with Doornik's 2005 layout: ZIGNOR, 128 layers)."""
    x = np.empty(layers + 1)
    f = math.exp(-0.5 * r * r)
    x[0] = v / f
    x[1] = r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    x[layers] = 0.0
    return x, x[1:] / x[:-1]


_ZX, _ZR = _ziggurat_tables()
_ZTAIL = 3.442619855899
_U127 = np.uint64(127)


@njit(cache=True)
def normal(s: np.ndarray) -> float:
    """Standard normal by the ziggurat method (ZIGNOR: Marsaglia and Tsang 2000, Doornik
    2005): nearly always one 64-bit draw, a multiply and a compare (no logarithm or cosine)."""
    while True:
        b = next_u64(s)
        i = int(b & _U127)  # the layer, from the low bits
        u = 2.0 * (float(b >> _U11) * _TWO_M53) - 1.0  # uniform on [-1, 1), from the high bits
        if abs(u) < _ZR[i]:
            return u * _ZX[i]
        if i == 0:  # the tail beyond the base layer (Marsaglia 1964)
            while True:
                x = math.log(1.0 - uniform(s)) / _ZTAIL
                y = math.log(1.0 - uniform(s))
                if -2.0 * y >= x * x:
                    return x - _ZTAIL if u < 0.0 else _ZTAIL - x
        x = u * _ZX[i]
        f0 = math.exp(-0.5 * (_ZX[i] * _ZX[i] - x * x))
        f1 = math.exp(-0.5 * (_ZX[i + 1] * _ZX[i + 1] - x * x))
        if f1 + uniform(s) * (f0 - f1) < 1.0:
            return x


_NEVER = 4_000_000_000_000_000_000  # "no further success": beyond any table (and int64-safe)


@njit(cache=True, error_model="numpy")  # log1m_p = -0.0 (p below 5e-324) gives +inf: never
def skip(s: np.ndarray, log1m_p: float) -> int:
    """Rows to skip before the next success of independent Bernoulli(p) trials (geometric),
    given ``log1m_p = log(1 - p)`` < 0: walking rows by ``1 + skip`` selects each row with
    probability p in O(selected) random numbers. Tiny p gives astronomically long skips, capped
    at ``_NEVER`` before any conversion to an integer (``math.floor`` of a float beyond 2^63
    would wrap around)."""
    u = 1.0 - uniform(s)  # (0, 1]
    x = math.log(u) / log1m_p  # >= 0
    if not x < _NEVER:  # also NaN
        return _NEVER
    return int(x)  # x >= 0: truncation is the floor


@njit(cache=True)
def categorical(s: np.ndarray, probs: np.ndarray) -> int:
    """Index drawn from one row of probabilities, as
    ``innosim.mechanisms.sampling.categorical_rows`` does it: the first j with u < cumsum(probs)[j],
    the last index if none (rows that sum to slightly less than one, or to zero)."""
    m = probs.shape[0]
    u = uniform(s)
    c = 0.0
    for j in range(m - 1):
        c += probs[j]
        if u < c:
            return j
    return m - 1
