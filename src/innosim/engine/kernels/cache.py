"""Cached compiled kernels: which modules hold kernels, and dropping a stale cache.

Numba caches each ``@njit(cache=True)`` kernel beside its source (``__pycache__/*.nbi, *.nbc``)
and re-compiles it when that one file changes, but not when something it compiled in from
elsewhere does: the helpers it calls (``rng.normal``), the column and row numbers of
:mod:`innosim.engine.kernels.layout`, the output schema. :func:`fingerprint` hashes all of
those; :func:`drop_stale` deletes the cached kernels when the fingerprint differs from the one
stamped beside them. It runs in ``make setup`` (through ``innosim.model.warm_up``) and once per
process before the first run (``innosim.model.runner``), never at import.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np

from innosim.atomic import atomic_write
from innosim.engine.state import FIRM_COLUMNS, FUND_COLUMNS, LEDGER_COLUMNS, PEOPLE_COLUMNS
from innosim.params.declarations import LEVERS
from innosim.schema import FLOW_NAMES, SERIES

STAMP = "innosim-layout.sha256"
"""The file, beside the cached kernels, holding the fingerprint they were compiled for."""

_PACKAGE = Path(__file__).resolve().parents[2]  # src/innosim

KERNEL_SOURCES: tuple[str, ...] = (
    "schema.py",
    "engine/state.py",
    "engine/kernels/*.py",
    "mechanisms/*.py",
    "model/fuse.py",
)
"""Files (globs under the package) whose code or constants are compiled into kernels."""


def sources() -> list[Path]:
    """The files of :data:`KERNEL_SOURCES`, sorted."""
    return sorted({p for g in KERNEL_SOURCES for p in _PACKAGE.glob(g)})


def fingerprint() -> str:
    """SHA-256 of the layouts (names, order and dtypes of columns, flows, series, levers) and
    of the source of every file compiled into kernels."""
    parts = [
        ",".join(f"{k}:{np.dtype(v).str}" for k, v in cols.items())
        for cols in (PEOPLE_COLUMNS, FIRM_COLUMNS, FUND_COLUMNS, LEDGER_COLUMNS)
    ]
    parts += [",".join(FLOW_NAMES), ",".join(n for n, _, _ in SERIES), ",".join(LEVERS)]
    h = hashlib.sha256("\n".join(parts).encode())
    for path in sources():
        h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cache_dirs() -> list[Path]:
    """Where Numba keeps the cached kernels of this package: ``__pycache__`` beside the kernel
    sources, or, where that is not writable or ``NUMBA_CACHE_DIR`` is set, the mirror of the
    source tree under Numba's cache directory."""
    files = sources()
    dirs = {p.parent / "__pycache__" for p in files}
    root = os.environ.get("NUMBA_CACHE_DIR")
    if root:
        dirs |= {Path(root) / p.parent.relative_to(p.anchor) for p in files}
    return sorted(dirs)


def drop_stale() -> bool:
    """Delete every cached kernel of the package if it was compiled for another fingerprint;
    stamp the current one. Returns True when something was dropped. Read-only installs are left
    alone (Numba then caches elsewhere or compiles in memory)."""
    want = fingerprint()
    dirs = cache_dirs()
    stamp = dirs[0] / STAMP
    with contextlib.suppress(OSError):
        if stamp.is_file() and stamp.read_text().strip() == want:
            return False
    dropped = False
    with contextlib.suppress(OSError):
        for d in dirs:
            for path in [*d.glob("*.nbi"), *d.glob("*.nbc")]:
                path.unlink(missing_ok=True)
                dropped = True
        stamp.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(stamp, want + "\n")
    return dropped


__all__ = ["KERNEL_SOURCES", "STAMP", "cache_dirs", "drop_stale", "fingerprint", "sources"]
