"""How compiled kernels see the state: column numbers of every table, flow, series and lever
rows, and views of a table's columns in its buffer.

A :class:`innosim.engine.table.Table` keeps all its columns in one byte buffer
(``table.block``, with ``table.offsets``), so a kernel takes a whole table as two arguments and
views the columns it needs::

    cash = f32(fb, fo, F.cash)   # the firms' cash column (full capacity; rows < n are live)

The numbers here are compiled into the cached kernels; :mod:`innosim.engine.kernels.cache`
drops the cached kernels when any of them, or the source of a kernel module, changes (Numba's
cache only watches each kernel's own source file).
"""

from __future__ import annotations

from collections import namedtuple
from enum import IntEnum

import numpy as np
from llvmlite import ir
from numba import config, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

from innosim.engine.state import CLIMATE, FIRM_COLUMNS, FUND_COLUMNS, LEDGER_COLUMNS, PEOPLE_COLUMNS
from innosim.params.declarations import LEVERS
from innosim.schema import FLOW_NAMES, SERIES_NAMES


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
S = _enum("S", SERIES_NAMES)
"""Rows of ``state.record_array`` (the series of ``innosim.schema.SERIES``)."""
CL = _enum("CL", CLIMATE)
"""Rows of ``state.city.climate``."""
LV = _enum("LV", LEVERS)
"""Rows of ``state.lever_array``."""
FIRM_ITEMSIZE = np.array([*map(lambda d: np.dtype(d).itemsize, FIRM_COLUMNS.values())], np.int64)
PEOPLE_ITEMSIZE = np.array(
    [*map(lambda d: np.dtype(d).itemsize, PEOPLE_COLUMNS.values())], np.int64
)
"""Bytes per row of each firm column, in the table's order (kernels that copy whole rows as
bytes: founding's new rows, exits' archive and compaction); ``PEOPLE_ITEMSIZE`` the same for
the people columns (founding's founders split off a sampled row)."""


# the run's constants ---------------------------------------------------------------------------
# A kernel reads the run's global constants from one record, a named tuple whose fields are the
# declared parameter names (``kp.failure_cost``; innosim.params.declarations), then the values
# derived from them in ``make`` under descriptive names (``kp.exit_per_tick``). Numba compiles
# ``kp.name`` to a constant index into the tuple, so one name holds from the TOML file to the
# kernel and no list of positions can silently fall out of order.


def record(type_name: str, module: str, names: tuple[str, ...], derived: tuple[str, ...] = ()):
    """The record type of a kernel's constants: a named tuple with fields ``names`` (declared
    parameters, read from ``params.g``) then ``derived``. Make it once, at import, as the global
    ``type_name`` of ``module`` (the caller's ``__name__``): the cached kernels find their
    argument types by that name."""
    return namedtuple(type_name, (*names, *derived), module=module)


def constants(kind, g, derived: dict | None = None):
    """The run's constants for a kernel: a ``kind`` (a :func:`record` type) holding each
    declared parameter of ``g`` (``params.g``) as float64 and the ``derived`` values (scalars
    as float64, arrays as given), in the record's order."""
    derived = derived or {}
    names = kind._fields[: len(kind._fields) - len(derived)]
    if (*names, *derived) != kind._fields:  # a programming error: make() and record() disagree
        raise TypeError(f"{kind.__name__}: derived values {tuple(derived)} out of its order")
    return kind(
        *map(float, map(g.__getattribute__, names)),
        *(v if np.ndim(v) else float(v) for v in derived.values()),
    )


def blank(kind, **arrays):
    """A ``kind`` record of zeros (``arrays``: its array fields), for a kernel that does not
    run but must be typed (the fused tick)."""
    return kind(**{k: arrays.get(k, 0.0) for k in kind._fields})


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

    if config.DISABLE_JIT:  # uncompiled debugging: the kernel is a plain Python function
        return kernel

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


# column views ---------------------------------------------------------------------------------
# A kernel views a dozen or more columns per call. ``buf[off[i]:off[i + 1]].view(dtype)`` makes
# each view an owned reference to the table's buffer: an out-of-line call and three or four
# atomic reference-count updates per view, which profiling (perf, 10^4 agents) put at about a
# fifth of the kernels' time. The views here borrow instead: they point into ``buf`` without a
# reference of their own (no meminfo, as arrays made by ``numba.carray``), so making and dropping
# one costs a few instructions. They are valid while ``buf`` is, which the kernel's own argument
# guarantees: a kernel never reallocates a table and its views never outlive the call.


