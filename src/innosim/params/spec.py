"""The parameter declaration schema.

Every model parameter is declared exactly once, as data, with :class:`ParamSpec`: its name,
unit, bounds, default and the source or rationale of the default. Scenario validation and its
error messages, the ``innosim params`` listing, and (in later layers) the dashboard's sliders and
the sensitivity-analysis ranges are all generated from these declarations (STYLE.md, pattern 3;
scikit-learn's ``_param_validation`` is the model).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

Scope = Literal["global", "city"]
Group = Literal[
    "calendar",
    "talent",
    "culture",
    "demand",
    "capital",
    "firms",
    "waves",
    "chains",
    "place",
    "policy",
    "economy",
]


class ParamSpec(BaseModel):
    """Declaration of one parameter.

    Attributes
    ----------
    name : str
        Identifier used in scenario files and in code (``params.g.<name>`` or
        ``params.c.<name>[city]``).
    scope : {"global", "city"}
        ``global`` parameters have one value; ``city`` parameters one value per city.
    unit : str
        Physical or model unit ("1/yr", "share", "model CNY", ...).
    low, high : float
        Inclusive bounds; scenario values outside them are rejected.
    default : float
        Default value (for city parameters: the value of a city the scenario says nothing about).
    source : str
        Source of the default, or the rationale for it where nothing measures it directly.
    description : str
        One sentence on what the parameter does.
    group : str
        Lever group (used by the dashboard and by gap decomposition).
    integer : bool
        The value must be a whole number.
    lever : bool
        Policy may change it over time through the scenario's ``[[policy]]`` timeline.
    claims : tuple of str
        The article's claims (C1-C12) the parameter helps represent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    scope: Scope
    unit: str
    low: float
    high: float
    default: float
    source: str
    description: str
    group: Group
    integer: bool = False
    lever: bool = False
    claims: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> ParamSpec:
        if not self.low <= self.default <= self.high:
            raise ValueError(
                f"{self.name}: default {self.default} outside [{self.low}, {self.high}]"
            )
        if self.integer and self.default != int(self.default):
            raise ValueError(f"{self.name}: integer parameter with non-integer default")
        return self

    def expected(self) -> str:
        """Human description of the accepted values, used in error messages."""
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} in [{_fmt(self.low)}, {_fmt(self.high)}] ({self.unit})"


def _fmt(x: float) -> str:
    return f"{x:g}"
