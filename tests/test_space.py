"""The parameter space declared once (:mod:`innosim.params.space`): groups and the range
grammar."""

from __future__ import annotations

import pytest

import innosim
from innosim.dashboard import logic
from innosim.errors import InputError
from innosim.experiments.design import parse_range as design_range
from innosim.experiments.explain import DEFAULT_GROUPS
from innosim.experiments.sensitivity import DEFAULT_FACTORS, parse_factors
from innosim.params import space
from innosim.params.declarations import BY_NAME, PARAMS


@pytest.fixture(scope="module")
def sc():
    return innosim.load_scenario("hangzhou-nanjing")


# --------------------------------------------------------------------------- groups


def test_groups_come_from_the_declarations() -> None:
    assert set(space.GROUPS) >= {p.group for p in PARAMS}
    assert space.group_params("demand", scope="city") == (
        "demand_consumer",
        "demand_enterprise",
        "demand_government",
        "procurement_budget",
    )
    assert space.group_params("policy", lever=True) == (
        "talent_programme",
        "compute_investment",
        "lab_investment",
        "subsidy",
    )
    levers = space.lever_groups()
    assert set(levers) == {"culture", "demand", "capital", "policy"}
    assert all(BY_NAME[p].lever and BY_NAME[p].group == g for g, ps in levers.items() for p in ps)
    with pytest.raises(ValueError):
        space.group_params("tastes")
    with pytest.raises(ValueError, match="not a city parameter of the declared group"):
        space.pick("culture", "risk_appetite")


def test_default_selections_are_declared_city_parameters() -> None:
    assert DEFAULT_FACTORS == (
        "failure_tolerance",
        "stigma",
        "demand_consumer",
        "risk_appetite",
        "labs",
        "compute",
    )
    for g in DEFAULT_GROUPS:
        assert all(BY_NAME[p].scope == "city" for p in g.params)
    by_name = {g.name: g.params for g in DEFAULT_GROUPS}
    for g in ("culture", "demand", "capital"):
        assert by_name[g] == space.group_params(g, scope="city")
    assert set(by_name["place"]) == set(space.group_params("place", scope="city"))
    assert dict(logic.LEVER_GROUPS) == space.DASHBOARD_PANELS
    assert logic.lever_bounds("subsidy") == space.bounds("subsidy") == (0.0, 0.9)


# --------------------------------------------------------------------------- the grammar


def test_every_form_parses_to_known_values(sc) -> None:
    a = sc.city_names[0]
    r = space.parse_range("failure_tolerance=0.3:0.9:5", sc, forms=space.FORMS)
    assert (r.name, r.city, r.low, r.high, r.n, r.values, r.form) == (
        "failure_tolerance", None, 0.3, 0.9, 5, (), "grid",
    )  # fmt: skip
    r = space.parse_range(f" {a}.demand_consumer = 0.5:2 ", sc, forms=space.FORMS)
    assert (r.name, r.city, r.low, r.high, r.n, r.form) == (
        "demand_consumer",
        a,
        0.5,
        2.0,
        None,
        "span",
    )
    r = space.parse_range("spillover_elasticity=0.2,0.05,0.1", forms=space.FORMS)
    assert (r.values, r.low, r.high, r.form) == ((0.2, 0.05, 0.1), 0.05, 0.2, "list")
    r = space.parse_range(f"{a}.labs", sc, forms=space.FORMS)
    assert (r.name, r.city, r.low, r.high, r.form) == ("labs", a, None, None, "name")


def test_a_list_of_ranges_splits_between_ranges_not_inside_value_lists(sc) -> None:
    a = sc.city_names[0]
    assert space.split_ranges(f"x=1:2, {a}.y ,z=0.1,0.2,-3,w=.5:1,") == [
        "x=1:2",
        f"{a}.y",
        "z=0.1,0.2,-3",
        "w=.5:1",
    ]
    rs = space.parse_ranges(
        ["failure_tolerance=0.1:0.9,labs", "spillover_elasticity=0.1,0.2"], sc, forms=space.FORMS
    )
    assert [(r.name, r.form) for r in rs] == [
        ("failure_tolerance", "span"),
        ("labs", "name"),
        ("spillover_elasticity", "list"),
    ]


@pytest.mark.parametrize(
    ("text", "forms", "needle"),
    [
        ("failure_tolerance", ("span",), "bad parameter range"),
        ("failure_tolerans=0.1:0.5", space.FORMS, "did you mean failure_tolerance"),
        ("failure_tolerance=0.1:1.5", space.FORMS, "outside the parameter's bounds"),
        ("failure_tolerance=0.8:0.2", space.FORMS, "LOW > HIGH"),
        ("failure_tolerance=a:0.2", space.FORMS, "not a number"),
        ("failure_tolerance=0.1:0.5:0", space.FORMS, "grid points"),
        ("failure_tolerance=0.1:0.5:3", ("name", "span"), "grid points is not accepted"),
        ("failure_tolerance=0.1,0.5", ("name", "span"), "list of values is not accepted"),
        ("Atlantis.failure_tolerance=0.1:0.5", space.FORMS, "unknown city"),
        ("X.spillover_elasticity=0.1:0.2", space.FORMS, "global parameter"),
        ("failure_tolerance=0.1,0.1", space.FORMS, "listed twice"),
        ("max_rounds=1,2.5", space.FORMS, "not a whole number"),
    ],
)
def test_bad_ranges_say_field_value_and_expectation(sc, text, forms, needle) -> None:
    with pytest.raises(InputError) as err:
        space.parse_range(text, sc, field="--param", forms=forms)
    msg = str(err.value)
    assert needle in msg and "--param" in msg and "expected" in msg


def test_strict_ranges_need_a_width(sc) -> None:
    assert space.parse_range("labs=1:1", sc).low == 1.0
    with pytest.raises(InputError, match=r"LOW = HIGH.*expected LOW < HIGH"):
        space.parse_range("labs=1:1", sc, strict=True)


def test_sweep_and_sensitivity_read_one_grammar(sc) -> None:
    """Both commands' forms still mean what they meant, read by the one parser."""
    r = design_range("failure_tolerance=0.3:0.9:5", sc)
    assert (r.low, r.high, r.n) == (0.3, 0.9, 5)
    assert design_range("spillover_elasticity=0.05,0.1").values == (0.05, 0.1)
    b = sc.city_names[1]
    fs = parse_factors(sc, f"failure_tolerance=0.2:0.8,{sc.city_names[0]}.labs", city=b)
    assert (fs[0].name, fs[0].low, fs[0].high) == (f"{b}.failure_tolerance", 0.2, 0.8)
    assert fs[1].name == f"{sc.city_names[0]}.labs"
    for text in ("failure_tolerance=0.2:0.8:3", "failure_tolerance=0.5:0.5", "stigma,stigma"):
        with pytest.raises(InputError, match="--params"):
            parse_factors(sc, text)
    with pytest.raises(InputError, match="bad parameter range"):
        design_range("failure_tolerance", sc)
