"""``count_codes`` equals ``np.bincount(codes[mask], minlength=n)`` on every path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from innosim.mechanisms.sampling import SMALL_CODES, count_codes


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 70),
    st.integers(0, 500),
    st.sampled_from([np.int8, np.int16, np.int64]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_count_codes_equals_bincount(n, size, dtype, masked, seed):
    rng = np.random.default_rng(seed)
    hi = min(n, np.iinfo(dtype).max + 1)
    codes = rng.integers(0, hi, size).astype(dtype)
    mask = rng.random(size) < 0.4 if masked else None
    want = np.bincount(codes if mask is None else codes[mask], minlength=n)
    got = count_codes(codes, n, mask)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_both_paths_are_exercised():
    codes = np.array([0, 1, 1, 2, 2, 2], dtype=np.int8)
    assert count_codes(codes, 3).tolist() == [1, 2, 3]
    assert count_codes(codes, 3, codes > 0).tolist() == [0, 2, 3]
    assert count_codes(codes, SMALL_CODES + 1)[:3].tolist() == [1, 2, 3]
