"""The order of the mechanisms in a tick, set once.

1. ``policy``      levers on a timeline (C7, C9, C10, C12)
2. ``place``       infrastructure stocks and hub links (C1, C2)
3. ``waves``       technology waves, S-curve markets, adaptation or decline (C1, C6, C7)
4. ``talent``      graduates, entrants, retirement (C3, C5)
5. ``careers``     job search, migration between cities, hiring (C3, C5, C11)
6. ``founding``    opportunity, fear of failure, entry (C8, C9, C10)
7. ``orientation`` To C / To B / To G from the local demand mix (C6, C7)
8. ``growth``      learning, market shares, revenue, hiring and layoffs, cash (C6, C7, C12)
9. ``chains``      chain masters, suppliers in any city, branch R&D, value capture (C4, C11)
10. ``finance``    venture funds, appetite feedback from realised returns (C9)
11. ``exits``      failure, listing, realisation, recycling of founders and staff (C8)
12. ``accounting`` value added, income, employment, unicorns, flows (C11, C12)
13. ``climate``    what founders see (peers' outcomes, capital in reach), culture learns (C8, C9)
"""

from __future__ import annotations

from types import ModuleType

from innosim.mechanisms import (
    accounting,
    careers,
    chains,
    climate,
    exits,
    finance,
    founding,
    growth,
    orientation,
    place,
    policy,
    talent,
    waves,
)

MECHANISMS: tuple[ModuleType, ...] = (
    policy,
    place,
    waves,
    talent,
    careers,
    founding,
    orientation,
    growth,
    chains,
    finance,
    exits,
    accounting,
    climate,
)

NAMES: tuple[str, ...] = tuple(m.NAME for m in MECHANISMS)

COMPILED: tuple[str, ...] = tuple(m.NAME for m in MECHANISMS if hasattr(m, "make"))
"""Mechanisms implemented as compiled kernels (``make(params, rng) -> step``)."""

CORE_MECHANISMS: frozenset[str] = frozenset(
    {"waves", "founding", "orientation", "growth", "finance", "exits", "accounting"}
)
"""The core used by the Mesa reference benchmark (people, firms, funds; founding, orientation,
learning and growth, waves, finance, failure and recycling). ``talent``, ``careers``, ``place``,
``chains``, ``policy`` and ``climate`` can be switched off with ``run(..., disable=...)``."""

__all__ = ["COMPILED", "CORE_MECHANISMS", "MECHANISMS", "NAMES"]
