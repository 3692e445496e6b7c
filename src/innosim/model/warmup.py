"""Compiling the kernels once per install (``make setup``), not at import or in a user's run."""

from __future__ import annotations

from innosim.engine.kernels.cache import drop_stale
from innosim.model.runner import run
from innosim.params.scenario import load_scenario


def warm_up() -> bool:
    """Drop cached kernels compiled for another layout, then compile (or load from the cache)
    every kernel with a tiny run of the demo scenario, fused and one by one.

    The first run on a machine compiles the kernels (about half a minute; they are cached
    beside the sources, or in Numba's cache directory, for every later process). ``make setup``
    calls this once, so that neither the demo nor the test workers wait for the compiler.
    Returns whether a stale cache was dropped.
    """
    dropped = drop_stale()
    sc = load_scenario("demo").with_scale(0.05)
    sc = sc.with_end_year(sc.start_year + 2)
    run(sc, 0)  # the kernels, fused into one call per run of them
    run(sc, 0, profile=True)  # and one by one
    return dropped


__all__ = ["warm_up"]
