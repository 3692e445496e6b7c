"""The web dashboard (``innosim serve``): choose a scenario, move a city's levers, run, compare
two policies, see the TOP index, download results (docs/dashboard.md).

:mod:`~innosim.dashboard.logic` holds everything testable without a browser (validation, size
cap, run gate, cancellation, tables and downloads); :mod:`~innosim.dashboard.app` is the Solara
page over it and :mod:`~innosim.dashboard.server` starts it. Solara is the optional
``dashboard`` extra; nothing here is imported by ``import innosim``.
"""

from __future__ import annotations
