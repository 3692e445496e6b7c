"""The structure-of-arrays table: growth, compaction and swap-removal keep rows and links right.

Every test builds a table whose ``id`` column comes from a counter (as the engine's do), so a
row's identity can be followed through compaction and removal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from innosim.engine.table import Table

COLS = {"id": np.int64, "x": np.float32, "link": np.int32, "flag": np.bool_}


def make(n: int, capacity: int = 16) -> Table:
    """A table of ``n`` rows with ids 0..n-1 and x = 10 * id."""
    t = Table(COLS, capacity, fill={"link": -1})
    ids = np.arange(n, dtype=np.int64)
    t.append(n, id=ids, x=(ids * 10).astype(np.float32), flag=ids % 2 == 0)
    return t


def snapshot(t: Table) -> dict[str, np.ndarray]:
    return t.to_dict()


# --------------------------------------------------------------------------- append and growth


def test_new_table_is_empty_with_declared_dtypes():
    t = Table(COLS, capacity=4)
    assert len(t) == 0 and t.n == 0
    assert t.capacity >= 16  # a floor keeps tiny tables from reallocating on every append
    for name, dtype in COLS.items():
        assert t.col(name).dtype == np.dtype(dtype)
        assert getattr(t, name).shape == (0,)


def test_append_keeps_values_and_fills_missing_columns():
    t = Table(COLS, capacity=16, fill={"link": -1, "x": 2.5})
    s = t.append(3, id=np.array([7, 8, 9]), flag=True)
    assert s == slice(0, 3)
    np.testing.assert_array_equal(t.id, [7, 8, 9])
    np.testing.assert_array_equal(t.link, [-1, -1, -1])  # fill value
    np.testing.assert_array_equal(t.x, [2.5, 2.5, 2.5])  # fill value of another column
    np.testing.assert_array_equal(t.flag, [True, True, True])  # scalar broadcast
    s2 = t.append(2, id=np.array([10, 11]), link=np.array([0, 2]))
    assert s2 == slice(3, 5)
    np.testing.assert_array_equal(t.id, [7, 8, 9, 10, 11])
    np.testing.assert_array_equal(t.link, [-1, -1, -1, 0, 2])
    np.testing.assert_array_equal(t.flag, [True, True, True, False, False])  # default fill 0


def test_append_zero_or_negative_rows_is_a_no_op():
    t = make(5)
    before = snapshot(t)
    assert t.append(0) == slice(5, 5)
    assert t.append(-3, id=1) == slice(5, 5)
    assert t.n == 5
    for k, v in before.items():
        np.testing.assert_array_equal(t.col(k), v)


def test_append_rejects_unknown_columns_without_changing_the_table():
    t = make(3)
    with pytest.raises(KeyError, match="nope"):
        t.append(2, id=np.array([3, 4]), nope=1)
    assert t.n == 3


def test_unknown_column_attribute_is_an_attribute_error():
    t = make(3)
    with pytest.raises(AttributeError, match="nope"):
        _ = t.nope


def test_growth_keeps_every_value_across_reallocations():
    t = Table(COLS, capacity=16, fill={"link": -1})
    expect = []
    nid = 0
    rng = np.random.default_rng(0)  # test data only; the engine never uses default_rng
    for _ in range(200):
        k = int(rng.integers(0, 40))
        ids = np.arange(nid, nid + k)
        t.append(k, id=ids, x=ids.astype(np.float32) / 3)
        expect.extend(ids.tolist())
        nid += k
        assert t.capacity >= t.n
    np.testing.assert_array_equal(t.id, expect)
    np.testing.assert_array_equal(t.x, np.array(expect, dtype=np.float32) / 3)
    assert (t.link == -1).all()


def test_growth_is_amortised():
    """Appending one row at a time reallocates O(log n) times, and never over-allocates by
    more than the growth factor."""
    t = Table(COLS, capacity=16)
    n = 20_000
    reallocs = 0
    cap = t.capacity
    for i in range(n):
        t.append(1, id=i)
        if t.capacity != cap:
            reallocs += 1
            assert t.capacity >= 1.4 * cap  # geometric, not additive, growth
            cap = t.capacity
    # geometric growth with factor >= 1.4 from 16 rows needs at most log_1.4(n / 16) + 1 steps
    assert reallocs <= math.log(n / 16, 1.4) + 1
    assert t.capacity <= 2 * n + 64
    np.testing.assert_array_equal(t.id, np.arange(n))


def test_views_are_live_and_exports_are_copies():
    t = make(4)
    t.x[1] = 99.0  # the attribute is a view: writes reach the table
    assert t.col("x")[1] == 99.0
    d = t.to_dict()
    d["x"][1] = -1.0
    assert t.x[1] == 99.0
    taken = t.take(np.array([3, 1]))
    np.testing.assert_array_equal(taken["id"], [3, 1])
    taken["id"][:] = 0
    np.testing.assert_array_equal(t.id, [0, 1, 2, 3])


def test_nbytes_counts_capacity():
    t = make(3, capacity=32)
    per_row = sum(np.dtype(d).itemsize for d in COLS.values())
    # each column is padded to a 64-byte boundary of the table's buffer
    assert t.capacity * per_row <= t.nbytes < t.capacity * per_row + 64 * len(COLS)


def test_columns_are_views_of_one_buffer_at_the_offsets():
    t = make(5, capacity=40)
    for i, (name, dtype) in enumerate(COLS.items()):
        lo, hi = t.offsets[i], t.offsets[i + 1]
        assert lo % 64 == 0
        view = t.block[lo:hi].view(np.dtype(dtype))[: t.n]
        np.testing.assert_array_equal(view, getattr(t, name))
        assert np.shares_memory(view, t.raw[name])
    t.append(100, id=np.arange(5, 105))  # grows: a new buffer, the same values
    assert t.capacity >= 105
    np.testing.assert_array_equal(t.id, np.arange(105))
    lo, hi = t.offsets[0], t.offsets[1]
    np.testing.assert_array_equal(t.block[lo:hi].view(np.int64)[:105], np.arange(105))


def test_copies_and_pickles_keep_columns_in_their_own_buffer():
    import copy
    import pickle

    t = make(6, capacity=20)
    for u in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        np.testing.assert_array_equal(u.id, t.id)
        u.id[0] = 99
        assert t.id[0] == 0
        assert np.shares_memory(u.block, u.raw["id"]) and not np.shares_memory(u.block, t.block)


# --------------------------------------------------------------------------- compact


def check_compact(t: Table, keep: np.ndarray) -> None:
    before = snapshot(t)
    mapping = t.compact(keep)
    kept = np.flatnonzero(keep)
    assert mapping.shape == keep.shape
    assert t.n == kept.size
    # dropped rows map to -1, kept rows to 0..k-1 in their old order
    assert (mapping[~keep] == -1).all()
    np.testing.assert_array_equal(mapping[keep], np.arange(kept.size))
    # each column holds the kept rows, in order, and the mapping sends old rows to them
    for k, v in before.items():
        np.testing.assert_array_equal(t.col(k), v[keep])
        np.testing.assert_array_equal(t.col(k)[mapping[kept]], v[kept])
    # counter ids stay sorted, so searchsorted still finds rows by id
    assert (np.diff(t.id) > 0).all()
    assert t.capacity >= t.n


def test_compact_keep_some():
    t = make(10)
    check_compact(t, np.array([1, 0, 0, 1, 1, 0, 1, 0, 0, 1], bool))


def test_compact_keep_all_is_identity():
    t = make(7)
    mapping = t.compact(np.ones(7, bool))
    np.testing.assert_array_equal(mapping, np.arange(7))
    np.testing.assert_array_equal(t.id, np.arange(7))


def test_compact_keep_none_empties_the_table():
    t = make(7)
    mapping = t.compact(np.zeros(7, bool))
    assert t.n == 0
    assert (mapping == -1).all()
    t.append(2, id=np.array([100, 101]))  # still usable
    np.testing.assert_array_equal(t.id, [100, 101])


def test_compact_rejects_a_mask_of_the_wrong_length():
    t = make(5)
    with pytest.raises(ValueError, match="one entry per live row"):
        t.compact(np.ones(4, bool))
    assert t.n == 5


def test_compact_gives_memory_back_and_keeps_values():
    t = make(5000)
    big = t.capacity
    keep = np.zeros(5000, bool)
    keep[::97] = True
    check_compact(t, keep)
    assert t.capacity < big // 2
    n = t.n
    t.append(3, id=np.array([10**6, 10**6 + 1, 10**6 + 2]))
    assert t.n == n + 3 and t.id[-1] == 10**6 + 2


def test_compact_mapping_remaps_links_from_another_table():
    """The engine's use: people link to firm rows; after compaction links follow their firm."""
    firms = make(6)
    links = np.array([0, 5, 2, -1, 3, 5])  # person -> firm row
    linked_ids = np.where(links >= 0, firms.id[links], -1)
    keep = np.array([1, 0, 1, 1, 0, 1], bool)
    mapping = firms.compact(keep)
    new = np.where(links >= 0, mapping[links], -1)
    for old_link, old_id, nl in zip(links, linked_ids, new, strict=True):
        if old_link < 0:
            assert nl == -1
        elif keep[old_link]:
            assert firms.id[nl] == old_id
        else:
            assert nl == -1


