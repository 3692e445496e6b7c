"""The sourced city dataset: loading with a validated schema, units, conflicts and coverage;
the bridge from it to scenario initial conditions (:mod:`innosim.data.bridge`)."""

from __future__ import annotations

from innosim.data.bridge import reference_outcomes, scenario_from_dataset, scenario_toml
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
    "reference_outcomes",
    "resolve",
    "scenario_from_dataset",
    "scenario_toml",
    "unparsed",
]
