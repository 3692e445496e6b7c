"""Shared fixtures: small scenarios and cached runs.

Every engine test runs the shipped ``demo`` scenario cut down so that a run takes a fraction of a
second. Runs that several tests only *read* are cached per session (``demo_run``, ``long_run``);
tests that monkeypatch mechanisms must run their own scenario and never request these fixtures,
or a patched run would be cached for everyone.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import innosim

settings.register_profile(
    "innosim",
    deadline=None,  # shared CI machines: timing noise must not fail a property test
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("innosim")

SEED = 20240601
"""A root seed for tests (not the scenario's own, so the default path is exercised separately)."""


@pytest.fixture(scope="session")
def demo() -> innosim.Scenario:
    """The shipped demo scenario, unchanged (full 1999-2030 horizon; do not run it in tests)."""
    return innosim.load_scenario("demo")


@pytest.fixture(scope="session")
def small(demo: innosim.Scenario) -> innosim.Scenario:
    """Demo cut to 1999-2004 (24 ticks, ~19k agents): the default fixture scenario."""
    return demo.with_end_year(2004)


@pytest.fixture(scope="session")
def tiny(demo: innosim.Scenario) -> innosim.Scenario:
    """Demo at 30% scale for two years: for tests that run many variants."""
    return demo.with_end_year(2000).with_scale(0.3)


@pytest.fixture(scope="session")
def demo_run(small: innosim.Scenario) -> innosim.RunResult:
    """One checked run of ``small`` (read-only: do not mutate its frames)."""
    return innosim.run(small, SEED, check=True)


@pytest.fixture(scope="session")
def long_scenario(demo: innosim.Scenario) -> innosim.Scenario:
    """Demo to 2010: long enough for listings, failures and realised investments."""
    return demo.with_end_year(2010)


@pytest.fixture(scope="session")
def long_run(long_scenario: innosim.Scenario) -> innosim.RunResult:
    """One checked run of ``long_scenario`` (read-only)."""
    return innosim.run(long_scenario, SEED, check=True)


def _frame_bytes(df) -> bytes:
    """The bytes of every numeric and boolean column, column by column, plus the column names.

    ``DataFrame.to_numpy()`` of a frame with a string column is an object array whose bytes are
    pointers, so byte-identity is taken per column instead.
    """
    parts = [",".join(map(str, df.columns)).encode()]
    for name in df.columns:
        col = df[name]
        if col.dtype.kind in "biufc":
            parts.append(np.ascontiguousarray(col.to_numpy()).tobytes())
        else:
            parts.append("\x1f".join(map(str, col.tolist())).encode())
    return b"\x1e".join(parts)


@pytest.fixture(scope="session")
def frame_bytes():
    """``frame_bytes(df) -> bytes``: a byte-exact fingerprint of a frame's content."""
    return _frame_bytes
