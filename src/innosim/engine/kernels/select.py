"""Vector primitives for the passes over the people: selected rows and counts per value.

Several kernels act on the people who work in a firm (``employer >= 0``: a few percent of the
people at the scales of the scenarios), or in firms from some row on (exits: staff of the dead
firms and of the rows that move down). A scalar scan costs about a nanosecond a person, which at
10^4 agents was most of those kernels' time (perf). :func:`rows_at_least` writes the row
numbers of the matching rows, in order, with LLVM's ``masked.compressstore`` on sixteen int32
lanes (one ``vpcompressd`` on AVX-512 machines; LLVM expands it into scalar code on the others,
which gives the same rows), so the kernel then loops over the few matching rows only.
:func:`count_each` counts the rows of an int8 column equal to each value (the people per city)
with 64-byte compares and a population count, as ``np.bincount``.

Measured at 10^4 people (3 % employed): selecting the employed 1.5 us instead of about 8 us for
the scalar pass; heads per city for 5 cities 0.8 us, 16 cities 1.5 us, instead of about 7 us.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

from innosim.engine.kernels.layout import is_vector

_LANES = 16  # int32 rows per compress
_BYTES = 64  # int8 rows per compare


@intrinsic
def _compress16(typingctx, col, i, threshold, out, k):
    """Rows ``i ... i + 15`` of ``col`` (int32) with values >= ``threshold`` written to ``out``
    (int32) from ``out[k]`` on, in order; returns ``k`` plus their number. No bounds check: the
    caller keeps ``i + 16 <= len(col)`` and ``k <= i``, ``len(out) >= len(col)``."""
    if not (
        is_vector(col, types.int32)
        and is_vector(out, types.int32)
        and all(isinstance(a, types.Integer) for a in (i, threshold, k))
    ):
        return None
    sig = types.intp(col, i, threshold, out, k)

    def codegen(context, builder, signature, args):
        c_arr = make_array(signature.args[0])(context, builder, args[0])
        o_arr = make_array(signature.args[3])(context, builder, args[3])
        intp = context.get_value_type(types.intp)
        i32 = ir.IntType(32)
        vec = ir.VectorType(i32, _LANES)
        mask_t = ir.VectorType(ir.IntType(1), _LANES)
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        at = context.cast(builder, args[4], signature.args[4], types.intp)
        thr = context.cast(builder, args[2], signature.args[2], types.int32)

        def splat(value):
            v = ir.Constant(vec, ir.Undefined)
            for lane in range(_LANES):
                v = builder.insert_element(v, value, ir.Constant(i32, lane))
            return v

        src = builder.bitcast(cgutils.gep(builder, c_arr.data, row), vec.as_pointer())
        values = builder.load(src, align=4)
        mask = builder.icmp_signed(">=", values, splat(thr))
        rows = builder.add(splat(builder.trunc(row, i32)), ir.Constant(vec, list(range(_LANES))))
        module = builder.module
        store = cgutils.get_or_insert_function(
            module,
            ir.FunctionType(ir.VoidType(), [vec, i32.as_pointer(), mask_t]),
            f"llvm.masked.compressstore.v{_LANES}i32",
        )
        builder.call(store, [rows, cgutils.gep(builder, o_arr.data, at), mask])
        bits = builder.bitcast(mask, ir.IntType(_LANES))
        ctpop = cgutils.get_or_insert_function(
            module, ir.FunctionType(ir.IntType(_LANES), [ir.IntType(_LANES)]), "llvm.ctpop.i16"
        )
        count = builder.zext(builder.call(ctpop, [bits]), intp)
        return builder.add(at, count)

    return sig, codegen


@njit(cache=True, inline="always")
def rows_at_least(col, n, threshold, out):
    """Write to ``out`` the rows ``i < n`` with ``col[i] >= threshold``, in increasing order;
    return their number. ``col`` and ``out`` are int32 arrays, ``out`` of length at least
    ``n``."""
    k = 0
    i = 0
    while i + _LANES <= n:
        k = _compress16(col, i, threshold, out, k)
        i += _LANES
    while i < n:
        if col[i] >= threshold:
            out[k] = i
            k += 1
        i += 1
    return k


@intrinsic
def _count64(typingctx, col, i, value):
    """How many of rows ``i ... i + 63`` of ``col`` (int8) equal ``value``. No bounds check:
    the caller keeps ``i + 64 <= len(col)``."""
    if not (
        is_vector(col, types.int8)
        and isinstance(i, types.Integer)
        and isinstance(value, types.Integer)
    ):
        return None
    sig = types.intp(col, i, value)

    def codegen(context, builder, signature, args):
        c_arr = make_array(signature.args[0])(context, builder, args[0])
        i8 = ir.IntType(8)
        vec = ir.VectorType(i8, _BYTES)
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        val = context.cast(builder, args[2], signature.args[2], types.int8)
        v = ir.Constant(vec, ir.Undefined)
        for lane in range(_BYTES):
            v = builder.insert_element(v, val, ir.Constant(ir.IntType(32), lane))
        src = builder.bitcast(cgutils.gep(builder, c_arr.data, row), vec.as_pointer())
        equal = builder.icmp_signed("==", builder.load(src, align=1), v)
        bits = builder.bitcast(equal, ir.IntType(_BYTES))
        ctpop = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(64), [ir.IntType(64)]), "llvm.ctpop.i64"
        )
        return context.cast(builder, builder.call(ctpop, [bits]), types.int64, types.intp)

    return sig, codegen


@njit(cache=True, inline="always")
def count_each(col, n, out):
    """``out[v]`` = how many rows ``i < n`` of the int8 column ``col`` equal ``v``, for every
    ``v < len(out)`` (values outside are not counted): one pass of 64-byte compares per value,
    as ``np.bincount(col[:n], minlength=len(out))`` does for values in range."""
    m = out.shape[0]
    tail = n - n % _BYTES
    for v in range(m):
        s = 0
        i = 0
        while i < tail:
            s += _count64(col, i, v)
            i += _BYTES
        for j in range(tail, n):
            if col[j] == v:
                s += 1
        out[v] = s


if config.DISABLE_JIT:  # pragma: no cover - uncompiled debugging (NUMBA_DISABLE_JIT=1)

    def _compress16(col, i, threshold, out, k):
        rows = np.flatnonzero(col[i : i + _LANES] >= threshold) + i
        out[k : k + rows.size] = rows
        return k + rows.size

    def _count64(col, i, value):
        return int(np.count_nonzero(col[i : i + _BYTES] == value))


__all__ = ["count_each", "rows_at_least"]