def is_vector(a, dtype) -> bool:
    """Whether the Numba type ``a`` is a contiguous 1-D array of ``dtype`` (the intrinsics
    address its elements from its data pointer)."""
    return isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" and a.dtype == dtype


def _column(nbtype):
    """An intrinsic ``view(buf, off, i)``: column ``i`` of a table (bytes ``off[i]`` to
    ``off[i + 1]`` of its uint8 buffer ``buf``) as a 1-D C array of ``nbtype``, borrowed (see
    above). No bounds check: the offsets come from the table and are multiples of 64 within the
    buffer, and ``i`` is a column number of this module."""

    @intrinsic
    def view(typingctx, buf, off, i):
        if not (
            is_vector(buf, types.uint8)
            and is_vector(off, types.int64)
            and isinstance(i, types.Integer | types.IntEnumMember)
        ):
            return None
        retty = types.Array(nbtype, 1, "C")

        def codegen(context, builder, signature, args):
            src = make_array(signature.args[0])(context, builder, args[0])
            offsets = make_array(signature.args[1])(context, builder, args[1])
            out = make_array(retty)(context, builder)
            intp = context.get_value_type(types.intp)
            elem = context.get_data_type(nbtype)
            size = context.get_abi_sizeof(elem)
            col = context.cast(builder, args[2], signature.args[2], types.intp)
            lo = builder.load(cgutils.gep(builder, offsets.data, col))
            hi = builder.load(cgutils.gep(builder, offsets.data, builder.add(col, col.type(1))))
            data = builder.bitcast(cgutils.gep(builder, src.data, lo), elem.as_pointer())
            n = builder.sdiv(builder.sub(hi, lo), ir.Constant(intp, size))
            populate_array(
                out,
                data=data,
                shape=[n],
                strides=[ir.Constant(intp, size)],
                itemsize=ir.Constant(intp, size),
                meminfo=None,
            )
            return out._getvalue()

        return retty(buf, off, i), codegen

    view.__doc__ = f"Column ``i`` of a table (``buf``, ``off``) as {nbtype} (borrowed view)."
    return view


@intrinsic
def memmove(typingctx, dst, d, src, s, nbytes):
    """``dst[d:d + nbytes] = src[s:s + nbytes]`` for byte arrays, as one ``memmove`` (the
    ranges may overlap). No bounds check: the caller keeps both ranges inside the arrays."""
    if not (is_vector(dst, types.uint8) and is_vector(src, types.uint8)):
        return None
    sig = types.void(dst, types.intp, src, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        to = make_array(signature.args[0])(context, builder, args[0])
        fr = make_array(signature.args[2])(context, builder, args[2])
        cgutils.raw_memmove(
            builder,
            cgutils.gep(builder, to.data, args[1]),
            cgutils.gep(builder, fr.data, args[3]),
            args[4],
            1,
        )
        return context.get_dummy_value()

    return sig, codegen


i8, u8, i16, i32, i64, f32, f64, b1 = map(
    _column,
    (types.int8, types.uint8, types.int16, types.int32, types.int64, types.float32,
     types.float64, types.boolean),
)  # fmt: skip
"""Column views by dtype: ``f32(fb, fo, F.cash)`` is the firms' cash column (full capacity)."""


# Without compilation (NUMBA_DISABLE_JIT=1, for debugging a kernel line by line in Python) the
# intrinsics above cannot run: the kernels then call these plain NumPy equivalents.
if config.DISABLE_JIT:  # pragma: no cover - exercised by tests/test_kernels.py in a subprocess

    def _py_column(dtype):
        def view(buf, off, i):
            return buf[off[i] : off[i + 1]].view(dtype)

        return view

    i8, u8, i16, i32, i64, f32, f64, b1 = map(
        _py_column,
        (np.int8, np.uint8, np.int16, np.int32, np.int64, np.float32, np.float64, np.bool_),
    )  # fmt: skip

    def memmove(dst, d, src, s, nbytes):
        dst[d : d + nbytes] = src[s : s + nbytes].copy()


__all__ = [
    "FIRM_ITEMSIZE",
    "FL",
    "LV",
    "PEOPLE_ITEMSIZE",
    "F",
    "L",
    "P",
    "S",
    "U",
    "b1",
    "blank",
    "constants",
    "direct",
    "f32",
    "f64",
    "i8",
    "i16",
    "i32",
    "i64",
    "is_vector",
    "memmove",
    "record",
    "u8",
]  # fmt: skip
