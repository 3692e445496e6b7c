"""innosim.atomic: the one write-to-a-temporary-file-then-rename helper."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from innosim import atomic
from innosim.atomic import atomic_open, atomic_write


def _leftovers(directory: Path, keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != keep)


def test_writes_text_bytes_and_writer(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    assert atomic_write(p, "héllo\n") == p
    assert p.read_text(encoding="utf-8") == "héllo\n"
    atomic_write(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    atomic_write(p, lambda fh: fh.write(b"from a writer"))
    assert p.read_bytes() == b"from a writer"
    assert _leftovers(tmp_path, "a.txt") == []
    assert stat.S_IMODE(p.stat().st_mode) == atomic.FILE_MODE


def test_newline_is_passed_through(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    atomic_write(p, "a\r\nb\n", newline="")
    assert p.read_bytes() == b"a\r\nb\n"


def test_failing_writer_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "report.html"
    p.write_text("old", encoding="utf-8")

    def boom(fh: object) -> None:
        fh.write(b"half")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(p, boom)
    assert p.read_text(encoding="utf-8") == "old"
    assert _leftovers(tmp_path, "report.html") == []


def test_failing_block_and_keyboard_interrupt_leave_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    with pytest.raises(KeyboardInterrupt), atomic_open(p) as fh:
        fh.write(b"partial")
        raise KeyboardInterrupt
    assert not p.exists()
    assert list(tmp_path.iterdir()) == []


def test_failing_rename_keeps_old_file_and_leaves_no_empty_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "fig.png"
    p.write_bytes(b"old")

    def no_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write(p, b"new")
    assert p.read_bytes() == b"old"
    assert _leftovers(tmp_path, "fig.png") == []


def test_failing_fdopen_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_fdopen(*a: object, **k: object) -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(atomic.os, "fdopen", bad_fdopen)
    with pytest.raises(OSError, match="Too many"):
        atomic_write(tmp_path / "y.txt", "text")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        atomic_write(tmp_path / "nope" / "a.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_temp_name_prefix_and_suffix(tmp_path: Path) -> None:
    p = tmp_path / "shard.parquet"
    seen: list[str] = []

    orig = atomic.tempfile.mkstemp

    def spy(**kw: object) -> tuple[int, str]:
        fd, name = orig(**kw)  # type: ignore[arg-type]
        seen.append(Path(name).name)
        return fd, name

    mp = pytest.MonkeyPatch()
    mp.setattr(atomic.tempfile, "mkstemp", spy)
    try:
        atomic_write(p, b"x", prefix=".tmp-", suffix=".parquet")
        atomic_write(p, b"", suffix=".png")
    finally:
        mp.undo()
    assert seen[0].startswith(".tmp-") and seen[0].endswith(".parquet")
    assert seen[1].startswith(".shard.parquet.") and seen[1].endswith(".png")


def test_only_whole_file_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"), atomic_open(tmp_path / "a", "a"):
        pass


def test_concurrent_writers_leave_one_whole_version(tmp_path: Path) -> None:
    p = tmp_path / "shared.txt"
    payloads = [(f"writer {k}\n" * 20_000).encode() for k in range(8)]
    errors: list[BaseException] = []
    stop = threading.Event()
    reads: list[bytes] = []

    def write(data: bytes) -> None:
        try:
            for _ in range(5):
                atomic_write(p, data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        while not stop.is_set():
            if p.exists():
                reads.append(p.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write, args=(d,)) for d in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    reader.join()
    assert errors == []
    assert p.read_bytes() in payloads
    assert all(r in payloads for r in reads)
    assert _leftovers(tmp_path, "shared.txt") == []


def test_fsync_helpers(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"x")
    atomic.fsync_file(p)
    atomic.fsync_dir(tmp_path)
    atomic.fsync_dir(tmp_path / "missing")  # no-op
    assert os.path.exists(p)
