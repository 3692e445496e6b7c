"""How compiled kernels see the state: column numbers of every table, flow, series and lever
rows, and views of a table's columns in its buffer.

A :class:`innosim.engine.table.Table` keeps all its columns in one byte buffer
(``table.block``, with ``table.offsets``), so a kernel takes a whole table as two arguments and
views the columns it needs::

    cash = f32(fb, fo, F.cash)   # the firms' cash column (full capacity; rows < n are live)

The numbers here are compiled into the cached kernels; ``fingerprint()`` changes whenever any
of them, or the source of any module of this package, would, and ``innosim.mechanisms.fast``
then drops the cached kernels (Numba's cache only watches each kernel's own source file).
"""

from __future__ import annotations

import hashlib
from enum import IntEnum
from pathlib import Path

import numpy as np
from numba import njit

from innosim.engine.state import (
    FIRM_COLUMNS,
    FLOW_NAMES,
    FUND_COLUMNS,
    LEDGER_COLUMNS,
    PEOPLE_COLUMNS,
)
from innosim.mechanisms.accounting import SERIES
from innosim.params.declarations import LEVERS


def _enum(name: str, names) -> type[IntEnum]:
    return IntEnum(name, [(k, i) for i, k in enumerate(names)])


P = _enum("P", PEOPLE_COLUMNS)
"""Columns of ``state.people`` (``P.city``, ``P.employer``, ...)."""
F = _enum("F", FIRM_COLUMNS)
"""Columns of ``state.firms``."""
U = _enum("U", FUND_COLUMNS)
"""Columns of ``state.funds``."""
L = _enum("L", LEDGER_COLUMNS)
"""Columns of ``state.ledger``."""
FL = _enum("FL", FLOW_NAMES)
"""Rows of ``state.flows.array``."""
S = _enum("S", [name for name, _, _ in SERIES])
"""Rows of ``state.record_array`` (the series of ``accounting.SERIES``)."""
LV = _enum("LV", LEVERS)
"""Rows of ``state.lever_array``."""


_ENTRY: dict = {}  # dispatcher -> the entry point of the version compiled for the steps


def direct(kernel):
    """Call ``kernel`` (a Numba dispatcher) through its compiled entry point.

    The first call in a process goes through the dispatcher, which compiles or loads the kernel
    for the argument types; later calls (in every run) go straight to that compiled version,
    skipping the per-call type dispatch (several microseconds per call, more than some kernels'
    work at 10^4 agents). The steps pass the same types every tick (the same arrays' dtypes,
    Python ints); an array of another type is refused by the entry point, and the call then
    goes through the dispatcher again.
    """

    def call(*args):
        entry = _ENTRY.get(kernel)
        if entry is not None:
            try:
                return entry(*args)
            except TypeError:  # another signature: let the dispatcher choose or compile
                pass
        out = kernel(*args)
        _ENTRY[kernel] = kernel.overloads[tuple(kernel.typeof_pyval(a) for a in args)].entry_point
        return out

    call.kernel = kernel
    return call


def fingerprint() -> str:
    """SHA-256 of everything compiled into the cached kernels that Numba's cache does not
    watch: the layouts (names, order, dtypes of columns, flows, series, levers) and the source
    of every module of this package (a kernel compiles in the helpers it calls, such as
    ``_rng.normal``, but Numba re-compiles it only when its own file changes)."""
    parts = []
    for cols in (PEOPLE_COLUMNS, FIRM_COLUMNS, FUND_COLUMNS, LEDGER_COLUMNS):
        parts.append(",".join(f"{k}:{np.dtype(v).str}" for k, v in cols.items()))
    parts += [",".join(FLOW_NAMES), ",".join(n for n, _, _ in SERIES), ",".join(LEVERS)]
    h = hashlib.sha256("\n".join(parts).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# column views (the buffer's slice for column i, as its dtype) --------------------------------
@njit(cache=True)
def i8(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.int8)


@njit(cache=True)
def u8(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.uint8)


@njit(cache=True)
def i16(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.int16)


@njit(cache=True)
def i32(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.int32)


@njit(cache=True)
def i64(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.int64)


@njit(cache=True)
def f32(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.float32)


@njit(cache=True)
def f64(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.float64)


@njit(cache=True)
def b1(buf, off, i):
    return buf[off[i] : off[i + 1]].view(np.bool_)


__all__ = [
    "FL",
    "LV",
    "F",
    "L",
    "P",
    "S",
    "U",
    "b1",
    "direct",
    "f32",
    "f64",
    "fingerprint",
    "i8",
    "i16",
    "i32",
    "i64",
    "u8",
]  # fmt: skip
