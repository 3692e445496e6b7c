"""A directory-backed store of finished simulation runs.

Each run is a directory ``root/runs/<run_id>/`` holding ``meta.json`` (a JSON object with at least
``run_id``) and one Parquet file per table (``series.parquet``, ``firms.parquet``, ...).

Writes are atomic: everything goes into a fresh ``root/.tmp-<random>/`` directory, every file is
fsynced, and only then is that directory renamed to ``root/runs/<run_id>``. A crash at any point
leaves at most a ``.tmp-*`` directory behind, which readers ignore and :meth:`RunStore.cleanup_tmp`
removes; a half-written run is never visible under ``runs/``.

Reading never trusts the disk blindly: a run directory whose ``meta.json`` is missing or corrupt is
skipped by :meth:`RunStore.list_runs` and :meth:`RunStore.query` (with a warning) and makes
:meth:`RunStore.load_run` raise :class:`~innosim.errors.StoreError`.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from innosim.atomic import fsync_dir, fsync_file
from innosim.errors import StoreError

__all__ = ["RunStore", "StoredRun"]

RUNS_DIR = "runs"
META_FILE = "meta.json"
TMP_PREFIX = ".tmp-"
TABLE_SUFFIX = ".parquet"
MIN_PREFIX = 4
MAX_LISTED = 10

_RUN_ID_RE = re.compile(r"[0-9a-f]{1,128}")
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_TABLE_RE = re.compile(r"[a-z_][a-z0-9_]*")
_RESERVED_TABLES = frozenset({"runs"})
_LIST_COLUMNS = ("run_id", "scenario", "seed", "created", "path")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_RUN_ID_EXPECTED = "a lowercase hexadecimal string of 1 to 128 characters (e.g. uuid.uuid4().hex)"
_TABLE_EXPECTED = (
    "a lowercase identifier (letters, digits, underscores; not starting with a digit) other than "
    "'runs', mapped to a pandas DataFrame"
)
_REF_EXPECTED = (
    "a full run id, a unique prefix of at least 4 characters, 'latest', or a path to a run "
    "directory"
)


# --------------------------------------------------------------------------------------------
# A loaded run
# --------------------------------------------------------------------------------------------


@dataclass
class StoredRun:
    """One finished run read back from a :class:`RunStore`.

    Tables are read from Parquet lazily, on the first :meth:`table` call for each name, and cached.

    Attributes
    ----------
    run_id : str
        The run's id, as recorded in its ``meta.json``.
    path : pathlib.Path
        The run directory.
    meta : dict
        The parsed ``meta.json``.
    """

    run_id: str
    path: Path
    meta: dict[str, Any]
    _frames: dict[str, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def tables(self) -> list[str]:
        """Names of the tables stored for this run, sorted.

        Returns
        -------
        list of str
            One name per ``<name>.parquet`` file in the run directory.
        """
        try:
            return sorted(
                p.name[: -len(TABLE_SUFFIX)]
                for p in self.path.iterdir()
                if p.name.endswith(TABLE_SUFFIX) and p.is_file()
            )
        except OSError as exc:
            raise StoreError(
                f"cannot list the tables of run {self.run_id} ({_os_reason(exc)})",
                file=str(self.path),
                expected="a readable run directory",
            ) from exc

    def table(self, name: str) -> pd.DataFrame:
        """Return one table of this run as a DataFrame.

        The Parquet file is read on the first call and cached; later calls return a cheap
        (copy-on-write) shallow copy of the cached frame.

        Parameters
        ----------
        name : str
            Table name, e.g. ``"series"``, ``"firms"`` or ``"investments"``.

        Returns
        -------
        pandas.DataFrame
            The table with the dtypes it was written with.

        Raises
        ------
        StoreError
            If the run has no such table or its file cannot be read.
        """
        cached = self._frames.get(name) if isinstance(name, str) else None
        if cached is not None:
            return cached.copy(deep=False)
        file = self.path / f"{name}{TABLE_SUFFIX}" if isinstance(name, str) else None
        if (
            file is None
            or not name
            or name.startswith(".")
            or Path(name).name != name
            or not file.is_file()
        ):
            available = ", ".join(self.tables) or "(none)"
            raise StoreError(
                f"run {self.run_id} has no table of that name",
                file=str(self.path),
                value=name,
                expected=f"one of: {available}",
            )
        try:
            frame = pq.read_table(str(file)).to_pandas()
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise StoreError(
                f"table {name!r} of run {self.run_id} cannot be read ({exc})",
                file=str(file),
                expected="a Parquet file written by RunStore.write_run",
            ) from exc
        self._frames[name] = frame
        return frame.copy(deep=False)


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class RunStore:
    """A results store rooted at one directory.

    Parameters
    ----------
    root : str or os.PathLike
        Directory holding the store. It need not exist yet: it is created on the first
        :meth:`write_run`. Relative paths are resolved against the current directory now.

    Examples
    --------
    >>> store = RunStore(tmp)  # doctest: +SKIP
    >>> meta = {"run_id": "a1b2c3d4", "seed": 7}
    >>> run_id = store.write_run(meta, {"series": df})  # doctest: +SKIP
    >>> store.load_run("a1b2").table("series")  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    @property
    def runs_dir(self) -> Path:
        """Directory holding one sub-directory per finished run (``root/runs``)."""
        return self.root / RUNS_DIR

    # ---------------------------------------------------------------------------------- write

    def write_run(
        self,
        meta: Mapping[str, Any],
        tables: Mapping[str, pd.DataFrame],
        *,
        overwrite: bool = False,
    ) -> str:
        """Store one finished run atomically.

        Every table is written to ``<name>.parquet`` and the metadata to ``meta.json`` inside a
        fresh ``root/.tmp-<random>/`` directory; files and directory are fsynced, then the
        directory is renamed to ``root/runs/<run_id>``. Readers therefore see either the whole run
        or nothing.

        Parameters
        ----------
        meta : dict
            JSON-serialisable metadata. Must contain ``"run_id"``, a lowercase hex string. If it has
            no ``"created"`` entry, the current UTC time (ISO 8601) is added to the stored copy;
            the caller's dict is not modified.
        tables : dict of str to pandas.DataFrame
            Tables to store, e.g. ``{"series": ..., "firms": ..., "investments": ...}``. Names must
            be lowercase identifiers; ``"runs"`` is reserved for the metadata view of
            :meth:`query`.
        overwrite : bool, default False
            Replace an existing run with the same id: the old directory is renamed aside, the new
            one renamed in, then the old one deleted (if the process dies in between, the old run
            is left in a ``.tmp-*`` directory, never half-visible).

        Returns
        -------
        str
            The run id.

        Raises
        ------
        StoreError
            If the metadata or a table is invalid, the run already exists (and ``overwrite`` is
            false), or the store root cannot be created or written.
        """
        run_id = _validate_meta(meta)
        stored_meta = dict(meta)
        if stored_meta.get("created") is None:
            stored_meta["created"] = datetime.now(UTC).isoformat(timespec="microseconds")
        meta_text = _dump_meta(stored_meta)
        checked = _validate_tables(tables)

        runs_dir = self._prepare_dirs()
        target = runs_dir / run_id
        if _exists(target) and not overwrite:
            raise self._duplicate_error(run_id, target)

        tmp = self._make_tmp_dir()
        try:
            for name, frame in checked:
                _write_table(frame, tmp / f"{name}{TABLE_SUFFIX}", name)
            _write_text(tmp / META_FILE, meta_text)
            fsync_dir(tmp)
            self._publish(tmp, target, run_id, overwrite=overwrite)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(runs_dir)
        return run_id

    def cleanup_tmp(self) -> list[Path]:
        """Delete leftover ``.tmp-*`` directories (from crashed or interrupted writes).

        Do not call this while another process may be writing to the same store: its in-progress
        temporary directory would be removed and its write would fail.

        Returns
        -------
        list of pathlib.Path
            The directories removed.

        Raises
        ------
        StoreError
            If a leftover directory cannot be removed.
        """
        if not self.root.is_dir():
            return []
        removed = []
        for child in sorted(self.root.iterdir()):
            if not child.name.startswith(TMP_PREFIX) or child.is_symlink() or not child.is_dir():
                continue
            try:
                shutil.rmtree(child)
            except OSError as exc:
                raise StoreError(
                    f"cannot remove a leftover temporary directory ({_os_reason(exc)})",
                    file=str(child),
                    expected="a writable results store",
                ) from exc
            removed.append(child)
        return removed

    # ----------------------------------------------------------------------------------- read

    def list_runs(self) -> pd.DataFrame:
        """List the finished runs in the store, oldest first.

        Run directories with a missing or corrupt ``meta.json`` are skipped with a warning.

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id``, ``scenario``, ``seed``, ``created`` (as stored in the metadata)
            and ``path`` (the run directory), one row per run, sorted by ``created`` ascending
            (unparseable timestamps last). Empty, with the same columns, if there are no runs.
        """
        entries, _ = self._scan(warn=True)
        if not entries:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _LIST_COLUMNS})
        return pd.DataFrame(
            {
                "run_id": [e.run_id for e in entries],
                "scenario": [_scenario_of(e.meta) for e in entries],
                "seed": _pandas_column([e.meta.get("seed") for e in entries]),
                "created": [e.meta.get("created") for e in entries],
                "path": [str(e.path) for e in entries],
            }
        )

    def load_run(self, ref: str | os.PathLike[str]) -> StoredRun:
        """Load one run by id, id prefix, ``"latest"`` or path.

        Parameters
        ----------
        ref : str or os.PathLike
            A full run id; a prefix of at least 4 characters matching exactly one run;
            ``"latest"`` (the run with the most recent ``created``); or a path to a run directory
            (anywhere, not only inside this store).

        Returns
        -------
        StoredRun
            The run; its tables are read lazily.

        Raises
        ------
        StoreError
            If the reference matches no run, matches several, or names a run whose ``meta.json``
            is missing or corrupt. The message names the store root and lists known run ids.
        """
        if isinstance(ref, os.PathLike):
            return _load_dir(Path(ref).expanduser())
        if not isinstance(ref, str) or not ref.strip():
            raise StoreError(
                "run reference must be a non-empty string",
                file=str(self.root),
                value=ref,
                expected=_REF_EXPECTED,
            )
        ref = ref.strip()
        entries, bad = self._scan(warn=False)
        by_id = {e.run_id: e for e in entries}

        if ref == "latest":
            if not entries:
                raise self._ref_error(ref, entries, "this results store has no finished runs")
            return entries[-1].to_run()
        if ref in by_id:
            return by_id[ref].to_run()
        if ref in bad:
            raise self._corrupt_error(ref, bad[ref])
        if _looks_like_path(ref):
            candidate = Path(ref).expanduser()
            if candidate.exists():
                return _load_dir(candidate)
        if _HEX_RE.fullmatch(ref) and len(ref) >= MIN_PREFIX:
            prefix = ref.lower()
            matches = sorted({i for i in [*by_id, *bad] if i.startswith(prefix)})
            if len(matches) == 1:
                (only,) = matches
                if only in bad:
                    raise self._corrupt_error(only, bad[only])
                return by_id[only].to_run()
            if len(matches) > 1:
                shown = ", ".join(matches[:MAX_LISTED])
                more = f" and {len(matches) - MAX_LISTED} more" if len(matches) > MAX_LISTED else ""
                raise self._ref_error(
                    ref,
                    entries,
                    "the run reference is ambiguous in this results store: it is a prefix of "
                    f"{len(matches)} runs ({shown}{more})",
                    expected="a longer prefix that matches exactly one run",
                )
        problem = "no run in this results store matches the reference"
        if _HEX_RE.fullmatch(ref) and len(ref) < MIN_PREFIX:
            problem += f" (prefixes must be at least {MIN_PREFIX} characters long)"
        raise self._ref_error(ref, entries, problem)

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL over all stored runs with DuckDB.

        The SQL runs in a fresh in-memory DuckDB connection with these views:

        * one view per table name found in any run (``series``, ``firms``, ...), the
          ``UNION ALL BY NAME`` of that table over every run that has it, plus a ``run_id``
          column holding the run id from the run's metadata;
        * ``runs``: one row per run with ``run_id``, ``scenario``, ``seed``, ``created`` and every
          other scalar (str, number, bool) metadata field. Nested fields (dicts, lists) are left
          out; fields with mixed types across runs become text.

        Parameters
        ----------
        sql : str
            A DuckDB SQL statement, e.g.
            ``"SELECT run_id, max(tick) FROM series GROUP BY run_id"``.

        Returns
        -------
        pandas.DataFrame
            The result set.

        Raises
        ------
        StoreError
            If the SQL fails (syntax error, unknown view or column, ...).
        """
        entries, _ = self._scan(warn=True)
        by_table: dict[str, list[tuple[str, Path, bool]]] = {}
        for entry in entries:
            for name, file, has_run_id in _table_files(entry):
                by_table.setdefault(name, []).append((entry.run_id, file, has_run_id))

        con = duckdb.connect(":memory:")
        try:
            con.register("runs", _runs_arrow(entries))
            for name, items in sorted(by_table.items()):
                selects = [
                    f"SELECT * {'EXCLUDE (run_id) ' if has_run_id else ''}"
                    f", {_sql_str(run_id)} AS run_id "
                    f"FROM read_parquet({_sql_str(str(file))}, hive_partitioning=false)"
                    for run_id, file, has_run_id in items
                ]
                con.execute(
                    f"CREATE VIEW {_sql_ident(name)} AS " + " UNION ALL BY NAME ".join(selects)
                )
            try:
                return con.execute(sql).df()
            except duckdb.Error as exc:
                views = ", ".join(["runs", *sorted(by_table)])
                raise StoreError(
                    f"the query failed: {exc}",
                    file=str(self.root),
                    value=sql,
                    expected=f"DuckDB SQL over the views {views}",
                ) from exc
        finally:
            con.close()

    # ------------------------------------------------------------------------------- internals

    def _check_root(self) -> None:
        for path in (self.root, self.runs_dir):
            if path.exists() and not path.is_dir():
                raise StoreError(
                    "the results store path exists but is not a directory",
                    file=str(path),
                    expected="a directory (or a path where one can be created) to hold runs",
                )

    def _prepare_dirs(self) -> Path:
        self._check_root()
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the results store directory ({_os_reason(exc)})",
                file=str(self.runs_dir),
                expected="a writable directory (or a path where one can be created) to hold runs",
            ) from exc
        return self.runs_dir

    def _make_tmp_dir(self) -> Path:
        for _ in range(100):
            tmp = self.root / f"{TMP_PREFIX}{secrets.token_hex(8)}"
            try:
                tmp.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise StoreError(
                    f"cannot write to the results store ({_os_reason(exc)})",
                    file=str(self.root),
                    expected="a writable directory",
                ) from exc
            return tmp
        raise StoreError(  # pragma: no cover - 100 collisions of 64 random bits
            "cannot create a unique temporary directory",
            file=str(self.root),
            expected="a writable directory",
        )

    def _publish(self, tmp: Path, target: Path, run_id: str, *, overwrite: bool) -> None:
        if overwrite and _exists(target):
            aside = self.root / f"{TMP_PREFIX}old-{run_id}-{secrets.token_hex(4)}"
            try:
                os.rename(target, aside)
            except OSError as exc:
                raise StoreError(
                    f"cannot move the existing run aside to replace it ({_os_reason(exc)})",
                    file=str(target),
                    expected="a writable results store",
                ) from exc
            try:
                os.rename(tmp, target)
            except BaseException as exc:
                try:
                    os.rename(aside, target)
                except OSError:  # pragma: no cover - double failure
                    pass
                if isinstance(exc, OSError):
                    raise StoreError(
                        f"cannot move the new run into place ({_os_reason(exc)})",
                        file=str(target),
                        expected="a writable results store",
                    ) from exc
                raise
            shutil.rmtree(aside, ignore_errors=True)
            return
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if _exists(target):
                raise self._duplicate_error(run_id, target) from exc
            raise StoreError(
                f"cannot move the new run into place ({_os_reason(exc)})",
                file=str(target),
                expected="a writable results store",
            ) from exc

    def _scan(self, *, warn: bool) -> tuple[list[_Entry], dict[str, str]]:
        """Read every run's metadata: (valid runs sorted by created, {dir name: problem})."""
        self._check_root()
        if not self.runs_dir.is_dir():
            return [], {}
        try:
            children = sorted(self.runs_dir.iterdir())
        except OSError as exc:
            raise StoreError(
                f"cannot list the runs of the results store ({_os_reason(exc)})",
                file=str(self.runs_dir),
                expected="a readable directory",
            ) from exc
        good: list[_Entry] = []
        bad: dict[str, str] = {}
        for child in children:
            if child.name.startswith(".") or not child.is_dir():
                continue
            try:
                meta = _read_meta(child)
                if meta["run_id"] != child.name:
                    raise StoreError(
                        "the run_id in meta.json does not match the run directory name",
                        file=str(child / META_FILE),
                        field="run_id",
                        value=meta["run_id"],
                        expected=repr(child.name),
                    )
            except StoreError as exc:
                bad[child.name] = str(exc)
                if warn:
                    warnings.warn(
                        f"Skipping unreadable run directory {child}: {exc}",
                        UserWarning,
                        stacklevel=3,
                    )
                continue
            good.append(_Entry(child.name, child, meta))
        good.sort(key=lambda e: (*_created_key(e.meta.get("created")), e.run_id))
        return good, bad

    def _duplicate_error(self, run_id: str, target: Path) -> StoreError:
        return StoreError(
            "a run with this run_id already exists in the results store",
            file=str(target),
            field="run_id",
            value=run_id,
            expected="a new run_id, or overwrite=True to replace the stored run",
        )

    def _corrupt_error(self, name: str, problem: str) -> StoreError:
        return StoreError(
            f"run {name} in the results store at {self.root} cannot be loaded: {problem}",
            file=str(self.runs_dir / name),
            expected="a run directory with a valid meta.json (rewrite or delete the run)",
        )

    def _ref_error(
        self,
        ref: str,
        entries: list[_Entry],
        problem: str,
        *,
        expected: str = _REF_EXPECTED,
    ) -> StoreError:
        known = [e.run_id for e in entries]
        if not known:
            listing = "the store has no runs"
        else:
            recent = known[-MAX_LISTED:]
            listing = "known run ids (oldest first): " + ", ".join(recent)
            if len(known) > len(recent):
                listing += f" (showing the {len(recent)} most recent of {len(known)})"
        return StoreError(
            problem,
            file=str(self.root),
            value=ref,
            expected=f"{expected}; {listing}",
        )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    run_id: str
    path: Path
    meta: dict[str, Any]

    def to_run(self) -> StoredRun:
        return StoredRun(run_id=self.run_id, path=self.path, meta=self.meta)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _validate_meta(meta: object) -> str:
    if not isinstance(meta, Mapping):
        raise StoreError(
            "run metadata must be a dict",
            field="meta",
            value=type(meta).__name__,
            expected="a JSON-serialisable dict with a 'run_id' entry",
        )
    run_id = meta.get("run_id")
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise StoreError(
            "the run metadata has no valid run_id",
            field="meta.run_id",
            value=run_id,
            expected=_RUN_ID_EXPECTED,
        )
    return run_id


