"""Random streams: one root ``SeedSequence``, one named child stream per mechanism.

Following NumPy's "Parallel random number generation" guide, a run's root seed becomes a
``SeedSequence``; each mechanism gets a child whose spawn key is derived from the mechanism's
*name* (a CRC-32), so adding or reordering mechanisms never shifts another mechanism's stream.
Replicates of an ensemble are ``SeedSequence(root).spawn(n)``, never ``seed + i``. The global
NumPy generator is never used.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["replicate_seeds", "stream"]


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of the stream called ``name`` under ``root``."""
    child = np.random.SeedSequence(
        entropy=root.entropy, spawn_key=(*root.spawn_key, _key(name)), pool_size=root.pool_size
    )
    return np.random.Generator(np.random.PCG64(child))


def replicate_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences for ``n`` replicates spawned from one root seed."""
    return np.random.SeedSequence(seed).spawn(n)
