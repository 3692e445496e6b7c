"""A resumable, content-addressed store of run outcomes: Parquet shards queried with DuckDB.

A sweep runs thousands of short simulations and keeps a few numbers of each. Every run has an id
that is a hash of everything that determines its outcome (:func:`run_key`: the scenario's content
hash, which covers every parameter value, the calendar and the agent scale; the replicate's seed
and spawn key; the innosim version), so a run is never computed twice for the same store: a
sweep that was killed and started again with the same command asks the store which of its runs
are finished and computes only the others.

Layout under the store root::

    root/
      store.json                     # format marker
      shards/<name>.parquet          # rows of finished runs: run_id, city, every metric
      shards/.tmp-<random>.parquet   # a shard being written (or left by a crash): ignored

A shard is written to a temporary file in ``shards/``, flushed and fsynced, then renamed into
place (and the directory fsynced), so a shard is either complete or absent: ``kill -9`` at any
moment leaves at most a temporary file, which readers ignore and :meth:`SweepStore.open` removes.
A shard that cannot be read (damaged outside innosim) is moved to ``quarantine/`` with a warning
and its runs count as unfinished. One DuckDB view, ``runs``, spans all shards (duplicates of a
run, possible only when two sweeps share a store concurrently, are collapsed).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from innosim.atomic import atomic_write
from innosim.errors import StoreError
from innosim.params.scenario import Scenario
from innosim.version import version

__all__ = ["FORMAT", "SweepStore", "run_key"]

FORMAT = "innosim-sweep-store/1"
SHARDS = "shards"
QUARANTINE = "quarantine"
TMP_PREFIX = ".tmp-"
SUFFIX = ".parquet"


def _version() -> str:
    return version()


def run_key(scenario: Scenario, seed: np.random.SeedSequence, version: str | None = None) -> str:
    """The id of a run: 16 hex digits of a SHA-256 over the scenario's content hash (every
    parameter value, calendar, scale, waves and policy), the seed's entropy and spawn key, and
    the innosim version."""
    material = {
        "scenario_hash": scenario.hash,
        "entropy": str(seed.entropy),
        "spawn_key": [int(k) for k in seed.spawn_key],
        "version": version or _version(),
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class SweepStore:
    """The shard store at ``root`` (created on :meth:`open`).

    Parameters
    ----------
    root : str or path
        Store directory.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"SweepStore({str(self.root)!r})"

    @property
    def shards_dir(self) -> Path:
        return self.root / SHARDS

    # ------------------------------------------------------------------------------ opening

    def open(self) -> SweepStore:
        """Create the store if needed, remove leftover temporary shards and move unreadable
        shards to ``quarantine/``. Returns ``self``.

        Raises
        ------
        StoreError
            The root is a file or not writable, or ``store.json`` names another format.
        """
        for path in (self.root, self.shards_dir):
            if path.exists() and not path.is_dir():
                raise StoreError(
                    "the sweep store path exists but is not a directory",
                    file=str(path),
                    field="--out",
                    expected="a directory (or a path where one can be created)",
                )
        try:
            self.shards_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the sweep store ({exc.strerror})",
                file=str(self.root),
                field="--out",
                expected="a writable directory",
            ) from None
        if not os.access(self.shards_dir, os.W_OK | os.X_OK):
            raise StoreError(
                "the sweep store is not writable",
                file=str(self.shards_dir),
                field="--out",
                expected="a writable directory",
            )
        marker = self.root / "store.json"
        if marker.exists():
            try:
                fmt = json.loads(marker.read_text(encoding="utf-8")).get("format")
            except (OSError, ValueError, AttributeError):
                fmt = None
            if fmt != FORMAT:
                raise StoreError(
                    "the directory holds something other than a sweep store",
                    file=str(marker),
                    field="format",
                    value=fmt,
                    expected=f"'{FORMAT}' (use another --out directory)",
                )
        try:
            if not marker.exists():
                self._write_bytes(marker, json.dumps({"format": FORMAT}).encode() + b"\n")
            for tmp in self.shards_dir.glob(TMP_PREFIX + "*"):
                tmp.unlink(missing_ok=True)
            self._check_shards()
        except OSError as exc:
            raise StoreError(
                f"cannot prepare the sweep store ({exc.strerror or exc})",
                file=str(self.root),
                field="--out",
                expected="a writable directory with free space",
            ) from None
        return self

    def _check_shards(self) -> None:
        for path in self.shard_files():
            try:
                meta = pq.read_metadata(path)
                if "run_id" not in meta.schema.names:
                    raise ValueError("no run_id column")
            except (OSError, ValueError, pa.ArrowException) as exc:
                qdir = self.root / QUARANTINE
                qdir.mkdir(exist_ok=True)
                os.replace(path, qdir / path.name)
                warnings.warn(
                    f"unreadable shard {path} moved to {qdir} ({exc}); its runs will be "
                    "computed again",
                    stacklevel=3,
                )

    # ------------------------------------------------------------------------------ writing

    def _write_bytes(self, path: Path, data: bytes) -> None:
        # The temporary file is named TMP_PREFIX... so that readers skip it and open() sweeps it.
        atomic_write(path, data, prefix=TMP_PREFIX, suffix=path.suffix)

    def write_shard(self, rows: pd.DataFrame) -> Path:
        """Write rows (a ``run_id`` column, a ``city`` column and metric columns) as one shard,
        atomically. The shard's name is a hash of its run ids. Returns its path."""
        if "run_id" not in rows.columns:
            raise StoreError("a shard needs a run_id column", file=str(self.shards_dir))
        ids = "\n".join(sorted(set(rows["run_id"].astype(str))))
        name = hashlib.sha256(ids.encode()).hexdigest()[:24] + SUFFIX
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), sink)
        path = self.shards_dir / name
        try:
            self._write_bytes(path, sink.getvalue().to_pybytes())
        except OSError as exc:
            raise StoreError(
                f"cannot write a shard ({exc.strerror})",
                file=str(path),
                field="--out",
                expected="a writable directory with free space",
            ) from None
        return path

    # ------------------------------------------------------------------------------ reading

    def shard_files(self) -> list[Path]:
        """Finished shards (temporary files excluded), sorted by name."""
        if not self.shards_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.shards_dir.glob("*" + SUFFIX)
            if not p.name.startswith(TMP_PREFIX) and p.is_file()
        )

    def _glob(self) -> str:
        return str(self.shards_dir / ("[!.]*" + SUFFIX)).replace("'", "''")

    def connect(self) -> Any:
        """A DuckDB connection with the view ``runs`` over every shard (one row per run and
        city; duplicates collapsed) and ``shard_rows`` (raw, with the shard's file name)."""
        con = duckdb.connect()
        if self.shard_files():
            src = f"read_parquet('{self._glob()}', union_by_name=true, filename=true)"
            con.execute(f"CREATE VIEW shard_rows AS SELECT * FROM {src}")
            con.execute(
                "CREATE VIEW runs AS SELECT * EXCLUDE (filename) FROM shard_rows "
                "QUALIFY row_number() OVER (PARTITION BY run_id, city ORDER BY filename) = 1"
            )
        else:
            con.execute(
                "CREATE VIEW shard_rows AS SELECT NULL::VARCHAR AS run_id, NULL::VARCHAR AS city,"
                " NULL::VARCHAR AS filename WHERE false"
            )
            con.execute("CREATE VIEW runs AS SELECT run_id, city FROM shard_rows")
        return con

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL over the views ``runs`` and ``shard_rows`` and return a DataFrame."""
        con = self.connect()
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            raise StoreError(
                f"the query failed ({' '.join(str(exc).split())})",
                file=str(self.shards_dir),
                value=sql,
                expected="SQL over the views runs and shard_rows",
            ) from None
        finally:
            con.close()

    def finished(self, run_ids: Iterable[str] | None = None) -> set[str]:
        """Ids of runs the store holds (among ``run_ids`` when given)."""
        if not self.shard_files():
            return set()
        got = set(self.query("SELECT DISTINCT run_id FROM shard_rows")["run_id"].astype(str))
        return got if run_ids is None else got & set(run_ids)

    def rows(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """The stored rows of some runs (every column; one row per run and city)."""
        ids = sorted(set(run_ids))
        if not ids or not self.shard_files():
            return pd.DataFrame({"run_id": pd.Series(dtype=str), "city": pd.Series(dtype=str)})
        con = self.connect()
        try:
            con.register("wanted", pd.DataFrame({"run_id": ids}))
            return con.execute(
                "SELECT r.* FROM runs r JOIN wanted w USING (run_id) ORDER BY run_id"
            ).df()
        finally:
            con.close()