def _dump_meta(meta: dict[str, Any]) -> str:
    try:
        return json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as exc:
        for key, value in meta.items():
            try:
                json.dumps({key: value})
            except (TypeError, ValueError):
                raise StoreError(
                    f"the run metadata is not JSON-serialisable ({exc})",
                    field=f"meta.{key}",
                    value=value,
                    expected="JSON values: str, int, float, bool, None, and lists/dicts of them",
                ) from exc
        raise StoreError(  # pragma: no cover - whole dict fails but no single entry does
            f"the run metadata is not JSON-serialisable ({exc})",
            field="meta",
            expected="JSON values: str, int, float, bool, None, and lists/dicts of them",
        ) from exc


def _validate_tables(tables: object) -> list[tuple[str, pd.DataFrame]]:
    if not isinstance(tables, Mapping):
        raise StoreError(
            "tables must be a dict of name to DataFrame",
            field="tables",
            value=type(tables).__name__,
            expected=_TABLE_EXPECTED,
        )
    checked = []
    for name, frame in tables.items():
        if not isinstance(name, str) or not _TABLE_RE.fullmatch(name) or name in _RESERVED_TABLES:
            raise StoreError(
                "invalid table name", field="tables", value=name, expected=_TABLE_EXPECTED
            )
        if not isinstance(frame, pd.DataFrame):
            raise StoreError(
                "table is not a pandas DataFrame",
                field=f"tables.{name}",
                value=type(frame).__name__,
                expected="a pandas DataFrame",
            )
        checked.append((name, frame))
    return checked


