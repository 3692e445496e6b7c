"""What compiled (Numba) kernels are made of: table layouts, random streams, row selection.

The model's core mechanisms (``innosim.mechanisms``: waves, founding, orientation, growth,
finance, exits, accounting) are each one compiled kernel over the state's tables; the pieces
they share live here:

``layout``
    column numbers of every table and row numbers of flows, series and levers, borrowed column
    views of a table's byte buffer (``f32(fb, fo, F.cash)``), ``memmove`` and ``direct`` (a
    kernel called through its compiled entry point).
``rng``
    xoshiro256** streams inside kernels (uniform, normal, categorical, geometric skips), seeded
    once per run from the mechanism's named NumPy stream.
``select``
    the rows of a column at or above a threshold, sixteen per instruction, and counts per code.
``cache``
    which kernel modules there are, and the housekeeping that drops cached kernels compiled
    for another layout (run by ``make setup`` and before a process's first run).

Debugging a kernel in Python: ``NUMBA_DISABLE_JIT=1`` runs every kernel uncompiled (the
intrinsics then fall back to NumPy equivalents); expect minutes for what takes a second
compiled.
"""
