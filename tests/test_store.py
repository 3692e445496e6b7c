"""Tests for the results store (innosim.store)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from innosim.errors import StoreError
from innosim.store import RunStore, StoredRun
from innosim.store import runs as runs_mod


def _series(n: int = 6, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tick": np.arange(n, dtype="int32") + offset,
            "city": np.array([i % 3 for i in range(n)], dtype="int8"),
            "gdp": np.linspace(1.0, 2.0, n).astype("float32"),
            "talent": np.linspace(0.0, 1.0, n),
            "shock": [i % 2 == 0 for i in range(n)],
            "label": pd.array([f"c{i}" if i != 2 else None for i in range(n)], dtype="string"),
        }
    )


def _meta(run_id: str, created: str | None = None, **extra: object) -> dict:
    meta = {"run_id": run_id, "scenario": "baseline", "seed": 7, **extra}
    if created is not None:
        meta["created"] = created
    return meta


def _write(store: RunStore, run_id: str, created: str, **extra: object) -> str:
    return store.write_run(
        _meta(run_id, created, **extra),
        {"series": _series(), "firms": pd.DataFrame({"firm": [1, 2], "alive": [True, False]})},
    )


# ------------------------------------------------------------------------------ round trip


def test_round_trip_tables_and_meta(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    series = _series()
    series["kind"] = pd.Series(["a", "b", "a", "c", "b", "a"], dtype="str")
    firms = pd.DataFrame({"firm_id": np.array([10, 11], dtype="int32"), "size": [1.5, 2.5]})
    meta = {
        "run_id": "0123abcd",
        "scenario": "baseline",
        "scenario_hash": "ff00",
        "seed": 42,
        "versions": {"numpy": np.__version__, "pandas": pd.__version__},
        "scale": 0.5,
        "started": "2024-01-01T00:00:00+00:00",
    }
    original_meta = dict(meta)

    run_id = store.write_run(meta, {"series": series, "firms": firms})

    assert run_id == "0123abcd"
    assert meta == original_meta, "write_run must not modify the caller's dict"
    run_dir = tmp_path / "store" / "runs" / run_id
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "firms.parquet",
        "meta.json",
        "series.parquet",
    ]

    loaded = store.load_run(run_id)
    assert isinstance(loaded, StoredRun)
    assert loaded.run_id == run_id
    assert loaded.path == run_dir
    assert loaded.tables == ["firms", "series"]
    assert {k: v for k, v in loaded.meta.items() if k != "created"} == meta
    assert isinstance(loaded.meta["created"], str)

    back = loaded.table("series")
    pd.testing.assert_frame_equal(back, series)
    assert back.dtypes.astype(str).to_dict() == series.dtypes.astype(str).to_dict()
    pd.testing.assert_frame_equal(loaded.table("firms"), firms)

    # cached, and mutating a returned frame does not corrupt the cache
    back["gdp"] = 0.0
    pd.testing.assert_frame_equal(loaded.table("series"), series)


def test_unknown_table_name(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "aaaa1111", "2024-01-01T00:00:00+00:00")
    run = store.load_run("aaaa1111")
    with pytest.raises(StoreError, match="series") as info:
        run.table("nope")
    assert "nope" in str(info.value)
    with pytest.raises(StoreError):
        run.table("../meta")


def test_created_is_added_when_missing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.write_run({"run_id": "abcd"}, {})
    run = store.load_run("abcd")
    assert run.meta["run_id"] == "abcd"
    assert run.meta["created"].endswith("+00:00")
    assert run.tables == []


# ------------------------------------------------------------------------------ list / load


def test_list_runs_sorted_by_created(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "bbbb0002", "2024-03-01T00:00:00+00:00", seed=2)
    _write(store, "aaaa0001", "2024-05-01T00:00:00+00:00", seed=1)
    _write(store, "cccc0003", "2024-01-01T12:00:00+00:00", seed=3)

    listing = store.list_runs()

    assert list(listing.columns) == ["run_id", "scenario", "seed", "created", "path"]
    assert list(listing["run_id"]) == ["cccc0003", "bbbb0002", "aaaa0001"]
    assert list(listing["seed"]) == [3, 2, 1]
    assert list(listing["scenario"]) == ["baseline"] * 3
    assert listing["path"].iloc[0] == str(tmp_path / "runs" / "cccc0003")


def test_list_runs_empty_store(tmp_path: Path) -> None:
    listing = RunStore(tmp_path / "does-not-exist-yet").list_runs()
    assert listing.empty
    assert list(listing.columns) == ["run_id", "scenario", "seed", "created", "path"]
    assert not (tmp_path / "does-not-exist-yet").exists()


def test_load_by_prefix_latest_and_path(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "abcd0001", "2024-01-01T00:00:00+00:00")
    _write(store, "ef010002", "2024-06-01T00:00:00+00:00")
    _write(store, "abce0003", "2024-02-01T00:00:00+00:00")

    assert store.load_run("ef01").run_id == "ef010002"
    assert store.load_run("abcd").run_id == "abcd0001"
    assert store.load_run("ABCE").run_id == "abce0003"
    assert store.load_run("latest").run_id == "ef010002"

    run_dir = tmp_path / "runs" / "abce0003"
    assert store.load_run(str(run_dir)).run_id == "abce0003"
    assert store.load_run(run_dir).run_id == "abce0003"
    # a path works from another store too
    assert RunStore(tmp_path / "elsewhere").load_run(run_dir).run_id == "abce0003"


def test_ambiguous_prefix_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "abcd0001", "2024-01-01T00:00:00+00:00")
    _write(store, "abcd0002", "2024-02-01T00:00:00+00:00")

    with pytest.raises(StoreError, match="ambiguous") as info:
        store.load_run("abcd")
    message = str(info.value)
    assert "'abcd'" in message
    assert str(tmp_path) in message
    assert "abcd0001" in message and "abcd0002" in message


def test_unknown_ref_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    for i in range(12):
        _write(store, f"{i:04x}beef", f"2024-01-{i + 1:02d}T00:00:00+00:00")

    with pytest.raises(StoreError) as info:
        store.load_run("ffff9999")
    message = str(info.value)
    assert "ffff9999" in message
    assert str(tmp_path) in message
    assert "000bbeef" in message  # the most recent ids are listed
    assert message.count("beef") == 10  # at most 10 ids listed
    assert "\n" not in message

    with pytest.raises(StoreError, match="at least 4"):
        store.load_run("000")
    with pytest.raises(StoreError, match="no-such-run"):
        store.load_run("no-such-run")
    with pytest.raises(StoreError, match="no finished runs"):
        RunStore(tmp_path / "empty").load_run("latest")


# ------------------------------------------------------------------------------ duplicates


def test_duplicate_run_id_and_overwrite(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "dada0001", "2024-01-01T00:00:00+00:00")

    with pytest.raises(StoreError, match="already exists") as info:
        _write(store, "dada0001", "2024-02-01T00:00:00+00:00")
    assert "dada0001" in str(info.value)
    assert store.load_run("dada0001").meta["created"] == "2024-01-01T00:00:00+00:00"

    new_series = _series(3, offset=100)
    store.write_run(
        _meta("dada0001", "2024-03-01T00:00:00+00:00", note="v2"),
        {"series": new_series},
        overwrite=True,
    )
    run = store.load_run("dada0001")
    assert run.meta["note"] == "v2"
    assert run.tables == ["series"]
    pd.testing.assert_frame_equal(run.table("series"), new_series)
    assert len(store.list_runs()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]  # nothing left aside


# ------------------------------------------------------------------------------ atomicity


def _crash_on_second_table(monkeypatch: pytest.MonkeyPatch) -> None:
    real = runs_mod.pq.write_table
    calls = {"n": 0}

    def flaky_write_table(table, where, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            with open(where, "wb") as fh:  # a truncated file, then the "crash"
                fh.write(b"PAR1\x00\x01")
            raise RuntimeError("simulated crash while writing parquet")
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(runs_mod.pq, "write_table", flaky_write_table)


def test_crash_mid_write_leaves_no_partial_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path)
    _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00")
    _crash_on_second_table(monkeypatch)

    tables = {"series": _series(), "firms": _series(), "investments": _series()}
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.write_run(_meta("bbbb0002", "2024-02-01T00:00:00+00:00"), tables)

    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["aaaa0001"]
    assert list(store.list_runs()["run_id"]) == ["aaaa0001"]
    pd.testing.assert_frame_equal(store.load_run("aaaa0001").table("series"), _series())
    with pytest.raises(StoreError):
        store.load_run("bbbb0002")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_crash_during_overwrite_keeps_old_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path)
    _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00")
    _crash_on_second_table(monkeypatch)

    with pytest.raises(RuntimeError):
        store.write_run(
            _meta("aaaa0001", "2024-09-01T00:00:00+00:00"),
            {"series": _series(2), "firms": _series(2)},
            overwrite=True,
        )
    run = store.load_run("aaaa0001")
    assert run.meta["created"] == "2024-01-01T00:00:00+00:00"
    pd.testing.assert_frame_equal(run.table("series"), _series())


def test_leftover_tmp_dirs_are_ignored_and_cleaned(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00")
    # what a killed process leaves behind: a temp dir with a valid-looking meta and bad parquet
    leftover = tmp_path / ".tmp-deadbeef"
    leftover.mkdir()
    (leftover / "meta.json").write_text('{"run_id": "cafe0002", "created": "2030-01-01"}')
    (leftover / "series.parquet").write_bytes(b"PAR1 truncated")

    assert list(store.list_runs()["run_id"]) == ["aaaa0001"]
    assert store.load_run("latest").run_id == "aaaa0001"
    assert store.query("SELECT count(DISTINCT run_id) AS n FROM series")["n"].iloc[0] == 1

    assert store.cleanup_tmp() == [leftover]
    assert not leftover.exists()
    assert store.load_run("aaaa0001").run_id == "aaaa0001"


# ------------------------------------------------------------------------------ corruption


def test_corrupt_meta_is_skipped_with_warning(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00")
    _write(store, "bbbb0002", "2024-02-01T00:00:00+00:00")
    (tmp_path / "runs" / "bbbb0002" / "meta.json").write_text("{not json")

    with pytest.warns(UserWarning, match="bbbb0002"):
        listing = store.list_runs()
    assert list(listing["run_id"]) == ["aaaa0001"]

    with pytest.raises(StoreError, match="not valid JSON") as info:
        store.load_run("bbbb0002")
    assert "bbbb0002" in str(info.value)
    with pytest.raises(StoreError, match="not valid JSON"):
        store.load_run("bbbb")
    with pytest.raises(StoreError, match="not valid JSON"):
        store.load_run(tmp_path / "runs" / "bbbb0002")

    with pytest.warns(UserWarning):
        result = store.query("SELECT DISTINCT run_id FROM series")
    assert list(result["run_id"]) == ["aaaa0001"]


# ------------------------------------------------------------------------------ query


def test_query_over_two_runs(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00", seed=1, scale=0.5)
    store.write_run(
        _meta("bbbb0002", "2024-02-01T00:00:00+00:00", seed=2, scale=1.0, extra_flag=True),
        {
            "series": _series(4, offset=10).assign(new_col=1.0),
            "investments": pd.DataFrame({"amount": [5.0, 6.0], "run_id": ["x", "y"]}),
        },
    )

    rows = store.query("SELECT run_id, count(*) AS n FROM series GROUP BY run_id ORDER BY run_id")
    assert rows.to_dict("list") == {"run_id": ["aaaa0001", "bbbb0002"], "n": [6, 4]}

    # union by name: a column only one run has is NULL for the other
    new_col = store.query("SELECT run_id, max(new_col) AS m FROM series GROUP BY run_id")
    by_run = dict(zip(new_col["run_id"], new_col["m"], strict=True))
    assert pd.isna(by_run["aaaa0001"]) and by_run["bbbb0002"] == 1.0

    # a table's own run_id column is replaced by the real run id
    inv = store.query("SELECT DISTINCT run_id FROM investments")
    assert list(inv["run_id"]) == ["bbbb0002"]

    runs = store.query(
        "SELECT run_id, scenario, seed, created, scale, extra_flag FROM runs ORDER BY seed"
    )
    assert list(runs["run_id"]) == ["aaaa0001", "bbbb0002"]
    assert list(runs["seed"]) == [1, 2]
    assert list(runs["scale"]) == [0.5, 1.0]
    assert runs["extra_flag"].iloc[1] == True  # noqa: E712

    joined = store.query(
        "SELECT r.seed, sum(s.tick) AS ticks FROM series s JOIN runs r USING (run_id) "
        "GROUP BY r.seed ORDER BY r.seed"
    )
    assert list(joined["ticks"]) == [sum(range(6)), sum(range(10, 14))]


def test_query_errors_and_empty_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    assert store.query("SELECT count(*) AS n FROM runs")["n"].iloc[0] == 0
    with pytest.raises(StoreError, match="query failed"):
        store.query("SELECT * FROM series")
    with pytest.raises(StoreError, match="query failed"):
        store.query("SELEKT 1")


# ------------------------------------------------------------------------------ bad input


def test_invalid_meta_and_tables(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with pytest.raises(StoreError, match="run_id"):
        store.write_run({"seed": 1}, {})
    with pytest.raises(StoreError, match="hexadecimal"):
        store.write_run({"run_id": "../evil"}, {})
    with pytest.raises(StoreError, match=r"meta\.when"):
        store.write_run({"run_id": "abcd", "when": object()}, {})
    with pytest.raises(StoreError, match="invalid table name"):
        store.write_run({"run_id": "abcd"}, {"runs": pd.DataFrame({"a": [1]})})
    with pytest.raises(StoreError, match="invalid table name"):
        store.write_run({"run_id": "abcd"}, {"Bad Name": pd.DataFrame({"a": [1]})})
    with pytest.raises(StoreError, match="DataFrame"):
        store.write_run({"run_id": "abcd"}, {"series": [1, 2, 3]})
    with pytest.raises(StoreError, match="mixed"):
        store.write_run({"run_id": "abcd"}, {"mixed": pd.DataFrame({"a": [1, "x", 2.5]})})
    assert store.list_runs().empty
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_root_that_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.write_text("not a directory")
    store = RunStore(root)
    with pytest.raises(StoreError, match="not a directory") as info:
        _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00")
    assert str(root) in str(info.value)
    assert "expected a directory" in str(info.value)
    with pytest.raises(StoreError, match="not a directory"):
        store.list_runs()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="chmod does not restrict root (see test_root_that_is_a_file)",
)
def test_read_only_root(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    try:
        with pytest.raises(StoreError) as info:
            _write(RunStore(root / "store"), "aaaa0001", "2024-01-01T00:00:00+00:00")
        assert str(root / "store") in str(info.value)
        assert "expected a writable" in str(info.value)

        store_dir = tmp_path / "ro2"
        store = RunStore(store_dir)
        _write(store, "aaaa0001", "2024-01-01T00:00:00+00:00")
        store_dir.chmod(0o500)
        with pytest.raises(StoreError, match="cannot write") as info2:
            _write(store, "bbbb0002", "2024-02-01T00:00:00+00:00")
        assert str(store_dir) in str(info2.value)
    finally:
        root.chmod(0o700)
        if (tmp_path / "ro2").exists():
            (tmp_path / "ro2").chmod(0o700)


def test_permission_errors_become_store_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs even as root: an unwritable directory is simulated by a failing mkdir."""

    def denied(self: Path, *args: object, exist_ok: bool = False, **kwargs: object) -> None:
        if exist_ok and self.is_dir():
            return
        raise PermissionError(13, "Permission denied", str(self))

    fresh = RunStore(tmp_path / "fresh")
    existing = RunStore(tmp_path / "existing")
    _write(existing, "aaaa0001", "2024-01-01T00:00:00+00:00")
    monkeypatch.setattr(Path, "mkdir", denied)

    with pytest.raises(StoreError, match="Permission denied") as info:
        _write(fresh, "aaaa0001", "2024-01-01T00:00:00+00:00")
    assert str(tmp_path / "fresh") in str(info.value)
    assert "expected a writable directory" in str(info.value)

    with pytest.raises(StoreError, match="cannot write to the results store") as info:
        _write(existing, "bbbb0002", "2024-02-01T00:00:00+00:00")
    assert str(tmp_path / "existing") in str(info.value)
    assert list(existing.list_runs()["run_id"]) == ["aaaa0001"]
