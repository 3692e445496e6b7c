"""Write a file so that readers see either the old content or the whole new one, never a part.

The one write-to-a-temporary-file-then-rename helper of the package (reports, figures, result
files, sweep shards). :func:`atomic_open` gives a file object on a fresh temporary file in the
target's directory; when the ``with`` block ends normally the file is flushed, fsynced, made
readable by everyone (``0o644``, like any output file) and moved over the target with
:func:`os.replace` (atomic on one filesystem), and the directory entry is fsynced. If anything
fails -- the block raises, the disk is full, the process is interrupted by an exception -- the
temporary file is removed and the target keeps what it had; no empty or partial temporary file
is left behind. :func:`atomic_write` does the same for a ``str`` / ``bytes`` payload or a writer
callable::

    atomic_write("report.html", html)                       # text, UTF-8
    atomic_write("fig.png", lambda fh: fig.savefig(fh, format="png"))

Concurrent writers of one target each write their own temporary file; the last rename wins and
the target is always one complete version. Errors are the plain :class:`OSError` of the failing
step, for the caller to turn into its own message.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["FILE_MODE", "atomic_open", "atomic_write", "fsync_dir", "fsync_file"]

#: Permissions of a written file (the temporary file is created private, then opened up).
FILE_MODE = 0o644


@contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
    prefix: str | None = None,
    suffix: str = ".tmp",
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; replace ``path`` with it on success.

    Parameters
    ----------
    path : path-like
        The file to write; its directory must exist.
    mode : {"wb", "w"}
        Binary or text.
    encoding, newline : str, optional
        As for :func:`open` (text mode only; ``encoding`` defaults to UTF-8).
    prefix, suffix : str
        Name of the temporary file: ``prefix + <random> + suffix``; the prefix defaults to
        ``".<name>."``, so the file is hidden and says what it will become.

    Raises
    ------
    OSError
        The temporary file cannot be created, written or renamed (the target is unchanged).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a whole file: mode 'w' or 'wb', not {mode!r}")
    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}." if prefix is None else prefix, suffix=suffix, dir=directory
    )
    tmp = Path(tmp_name)
    try:
        try:
            if mode == "wb":
                fh: IO[Any] = os.fdopen(fd, "wb")
            else:
                fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
        except BaseException:
            os.close(fd)
            raise
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)


def atomic_write(
    path: str | os.PathLike[str],
    data: str | bytes | Callable[[IO[bytes]], object],
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
    prefix: str | None = None,
    suffix: str = ".tmp",
) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`); returns ``path``.

    ``data`` is text (written with ``encoding`` and ``newline``), bytes, or a callable that
    writes into the binary file object it is given (e.g. ``fig.savefig(fh, format="png")``).
    """
    target = Path(path)
    if isinstance(data, str):
        with atomic_open(
            target, "w", encoding=encoding, newline=newline, prefix=prefix, suffix=suffix
        ) as fh:
            fh.write(data)
    else:
        with atomic_open(target, "wb", prefix=prefix, suffix=suffix) as fh:
            if isinstance(data, bytes | bytearray | memoryview):
                fh.write(data)
            else:
                data(fh)
    return target


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a written file's content to disk."""
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory entry to disk (POSIX only; a no-op where directories can't be opened)."""
    if os.name == "nt":  # pragma: no cover
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse directory fsync
        pass
    finally:
        os.close(fd)
