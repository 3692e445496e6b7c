"""Reports read from the results store: figures now, the HTML report later.

Nothing here reaches into engine state; figures are drawn from stored (or in-memory) tables.
"""

from __future__ import annotations

from innosim.report.figures import DEFAULT_METRICS, timeseries_figure

__all__ = ["DEFAULT_METRICS", "timeseries_figure"]
