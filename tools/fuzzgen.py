"""Case generators, loader drivers and the error checker behind the loader fuzzing.

Used by ``tools/fuzz_loaders.py`` (10,000+ cases per loader, a documented command) and by
``tests/test_fuzz.py`` (hypothesis, a smaller set in ``make test``), so both exercise the same
inputs and judge them by the same rule (docs/reliability.md, "Fuzzing").

A *case* is one input to one loader: the bytes of a file (or a missing file, a directory, a
symlink loop) for the file loaders, an argument list for the command line. Most cases are
*near-valid*: a shipped, valid file parsed and mutated a little (a key deleted, duplicated or
renamed, a value of the wrong type or unit, NaN, infinity, huge, negative, empty, unicode,
deeply nested) or its bytes damaged (truncated, random bytes, not UTF-8, a BOM, a very long
line, CRLF). The rest are random structures and random bytes. Every generator draws from one
``random.Random`` it is given, so a seed reproduces a run and hypothesis can drive (and shrink)
the same generators through ``st.randoms()``.

Each case ends in one :class:`Outcome`:

``accepted``
    The loader returned, and what it returned passes the loader's sanity check (e.g. no NaN
    parameter slipped through).
``clean``
    An :class:`~innosim.errors.InputError` whose message is one line naming the file, the field
    (for problems inside the file), the offending value (unless the problem is that something is
    missing) and what was expected; for the command line, exit status 2 with such a message.
``failure``
    Anything else: another exception (a traceback for the user), an error that leaves out the
    file, field, value or expectation, an accepted input that should not have been, or a case
    that ran past its time limit.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import re
import signal
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
"""The project checkout (tools/ lives at its top)."""

LOADERS: tuple[str, ...] = ("scenario", "policy", "targets", "data", "framework", "cli")
"""The loaders fuzzed, in the order the script reports them."""

CASE_TIMEOUT_S = 20
"""A case running longer than this is a failure (a hang or an unbounded amount of work)."""


# =========================================================================== cases and outcomes


@dataclass(frozen=True)
class Case:
    """One input to one loader.

    Attributes
    ----------
    loader : str
        One of :data:`LOADERS`.
    how : str
        What the generator did (e.g. ``"demo.toml: city[0].lat <- nan"``), for reports.
    payload : bytes or None
        The file's content (file loaders); None for the special kinds and the command line.
    kind : str
        ``"file"`` (write ``payload``), ``"missing"``, ``"directory"`` or ``"loop"`` (a
        symlink pointing at itself).
    argv : tuple of str
        The command line (loader ``"cli"``), without the program name.
    """

    loader: str
    how: str
    payload: bytes | None = None
    kind: str = "file"
    argv: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return ".csv" if self.loader == "data" else ".toml"


@dataclass(frozen=True)
class Outcome:
    """How a case ended: ``kind`` is ``accepted``, ``clean`` or ``failure``; ``detail`` says
    why (the error message, or what was wrong with it); ``signature`` groups failures of one
    cause (exception type and the innosim frame it came from, or the checker's complaint)."""

    kind: str
    detail: str = ""
    signature: str = ""


class WorkReached(BaseException):
    """Raised by the command-line fuzzer's stubs where a command would start real work
    (simulations, figures, the index computation): its arguments were all accepted.

    A BaseException so that neither the CLI's error handler nor Click's runner catches it."""


class CaseTimeout(BaseException):
    """A case ran past :data:`CASE_TIMEOUT_S`."""


# =========================================================================== the error checker

_ABSENT = re.compile(
    r"missing|not found|no such|empty|nothing|\bno\b|needs|"
    r"cannot read|not UTF-8|does not exist|cannot be found|say which|is a directory|"
    r"not a regular file",
    re.I,
)
"""Problems about something absent: no offending value to show."""

_WHOLE_FILE = re.compile(
    r"not found|cannot read|not UTF-8|is empty|file is empty|malformed|no cities|"
    r"is a directory|not a regular file|"
    r"changes nothing|does not exist",
    re.I,
)
"""Problems about the file as a whole: no field inside it to name."""


def error_problems(exc: BaseException) -> list[str]:
    """What an error raised by a loader fails to say (empty when it is a clean error).

    A clean error is an :class:`~innosim.errors.InputError` whose message is one line and which
    names the file, the field (unless the problem concerns the whole file), the offending value
    (unless the problem is that something is absent) and what was expected.
    """
    from innosim.errors import InputError

    if not isinstance(exc, InputError):
        return [f"{type(exc).__name__} is not an innosim InputError (a traceback for the user)"]
    msg = str(exc)
    out = []
    if not msg.strip() or "\n" in msg or "Traceback" in msg:
        out.append("the message is not one line")
    if not exc.file:
        out.append("names no file")
    if not exc.field and not _WHOLE_FILE.search(exc.problem):
        out.append("names no field")
    if exc.value is None and not _ABSENT.search(exc.problem):
        out.append("shows no offending value")
    if not exc.expected:
        out.append("states no expectation")
    return out


def _frame_of(exc: BaseException) -> str:
    """``module:line`` of the innermost innosim frame of a traceback (else the innermost)."""
    tb = exc.__traceback__
    where = "?"
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if "innosim" in f and "tools" not in Path(f).parts:
            where = f"{Path(f).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def judge_exception(exc: BaseException) -> Outcome:
    """The outcome of a loader that raised ``exc``."""
    if isinstance(exc, CaseTimeout):
        return Outcome("failure", "ran past the time limit", "timeout")
    problems = error_problems(exc)
    text = " ".join(str(exc).split())[:300]
    if not problems:
        return Outcome("clean", text)
    sig = (
        f"{type(exc).__name__}@{_frame_of(exc)}"
        if problems[0].endswith("traceback for the user)")
        else f"{type(exc).__name__}: {'; '.join(problems)}: "
        + re.split(r"[(:]", getattr(exc, "problem", ""))[0][:40]
    )
    return Outcome("failure", f"{'; '.join(problems)}: {type(exc).__name__}: {text}", sig)


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the block after ``seconds`` (main thread, POSIX; no limit
    elsewhere)."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise CaseTimeout

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# =========================================================================== TOML writing


class Raw(str):
    """TOML text written as it is (e.g. a value nested thousands of levels deep, which the
    fuzzer itself must not walk recursively)."""


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def toml_value(v: Any) -> str:
    """``v`` as an inline TOML value (tables inline, NaN and infinity as TOML writes them)."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dt.date | dt.datetime | dt.time):
        return v.isoformat()
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def to_toml(doc: dict[str, Any]) -> bytes:
    """A document as TOML: every top-level key ``key = <inline value>`` (valid TOML for any
    nesting), encoded as UTF-8 (lone surrogates kept, so they come out as invalid UTF-8)."""
    text = "".join(f"{toml_key(str(k))} = {toml_value(v)}\n" for k, v in doc.items())
    return text.encode("utf-8", "surrogatepass")


# =========================================================================== value mutations

STRINGS: tuple[str, ...] = (
    "",
    " ",
    "x",
    "*",
    "杭州",
    "Ñandú 😀",
    "\u202eevil",
    "\x00",
    "a\nb",
    "../../etc/passwd",
    "/etc/passwd",
    "nan",
    "inf",
    "1e999",
    "-1",
    "0",
    "true",
    "None",
    "{}",
    "'; DROP TABLE runs; --",
    "%s%s%n",
    "\ud800",
)
"""Strings substituted for values and keys (including a lone surrogate: invalid UTF-8)."""

NUMBERS: tuple[Any, ...] = (
    0,
    -1,
    1,
    2,
    -0.0,
    0.5,
    1.5,
    1e-300,
    5e-324,
    -1e308,
    1e308,
    math.nan,
    math.inf,
    -math.inf,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63),
    2**64,
    10**30,
    1900,
    2300,
    2301,
    1899,
    99999,
)
"""Numbers substituted for values: bounds, overflow, NaN, infinity, the years' edges."""


def huge_int(rng: Random) -> Raw:
    """An integer with hundreds or thousands of digits, as TOML text (Python refuses to parse
    one past 4,300 digits)."""
    return Raw("9" * rng.choice((20, 400, 4300, 4301, 6000)))


def deep(rng: Random, leaf: Any) -> Raw:
    """``leaf`` nested in arrays or inline tables 5 to 5,000 levels deep, as TOML text."""
    depth = rng.choice((5, 50, 200, 1200, 5000))
    inner = toml_value(leaf if not isinstance(leaf, dict | list) else 1)
    if rng.random() < 0.5:
        return Raw("[" * depth + inner + "]" * depth)
    return Raw("{k = " * depth + inner + "}" * depth)


def scale_unit(rng: Random, v: Any) -> Any:
    """A number in a wrong unit (x100, x1000, /100, negated) or years as days."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return v
    f = rng.choice((100, 1000, 0.01, -1, 10_000, 1e-6))
    out = v * f
    return int(out) if isinstance(v, int) and float(out).is_integer() and abs(out) < 2**70 else out


def random_scalar(rng: Random) -> Any:
    r = rng.random()
    if r < 0.35:
        return rng.choice(NUMBERS)
    if r < 0.65:
        return rng.choice(STRINGS)
    if r < 0.72:
        return rng.choice((True, False))
    if r < 0.78:
        return rng.choice((dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 12), dt.time(1, 2)))
    if r < 0.82:
        return huge_int(rng)
    if r < 0.9:
        return rng.uniform(-1e6, 1e6)
    return "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 30)))


def random_value(rng: Random, depth: int = 0) -> Any:
    """A random TOML-able value: scalars, lists and tables, a few levels deep."""
    r = rng.random()
    if depth < 3 and r < 0.15:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if depth < 3 and r < 0.3:
        return {
            rng.choice([*KEYS, *STRINGS[:6]]): random_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 4))
        }
    return random_scalar(rng)


def mutate_value(rng: Random, v: Any, key: str) -> tuple[Any, str]:
    """A changed value for ``v`` and a description."""
    r = rng.random()
    if key == "extends" or (isinstance(v, str) and key in ("extends", "scenario")):
        new = rng.choice(EXTENDS)
        return new, f"path {new!r}"
    if r < 0.3:
        new = rng.choice(NUMBERS)
    elif r < 0.45:
        new = scale_unit(rng, v)
        if new is v:
            new = rng.choice(NUMBERS)
    elif r < 0.7:
        new = rng.choice(STRINGS)
    elif r < 0.78:
        new = deep(rng, v)
        return new, "deeply nested"
    elif r < 0.82:
        new = huge_int(rng)
        return new, "a huge integer"
    elif r < 0.87:
        new = "x" * rng.choice((1000, 100_000, 1_000_000))
        return new, f"a string of {len(new)} characters"
    elif r < 0.92 and isinstance(v, str) and v:
        new = v[: rng.randrange(len(v))] + rng.choice(STRINGS[:8]) + v[rng.randrange(len(v)) :]
    else:
        new = random_value(rng)
    shown = repr(new)
    return new, shown if len(shown) < 60 else shown[:57] + "..."


# =========================================================================== structure mutations

KEYS: list[str] = []
"""Every key of every seed file (filled in by :func:`seeds`), used for renames and additions."""

EXTENDS: tuple[str, ...] = (
    "base.toml",
    "case.toml",
    "demo",
    "hangzhou-nanjing",
    "no-such-scenario",
    "",
    "../scenarios/demo.toml",
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "/etc/hostname",
    "/dev/zero",
    "sub/../base.toml",
    "..",
    "/",
    "base",
    "C:\\Windows\\win.ini",
)
"""Values for path-like fields (``extends``, a target's ``scenario``): traversal included."""


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a parsed document (tables and lists walked)."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "<top>"


def mutate_doc(rng: Random, doc: dict[str, Any]) -> str:
    """Apply one structural mutation to ``doc`` in place; returns its description."""
    locs = [p for p in _paths(doc) if p]
    if not locs:
        doc[rng.choice(KEYS)] = random_value(rng)
        return "add a key to an empty document"
    path = rng.choice(locs)
    parent = _get(doc, path[:-1])
    last = path[-1]
    here = _dotted(path)
    r = rng.random()
    if isinstance(parent, dict):
        if r < 0.15:
            del parent[last]
            return f"delete {here}"
        if r < 0.25:
            new = rng.choice(KEYS) if rng.random() < 0.6 else rng.choice(STRINGS)
            parent[new] = parent.pop(last)
            return f"rename {here} -> {new!r}"
        if r < 0.3:
            new = last + rng.choice(("s", "_", "x")) if rng.random() < 0.5 else last.upper()
            parent[new] = parent[last]
            return f"duplicate {here} as {new!r}"
        if r < 0.38:
            new = rng.choice(KEYS)
            parent[new] = random_value(rng)
            return f"add key {new!r} beside {here}"
    if isinstance(parent, list):
        if r < 0.12:
            parent.pop(last)
            return f"delete {here}"
        if r < 0.22:
            parent.insert(last, json.loads(json.dumps(parent[last], default=str)))
            return f"duplicate {here}"
        if r < 0.26:
            parent.clear()
            return f"empty the list holding {here}"
        if r < 0.3:
            parent.extend([parent[last]] * rng.choice((50, 200)))
            return f"repeat {here} many times"
    value = _get(doc, path)
    new, shown = mutate_value(rng, value, str(last))
    parent[last] = new
    return f"{here} <- {shown}"


# =========================================================================== byte mutations


def mutate_bytes(rng: Random, raw: bytes) -> tuple[bytes, str]:
    """Damage a file's bytes in one of a dozen ways."""
    r = rng.random()
    n = len(raw)
    if r < 0.15:
        k = rng.randrange(n + 1)
        return raw[:k], f"truncate at byte {k} of {n}"
    if r < 0.3:
        out = bytearray(raw)
        for _ in range(rng.randrange(1, 8)):
            if out:
                out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out), "flip random bytes"
    if r < 0.4:
        k = rng.randrange(n + 1)
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        return raw[:k] + junk + raw[k:], f"insert {len(junk)} random bytes at {k}"
    if r < 0.47:
        return b"\xef\xbb\xbf" + raw, "UTF-8 byte-order mark"
    if r < 0.53:
        return raw.decode("utf-8", "replace").encode("utf-16"), "UTF-16"
    if r < 0.6:
        return raw.decode("utf-8", "replace").encode("gb18030", "replace"), "GB18030, not UTF-8"
    if r < 0.66:
        return raw.replace(b"\n", b"\r\n"), "CRLF line ends"
    lines = raw.split(b"\n")
    k = rng.randrange(len(lines))
    if r < 0.74:
        del lines[k]
        return b"\n".join(lines), f"delete line {k + 1}"
    if r < 0.82:
        lines.insert(k, lines[k])
        return b"\n".join(lines), f"duplicate line {k + 1}"
    if r < 0.88:
        lines.insert(k, b"# " + b"x" * rng.choice((10_000, 1_000_000)))
        return b"\n".join(lines), f"a very long line at {k + 1}"
    if r < 0.94:
        lines[k] = lines[k] + b"\x00"
        return b"\n".join(lines), f"NUL at the end of line {k + 1}"
    return raw * rng.choice((2, 3)), "the file repeated"


# =========================================================================== seeds


@dataclass
class Seeds:
    """The valid files each loader's mutations start from (parsed and raw)."""

    toml: dict[str, list[tuple[str, dict[str, Any], bytes]]] = field(default_factory=dict)
    data_header: list[str] = field(default_factory=list)
    data_rows: list[list[str]] = field(default_factory=list)
    data_raw: bytes = b""


_SEEDS: Seeds | None = None


def _policy_with_sets() -> dict[str, Any]:
    """A valid policy file with [[set]] entries (the shipped ones have none)."""
    from innosim.params.declarations import BY_NAME

    city = next(s for s in BY_NAME.values() if s.scope == "city" and not s.integer)
    glob = next(s for s in BY_NAME.values() if s.scope == "global" and not s.integer)
    lever = next(s for s in BY_NAME.values() if s.lever)
    return {
        "about": {"name": "sets", "title": "fuzz seed"},
        "set": [
            {"param": glob.name, "value": glob.default},
            {"param": city.name, "city": "*", "value": city.default, "note": "n"},
            {"param": lever.name, "city": "*", "value": lever.default, "year": 2020},
        ],
    }


def seeds() -> Seeds:
    """The shipped valid files: scenarios/*.toml, policies/*.toml, validation/targets.toml, the
    package's index framework and data/cities_sourced.csv (read once)."""
    global _SEEDS
    if _SEEDS is not None:
        return _SEEDS
    from innosim.index.framework import default_framework_path

    s = Seeds()
    files = {
        "scenario": sorted((ROOT / "scenarios").glob("*.toml")),
        "policy": sorted((ROOT / "policies").glob("*.toml")),
        "targets": [ROOT / "validation" / "targets.toml"],
        "framework": [default_framework_path()],
    }
    for loader, paths in files.items():
        s.toml[loader] = []
        for p in paths:
            raw = p.read_bytes()
            s.toml[loader].append((p.name, tomllib.loads(raw.decode()), raw))
    sets = _policy_with_sets()
    s.toml["policy"].append(("sets.toml", sets, to_toml(sets)))
    raw = (ROOT / "data" / "cities_sourced.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    s.data_header, s.data_rows, s.data_raw = rows[0], rows[1:], raw
    keys: set[str] = set()
    for docs in s.toml.values():
        for _, doc, _ in docs:
            keys.update(str(p[-1]) for p in _paths(doc) if p and isinstance(p[-1], str))
    keys.update(s.data_header)
    KEYS[:] = sorted(keys)
    _SEEDS = s
    return s


# =========================================================================== file cases


def _special(rng: Random, loader: str) -> Case:
    r = rng.random()
    if r < 0.25:
        return Case(loader, "missing file", kind="missing")
    if r < 0.45:
        return Case(loader, "a directory instead of a file", kind="directory")
    if r < 0.55:
        return Case(loader, "a symlink loop", kind="loop")
    if r < 0.7:
        return Case(loader, "empty file", payload=b"")
    n = rng.choice((1, 10, 100, 10_000))
    return Case(loader, f"{n} random bytes", payload=bytes(rng.randrange(256) for _ in range(n)))


def toml_case(rng: Random, loader: str) -> Case:
    """A case for a TOML loader (scenario, policy, targets, framework)."""
    s = seeds()
    name, doc, raw = rng.choice(s.toml[loader])
    r = rng.random()
    if r < 0.62:
        doc = json.loads(json.dumps(doc, default=str))  # a deep copy (dates become text)
        if rng.random() < 0.3:
            doc = tomllib.loads(raw.decode())  # keep the file's own types
        hows = [mutate_doc(rng, doc) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        return Case(loader, f"{name}: " + "; ".join(hows), payload=to_toml(doc))
    if r < 0.84:
        out, how = mutate_bytes(rng, raw)
        return Case(loader, f"{name}: {how}", payload=out)
    if r < 0.94:
        doc = {rng.choice(KEYS): random_value(rng) for _ in range(rng.randrange(0, 6))}
        for k in rng.sample(list(s.toml[loader][0][1]), k=1):
            doc.setdefault(k, random_value(rng))
        return Case(loader, "random structure", payload=to_toml(doc))
    return _special(rng, loader)


def _cell(rng: Random, old: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.2:
        return "", "empty"
    if r < 0.35:
        v = rng.choice(("nan", "inf", "-inf", "1e999", "9" * 400, "-5", "0", "1,2,3", "4-", "≥"))
        return v, repr(v)
    if r < 0.5:
        v = rng.choice(("亿元", "万人", "%", "furlongs", "count (", "(", "USD,", " ", "persons/yr"))
        return v, f"unit-like {v!r}"
    if r < 0.6:
        v = rng.choice(("2024", "1899", "99999", "2024-13", "year", "-2024", "2022-2024", "0"))
        return v, f"year-like {v!r}"
    if r < 0.75:
        v = rng.choice(STRINGS)
        return v, repr(v)
    if r < 0.85:
        v = old * rng.choice((2, 100))
        return v, "repeated text"
    v = "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 20)))
    return v, "random text"


def data_case(rng: Random) -> Case:
    """A case for the data loader: the shipped CSV (often a sample of its rows) mutated."""
    s = seeds()
    header = list(s.data_header)
    rows = [list(r) for r in s.data_rows]
    if rng.random() < 0.9:
        rows = rng.sample(rows, k=rng.randrange(1, 40))
    r = rng.random()
    if r < 0.6:
        hows = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            q = rng.random()
            if q < 0.55 and rows:
                i = rng.randrange(len(rows))
                j = rng.randrange(max(1, min(len(header), len(rows[i]))))
                if j >= len(rows[i]):
                    rows[i].append("")
                rows[i][j], how = _cell(rng, rows[i][j])
                hows.append(f"row {i + 2}, {header[j]} <- {how}")
            elif q < 0.65:
                j = rng.randrange(len(header))
                del header[j]
                for row in rows:
                    if j < len(row):
                        del row[j]
                hows.append(f"delete column {j}")
            elif q < 0.72:
                j = rng.randrange(len(header))
                header[j] = rng.choice(header + list(STRINGS[:6]))
                hows.append(f"rename column {j} to {header[j]!r}")
            elif q < 0.8 and rows:
                i = rng.randrange(len(rows))
                rows.insert(i, list(rows[i]))
                hows.append(f"repeat row {i + 2}")
            elif q < 0.87 and rows:
                i = rng.randrange(len(rows))
                rows[i] = rows[i][: rng.randrange(len(rows[i]) + 1)] + (
                    ["extra"] * rng.randrange(3)
                )
                hows.append(f"ragged row {i + 2}")
            elif q < 0.93:
                header.append(rng.choice(("extra", "city", "value", "")))
                hows.append(f"add column {header[-1]!r}")
            else:
                rows = []
                hows.append("no data rows")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        return Case(
            "data",
            "csv: " + "; ".join(hows),
            payload=buf.getvalue().encode("utf-8", "surrogatepass"),
        )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    raw = buf.getvalue().encode()
    if r < 0.9:
        out, how = mutate_bytes(rng, raw)
        return Case("data", f"csv bytes: {how}", payload=out)
    if r < 0.95:
        text = "\n".join(
            ",".join(
                str(random_scalar(rng)).replace("\n", " ") for _ in range(rng.randrange(1, 10))
            )
            for _ in range(rng.randrange(0, 8))
        )
        return Case("data", "random CSV", payload=text.encode("utf-8", "surrogatepass"))
    return _special(rng, "data")


# =========================================================================== driving the loaders


class Workdir:
    """A scratch directory for cases: ``case.toml``/``case.csv`` rewritten per case, a
    ``base.toml`` (a valid scenario) for ``extends``, a directory and a symlink loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        (path / "base.toml").write_bytes(
            (ROOT / "scenarios" / "hangzhou-nanjing.toml").read_bytes()
        )
        (path / "dir.toml").mkdir(exist_ok=True)
        (path / "dir.csv").mkdir(exist_ok=True)
        for suffix in (".toml", ".csv"):
            loop = path / f"loop{suffix}"
            if not loop.is_symlink():
                with contextlib.suppress(OSError):
                    os.symlink(loop.name, loop)

    def materialise(self, case: Case) -> Path:
        """The path the loader is given for ``case`` (its file written first)."""
        if case.kind == "missing":
            return self.path / f"no-such-file{case.suffix}"
        if case.kind == "directory":
            return self.path / f"dir{case.suffix}"
        if case.kind == "loop":
            return self.path / f"loop{case.suffix}"
        p = self.path / f"case{case.suffix}"
        p.write_bytes(case.payload or b"")
        return p


def _finite(x: Any) -> bool:
    import numpy as np

    return bool(np.all(np.isfinite(np.asarray(x, dtype=float))))


_CONTEXT: dict[str, Any] = {}


def _context() -> dict[str, Any]:
    """Objects the loaders are checked against (a scenario, a resolved dataset), built once."""
    if not _CONTEXT:
        from innosim.data.dataset import load_dataset, resolve
        from innosim.params.scenario import load_scenario

        _CONTEXT["scenario"] = load_scenario(ROOT / "scenarios" / "hangzhou-nanjing.toml")
        _CONTEXT["resolved"] = resolve(load_dataset(ROOT / "data" / "cities_sourced.csv"))
    return _CONTEXT


def _accept_scenario(sc: Any) -> str:
    """Why an accepted scenario is nonetheless bad ('' when it is fine)."""
    from innosim.params.declarations import BY_NAME

    for k, v in sc.glob.items():
        spec = BY_NAME[k]
        if not (math.isfinite(v) and spec.low <= v <= spec.high):
            return f"accepted global {k} = {v!r} outside [{spec.low}, {spec.high}]"
    for k, arr in sc.city.items():
        if not _finite(arr):
            return f"accepted a non-finite {k}"
    for p in sc.policy:
        if not (math.isfinite(p.value) and math.isfinite(p.year)):
            return f"accepted a non-finite policy entry {p!r}"
    if not (math.isfinite(sc.persons_per_agent) and sc.persons_per_agent > 0):
        return f"accepted persons_per_agent = {sc.persons_per_agent!r}"
    return ""


def load_case(case: Case, path: Path, counter: int = 0) -> str:
    """Run the loader of ``case`` on ``path``; returns why an accepted input is bad ('' when
    it is fine). Exceptions propagate to the caller, which judges them."""
    ctx = _context()
    if case.loader == "scenario":
        from innosim.params.scenario import load_scenario

        return _accept_scenario(load_scenario(path))
    if case.loader == "policy":
        from innosim.experiments.policy import apply_policy, load_policy

        pf = load_policy(path)
        for p in pf.policy:
            if not math.isfinite(p.value):
                return f"accepted a non-finite policy value {p.value!r}"
        return _accept_scenario(apply_policy(ctx["scenario"], pf))
    if case.loader == "targets":
        from innosim.experiments.validate import load_targets

        t = load_targets(path)
        for x in t.targets:
            if not (math.isfinite(x.low) and math.isfinite(x.high) and x.low <= x.high):
                return f"accepted a bad range {x.low!r}..{x.high!r}"
        return ""
    if case.loader == "data":
        from innosim.data.dataset import coverage, load_dataset, resolve

        df = load_dataset(path)
        if df["value"].abs().eq(math.inf).any():
            return "accepted an infinite value"
        if len(df) <= 60:
            coverage(resolve(df))
        return ""
    if case.loader == "framework":
        from innosim.index.framework import indicator_matrix, load_framework

        spec = load_framework(path)
        spec.check_data(ctx["resolved"])
        if counter % 10 == 0:
            indicator_matrix(ctx["resolved"], spec)
        for i in spec.indicators:
            if not (math.isfinite(i.scale) and i.scale > 0):
                return f"accepted scale {i.scale!r}"
        return ""
    raise ValueError(f"not a file loader: {case.loader}")


def run_file_case(case: Case, work: Workdir, counter: int = 0) -> Outcome:
    """Materialise and load one file case, and judge the outcome."""
    path = work.materialise(case)
    try:
        with time_limit(CASE_TIMEOUT_S):
            bad = load_case(case, path, counter)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        return judge_exception(exc)
    if bad:
        return Outcome(
            "failure", bad, f"accepted bad input: {bad.split(' ')[1] if ' ' in bad else bad}"
        )
    return Outcome("accepted")


def file_case(rng: Random, loader: str) -> Case:
    """A random case for a file loader."""
    return data_case(rng) if loader == "data" else toml_case(rng, loader)


# =========================================================================== the command line


def _cli_paths(work: Workdir) -> list[str]:
    """Awkward paths: missing, a directory, a symlink loop, below a file, the root, a device."""
    p = work.path
    return [
        str(p / "no-such-file.toml"),
        str(p / "no-such-dir" / "x.csv"),
        str(p / "dir.toml"),
        str(p / "loop.toml"),
        str(p / "base.toml" / "sub"),
        "/",
        "/dev/null",
        "",
        str(ROOT / "data" / "cities_sourced.csv"),
        str(ROOT / "validation" / "targets.toml"),
    ]


_INT_BAD = ("-1", "0", "x", "1.5", "", "1e3", "99999999999999999999999", " 2", "nan", "-0", "0x10")
_INT_OK = ("1", "2", "3", "4")
_YEARS = ("1999", "2000", "2001", "2024", "2030", "1899", "2301", "3000")
_FLOAT_OK = ("0.01", "0.02", "0.05")
_FLOAT_BAD = ("-1", "0", "nan", "inf", "-inf", "1e309", "x", "", "1e-300", "1e5")

_FILE_OPTIONS = {
    "scenario": "scenario",
    "policy": "policy",
    "targets": "targets",
    "framework": "framework",
    "data": "data",
    "file": "data",
}
"""Parameters that name a file a fuzzed loader reads: the CLI fuzzer sometimes passes a
generated (mutated) file of that loader."""


def _values(name: str, kind: Any, work: Workdir, cities: list[str]) -> tuple[list[str], list[str]]:
    """(good, bad) values for a parameter, by name and type."""
    paths = _cli_paths(work)
    if name in ("year", "until"):
        return list(_YEARS[:5]), [*_YEARS[5:], *_INT_BAD]
    if kind is int:
        return list(_INT_OK), list(_INT_BAD)
    if kind is float:
        return list(_FLOAT_OK), list(_FLOAT_BAD)
    if name == "scenario":
        return ["demo", "hangzhou-nanjing", str(work.path / "base.toml")], ["no-such", "", *paths]
    if name == "run":
        return ["latest"], ["abcd", "ab", "zzzzzz", "", "../..", *paths]
    if name in ("city", "like", "a", "b", "gap"):
        return list(cities), ["*", "", "Nowhere", "杭州", "a,b"]
    if name == "cities":
        return [",".join(cities[:3])], ["", ",", "X,Y", f"{cities[0]},{cities[0]}"]
    if name == "ratio":
        return [f"{cities[0]}/{cities[1]}"], ["x", "a/b", "/", f"{cities[0]}/{cities[0]}"]
    if name in ("metrics", "metric"):
        return ["unicorns", "firms,entries"], ["", ",", "bogus", "unicorns,unicorns"]
    if name == "groups":
        return ["culture,demand", "culture"], ["", "bogus", "culture,culture", *paths[:4]]
    if name in ("param", "params"):
        return (
            ["failure_tolerance=0:1:3", "failure_tolerance=0.2,0.5"],
            [
                "x=1:2",
                "=",
                "",
                "failure_tolerance=1:0",
                "failure_tolerance=nan:1",
                f"{cities[0]}.failure_tolerance=0:1:2",
                "Nowhere.failure_tolerance=0:1",
                "failure_tolerance=0:1:0",
                "failure_tolerance=0:1:100000000",
                "failure_tolerance",
            ],
        )
    if name == "scheduler":
        return ["tcp://127.0.0.1:1"], ["bogus", "", "tcp://host:99999", "tls://[::1]:8786"]
    if name == "method":
        return ["abc", "smm"], ["bogus", ""]
    if name == "lang":
        return ["en", "zh"], ["fr", "", "../en"]
    if name in ("policy",):
        return [str(ROOT / "policies" / "nanjing-tolerance.toml"), "nanjing-tolerance"], paths
    if name in ("targets", "framework", "data", "compare", "file"):
        return [], paths
    if name in ("out", "store"):
        return [str(work.path / "out"), str(work.path / "results")], paths
    if kind is Path:
        return [str(work.path / "out")], paths
    return ["x"], [*STRINGS[:12], *paths[:3]]


_COMMAND: dict[str, Any] = {}


def click_command() -> Any:
    """The Click command of innosim's Typer app, built once.

    Typer rebuilds it from the function signatures on every ``CliRunner.invoke`` (about 0.3 s
    here, which would make 10,000 command lines take an hour); the runner is pointed at this
    one instead (see :func:`run_cli_case`). It is the same command the console script runs."""
    if not _COMMAND:
        import typer
        import typer.testing

        from innosim.cli import app

        _COMMAND["cmd"] = typer.main.get_command(app)
        build = typer.testing._get_command  # type: ignore[attr-defined]

        def cached(a: Any) -> Any:
            return _COMMAND["cmd"] if a is app else build(a)

        typer.testing._get_command = cached  # type: ignore[attr-defined]
    return _COMMAND["cmd"]


def cli_commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the CLI as (path, click command), the dashboard server left out (it
    starts a web server; another suite tests it)."""
    if "list" in _COMMAND:
        return _COMMAND["list"]
    root = click_command()
    out: list[tuple[tuple[str, ...], Any]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
        elif path and path[-1] not in ("serve", "dashboard"):
            out.append((path, cmd))

    walk(root, ())
    _COMMAND["list"] = out
    return out


def _base_type(p: Any) -> Any:
    """The Python type a parameter converts to (``int | None`` -> int, ``list[str]`` -> str)."""
    import enum
    import typing

    ann = p.type_descriptor.annotation
    for _ in range(3):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if not args or (isinstance(ann, type) and issubclass(ann, enum.Enum)):
            break
        ann = args[0]
    return ann


def _param_value(rng: Random, p: Any, work: Workdir, cities: list[str]) -> str:
    """One value for a parameter: mostly a good one, else a bad one; for a file that a fuzzed
    loader reads, sometimes a freshly generated (mutated) file of that loader."""
    import enum

    name = p.name or ""
    t = _base_type(p)
    if name in _FILE_OPTIONS and rng.random() < 0.35:
        case = file_case(rng, _FILE_OPTIONS[name])
        if case.kind != "file":
            return str(work.materialise(case))
        path = work.path / f"cli-{name}{case.suffix}"
        path.write_bytes(case.payload or b"")
        return str(path)
    if isinstance(t, type) and issubclass(t, enum.Enum):
        good, bad = [str(m.value) for m in t], ["bogus", ""]
    else:
        good, bad = _values(name, t, work, cities)
    if good and rng.random() < 0.75:
        return rng.choice(good)
    return rng.choice(bad)


def cli_case(rng: Random, work: Workdir) -> Case:
    """A random command line over every command and option: mostly near-valid (a known command,
    its arguments, some options with good or bad values), sometimes unknown options, junk
    arguments, a missing argument or ``--help``."""
    cmds = cli_commands()
    cities = list(_context()["scenario"].city_names)
    path, cmd = rng.choice(cmds)
    argv: list[str] = list(path)
    if rng.random() < 0.03:
        argv = [rng.choice(("bogus", "", "-x", "--version", "--help"))]
        return Case("cli", "top level: " + " ".join(argv), argv=tuple(argv))
    for p in cmd.params:
        if p.param_type_name == "argument" and rng.random() < 0.95:
            argv.append(_param_value(rng, p, work, cities))
    for p in cmd.params:
        if p.param_type_name != "option" or p.name in ("help",):
            continue
        if rng.random() > 0.3:
            continue
        opt = rng.choice(p.opts + p.secondary_opts)
        if p.is_flag:
            argv.append(opt)
            continue
        argv += [opt, *(_param_value(rng, p, work, cities) for _ in range(max(1, p.nargs)))]
        if p.multiple and rng.random() < 0.3:
            argv += [opt, _param_value(rng, p, work, cities)]
    r = rng.random()
    if r < 0.05:
        argv.insert(rng.randrange(1, len(argv) + 1), rng.choice(("--bogus", "-z", "--seed")))
    elif r < 0.08:
        argv.append(rng.choice(STRINGS[:8]))
    elif r < 0.1 and len(argv) > len(path):
        del argv[rng.randrange(len(path), len(argv))]
    elif r < 0.11:
        argv.append("--help")
    return Case("cli", " ".join(argv), argv=tuple(argv))


_SAVED: list[tuple[Any, str, Any]] = []
"""(module, attribute, original) of every stub in place."""


def install_cli_stubs() -> None:
    """Replace the functions where commands start real work (simulations, process pools, Dask
    clusters, figures, the index computation) with a stub raising :class:`WorkReached`, so a
    command line is judged on its arguments in milliseconds. Argument checks that happen before
    the work (scenario, policy, targets, groups, framework and data files, run references,
    options) all run for real. :func:`remove_cli_stubs` puts the originals back."""
    if _SAVED:
        return
    import importlib

    def mod(name: str) -> Any:
        # by module path: packages re-export functions under their submodules' names
        return importlib.import_module(f"innosim.{name}")

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise WorkReached

    def build_index(framework: Any = None, data: Any = None, **kwargs: Any) -> Any:
        """Check the framework and data files for real, then stop where computing starts."""
        from innosim.data.dataset import load_dataset
        from innosim.index.framework import load_framework

        load_framework(framework).check_data(
            _context()["resolved"] if data is None else load_dataset(data)
        )
        raise WorkReached

    stubs: list[tuple[Any, str, Any]] = [
        *((mod(m), "run", reached) for m in ("api", "experiments.compare", "experiments.sweep")),
        *(
            (mod(f"experiments.{m}"), "map_runs", reached)
            for m in ("executor", "compare", "calibrate", "validate", "sensitivity")
        ),
        (mod("experiments.executor"), "iter_batches", reached),
        (mod("experiments.sweep"), "iter_batches", reached),
        (mod("data"), "resolve", reached),  # data check: right after loading
        (mod("report.figures"), "timeseries_figure", reached),
        (mod("report.html"), "render_report", reached),
        (mod("report.html"), "_render_experiment", reached),
        (mod("index"), "build_index", build_index),
    ]
    for module, name, stub in stubs:
        if not hasattr(module, name):  # renamed since: that work then runs for real
            print(f"note: no {module.__name__}.{name} to stub")
            continue
        _SAVED.append((module, name, getattr(module, name)))
        setattr(module, name, stub)


def remove_cli_stubs() -> None:
    """Undo :func:`install_cli_stubs`."""
    while _SAVED:
        mod, name, original = _SAVED.pop()
        setattr(mod, name, original)


_USAGE_BOX = re.compile(r"(?:^Usage: .*\n(?:Try .*\n)?)?[\s\S]*Error[\s\S]*\S", re.M)
"""Typer's usage error: an optional usage line, then the message in a box titled Error."""


def judge_cli(exit_code: int, stdout: str, stderr: str, exc: BaseException | None) -> Outcome:
    """The outcome of one command line.

    Clean: exit 2 with either innosim's one-line ``error:`` paragraph or Typer's usage error
    (usage line, then the message); accepted: exit 0 or the work stub reached. Anything else
    (an uncaught exception, ``internal error``, a traceback, exit 1 or 3) is a failure."""
    out = stdout + stderr
    if isinstance(exc, WorkReached):
        return Outcome("accepted", "work reached")
    if isinstance(exc, CaseTimeout):
        return Outcome("failure", "ran past the time limit", "timeout")
    if exc is not None and not isinstance(exc, SystemExit):
        return Outcome(
            "failure",
            f"uncaught {type(exc).__name__}: {exc}",
            f"{type(exc).__name__}@{_frame_of(exc)}",
        )
    if "Traceback" in out or "internal error" in out:
        line = next((x for x in out.splitlines() if "internal error" in x), out[-300:])
        m = re.search(r"internal error: (\w+)", out)
        return Outcome("failure", line[:400], f"internal error {m[1] if m else ''}")
    if exit_code == 0:
        return Outcome("accepted")
    if exit_code == 2:
        errs = [x for x in stderr.splitlines() if x.startswith("error: ")]
        if len(errs) == 1 and stderr.strip().count("\n") == 0:
            return Outcome("clean", errs[0][:300])
        if _USAGE_BOX.search(stderr):
            return Outcome("clean", " ".join(stderr.split())[:300])
        return Outcome(
            "failure", f"exit 2 without a clear message: {out[:300]!r}", "exit 2 unclear"
        )
    return Outcome("failure", f"exit {exit_code}: {out[-300:]!r}", f"exit {exit_code}")


def prepare_cli(work: Workdir) -> None:
    """Stubs in, and a tiny stored run in ``work/results`` for show, plot and report."""
    import innosim
    from innosim.params.scenario import load_scenario

    store = work.path / "results"
    if not (store / "runs").is_dir():
        sc = load_scenario(ROOT / "scenarios" / "demo.toml")
        try:
            res = innosim.simulate(sc.with_end_year(sc.start_year), seed=1, scale=0.05)
            innosim.save_run(res, store)
        except Exception as exc:
            print(f"note: no stored run for show/plot/report ({type(exc).__name__}: {exc})")
    install_cli_stubs()


def run_cli_case(case: Case, work: Workdir) -> Outcome:
    """Run one command line in-process (Typer's CliRunner, cwd = the work directory)."""
    from typer.testing import CliRunner

    from innosim.cli import app

    click_command()
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(work.path)
    try:
        with time_limit(CASE_TIMEOUT_S):
            res = runner.invoke(app, list(case.argv), catch_exceptions=True)
        exc = res.exception
        return judge_cli(res.exit_code, res.stdout, res.stderr, exc)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        return judge_cli(-1, "", "", exc)
    finally:
        os.chdir(old)


def generate(rng: Random, loader: str, work: Workdir) -> Case:
    """One random case for ``loader``."""
    if loader == "cli":
        return cli_case(rng, work)
    return file_case(rng, loader)


def run_case(case: Case, work: Workdir, counter: int = 0) -> Outcome:
    """Run one case of any loader and judge it."""
    if case.loader == "cli":
        return run_cli_case(case, work)
    return run_file_case(case, work, counter)


# =========================================================================== minimising


def minimise(case: Case, work: Workdir, signature: str, budget: int = 150) -> Case:
    """A smaller case failing with the same signature: lines (files) or arguments (command
    line) removed greedily, halves first, within ``budget`` tries."""
    if case.loader == "cli":
        parts: list[Any] = list(case.argv)
        keep = 1
    elif case.payload:
        parts = case.payload.split(b"\n")
        keep = 0
    else:
        return case

    def rebuild(ps: list[Any]) -> Case:
        if case.loader == "cli":
            return Case(case.loader, case.how, argv=tuple(ps))
        return Case(case.loader, case.how, payload=b"\n".join(ps))

    tries = 0
    chunk = max(1, (len(parts) - keep) // 2)
    while chunk >= 1 and tries < budget:
        i = keep
        changed = False
        while i < len(parts) and tries < budget:
            cand = parts[:i] + parts[i + chunk :]
            tries += 1
            out = run_case(rebuild(cand), work)
            if out.kind == "failure" and out.signature == signature:
                parts = cand
                changed = True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return rebuild(parts)
