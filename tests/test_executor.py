"""The executor layer: local pool and Dask give identical results; options are checked."""

from __future__ import annotations

import socket

import numpy as np
import pytest

import innosim
from innosim.errors import InputError
from innosim.experiments.executor import (
    Executor,
    batch_size,
    check_address,
    iter_batches,
    map_runs,
)
from innosim.experiments.sweep import sweep

PARAMS = ["failure_tolerance=0.3:0.9:2", "demand_consumer=0.5:2:2"]


def _square(x: int) -> int:
    return x * x


@pytest.fixture(scope="module")
def tiny() -> innosim.Scenario:
    return innosim.load_scenario("demo").with_end_year(2000).with_scale(0.3)


def test_same_sweep_on_1_worker_2_workers_and_a_dask_local_cluster(tiny, frame_bytes) -> None:
    """Acceptance: the same sweep on one process, a pool of two and a Dask LocalCluster of two
    workers (started and closed by the call) gives byte-identical tables."""
    kw = dict(replicates=2, metrics=["unicorns", "firms", "value_added"], seed=7)
    one = sweep(tiny, PARAMS, executor=Executor("local", workers=1), **kw)
    two = sweep(tiny, PARAMS, executor=Executor("local", workers=2, batch=1), **kw)
    dask = sweep(tiny, PARAMS, executor=Executor("dask", dask_local=2, batch=3), **kw)
    assert len(one) == 4 * 2 * tiny.n_cities
    assert one["firms"].sum() > 0
    assert frame_bytes(one) == frame_bytes(two) == frame_bytes(dask)
    assert dask.attrs["executor"].startswith("Dask LocalCluster")


def test_map_runs_keeps_task_order_with_any_batching() -> None:
    tasks = list(range(23))
    for b in (None, 1, 4, 30):
        ex = Executor("local", workers=1, batch=b)
        assert map_runs(tasks, fn=_square, executor=ex) == [t * t for t in tasks]
    # the old signature, on a pool of two (batches finish out of order)
    assert map_runs(tasks, fn=_square, workers=2) == [t * t for t in tasks]


def test_iter_batches_covers_every_task_once_and_reports_progress() -> None:
    seen: list[int] = []
    for idx, out in iter_batches(range(10), fn=_square, executor=Executor(workers=1, batch=3)):
        assert idx == sorted(idx) and out == [i * i for i in idx]
        seen += idx
    assert sorted(seen) == list(range(10))
    calls: list[tuple[int, int]] = []
    map_runs(range(5), fn=_square, workers=1, progress=lambda d, n: calls.append((d, n)))
    assert calls[-1] == (5, 5)


def test_batch_size_spreads_overhead_but_keeps_workers_busy() -> None:
    assert batch_size(4, 8) == 1
    assert batch_size(1000, 2) == 16
    assert batch_size(80, 2) == 10
    assert batch_size(0, 2) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workers": 2, "dask_local": 2}, "--workers and --dask-local"),
        ({"scheduler": "tcp://h:1", "dask_local": 2}, "--scheduler and --dask-local"),
        ({"scheduler": "localhost:8786"}, "--scheduler"),
        ({"scheduler": "tcp://localhost"}, "--scheduler"),
        ({"scheduler": "tcp://localhost:70000"}, "--scheduler"),
        ({"dask_local": 0}, "--dask-local"),
        ({"workers": 0}, "--workers"),
    ],
)
def test_bad_executor_options_are_input_errors(kwargs, field) -> None:
    with pytest.raises(InputError) as exc:
        Executor.from_options(**kwargs)
    assert exc.value.field == field


def test_addresses() -> None:
    assert check_address("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_address("tls://scheduler.example.org:8786")
    assert Executor.from_options(scheduler="tcp://h:1").kind == "dask"
    assert Executor.from_options().kind == "local"


def test_unreachable_scheduler_is_an_input_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ex = Executor("dask", scheduler=f"tcp://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(InputError) as exc:
        map_runs([1, 2], fn=_square, executor=ex)
    assert exc.value.field == "--scheduler"
    assert "cannot reach the Dask scheduler" in str(exc.value)


def test_validate_and_ensemble_still_call_map_runs_the_old_way(tiny) -> None:
    # validate passes workers=...; the local default is unchanged
    from innosim.experiments.executor import RunTask, execute

    seeds = innosim.replicate_seeds(3, 2)
    tasks = [RunTask(tiny, s, (("fear_of_failure_share", ()),)) for s in seeds]
    a = map_runs(tasks, workers=1, fn=execute)
    b = map_runs(tasks, workers=2, fn=execute)
    np.testing.assert_equal([p.values for p in a], [p.values for p in b])
