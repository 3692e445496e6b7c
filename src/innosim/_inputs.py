"""Reading user files: TOML with one-paragraph errors, and pydantic errors made readable.

Every loader (scenarios, targets, and later policies, data and index frameworks) reads its TOML
with :func:`read_toml` and turns a pydantic ``ValidationError`` into the field path and offending
value with :func:`pydantic_issue`, so all of them report problems the same way: file, field,
value, expected.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from innosim.errors import InputError

__all__ = ["dotted", "pydantic_issue", "read_toml"]


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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(
            f"{kind} not found",
            file=str(path),
            expected=missing or f"an existing, readable TOML {kind}",
        ) from None
    except OSError as e:
        raise error(
            f"cannot read the {kind} ({e.strerror})",
            file=str(path),
            expected="a readable TOML file",
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise error(
            "the file is not UTF-8 text", file=str(path), expected="a UTF-8 encoded TOML file"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise error(
            f"malformed TOML ({e})", file=str(path), expected="valid TOML (https://toml.io)"
        ) from None


def dotted(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a field path: ``("target", 3, "low")`` -> ``target[3].low``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


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
