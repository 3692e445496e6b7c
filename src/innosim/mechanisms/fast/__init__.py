"""Compiled (Numba) implementations of the core mechanisms, with NumPy as the fallback.

At 10^4 agents a tick of the NumPy mechanisms costs a few milliseconds, nearly all of it the
fixed cost of a few hundred small NumPy calls; each module here implements one mechanism's
rule (the docstring of ``innosim.mechanisms.<name>`` is the specification, and is not repeated)
as one or two compiled loops over the state's columns, so a tick costs tens of microseconds.

Backends (``innosim.run(..., backend=)``, ``innosim run --backend``, environment variable
``INNOSIM_BACKEND``):

``"numba"``
    the compiled mechanisms below where one exists, NumPy for the others.
``"numpy"``
    the NumPy mechanisms only (the reference implementation; no compiler needed).
``"auto"`` (default)
    ``"numba"`` when Numba is installed (``pip install innosim[fast]``), else ``"numpy"``.

The two backends implement the same rules but draw different random numbers (a compiled
mechanism draws from its own xoshiro256** stream, seeded from the mechanism's named NumPy
stream), so a seed gives the same run on the same backend, and runs on the two backends agree in
distribution (tests/test_fast.py), not draw by draw. ``meta["backend"]`` records which ran.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from innosim.errors import ScenarioError

BACKENDS = ("auto", "numba", "numpy")
COMPILED = ("waves", "founding", "orientation", "growth", "finance", "exits", "accounting")
"""Mechanisms with a compiled implementation (the core of the Mesa benchmark)."""

try:  # Numba is an optional extra: innosim[fast]
    import numba  # noqa: F401

    AVAILABLE = True
    WHY_NOT = ""
except ImportError as exc:  # pragma: no cover - depends on the install
    AVAILABLE = False
    WHY_NOT = f"Numba is not installed ({exc}); install the extra: pip install 'innosim[fast]'"

Step = Callable[[Any, Any, np.random.Generator], None]

_STAMP = "innosim-layout.sha256"


def _drop_stale_cache() -> None:
    """Delete the cached kernels when the state layout they were compiled for has changed.

    Numba re-compiles a cached function when its own source file changes, but not when a
    constant it took from another module does (column numbers, flow and series rows: see
    ``_layout``). A stamp of ``_layout.fingerprint()`` beside the cache says which layout the
    cached kernels were built for.
    """
    from innosim.mechanisms.fast import _layout, _rng

    try:
        cache_dir = Path(_rng.uniform._cache._cache_path)  # where Numba caches this package
    except AttributeError:  # pragma: no cover - Numba internals moved
        cache_dir = Path(__file__).parent / "__pycache__"
    want = _layout.fingerprint()
    stamp = cache_dir / _STAMP
    with contextlib.suppress(OSError):
        if stamp.is_file() and stamp.read_text().strip() == want:
            return
    with contextlib.suppress(OSError):  # a read-only install: Numba then caches elsewhere
        for path in [*cache_dir.glob("*.nbi"), *cache_dir.glob("*.nbc")]:
            path.unlink(missing_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{_STAMP}.{os.getpid()}.tmp"
        tmp.write_text(want + "\n")
        tmp.replace(stamp)


if AVAILABLE:
    _drop_stale_cache()


def resolve_backend(backend: str | None = None) -> str:
    """``"numba"`` or ``"numpy"`` for a requested backend (None: ``$INNOSIM_BACKEND`` or auto)."""
    source = "backend"
    if backend is None:
        backend = os.environ.get("INNOSIM_BACKEND", "auto") or "auto"
        source = "INNOSIM_BACKEND"
    b = str(backend).strip().lower()
    if b not in BACKENDS:
        raise ScenarioError(
            "unknown backend", field=source, value=backend, expected=" or ".join(BACKENDS)
        )
    if b == "auto":
        return "numba" if AVAILABLE else "numpy"
    if b == "numba" and not AVAILABLE:
        raise ScenarioError(
            "the numba backend is not available", field=source, value=backend, expected=WHY_NOT
        )
    return b


def make_step(name: str, params: Any, rng: np.random.Generator) -> Step | None:
    """The compiled step of mechanism ``name`` for one run (None if it has none).

    The module's ``make(params, rng)`` packs the run's constant parameters and seeds the
    mechanism's kernel stream from ``rng`` once; the step it returns has the mechanisms'
    signature ``step(state, params, rng)``.
    """
    if name not in COMPILED:
        return None
    module = import_module(f"{__name__}.{name}")
    return module.make(params, rng)


def fuse(steps: list[tuple]) -> list[tuple]:
    """The engine's (name, step, rng) list with each run of consecutive compiled steps fused
    into one call per tick (see :mod:`innosim.mechanisms.fast.tick`)."""
    from innosim.mechanisms.fast.tick import fuse as _fuse

    return _fuse(steps)


def warm_up() -> bool:
    """Compile (or load from the cache) every kernel with a tiny run of the demo scenario.

    The first run on a machine compiles the kernels (about half a minute; they are cached
    beside the sources, or in Numba's cache directory, for every later process). ``make setup``
    calls this once, so that neither the demo nor the test workers wait for the compiler.
    Returns False when Numba is not installed (nothing to do).
    """
    if not AVAILABLE:
        return False
    from innosim.engine.run import run
    from innosim.params.scenario import load_scenario

    sc = load_scenario("demo").with_scale(0.05)
    sc = sc.with_end_year(sc.start_year + 2)
    run(sc, 0, backend="numba")  # the kernels, fused into one call per run of them
    run(sc, 0, backend="numba", profile=True)  # and one by one
    return True


__all__ = ["AVAILABLE", "BACKENDS", "COMPILED", "fuse", "make_step", "resolve_backend", "warm_up"]
