"""Reports read from the results store and from experiment directories: figures and the
self-contained HTML report.

Nothing here reaches into engine state; figures are drawn from stored (or in-memory) tables.
``innosim.write_report(run_ref, lang="en", out=None, store="results")`` (this package's
:func:`innosim.report.html.report`) writes the HTML report of a stored run
(:mod:`~innosim.report.run_report`, :mod:`~innosim.report.flows`) or of the ``--out``
directory of validate, compare, explain, index or sweep (:mod:`~innosim.report.experiments`).
"""

from __future__ import annotations

from innosim.report.figures import DEFAULT_METRICS, timeseries_figure
from innosim.report.html import report

__all__ = ["DEFAULT_METRICS", "report", "timeseries_figure"]
