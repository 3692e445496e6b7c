"""The sourced city dataset: loading with a validated schema, units, conflicts and coverage."""

from __future__ import annotations

from innosim.data.dataset import (
    conflicts,
    coverage,
    coverage_by_city,
    coverage_by_indicator,
    default_data_path,
    load_dataset,
    parse_value,
    resolve,
    unparsed,
)
from innosim.data.units import UNITS, Unit, normalise_unit

__all__ = [
    "UNITS",
    "Unit",
    "conflicts",
    "coverage",
    "coverage_by_city",
    "coverage_by_indicator",
    "default_data_path",
    "load_dataset",
    "normalise_unit",
    "parse_value",
    "resolve",
    "unparsed",
]
