"""Reports read from the results store: figures and the self-contained HTML report.

Nothing here reaches into engine state; figures are drawn from stored (or in-memory) tables.
The package itself is callable: ``innosim.report(run_ref, lang="en", out=None, store="results")``
is :func:`innosim.report.html.report`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from innosim.report.figures import DEFAULT_METRICS, timeseries_figure
from innosim.report.html import report

__all__ = ["DEFAULT_METRICS", "report", "timeseries_figure"]


class _CallableModule(types.ModuleType):
    """``innosim.report(...)`` writes the HTML report, while ``innosim.report.figures`` etc.
    stay importable submodules."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