def _write_table(frame: pd.DataFrame, path: Path, name: str) -> None:
    try:
        table = pa.Table.from_pandas(frame)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise StoreError(
            f"table {name!r} cannot be converted to Parquet ({exc})",
            field=f"tables.{name}",
            expected="unique string column names and one data type per column",
        ) from exc
    try:
        pq.write_table(table, str(path))
        fsync_file(path)
    except OSError as exc:
        raise StoreError(
            f"cannot write table {name!r} ({_os_reason(exc)})",
            file=str(path),
            expected="a writable results store with free space",
        ) from exc


def _write_text(path: Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise StoreError(
            f"cannot write the run metadata ({_os_reason(exc)})",
            file=str(path),
            expected="a writable results store with free space",
        ) from exc


def _read_meta(run_dir: Path) -> dict[str, Any]:
    meta_path = run_dir / META_FILE
    expected = "a JSON object with a 'run_id' entry, as written by RunStore.write_run"
    try:
        text = meta_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise StoreError(
            "the run directory has no meta.json", file=str(meta_path), expected=expected
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise StoreError(
            f"meta.json cannot be read ({reason})", file=str(meta_path), expected=expected
        ) from exc
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"meta.json is not valid JSON ({exc})", file=str(meta_path), expected=expected
        ) from exc
    if not isinstance(meta, dict):
        raise StoreError(
            "meta.json is not a JSON object",
            file=str(meta_path),
            value=type(meta).__name__,
            expected=expected,
        )
    run_id = meta.get("run_id")
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise StoreError(
            "meta.json has no valid run_id",
            file=str(meta_path),
            field="run_id",
            value=run_id,
            expected=_RUN_ID_EXPECTED,
        )
    return meta


def _load_dir(path: Path) -> StoredRun:
    if path.is_file() and path.name == META_FILE:
        path = path.parent
    if not path.is_dir():
        raise StoreError(
            "not a run directory",
            file=str(path),
            expected="a directory containing meta.json and <table>.parquet files",
        )
    meta = _read_meta(path)
    return StoredRun(run_id=meta["run_id"], path=path.absolute(), meta=meta)


def _looks_like_path(ref: str) -> bool:
    return (
        os.sep in ref
        or (os.altsep is not None and os.altsep in ref)
        or ref.startswith((".", "~"))
        or Path(ref).exists()
    )


def _created_key(created: object) -> tuple[int, float, str]:
    """Sort key for a ``created`` value: parseable timestamps first, in time order."""
    if isinstance(created, (int, float)) and not isinstance(created, bool):
        if math.isfinite(created):
            return (0, float(created), "")
    elif isinstance(created, str):
        try:
            stamp = datetime.fromisoformat(created)
        except ValueError:
            return (1, 0.0, created)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return (0, stamp.timestamp(), created)
    return (1, 0.0, str(created))


def _scenario_of(meta: Mapping[str, Any]) -> Any:
    value = meta.get("scenario")
    if value is None:
        value = meta.get("scenario_name")
    if isinstance(value, Mapping):
        value = value.get("name")
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _column_kind(values: Iterable[object]) -> str:
    """Classify a list of JSON values: 'empty', 'bool', 'int', 'bigint', 'float', 'str', 'mixed'."""
    present = [v for v in values if v is not None]
    if not present:
        return "empty"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(_INT64_MIN <= v <= _INT64_MAX for v in present):  # type: ignore[operator]
            return "int"
        return "bigint"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "float"
    if all(isinstance(v, str) for v in present):
        return "str"
    return "mixed"


def _as_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _pandas_column(values: list[object]) -> pd.Series:
    kind = _column_kind(values)
    if kind == "int":
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == "bool":
        return pd.Series(pd.array(values, dtype="boolean"))
    if kind in ("bigint", "mixed"):
        return pd.Series([_as_text(v) for v in values], dtype=object)
    return pd.Series(values)


def _arrow_column(values: list[object], empty_type: pa.DataType) -> pa.Array:
    kind = _column_kind(values)
    if kind == "empty":
        return pa.array(values, type=empty_type)
    if kind == "bool":
        return pa.array(values, type=pa.bool_())
    if kind == "int":
        return pa.array(values, type=pa.int64())
    if kind == "float":
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array([_as_text(v) for v in values], type=pa.string())


def _runs_arrow(entries: list[_Entry]) -> pa.Table:
    """The ``runs`` view: fixed leading columns, then every other scalar metadata field."""
    columns: dict[str, pa.Array] = {
        "run_id": pa.array([e.run_id for e in entries], type=pa.string()),
        "scenario": _arrow_column([_scenario_of(e.meta) for e in entries], pa.string()),
        "seed": _arrow_column([e.meta.get("seed") for e in entries], pa.int64()),
        "created": _arrow_column([e.meta.get("created") for e in entries], pa.string()),
    }
    taken = {name.lower() for name in columns}
    extra_keys: list[str] = []
    for entry in entries:
        for key in entry.meta:
            if key.lower() not in taken and key not in extra_keys:
                extra_keys.append(key)
    for key in extra_keys:
        values = [e.meta.get(key) for e in entries]
        if not any(v is not None and _is_scalar(v) for v in values):
            continue  # nested-only (e.g. a dict of library versions): left out
        if key.lower() in taken:
            continue
        taken.add(key.lower())
        columns[key] = _arrow_column(values, pa.string())
    return pa.table(columns)


def _table_files(entry: _Entry) -> list[tuple[str, Path, bool]]:
    """(table name, file, has its own run_id column) for each queryable table of a run."""
    found = []
    try:
        files = sorted(entry.path.iterdir())
    except OSError:
        return []
    for file in files:
        if not file.name.endswith(TABLE_SUFFIX) or not file.is_file():
            continue
        name = file.name[: -len(TABLE_SUFFIX)]
        if not name or name.lower() in _RESERVED_TABLES:
            warnings.warn(
                f"Ignoring table file {file}: the name is reserved or empty",
                UserWarning,
                stacklevel=4,
            )
            continue
        try:
            schema = pq.read_schema(str(file))
        except (OSError, pa.ArrowException, ValueError) as exc:
            warnings.warn(
                f"Ignoring unreadable table file {file}: {exc}", UserWarning, stacklevel=4
            )
            continue
        if len(schema.names) == 0:
            continue  # DuckDB cannot read a Parquet file without columns
        has_run_id = any(col.lower() == "run_id" for col in schema.names)
        found.append((name.lower(), file, has_run_id))
    return found


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
