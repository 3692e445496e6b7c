"""Helpers for the compiled-mechanism tests: a mid-run state, and one step of a mechanism's
kernel and of its oracle.

``state_at`` advances a run to a given tick with NumPy steps (the oracles for the compiled
mechanisms; the same loop as ``innosim.model.runner.run``), so that a kernel and its NumPy oracle (``tests/oracle``)
can be applied to copies of one realistic state and their results compared.
"""

from __future__ import annotations

import ast
import copy
from importlib import import_module

import numpy as np

import innosim
from innosim.engine.rng import stream
from innosim.engine.state import State, compile_params
from innosim.model import CORE_MECHANISMS, MECHANISMS, NAMES
from innosim.model.runner import init_state
from innosim.schema import SERIES

CORE_OFF = frozenset(n for n in NAMES if n not in CORE_MECHANISMS)


def scenario(agents: int = 3000, years: int = 12, name: str = "hangzhou-nanjing"):
    """``name`` scaled to about ``agents`` person-agents at the start, ``years`` long."""
    sc = innosim.load_scenario(name)
    persons = float((sc.city["population"] * sc.glob["initial_population_share"]).sum())
    return sc.with_scale(sc.persons_per_agent * agents / persons).with_end_year(
        sc.start_year + years - 1
    )


def state_at(
    sc, ticks: int, seed: int = 3, disable: frozenset[str] = frozenset(), overrides=None
) -> tuple[State, object]:
    """(state, params) after ``ticks`` ticks of the NumPy steps (:func:`numpy_step`;
    ``overrides``: global parameter values to set on ``params.g`` before the run)."""
    params = compile_params(sc, frozenset(disable))
    for k, v in (overrides or {}).items():
        setattr(params.g, k, float(v))
    root = np.random.SeedSequence(seed)
    steps = [
        (m.NAME, numpy_step(m), stream(root, m.NAME)) for m in MECHANISMS if m.NAME not in disable
    ]
    state = init_state(params, stream(root, "init"))
    names = [s[0] for s in SERIES]
    state.record_array = np.zeros((len(names), params.n_cities))
    state.record = {k: state.record_array[i] for i, k in enumerate(names)}
    state.pairs = {
        k: np.zeros((params.n_cities, params.n_cities))
        for k in ("movers", "graduate_movers", "procurement")
    }
    for t in range(ticks):
        state.t = t
        state.flows.reset()
        state.record_array.fill(0.0)
        for _, step, rng in steps:
            step(state, params, rng)
    return state, params


def next_tick(state: State) -> None:
    """Start the next tick as the engine does (advance t, reset flows and records)."""
    state.t += 1
    state.flows.reset()
    state.record_array.fill(0.0)


def clone(state: State) -> State:
    """A deep copy (its flows, records and levers view its own arrays)."""
    return copy.deepcopy(state)


def numpy_step(mechanism):
    """The NumPy ``step`` of a mechanism: its own for the NumPy mechanisms, the oracle's
    (``tests/oracle``) for the compiled ones."""
    if hasattr(mechanism, "step"):
        return mechanism.step
    return import_module(f"oracle.{mechanism.NAME}").step


def compiled_step(name: str, params, rng: np.random.Generator):
    """The kernel step of compiled mechanism ``name`` for one run (its stream seeded from
    ``rng``)."""
    return import_module(f"innosim.mechanisms.{name}").make(params, rng)


def both(state: State, params, name: str, seed: int = 11) -> tuple[State, State]:
    """Copies of ``state`` after mechanism ``name``'s oracle step (NumPy, ``tests/oracle``)
    and its compiled step."""
    oracle = import_module(f"oracle.{name}")
    a, b = clone(state), clone(state)
    oracle.step(a, params, np.random.default_rng(seed))
    compiled_step(name, params, np.random.default_rng(seed))(b, params, None)
    return a, b


# Python-level loops in the kernel modules (outside @njit functions), each reviewed: none may
# grow with the number of agents; per-agent loops belong inside the kernels.
ALLOWED_PY_LOOPS = {
    ("founding.py", "names"): "the firm table's 31 column names, to pass them to the kernel",
    ("accounting.py", "enumerate(SERIES)"): "the 38 series names, at import",
    ("accounting.py", "enumerate(FLOW_NAMES)"): "the 20 flow names, at import",
    ("accounting.py", "RECORDED_FLOWS"): "the 14 flows recorded as they are, at import",
    ("layout.py", "enumerate(names)"): "a table's column names, at import",
    ("layout.py", "args"): "a kernel's ~20 arguments, once per run on its first call",
    ("layout.py", "derived.values()"): "a kernel's few derived constants, once per run",
    ("layout.py", "kind._fields"): "a constants record's fields (at most 26), at import",
    ("rng.py", "range(2, layers)"): "the normal ziggurat's 128 layers, at import",
    ("select.py", "range(_LANES)"): "the 16 lanes of a vector constant, while compiling",
    ("select.py", "range(_BYTES)"): "the 64 lanes of a vector constant, while compiling",
    ("fuse.py", "ORDER"): "the 7 fusable mechanisms, once per run",
    ("fuse.py", "run"): "the steps of one fused group (at most 7), once per run",
    ("fuse.py", "steps"): "the engine's 13 steps, once per run",
    ("fuse.py", "range(3)"): "a fused call, and at most two more after a table grew",
}


def is_njit(fn: ast.FunctionDef) -> bool:
    """Whether a function definition is decorated with Numba's ``njit``."""
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if getattr(target, "id", getattr(target, "attr", None)) == "njit":
            return True
    return False