@given(st.lists(st.booleans(), min_size=0, max_size=300))
def test_compact_property(mask):
    keep = np.array(mask, dtype=bool)
    t = make(keep.size)
    check_compact(t, keep)


# --------------------------------------------------------------------------- remove_swap


def check_remove_swap(t: Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    before = snapshot(t)
    n = t.n
    removed = np.unique(rows)
    src, dst = t.remove_swap(rows)
    new_n = n - removed.size
    assert t.n == new_n
    assert src.shape == dst.shape
    # the row formerly at src[i] is now at dst[i]
    for k, v in before.items():
        np.testing.assert_array_equal(t.col(k)[dst], v[src])
    # moves come from the tail into holes left by removed rows
    assert (src >= new_n).all() and (dst < new_n).all()
    assert np.isin(dst, removed).all()
    assert not np.isin(src, removed).any()
    # rows neither removed nor moved did not change place
    stay = np.setdiff1d(np.arange(new_n), dst)
    for k, v in before.items():
        np.testing.assert_array_equal(t.col(k)[stay], v[stay])
    # removed rows are gone, every other row is still there exactly once
    remaining = np.setdiff1d(before["id"], before["id"][removed])
    np.testing.assert_array_equal(np.sort(t.id), remaining)
    return src, dst


def test_remove_swap_middle_rows():
    t = make(10)
    src, dst = check_remove_swap(t, np.array([2, 5]))
    np.testing.assert_array_equal(src, [8, 9])
    np.testing.assert_array_equal(dst, [2, 5])


def test_remove_swap_mixed_holes_and_tail():
    t = make(10)
    src, dst = check_remove_swap(t, np.array([1, 9, 4]))
    # new_n = 7: rows 7 and 8 survive in the tail and fill holes 1 and 4
    np.testing.assert_array_equal(src, [7, 8])
    np.testing.assert_array_equal(dst, [1, 4])


def test_remove_swap_only_tail_rows_moves_nothing():
    t = make(10)
    src, dst = check_remove_swap(t, np.array([7, 8, 9]))
    assert src.size == 0 and dst.size == 0
    np.testing.assert_array_equal(t.id, np.arange(7))


def test_remove_swap_none():
    t = make(6)
    src, dst = check_remove_swap(t, np.zeros(0, dtype=np.int64))
    assert src.size == 0 and dst.size == 0
    np.testing.assert_array_equal(t.id, np.arange(6))


def test_remove_swap_all():
    t = make(6)
    src, _dst = check_remove_swap(t, np.arange(6))
    assert t.n == 0 and src.size == 0


def test_remove_swap_ignores_duplicates_and_order():
    t = make(10)
    check_remove_swap(t, np.array([5, 2, 5, 2, 0]))
    assert t.n == 7


def test_remove_swap_then_remap_links():
    """The engine's use (ops.remove_people): links to moved rows follow them through (src, dst)."""
    people = make(8)
    founder = np.array([7, 3, 6, -1])  # firm -> person row
    founder_id = np.where(founder >= 0, people.id[founder], -1)
    src, dst = people.remove_swap(np.array([3, 1]))
    order = np.argsort(src)
    pos = np.minimum(np.searchsorted(src[order], founder), src.size - 1)
    hit = (founder >= 0) & (src[order][pos] == founder)
    founder = founder.copy()
    founder[hit] = dst[order[pos[hit]]]
    founder[1] = -1  # that founder was removed; the engine unlinks before removing
    for row, pid in zip(founder, founder_id, strict=True):
        if row >= 0:
            assert people.id[row] == pid


@pytest.mark.parametrize("rows", [[-1], [5], [4, 5]])
def test_remove_swap_rejects_rows_out_of_range(rows):
    t = make(5)
    with pytest.raises((IndexError, ValueError)):
        t.remove_swap(np.array(rows))


@given(
    st.integers(min_value=0, max_value=200).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(min_value=0, max_value=max(n - 1, 0)), max_size=n)
            if n
            else st.just([]),
        )
    )
)
def test_remove_swap_property(case):
    n, rows = case
    t = make(n)
    check_remove_swap(t, np.array(rows, dtype=np.int64))
