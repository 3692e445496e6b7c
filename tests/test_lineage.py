"""Spinoff lineages (stats.lineage) on a registry with a known answer, and the figure."""

from __future__ import annotations

import pandas as pd

from innosim.report.lineage import lineage_figure
from innosim.stats.lineage import lineage, spinoff_summary

# 10 -> 11 -> 13 -> 15 and 10 -> 12; 14 alone; 16's parent 99 is not in the registry
REGISTRY = pd.DataFrame(
    {
        "id": [10, 11, 12, 13, 14, 15, 16],
        "parent": [-1, 10, 10, 11, -1, 13, 99],
        "born": [0, 4, 5, 8, 0, 12, 3],
        "city": [0, 0, 0, 0, 1, 0, 1],
        "orientation": [0, 0, 1, 0, 2, 0, 1],
        "success": [True, False, True, False, False, True, False],
    }
)


def test_lineage_roots_depths_and_descendants():
    lin = lineage(REGISTRY).set_index("id")
    assert lin["root"].to_dict() == {10: 10, 11: 10, 12: 10, 13: 10, 14: 14, 15: 10, 16: 16}
    assert lin["depth"].to_dict() == {10: 0, 11: 1, 12: 1, 13: 2, 14: 0, 15: 3, 16: 0}
    assert lin["children"].to_dict() == {10: 2, 11: 1, 12: 0, 13: 1, 14: 0, 15: 0, 16: 0}
    assert lin["descendants"].to_dict() == {10: 4, 11: 2, 12: 0, 13: 1, 14: 0, 15: 0, 16: 0}


def test_spinoff_summary_counts_and_success():
    s = spinoff_summary(REGISTRY).set_index("city")
    assert s.loc[0, "firms"] == 5 and s.loc[0, "spinoffs"] == 4
    assert s.loc[0, "success_spinoffs"] == 0.5 and s.loc[0, "success_others"] == 1.0
    assert s.loc[1, "spinoffs"] == 1  # a parent outside the registry is still a parent


def test_lineage_figure_is_written(tmp_path):
    path = lineage_figure(REGISTRY, tmp_path / "l.png", city=0, city_name="A", start_year=2000)
    assert path.exists() and path.stat().st_size > 1000
    none = lineage_figure(REGISTRY, tmp_path / "n.png", city=1, city_name="B", start_year=2000)
    assert none.exists()  # no lineage with descendants: a figure that says so
