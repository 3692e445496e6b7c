"""Scenario files: the shipped ones load, ``extends`` composes, overrides are validated, and every
bad file is rejected with one paragraph naming the file, the field, the value and what was
expected."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pytest

import innosim
from innosim.params.declarations import BY_NAME, CITY_NAMES, GLOBAL_NAMES, LEVERS
from innosim.params.scenario import find_scenario, list_scenarios

SHIPPED = ("hangzhou-nanjing", "demo")

HEADER = '[scenario]\nname = "t"\n'
CITY_A = '[[city]]\nname = "A"\nlat = 30.0\nlon = 120.0\n'
CITY_B = '[[city]]\nname = "B"\nlat = 32.0\nlon = 118.8\n'


def _toml_of(name: str) -> dict:
    return tomllib.loads(find_scenario(name).read_text(encoding="utf-8"))


# =========================================================================== shipped scenarios


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load_and_are_consistent(name):
    sc = innosim.load_scenario(name)
    assert sc.name == name
    assert name in list_scenarios()
    assert sc.n_cities >= 2 and len(set(sc.city_names)) == sc.n_cities
    assert sc.start_year <= sc.end_year
    assert sc.n_ticks == (sc.end_year - sc.start_year + 1) * 4
    assert set(sc.glob) == set(GLOBAL_NAMES) and set(sc.city) == set(CITY_NAMES)
    for pname, value in sc.glob.items():
        spec = BY_NAME[pname]
        assert spec.low <= value <= spec.high, pname
    for pname, arr in sc.city.items():
        spec = BY_NAME[pname]
        assert arr.shape == (sc.n_cities,) and arr.dtype == np.float64
        assert ((arr >= spec.low) & (arr <= spec.high)).all(), pname
    for p in sc.policy:
        assert p.lever in LEVERS and (p.city == "*" or p.city in sc.city_names)
    assert all(isinstance(v, str) and v for v in sc.sources.values())
    assert len(sc.hash) == 64 and sc.hash == innosim.load_scenario(name).hash


def test_demo_extends_hangzhou_nanjing():
    base, demo = innosim.load_scenario("hangzhou-nanjing"), innosim.load_scenario("demo")
    raw = _toml_of("demo")
    assert raw["extends"] == "hangzhou-nanjing"
    # what demo overrides
    assert demo.persons_per_agent == raw["scenario"]["persons_per_agent"]
    assert demo.persons_per_agent != base.persons_per_agent
    assert demo.name == "demo" and demo.title != base.title
    # what it inherits
    assert demo.cities == base.cities
    assert demo.glob == base.glob
    assert set(demo.city) == set(base.city)
    for k in base.city:
        np.testing.assert_array_equal(demo.city[k], base.city[k])
    assert demo.waves == base.waves and demo.policy == base.policy
    assert (demo.start_year, demo.end_year, demo.seed) == (
        base.start_year,
        base.end_year,
        base.seed,
    )
    assert demo.sources == base.sources
    assert demo.hash != base.hash  # persons_per_agent is part of the content


def test_extends_merges_cities_params_and_policy(tmp_path):
    (tmp_path / "base.toml").write_text(
        HEADER
        + "end_year = 2010\n[params]\nretirement_rate = 0.02\n"
        + CITY_A
        + '[city.params]\nfailure_tolerance = 0.9\nstigma = { value = 2.0, source = "survey" }\n'
        + CITY_B
        + '[[policy]]\ncity = "A"\nlever = "subsidy"\nyear = 2001\nvalue = 0.1\n',
        encoding="utf-8",
    )
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\n[scenario]\nname = "child"\nstart_year = 2000\n'
        "[params]\nsearch_rate = 0.3\n"
        '[[city]]\nname = "B"\nlat = 32.0\nlon = 118.8\n[city.params]\nfailure_tolerance = 0.1\n'
        '[[city]]\nname = "C"\nlat = 31.0\nlon = 121.0\n'
        '[[policy]]\ncity = "*"\nlever = "stigma"\nyear = 2002\nvalue = 0.5\nmode = "scale"\n',
        encoding="utf-8",
    )
    base = innosim.load_scenario(tmp_path / "base.toml")
    child = innosim.load_scenario(tmp_path / "child.toml")
    assert child.city_names == ("A", "B", "C")  # base's cities in order, new ones appended
    ft = child.city["failure_tolerance"]
    default = BY_NAME["failure_tolerance"].default
    np.testing.assert_array_equal(ft, [0.9, 0.1, default])
    assert child.city["stigma"][0] == 2.0 and child.sources["A.stigma"] == "survey"
    assert child.glob["retirement_rate"] == 0.02 and child.glob["search_rate"] == 0.3
    assert base.glob["search_rate"] == BY_NAME["search_rate"].default
    assert (child.start_year, child.end_year) == (2000, 2010)  # one given, one inherited
    assert [p.lever for p in child.policy] == ["subsidy", "stigma"]  # base's first


def test_extends_by_name_finds_scenarios_on_the_search_path(tmp_path, monkeypatch):
    (tmp_path / "mybase.toml").write_text(HEADER + CITY_A, encoding="utf-8")
    (tmp_path / "kid.toml").write_text(
        'extends = "mybase"\n[scenario]\nname = "kid"\npersons_per_agent = 50\n', encoding="utf-8"
    )
    monkeypatch.setenv("INNOSIM_SCENARIOS", str(tmp_path))
    assert "mybase" in list_scenarios()
    kid = innosim.load_scenario("kid")
    assert kid.city_names == ("A",) and kid.persons_per_agent == 50


def test_parameter_sources_are_recorded(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        HEADER
        + '[params]\nsearch_rate = { value = 0.2, source = "survey X", note = "2019" }\n'
        + CITY_A
        + '[city.params]\namenity = { value = 1.5, note = "guess" }\n',
        encoding="utf-8",
    )
    sc = innosim.load_scenario(path)
    assert sc.glob["search_rate"] == 0.2 and sc.sources["search_rate"] == "survey X (2019)"
    assert sc.city["amenity"][0] == 1.5 and sc.sources["A.amenity"] == "guess"


# =========================================================================== derived scenarios


def test_with_city_params_changes_one_entry_and_copies(small):
    city = small.city_names[1]
    spec = BY_NAME["failure_tolerance"]
    new = small.with_city_params(city, failure_tolerance=spec.high)
    i = small.city_index(city)
    assert new.city["failure_tolerance"][i] == spec.high
    others = np.delete(np.arange(small.n_cities), i)
    np.testing.assert_array_equal(
        new.city["failure_tolerance"][others], small.city["failure_tolerance"][others]
    )
    assert small.city["failure_tolerance"][i] != spec.high  # the original is untouched
    assert new.path == "<memory>"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"failure_tolerance": BY_NAME["failure_tolerance"].high + 0.5}, ["out of bounds"]),
        ({"failure_tolerance": BY_NAME["failure_tolerance"].low - 0.5}, ["out of bounds"]),
        ({"failure_tolerance": float("nan")}, ["out of bounds"]),
        ({"failure_tolerance": "0.5"}, ["wrong type"]),
        ({"failure_tolerance": True}, ["wrong type"]),
        ({"failure_tolerence": 0.5}, ["unknown parameter", "did you mean failure_tolerance"]),
        ({"retirement_rate": 0.01}, ["global parameter"]),
    ],
)
def test_with_city_params_validates(small, kwargs, words):
    city = small.city_names[0]
    with pytest.raises(innosim.ScenarioError) as e:
        small.with_city_params(city, **kwargs)
    msg = str(e.value)
    (name,) = kwargs
    assert e.value.field == f"{city}.{name}"
    for w in words:
        assert w in msg
    if name in BY_NAME and "out of bounds" in words:
        assert BY_NAME[name].expected() in msg


def test_with_city_params_unknown_city(small):
    with pytest.raises(innosim.ScenarioError, match="unknown city") as e:
        small.with_city_params("Atlantis", failure_tolerance=0.5)
    for c in small.city_names:
        assert c in str(e.value)


def test_with_global_params_validates(small):
    spec = BY_NAME["retirement_rate"]
    assert small.with_global_params(retirement_rate=spec.high).glob["retirement_rate"] == spec.high
    with pytest.raises(innosim.ScenarioError, match="out of bounds"):
        small.with_global_params(retirement_rate=spec.high * 2 + 1)
    with pytest.raises(innosim.ScenarioError, match="city parameter"):
        small.with_global_params(failure_tolerance=0.5)
    with pytest.raises(innosim.ScenarioError, match="whole number"):
        small.with_global_params(max_rounds=BY_NAME["max_rounds"].low + 0.5)


def test_overrides_accept_numpy_scalars(small):
    """Sampling layers pass NumPy scalars (np.int64 for integer parameters, np.float32 ...)."""
    sc = small.with_global_params(max_rounds=np.int64(3), search_rate=np.float32(0.25))
    assert sc.glob["max_rounds"] == 3.0 and isinstance(sc.glob["max_rounds"], float)
    assert sc.glob["search_rate"] == pytest.approx(0.25)
    sc = sc.with_city_params(small.city_names[0], amenity=np.float64(1.0))
    assert sc.city["amenity"][0] == 1.0
    with pytest.raises(innosim.ScenarioError, match="wrong type"):
        small.with_global_params(search_rate=np.bool_(True))
    with pytest.raises(innosim.ScenarioError, match="whole number"):
        small.with_global_params(max_rounds=np.float64(3.5))


def test_with_scale_and_end_year(small):
    assert small.with_scale(2).persons_per_agent == small.persons_per_agent / 2
    assert small.with_end_year(small.start_year).n_ticks == 4
    for bad in (0, -1, float("inf"), float("nan"), "2"):
        with pytest.raises(innosim.ScenarioError):
            small.with_scale(bad)
    for bad in (small.start_year - 1, 2301, 2001.5):
        with pytest.raises(innosim.ScenarioError):
            small.with_end_year(bad)


def test_hash_follows_content_not_seed(small):
    h = small.hash
    assert dataclasses.replace(small, seed=small.seed + 1).hash == h
    assert small.with_city_params(small.city_names[0], amenity=1.25).hash != h
    assert small.with_global_params(search_rate=0.31).hash != h
    assert small.with_scale(2).hash != h
    assert small.with_end_year(small.end_year + 1).hash != h
    # setting a value to what it already is changes nothing
    assert small.with_global_params(search_rate=small.glob["search_rate"]).hash == h


def test_hash_ignores_the_seed_in_the_file(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(HEADER + "seed = 1\n" + CITY_A, encoding="utf-8")
    b.write_text(HEADER + "seed = 2\n" + CITY_A, encoding="utf-8")
    sa, sb = innosim.load_scenario(a), innosim.load_scenario(b)
    assert sa.seed != sb.seed and sa.hash == sb.hash


def test_unknown_scenario_name_suggests():
    with pytest.raises(innosim.ScenarioError, match="did you mean demo") as e:
        innosim.load_scenario("dmeo")
    assert "\n" not in str(e.value)


# =========================================================================== bad files

# name -> (files to write, file to load, field or None, words the message must contain).
# "{path}" in a word is the loaded file's path, "{dir}" its folder; a word "value:..." is checked
# against the error's ``value`` attribute (the message shortens long values to 120 characters).
BAD: dict[str, tuple[dict[str, str | bytes], str, str | None, list[str]]] = {
    "malformed TOML": ({"s.toml": "x = = 1\n"}, "s.toml", None, ["malformed TOML", "line 1"]),
    "not UTF-8": ({"s.toml": b"\xff\xfe[scenario]\n"}, "s.toml", None, ["UTF-8"]),
    "unknown top-level field": (
        {"s.toml": "colour = 1\n" + HEADER + CITY_A},
        "s.toml",
        "colour",
        ["unknown field", "got 1", "scenario, extends"],
    ),
    "unknown header field": (
        {"s.toml": HEADER + "colour = 1\n" + CITY_A},
        "s.toml",
        "scenario.colour",
        ["unknown field", "start_year"],
    ),
    "unknown city field": (
        {"s.toml": HEADER + CITY_A + 'colour = "red"\n'},
        "s.toml",
        "city[0].colour",
        ["unknown field", "'red'", "name, name_zh, lat, lon"],
    ),
    "missing required city field": (
        {"s.toml": HEADER + '[[city]]\nname = "A"\nlon = 1.0\n'},
        "s.toml",
        "city[0].lat",
        ["required field is missing", "float"],
    ),
    "latitude out of range": (
        {"s.toml": HEADER + '[[city]]\nname = "A"\nlat = 95.0\nlon = 1.0\n'},
        "s.toml",
        "city[0].lat",
        ["95.0", "le 90"],
    ),
    "header wrong type": (
        {"s.toml": '[scenario]\nname = "t"\nstart_year = "soon"\n' + CITY_A},
        "s.toml",
        "scenario.start_year",
        ["'soon'", "int"],
    ),
    "no cities": ({"s.toml": HEADER}, "s.toml", "city", ["no cities"]),
    "unknown city in policy": (
        {
            "s.toml": HEADER
            + CITY_A
            + '[[policy]]\ncity = "B"\nlever = "subsidy"\nyear = 2005\nvalue = 0.1\n'
        },
        "s.toml",
        "policy[0].city",
        ["unknown city", "'B'", "'*' or one of A"],
    ),
    "unknown lever": (
        {
            "s.toml": HEADER
            + CITY_A
            + '[[policy]]\ncity = "A"\nlever = "subsidi"\nyear = 2005\nvalue = 0.1\n'
        },
        "s.toml",
        "policy[0].lever",
        ["unknown policy lever", "did you mean subsidy", "'subsidi'"],
    ),
    "not a lever": (
        {
            "s.toml": HEADER
            + CITY_A
            + '[[policy]]\ncity = "A"\nlever = "population"\nyear = 2005\nvalue = 1e6\n'
        },
        "s.toml",
        "policy[0].lever",
        ["unknown policy lever", "'population'"],
    ),
    "policy set out of bounds": (
        {
            "s.toml": HEADER
            + CITY_A
            + '[[policy]]\ncity = "A"\nlever = "failure_tolerance"\nyear = 2005\nvalue = 2.0\n'
        },
        "s.toml",
        "policy[0].value",
        ["out of bounds", "2.0", BY_NAME["failure_tolerance"].expected()],
    ),
    "until not after year": (
        {
            "s.toml": HEADER
            + CITY_A
            + '[[policy]]\ncity = "A"\nlever = "subsidy"\nyear = 2005\nuntil = 2005\nvalue = 0.1\n'
        },
        "s.toml",
        "policy[0].until",
        ["'until' is not after 'year'", "2005", "a year after 2005"],
    ),
    "until before year": (
        {
            "s.toml": HEADER
            + CITY_A
            + '[[policy]]\ncity = "A"\nlever = "subsidy"\nyear = 2005\nuntil = 2003\nvalue = 0.1\n'
        },
        "s.toml",
        "policy[0].until",
        ["'until' is not after 'year'", "2003"],
    ),
    "bad policy mode": (
        {
            "s.toml": HEADER + CITY_A + '[[policy]]\ncity = "A"\nlever = "subsidy"\nyear = 2005\n'
            'value = 0.1\nmode = "double"\n'
        },
        "s.toml",
        "policy[0].mode",
        ["'double'"],
    ),
    "unknown parameter": (
        {"s.toml": HEADER + "[params]\nretirement_rte = 0.01\n" + CITY_A},
        "s.toml",
        "params.retirement_rte",
        ["unknown parameter", "did you mean retirement_rate", "'retirement_rte'"],
    ),
    "unknown city parameter": (
        {"s.toml": HEADER + CITY_A + "[city.params]\nfailure_tolerence = 0.5\n"},
        "s.toml",
        "city[0].params.failure_tolerence",
        ["unknown parameter", "did you mean failure_tolerance"],
    ),
    "global parameter under a city": (
        {"s.toml": HEADER + CITY_A + "[city.params]\nretirement_rate = 0.01\n"},
        "s.toml",
        "city[0].params.retirement_rate",
        ["global parameter", "0.01", "under [params]"],
    ),
    "city parameter under params": (
        {"s.toml": HEADER + "[params]\nfailure_tolerance = 0.1\n" + CITY_A},
        "s.toml",
        "params.failure_tolerance",
        ["city parameter", "0.1", "[city.params]"],
    ),
    "string value": (
        {"s.toml": HEADER + '[params]\nretirement_rate = "high"\n' + CITY_A},
        "s.toml",
        "params.retirement_rate",
        ["wrong type", "'high'", BY_NAME["retirement_rate"].expected()],
    ),
    "boolean value": (
        {"s.toml": HEADER + "[params]\nretirement_rate = true\n" + CITY_A},
        "s.toml",
        "params.retirement_rate",
        ["wrong type", "True", BY_NAME["retirement_rate"].expected()],
    ),
    "above the upper bound": (
        {
            "s.toml": HEADER
            + f"[params]\nretirement_rate = {BY_NAME['retirement_rate'].high + 0.4}\n"
            + CITY_A
        },
        "s.toml",
        "params.retirement_rate",
        [
            "out of bounds",
            str(BY_NAME["retirement_rate"].high + 0.4),
            BY_NAME["retirement_rate"].expected(),
        ],
    ),
    "below the lower bound": (
        {
            "s.toml": HEADER
            + CITY_A
            + f"[city.params]\npopulation = {BY_NAME['population'].low / 2}\n"
        },
        "s.toml",
        "city[0].params.population",
        ["out of bounds", BY_NAME["population"].expected()],
    ),
    "non-integer for integer": (
        {"s.toml": HEADER + "[params]\nmax_rounds = 3.5\n" + CITY_A},
        "s.toml",
        "params.max_rounds",
        ["not a whole number", "3.5", "a whole number in"],
    ),
    "bad parameter table": (
        {"s.toml": HEADER + "[params]\nsearch_rate = { val = 0.2 }\n" + CITY_A},
        "s.toml",
        "params.search_rate",
        ["bad parameter table", "'value'"],
    ),
    "end before start": (
        {"s.toml": '[scenario]\nname = "t"\nstart_year = 2010\nend_year = 2005\n' + CITY_A},
        "s.toml",
        "scenario.end_year",
        ["end_year is before start_year", "2005", ">= 2010"],
    ),
    "inherited end before start": (
        {
            "base.toml": '[scenario]\nname = "b"\nend_year = 2005\n' + CITY_A,
            "s.toml": 'extends = "base.toml"\n[scenario]\nname = "t"\nstart_year = 2010\n',
        },
        "s.toml",
        "scenario.end_year",
        ["end_year is before start_year", ">= 2010"],
    ),
    "duplicate city": (
        {"s.toml": HEADER + CITY_A + CITY_B + CITY_A},
        "s.toml",
        "city",
        ["duplicate city", "'A'", "each city named once"],
    ),
    "extends cycle": (
        {
            "a.toml": 'extends = "b.toml"\n' + HEADER + CITY_A,
            "b.toml": 'extends = "a.toml"\n' + HEADER + CITY_A,
        },
        "a.toml",
        "extends",
        ["cycle", "value:{dir}/a.toml -> {dir}/b.toml -> {dir}/a.toml"],
    ),
    "extends itself": (
        {"s.toml": 'extends = "s.toml"\n' + HEADER + CITY_A},
        "s.toml",
        "extends",
        ["cycle"],
    ),
    "extends a missing scenario": (
        {"s.toml": 'extends = "no-such-scenario"\n' + HEADER + CITY_A},
        "s.toml",
        "extends",
        ["cannot be found", "'no-such-scenario'", "demo"],
    ),
    "extends a missing file": (
        {"s.toml": 'extends = "gone.toml"\n' + HEADER + CITY_A},
        "s.toml",
        "extends",
        ["does not exist", "'gone.toml'"],
    ),
    "bad value in the extended file": (
        {
            "base.toml": HEADER + "[params]\nmax_rounds = 0\n" + CITY_A,
            "s.toml": 'extends = "base.toml"\n' + HEADER,
        },
        "s.toml",
        "params.max_rounds",
        ["{dir}/base.toml", "out of bounds"],
    ),
}


def _write(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def _one_paragraph(msg: str) -> None:
    assert msg and "\n" not in msg and "\r" not in msg, msg
    assert msg[0].isupper() and msg.endswith("."), msg


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_is_rejected_with_a_useful_message(tmp_path, case):
    files, target, field, words = BAD[case]
    _write(tmp_path, files)
    path = tmp_path / target
    with pytest.raises(innosim.ScenarioError) as e:
        innosim.load_scenario(path)
    msg = str(e.value)
    _one_paragraph(msg)
    assert str(tmp_path) in msg  # names the file (the one at fault may be the extended one)
    if field is not None:
        assert e.value.field == field
        assert f"'{field}'" in msg
    for w in words:
        w = w.replace("{dir}", str(tmp_path)).replace("{path}", str(path))
        if w.startswith("value:"):
            assert w.removeprefix("value:") in str(e.value.value), (w, e.value.value)
        else:
            assert w in msg, (w, msg)
    assert e.value.exit_code == 2


def test_missing_file(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(innosim.ScenarioError) as e:
        innosim.load_scenario(path)
    msg = str(e.value)
    _one_paragraph(msg)
    assert str(path) in msg and "not found" in msg
    assert "demo" in msg  # lists the scenarios that do exist


def test_unreadable_path_is_a_scenario_error(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(innosim.ScenarioError) as e:
        innosim.load_scenario(tmp_path / "dir.toml")
    _one_paragraph(str(e.value))
    assert str(tmp_path / "dir.toml") in str(e.value)
