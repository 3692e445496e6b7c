"""Structure-of-arrays tables with amortised growth and compaction.

A :class:`Table` holds one NumPy array per column, all of the same capacity; the first ``n`` rows
are live. The columns are views into one byte buffer (each column starts on a 64-byte boundary),
so a compiled kernel takes a whole table as two arguments, :attr:`Table.block` and
:attr:`Table.offsets`, and views its columns itself (``innosim.engine.kernels.layout``). Appending
doubles the capacity when needed (amortised O(1) per row), and :meth:`Table.compact` drops rows and
returns the old-to-new row mapping so that other tables' integer links can be remapped in one
vectorised step. Rows keep their order, so a table whose ids come from a counter stays sorted by id
(``np.searchsorted`` finds a row by id).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["Table"]

SHRINK_FLOOR = 1024
"""Compaction gives memory back only above this many rows of capacity."""

ALIGN = 64  # bytes: every column starts on a cache-line boundary of the buffer


class Table:
    """A growable structure-of-arrays table.

    Attributes
    ----------
    n : int
        Live rows.
    capacity : int
        Rows allocated.
    block : numpy.ndarray of uint8
        The byte buffer that holds every column (replaced when the table grows or shrinks).
    offsets : numpy.ndarray of int64
        Byte offsets of the columns in ``block``, one per column plus the end: column i, in
        the order of ``columns``, is ``block[offsets[i]:offsets[i + 1]]`` viewed as its dtype
        (its first ``capacity`` rows; the rest is padding, so a kernel must never take a
        column's length for the capacity).

    Parameters
    ----------
    columns : mapping of str to dtype
        Column names and NumPy dtypes.
    capacity : int
        Initial capacity in rows.
    fill : mapping of str to scalar, optional
        Value new rows take when an append does not give the column (default 0).
    """

    __slots__ = ("_cols", "_fill", "block", "capacity", "dtypes", "n", "offsets")

    def __init__(
        self,
        columns: Mapping[str, np.dtype | type | str],
        capacity: int = 1024,
        fill: Mapping[str, object] | None = None,
    ) -> None:
        self.dtypes = {k: np.dtype(v) for k, v in columns.items()}
        self.capacity = max(int(capacity), 16)
        self.n = 0
        self._fill = dict(fill or {})
        self._allocate(self.capacity, zero=True)

    def _allocate(self, capacity: int, zero: bool = False) -> dict[str, np.ndarray]:
        """Give the table a new buffer of ``capacity`` rows; returns the old columns."""
        old = getattr(self, "_cols", {})
        sizes = [-(-capacity * d.itemsize // ALIGN) * ALIGN for d in self.dtypes.values()]
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        buf = (np.zeros if zero else np.empty)(int(offsets[-1]), dtype=np.uint8)
        self.block, self.offsets = buf, offsets  # plain attributes: read every tick by kernels
        self._cols = {
            k: buf[offsets[i] : offsets[i] + capacity * d.itemsize].view(d)
            for i, (k, d) in enumerate(self.dtypes.items())
        }
        self.capacity = capacity
        return old

    # copies and pickles rebuild the views into their own buffer
    def __getstate__(self) -> dict[str, object]:
        return {
            "dtypes": self.dtypes,
            "fill": self._fill,
            "n": self.n,
            "capacity": self.capacity,
            "buf": self.block.copy(),
        }

    def __setstate__(self, st: dict) -> None:
        self.dtypes, self._fill, self.n = st["dtypes"], st["fill"], st["n"]
        self._allocate(st["capacity"])
        self.block[:] = st["buf"]

    # live views -----------------------------------------------------------------------------
    def __getattr__(self, name: str) -> np.ndarray:
        try:
            cols = object.__getattribute__(self, "_cols")
        except AttributeError:  # during unpickling / before init
            raise AttributeError(name) from None
        try:
            return cols[name][: object.__getattribute__(self, "n")]
        except KeyError:
            raise AttributeError(f"table has no column {name!r}") from None

    @property
    def raw(self) -> dict[str, np.ndarray]:
        """The full-capacity column arrays by name (rows ``n`` and above are unused): views of
        :attr:`block`, replaced when the table grows or shrinks, so read them afresh after any
        append or compaction."""
        return self._cols

    def col(self, name: str) -> np.ndarray:
        """Live view of a column (first ``n`` rows)."""
        return self._cols[name][: self.n]

    def __len__(self) -> int:
        return self.n

    @property
    def nbytes(self) -> int:
        """Bytes allocated (capacity, not only live rows)."""
        return int(self.block.nbytes)

    # growth ---------------------------------------------------------------------------------
    def _reserve(self, need: int) -> None:
        if need <= self.capacity:
            return
        cap = self.capacity
        while cap < need:
            cap = int(cap * 1.5) + 16
        self._move(cap)

    def _move(self, capacity: int) -> None:
        """Move the live rows into a new buffer of ``capacity`` rows (views held elsewhere keep
        the old buffer alive and unchanged; the transient peak is the old plus the new buffer)."""
        old = self._allocate(capacity)
        for k, a in old.items():
            self._cols[k][: self.n] = a[: self.n]

    def reserve(self, rows: int) -> None:
        """Make the capacity at least ``rows`` (existing rows are kept)."""
        self._reserve(int(rows))

    def claim(self, k: int) -> slice:
        """Make room for ``k`` more rows and count them as live, without writing them.

        For compiled kernels that write the new rows themselves: the caller must set every
        column of the returned rows (they may hold values of rows dropped earlier).
        """
        k = max(int(k), 0)
        start = self.n
        self._reserve(start + k)
        self.n = start + k
        return slice(start, start + k)

    def append(self, k: int, **values: object) -> slice:
        """Append ``k`` rows; ``values`` gives scalars or length-``k`` arrays per column.

        Columns not given take their fill value. Returns the slice of the new rows.
        """
        k = int(k)
        if k <= 0:
            return slice(self.n, self.n)
        unknown = set(values) - set(self._cols)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        start = self.n
        self._reserve(start + k)
        stop = start + k
        for name, a in self._cols.items():
            a[start:stop] = values.get(name, self._fill.get(name, 0))
        self.n = stop
        return slice(start, stop)

    def compact(self, keep: np.ndarray) -> np.ndarray:
        """Keep the rows where ``keep`` is true, preserving order.

        Returns
        -------
        numpy.ndarray of int32, shape (old n,)
            New row of each old row, or -1 for dropped rows.
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n,):
            raise ValueError("keep mask must have one entry per live row")
        new_n = int(keep.sum())
        mapping = np.full(self.n, -1, dtype=np.int32)
        mapping[keep] = np.arange(new_n, dtype=np.int32)
        for a in self._cols.values():
            a[:new_n] = a[: self.n][keep]
        self.truncate(new_n)
        return mapping

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` rows (as after a compaction done in place, e.g. by a compiled
        kernel) and give memory back when the table has shrunk a lot: to twice the rows when
        they fill less than a quarter of the capacity, never below ``SHRINK_FLOOR`` rows (a
        small table that shrinks and regrows would reallocate every few ticks)."""
        if not 0 <= n <= self.n:
            raise ValueError(f"cannot truncate {self.n} rows to {n}")
        self.n = int(n)
        if self.capacity > SHRINK_FLOOR and self.n < self.capacity // 4:
            self._move(max(self.n * 2, SHRINK_FLOOR))

    def free(self) -> None:
        """Drop every column (the table is empty and holds no memory afterwards)."""
        self.n = 0
        self._allocate(0)

    def take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Copies of the given rows of every column."""
        return {k: a[: self.n][rows].copy() for k, a in self._cols.items()}

    def to_dict(self) -> dict[str, np.ndarray]:
        """Copies of all live columns."""
        return {k: a[: self.n].copy() for k, a in self._cols.items()}

    def remove_swap(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove ``rows`` by moving rows from the end into the holes (order not kept).

        O(k) for k removed rows. Returns ``(src, dst)``: the row that was at ``src[i]`` is now at
        ``dst[i]``; callers remap links with them.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size > 1 and not (rows[1:] > rows[:-1]).all():
            rows = np.unique(rows)  # callers usually pass sorted unique rows: skip the sort
        k = rows.size
        if k and (rows[0] < 0 or rows[-1] >= self.n):
            raise IndexError(f"rows to remove must lie in [0, {self.n}), got {rows[0]}..{rows[-1]}")
        if k == 0:
            e = np.zeros(0, dtype=np.int64)
            return e, e
        new_n = self.n - k
        holes = rows[rows < new_n]
        tail = np.arange(new_n, self.n, dtype=np.int64)
        tail_keep = tail[~np.isin(tail, rows, assume_unique=True)]
        # holes and surviving tail rows have the same count
        for a in self._cols.values():
            a[holes] = a[tail_keep]
        self.n = new_n
        return tail_keep, holes
