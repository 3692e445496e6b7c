"""Argument constraints declared once (:mod:`innosim.validation`)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pytest

import innosim
from innosim.errors import InputError
from innosim.experiments.ensemble import REPLICATES, SEED
from innosim.validation import (
    Arg,
    Hidden,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    StrOptions,
    check_value,
    validate_params,
)


@pytest.mark.parametrize(
    ("interval", "inside", "outside", "text"),
    [
        (Interval(Integral, 1, 10), [1, 10, np.int64(5)], [0, 11, 2.0, True, "3"], "a whole number in [1, 10]"),
        (Interval(Integral, 0, 2**63, closed="left"), [0, 2**63 - 1], [-1, 2**63], "a whole number in [0, 2**63)"),
        (Interval(Real, 0, 1, closed="neither"), [0.5, np.float32(0.25)], [0, 1, float("nan"), False], "a number in (0, 1)"),
        (Interval(Real, 0, None), [0, 1e300], [-1e-9, float("inf")], "a number >= 0"),
        (Interval(Integral, None, 5, closed="neither"), [4, -(10**9)], [5], "a whole number < 5"),
    ],
)  # fmt: skip
def test_interval_accepts_its_values_and_describes_itself(interval, inside, outside, text) -> None:
    assert all(interval.is_satisfied_by(v) for v in inside)
    assert not any(interval.is_satisfied_by(v) for v in outside)
    assert interval.describe() == text


def test_interval_refuses_bad_declarations() -> None:
    with pytest.raises(TypeError):
        Interval(int, 0, 1)
    with pytest.raises(ValueError):
        Interval(Real, 2, 1)
    with pytest.raises(ValueError):
        Interval(Real, 0, 1, closed="open")


def test_options_types_and_shortcuts() -> None:
    assert StrOptions(["abc", "smm"]).is_satisfied_by("abc")
    assert not StrOptions(["abc", "smm"]).is_satisfied_by("mcmc")
    assert StrOptions(["abc", "smm"]).describe() == "one of abc, smm"
    assert Options(int, [1, 2]).is_satisfied_by(2) and not Options(int, [1, 2]).is_satisfied_by("2")
    assert (
        InstanceOf(np.random.SeedSequence).describe() == "a numpy.random.bit_generator.SeedSequence"
    )
    assert InstanceOf(int).describe() == "an int"
    power = Satisfies(lambda n: n > 0 and n & (n - 1) == 0, "a power of 2")
    assert power.is_satisfied_by(8) and not power.is_satisfied_by(6)
    assert not power.is_satisfied_by("8")  # a TypeError in the predicate is a refusal
    assert check_value("f", len, ["callable"]) is len
    assert check_value("b", False, ["boolean"]) is False


@validate_params(
    {
        "n": Arg([Interval(Integral, 1, 100)], field="--n", problem="bad number of points"),
        "method": [StrOptions(["grid", "lhs"])],
        "seed": SEED,
        "label": [None, str],
    }
)
def _fn(n: int, method: str = "grid", *, seed: int | None = None, label: str | None = None):
    """A documented function."""
    return n, method, seed, label


def test_decorated_function_passes_good_values_through() -> None:
    assert _fn(3) == (3, "grid", None, None)
    assert _fn(np.int32(100), "lhs", seed=2**63 - 1, label="x") == (100, "lhs", 2**63 - 1, "x")
    assert _fn.__name__ == "_fn" and _fn.__doc__ == "A documented function."
    assert set(_fn.__innosim_constraints__) == {"n", "method", "seed", "label"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"n": 0},
            "In command line field '--n': bad number of points; got 0; expected a whole number "
            "in [1, 100].",
        ),
        (
            {"n": 1, "method": "sobol"},
            "In command line field 'method': bad method; got 'sobol'; expected one of grid, lhs.",
        ),
        (
            {"n": 1, "seed": -1},
            "In command line field '--seed': bad seed; got -1; expected a whole number in "
            "[0, 2**63).",
        ),
        (
            {"n": 1, "label": 3},
            "In command line field 'label': bad label; got 3; expected None or a str.",
        ),
    ],
)
def test_a_bad_value_is_one_clear_paragraph(kwargs, message) -> None:
    with pytest.raises(InputError) as err:
        _fn(**kwargs)
    assert str(err.value) == message


def test_hidden_and_also() -> None:
    arg = REPLICATES.also(None)
    assert check_value("replicates", None, arg) is None
    assert arg.expected_text() == "a whole number in [1, 100000]"  # None stays unsaid
    assert Arg([Hidden(None), Interval(Real, 0, 1)]).expected_text() == "a number in [0, 1]"
    assert (
        Arg([Interval(Real, 0, 1), None, str]).expected_text()
        == "a number in [0, 1], None or a str"
    )


def test_constraint_errors_surface_at_decoration() -> None:
    with pytest.raises(TypeError, match="no parameter"):
        validate_params({"nope": [None]})(lambda x: x)
    with pytest.raises(TypeError, match="unknown constraint"):
        validate_params({"x": ["frobnicate"]})


def test_public_functions_check_their_arguments() -> None:
    with pytest.raises(InputError, match="--seed"):
        innosim.simulate("demo", seed=-3)
    with pytest.raises(InputError, match="--seed"):
        innosim.simulate("demo", seed=True)
    with pytest.raises(InputError, match=r"--replicates.*expected a whole number in \[1, 100000\]"):
        innosim.ensemble("demo", replicates=0)
    with pytest.raises(InputError, match="--replicates"):
        innosim.compare("demo", "nowhere.toml", replicates=1.5)
    with pytest.raises(InputError, match=r"--n.*power of 2"):
        innosim.sensitivity("demo", outputs="firms", n=6)
