"""Write a command's output files into a directory so that nothing half-written is ever
visible: every file is first written into a temporary directory beside the target, then moved
into place with :func:`os.replace` (atomic per file on one filesystem). If writing fails, the
target keeps what it had and the temporary directory is removed. Shared by ``innosim index``,
``compare``, ``explain`` and the other commands that take ``--out``."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from innosim.atomic import atomic_write
from innosim.errors import InputError

__all__ = [
    "check_out",
    "json_value",
    "prepare_out",
    "write_atomic",
    "write_outputs",
    "write_staged",
]


def check_out(out_dir: str | os.PathLike[str] | None) -> None:
    """Refuse an ``--out`` that is an existing file (before any work starts)."""
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise InputError(
            "the output path is a file",
            file="command line",
            field="--out",
            value=str(out_dir),
            expected="a directory (created if missing)",
        )


def prepare_out(out: str | os.PathLike[str]) -> Path:
    """Create the output directory before anything runs (InputError if it cannot be)."""
    path = Path(out).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output directory ({exc.strerror})",
            file=str(path),
            field="--out",
            expected="a directory (or a path where one can be created)",
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(
            "the output directory is not writable",
            file=str(path),
            field="--out",
            expected="a writable directory",
        )
    return path


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename (readers never see a
    partial file; :func:`innosim.atomic.atomic_write`). Returns ``path``."""
    return atomic_write(path, text, newline="", suffix="")


def _unwritable(what: str, e: OSError, target: Path) -> InputError:
    """The one-paragraph error for an ``--out`` directory that cannot be written."""
    return InputError(
        f"{what} ({e.strerror or e})",
        file="command line",
        field="--out",
        value=str(target),
        expected="a writable directory",
    )


def write_staged(out_dir: str | os.PathLike[str], write: Callable[[Path], None]) -> list[Path]:
    """Call ``write(tmp)`` to write files into a fresh temporary directory, then move each of
    them into ``out_dir`` (created if missing); returns the files written, sorted by name.

    Raises
    ------
    InputError
        ``out_dir`` is a file, or a directory that cannot be created or written.
    """
    check_out(out_dir)
    target = Path(out_dir)
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as e:
        raise _unwritable("cannot write there", e, target) from None
    try:
        write(tmp)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, target / f.name)
            written.append(target / f.name)
        return written
    except OSError as e:
        raise _unwritable("cannot write the outputs", e, target) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_outputs(
    out_dir: str | os.PathLike[str], writers: Mapping[str, Callable[[Path], None]]
) -> list[Path]:
    """:func:`write_staged` with one writer per file name: ``writers[name](path)`` writes
    ``path``. Returns the files in the order of ``writers``."""

    def write(tmp: Path) -> None:
        for name, w in writers.items():
            w(tmp / name)

    written = {p.name: p for p in write_staged(out_dir, write)}
    return [written[name] for name in writers]


def json_value(v: Any) -> Any:
    """``v`` made JSON-safe for output files: NumPy scalars to Python, non-finite floats to
    ``None`` (JSON has no NaN), recursively through dicts, lists and tuples."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_value(x) for x in v]
    return v
