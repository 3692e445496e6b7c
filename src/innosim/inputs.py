"""Reading user files: TOML with one-paragraph errors, and pydantic errors made readable.

Every loader (scenarios, targets, and later policies, data and index frameworks) reads its TOML
with :func:`read_toml` and turns a pydantic ``ValidationError`` into the field path and offending
value with :func:`pydantic_issue`, so all of them report problems the same way: file, field,
value, expected.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from innosim.errors import InputError

__all__ = ["dotted", "pydantic_issue", "read_file", "read_toml"]


MAX_TOML_BYTES = 16 * 2**20
"""Largest TOML file read (the shipped ones are a few kB; china-16.toml is the largest)."""


def read_file(path: Path, kind: str, error: type[InputError], limit: int, missing: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or ``error`` naming the file.

    A directory, a device (``/dev/zero`` would never end), a FIFO (would block), a file larger
    than ``limit``, a missing or unreadable file: each is refused before more than ``limit``
    bytes are read.
    """
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            raise error(
                f"the {kind} is not a regular file",
                file=str(path),
                expected=f"a {kind} (not a device or a pipe)",
            )
        # O_NONBLOCK: should the path turn into a pipe after the check, opening it cannot hang
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{kind} not found", file=str(path), expected=missing) from None
    except IsADirectoryError:
        raise error(
            f"the {kind} is a directory", file=str(path), expected=f"a {kind}, not a directory"
        ) from None
    except OSError as e:
        raise error(
            f"cannot read the {kind} ({e.strerror})", file=str(path), expected=missing
        ) from None
    if len(raw) > limit:
        raise error(
            f"the {kind} is too large",
            file=str(path),
            field="size",
            value=f"more than {limit} bytes",
            expected=f"a {kind} of at most {limit // 2**20} MiB",
        )
    return raw


def read_toml(
    path: Path, kind: str, error: type[InputError] = InputError, missing: str | None = None
) -> dict[str, Any]:
    """Parse a TOML file or raise ``error`` naming the file.

    Parameters
    ----------
    path : Path
    kind : str
        What the file is, for messages ("scenario file", "targets file").
    error : type of InputError
        The exception class to raise.
    missing : str, optional
        Expectation to state when the file does not exist (default: a generic one).
    """
    raw = read_file(
        path, kind, error, MAX_TOML_BYTES, missing or f"an existing, readable TOML {kind}"
    )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise error(
            "the file is not UTF-8 text",
            file=str(path),
            field=f"line {line}",
            value=raw[e.start : e.start + 8],
            expected="a UTF-8 encoded TOML file",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _malformed(error, path, text, str(e)) from None
    except ValueError:  # an integer longer than Python converts (4300 digits)
        m = re.search(rf"\d{{{MAX_DIGITS},}}", text)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        raise error(
            "malformed TOML (an integer with too many digits)",
            file=str(path),
            field=None if line is None else f"line {line}",
            value=None if m is None else m[0][:20] + f"... ({len(m[0])} digits)",
            expected=f"integers of at most {MAX_DIGITS} digits",
        ) from None
    except RecursionError:
        line = next(
            (k for k, x in enumerate(text.splitlines(), 1) if _depth(x) >= MAX_NESTING), None
        )
        raise error(
            "malformed TOML (arrays or tables nested too deeply)",
            file=str(path),
            field=None if line is None else f"line {line}",
            value=None if line is None else text.splitlines()[line - 1][:40] + "...",
            expected=f"values nested at most {MAX_NESTING} levels deep",
        ) from None


MAX_DIGITS = 4300
"""Longest integer Python converts from text by default (``sys.get_int_max_str_digits``)."""

MAX_NESTING = 100
"""Nesting depth named in the error for a too deeply nested TOML value."""

_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def _depth(line: str) -> int:
    """Deepest nesting of brackets and braces in a line (strings not excluded)."""
    depth = deepest = 0
    for ch in line:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _malformed(error: type[InputError], path: Path, text: str, message: str) -> InputError:
    """A TOML syntax error naming the line and column, and the text of that line."""
    m = _AT.search(message)
    what = _AT.sub("", message) if m else message
    lines = text.splitlines()
    if m and m[1]:
        line, col = int(m[1]), int(m[2])
        where = f"line {line}, column {col}"
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
    else:
        where = "end of file"
        shown = lines[-1] if lines else ""
    return error(
        f"malformed TOML ({what})",
        file=str(path),
        field=where,
        value=shown[:200],
        expected="valid TOML (https://toml.io)",
    )


def dotted(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a field path: ``("target", 3, "low")`` -> ``target[3].low``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = str(part)
        if not _BARE_KEY.match(key):  # an empty or odd key, quoted as TOML would write it
            key = json.dumps(key, ensure_ascii=False)
        out += ("." if out else "") + key
    return out


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def pydantic_issue(
    err: ValidationError, data: Any, drop: tuple[str, ...] = ()
) -> tuple[tuple[Any, ...], Any, str, str]:
    """The first problem of a validation error: (location, offending value, type, message).

    Validator-function entries and the names in ``drop`` (e.g. union member tags) are removed
    from the location; the value is looked up in the parsed ``data`` (None when absent).
    """
    e = err.errors()[0]
    loc = tuple(
        x
        for x in e["loc"]
        if not (isinstance(x, str) and x.startswith("function-")) and x not in drop
    )
    value: Any = data
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            value = None
            break
    return loc, value, e["type"], e["msg"].rstrip(".")
