"""Every loader of user input refuses bad input with a clean error, never a traceback.

Two parts:

* property tests (hypothesis) over the same generators and the same checker as the fuzzing
  script ``tools/fuzz_loaders.py`` (``tools/fuzzgen.py``): a few dozen near-valid and random
  cases per loader here, 10,000 per loader in the script (docs/reliability.md, "Fuzzing");
* the failures the fuzzer found, one regression test each, with the error they now give.

A clean error is an :class:`~innosim.errors.InputError` whose message is one line naming the
file, the field, the offending value and what was expected (:func:`fuzzgen.error_problems`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import innosim
from _tools import load_tool
from innosim.data import load_dataset
from innosim.errors import InputError, ScenarioError
from innosim.experiments.policy import load_policy
from innosim.experiments.validate import load_targets
from innosim.index.framework import load_framework

ROOT = Path(__file__).resolve().parents[1]
fuzzgen = load_tool("fuzzgen")

HEADER = '[scenario]\nname = "t"\n'
CITY_A = '[[city]]\nname = "A"\nlat = 30.0\nlon = 120.0\n'


def _clean(exc: BaseException) -> None:
    """The error is one line naming file, field, value and expectation."""
    assert fuzzgen.error_problems(exc) == [], (fuzzgen.error_problems(exc), str(exc))


# =========================================================================== property tests

EXAMPLES = 100
"""Cases per file loader per test run (the script runs 10,000)."""


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> fuzzgen.Workdir:
    fuzzgen.seeds()
    return fuzzgen.Workdir(tmp_path_factory.mktemp("fuzz"))


def _property(loader: str, work: fuzzgen.Workdir, rng: object) -> None:
    case = fuzzgen.generate(rng, loader, work)
    out = fuzzgen.run_case(case, work, counter=rng.randrange(10))
    assert out.kind in ("accepted", "clean"), f"{case.how}: {out.detail}"


_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("loader", ["scenario", "policy", "targets", "data", "framework"])
@_settings
@given(rng=st.randoms(use_true_random=False))
def test_file_loaders_never_trace_back(loader: str, work: fuzzgen.Workdir, rng: object) -> None:
    _property(loader, work, rng)


@_settings
@given(rng=st.randoms(use_true_random=False))
def test_command_line_never_traces_back(cli_work: fuzzgen.Workdir, rng: object) -> None:
    _property("cli", cli_work, rng)


@pytest.fixture
def cli_work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fuzzgen.Workdir]:
    """A work directory with the command line's stubs in (no simulation, figure or index
    computation runs: a command that gets that far has had its arguments accepted), for the
    one test that needs them: they are removed right after it."""
    fuzzgen.seeds()
    w = fuzzgen.Workdir(tmp_path_factory.mktemp("fuzz-cli"))
    fuzzgen.install_cli_stubs()
    yield w
    fuzzgen.remove_cli_stubs()


# =========================================================================== regressions


def _write(tmp_path: Path, text: str | bytes, name: str = "f.toml") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        # tomllib: RecursionError, not a TOMLDecodeError
        ("a = " + "[" * 3000 + "]" * 3000, ["nested too deeply", "line 1"]),
        ("a = " + "{b = " * 3000 + "1" + "}" * 3000, ["nested too deeply", "line 1"]),
        # int(): ValueError past 4300 digits
        (HEADER + "seed = " + "9" * 5000 + "\n", ["too many digits", "line 3", "5000 digits"]),
        # syntax errors name the line, the column and show the line
        (HEADER + "name = 'u'\n", ["line 3, column", "name = 'u'"]),
        ("[scenario\n", ["line 1, column 10", "[scenario"]),
        ("a = [1,\n", ["end of file", "a = [1,"]),
    ],
)
@pytest.mark.parametrize("loader", ["scenario", "targets", "framework", "policy"])
def test_malformed_toml_is_a_clean_error(tmp_path, loader, text, needles):
    path = _write(tmp_path, text)
    load = {
        "scenario": innosim.load_scenario,
        "targets": load_targets,
        "framework": load_framework,
        "policy": load_policy,
    }[loader]
    with pytest.raises(InputError) as e:
        load(path)
    _clean(e.value)
    for n in needles:
        assert n in str(e.value)


def test_not_utf8_toml_names_the_line_and_bytes(tmp_path):
    path = _write(tmp_path, HEADER.encode() + b"title = '\xff\xfe'\n")
    with pytest.raises(ScenarioError, match=r"line 3.*xff") as e:
        innosim.load_scenario(path)
    _clean(e.value)


def test_a_parameter_beyond_the_float_range_is_out_of_bounds(tmp_path):
    # float(10**400) raised OverflowError
    path = _write(tmp_path, HEADER + "[params]\nstudy_years = " + "9" * 400 + "\n" + CITY_A)
    with pytest.raises(ScenarioError, match="out of bounds") as e:
        innosim.load_scenario(path)
    _clean(e.value)


def test_a_line_break_in_a_key_stays_on_one_line(tmp_path):
    path = _write(tmp_path, HEADER + CITY_A + '"a\\nb" = 1\n')
    with pytest.raises(ScenarioError) as e:
        innosim.load_scenario(path)
    _clean(e.value)
    assert "a\\nb" in str(e.value)


def test_framework_union_fields_name_the_field_and_value(tmp_path):
    text = (
        '[framework]\nname = "f"\n[[indicator]]\nname = "x"\npillar = "P"\nsource = "s"\n'
        "denominator = 5\n"
    )
    with pytest.raises(InputError) as e:
        load_framework(_write(tmp_path, text))
    _clean(e.value)
    assert "'indicator[0].denominator'" in str(e.value) and "got 5" in str(e.value)


def test_framework_missing_table_says_missing(tmp_path):
    with pytest.raises(InputError, match="required field is missing") as e:
        load_framework(_write(tmp_path, '[[indicator]]\nname = "x"\npillar = "P"\nsource = "s"\n'))
    _clean(e.value)


CSV_HEADER = "city,country,indicator,year,value,unit,source,note\n"


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        # a header and no rows crashed resolve() with KeyError: 'city'
        (CSV_HEADER, ["no data rows", "row 2"]),
        # an overlong number became an infinite value
        (CSV_HEADER + "A,CN,GDP,2024," + "9" * 400 + ",亿元,s,\n", ["number too large", "row 2"]),
        # pandas' tokenizer errors name the line and show it
        (CSV_HEADER + 'A,CN,GDP,2024,"5,亿元,s,\n', ["malformed CSV", "line 2", "A,CN,GDP"]),
        (CSV_HEADER + "A,CN,GDP,2024,5,亿元,s,,extra\n", ["malformed CSV", "line 2"]),
    ],
)
def test_bad_data_files_are_clean_errors(tmp_path, text, needles):
    with pytest.raises(InputError) as e:
        load_dataset(_write(tmp_path, text, "d.csv"))
    _clean(e.value)
    for n in needles:
        assert n in str(e.value)


def test_not_utf8_csv_names_the_line(tmp_path):
    with pytest.raises(InputError, match=r"line 2") as e:
        load_dataset(_write(tmp_path, CSV_HEADER.encode() + b"\xff,CN,GDP,2024,5,x,s,\n", "d.csv"))
    _clean(e.value)


def test_the_checker_rejects_incomplete_errors():
    assert fuzzgen.error_problems(ValueError("x"))
    assert "names no file" in fuzzgen.error_problems(InputError("bad", field="f", value=1))
    assert "states no expectation" in fuzzgen.error_problems(
        InputError("bad", file="f", field="g", value=1)
    )
    assert (
        fuzzgen.error_problems(InputError("bad", file="f", field="g", value=1, expected="e")) == []
    )


def test_an_empty_key_is_named(tmp_path):
    # the field of an unknown empty key rendered as '' (no field named)
    path = _write(
        tmp_path, '"" = 1\n[[policy]]\ncity = "A"\nlever = "stigma"\nyear = 2020\nvalue = 0.5\n'
    )
    with pytest.raises(InputError, match="field '\"\"'") as e:
        load_policy(path)
    _clean(e.value)


def test_a_giant_csv_field_with_a_long_row_is_a_clean_error(tmp_path):
    # csv.Error (field larger than field limit) escaped while naming the long row
    text = CSV_HEADER + '"' + "y" * 200_000 + '",CN,GDP,2024,5,亿元,s,,x\n'
    with pytest.raises(InputError, match=r"malformed CSV.*line 2") as e:
        load_dataset(_write(tmp_path, text, "d.csv"))
    _clean(e.value)
