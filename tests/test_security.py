"""Security checks (issue 8, point 5; docs/reliability.md, "Security").

* No code that can execute or deserialise what a user supplies: ``pickle``/``marshal``,
  ``eval``/``exec``/``__import__``, unsafe YAML, ``shell=True``, ``os.system``, unsafe archive
  extraction. Every use the scan finds is listed in :data:`ALLOWED` with why it is safe.
* Loaders follow no path a file names, except a scenario's ``extends`` (kept inside the
  scenario's directory) and a targets file's scenarios (read by ``validate`` as the command
  line's own argument would be); a new path-like field in any schema fails here.
* Loaders read only regular files of bounded size (no ``/dev/zero``, pipe or giant file).
* The dashboard server binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

import innosim
from innosim.data import load_dataset
from innosim.errors import InputError, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "innosim"

FORBIDDEN: dict[str, re.Pattern[str]] = {
    "pickle": re.compile(r"\b(c?pickle|cloudpickle|dill|joblib)\b\.(loads?|Unpickler)\b"),
    "pickle import": re.compile(r"^\s*(import|from)\s+(c?pickle|cloudpickle|dill|shelve)\b", re.M),
    "marshal": re.compile(r"\bmarshal\b"),
    "eval": re.compile(r"(?<![\w.])eval\("),
    "exec": re.compile(r"(?<![\w.])exec\("),
    "__import__": re.compile(r"__import__\("),
    "compile()": re.compile(r"(?<![\w.])compile\([^)]*['\"]exec['\"]"),
    "yaml.load": re.compile(r"yaml\.(load|load_all|unsafe_load|full_load)\("),
    "shell=True": re.compile(r"shell\s*=\s*True"),
    "os.system": re.compile(r"\bos\.(system|popen)\("),
    "read_pickle": re.compile(r"\b(read_pickle|allow_pickle\s*=\s*True)"),
    "extractall": re.compile(r"\.extractall\("),
}
"""What must not appear in src/ (outside :data:`ALLOWED`)."""

ALLOWED: dict[tuple[str, str], str] = {
    (
        "experiments/calibrate.py",
        "pickle import",
    ): "cloudpickle serialises innosim's own ABC closure in the parent process and pickle "
    "loads it in innosim's own pool worker (_abc_slot); no user file or network data is "
    "ever unpickled",
    (
        "experiments/calibrate.py",
        "pickle",
    ): "same blob as above: created by innosim in this run, never read from a file",
    (
        "dashboard/assets.py",
        "extractall",
    ): "extracts the pinned front-end packages into innosim's cache with filter='data' "
    "(PEP 706: no absolute paths, no '..', no links out, no devices)",
}
"""(file under src/innosim, pattern name) -> why that use is safe."""


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _code(path: Path) -> str:
    """The file without comments and docstrings (prose may name the forbidden functions)."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            v = body[0].value
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                doc_lines.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    kept = [
        re.sub(r"#.*$", "", line) if i + 1 not in doc_lines else "\n"
        for i, line in enumerate(lines)
    ]
    return "".join(kept)


def test_no_unsafe_calls_in_src():
    found = []
    for path in _sources():
        rel = path.relative_to(SRC).as_posix()
        code = _code(path)
        for name, pat in FORBIDDEN.items():
            for m in pat.finditer(code):
                if (rel, name) not in ALLOWED:
                    line = code.count("\n", 0, m.start()) + 1
                    found.append(f"{rel}:{line}: {name}: {m.group(0)!r}")
    assert not found, "unsafe calls (add to ALLOWED only with a reason):\n" + "\n".join(found)


def test_the_allowlist_is_not_stale():
    """Every allowed use still exists (a removed one must leave the list)."""
    for (rel, name), why in ALLOWED.items():
        assert why
        path = SRC / rel
        if not path.exists():  # a module of a package being rewritten elsewhere
            continue
        assert FORBIDDEN[name].search(_code(path)), f"{rel}: no {name} any more"


def test_the_scan_finds_what_it_should(tmp_path):
    bad = "import pickle\nx = pickle.loads(b'')\neval('1')\nsubprocess.run('ls', shell=True)\n"
    p = tmp_path / "bad.py"
    p.write_text(bad, encoding="utf-8")
    code = _code(p)
    hits = {name for name, pat in FORBIDDEN.items() if pat.search(code)}
    assert {"pickle import", "pickle", "eval", "shell=True"} <= hits
    p.write_text('"""eval(x) in a docstring"""\n# pickle.loads in a comment\n', encoding="utf-8")
    assert not any(pat.search(_code(p)) for pat in FORBIDDEN.values())


# =========================================================================== paths in files

PATH_WORDS = re.compile(
    r"(^|_)(paths?|files?|dirs?|directory|include|import|extends|scenarios?|url|uri|load)($|_)"
)
"""Field names that could make a loader read another file."""

PATH_FIELDS = {
    ("scenario", "extends"): "a scenario name or a .toml file inside the scenario's directory",
    ("scenario", "scenario"): "the [scenario] header table, not a reference",
    ("targets", "scenario"): "a scenario reference, resolved by validate like the CLI argument",
}
"""(loader, field) that look like references to other files, and what they are."""


def _schema_fields() -> set[tuple[str, str]]:
    import importlib

    from pydantic import BaseModel

    # by module path: the packages re-export functions under their modules' names
    policy = importlib.import_module("innosim.experiments.policy")
    validate = importlib.import_module("innosim.experiments.validate")
    framework = importlib.import_module("innosim.index.framework")
    scenario = importlib.import_module("innosim.params.scenario")

    roots = {
        "scenario": scenario._ScenarioFile,
        "policy": policy._PolicyFileModel,
        "targets": validate._File,
        "framework": framework._File,
    }
    out: set[tuple[str, str]] = set()
    for loader, root in roots.items():
        todo: list[type[BaseModel]] = [root]
        seen: set[type[BaseModel]] = set()
        while todo:
            model = todo.pop()
            if model in seen:
                continue
            seen.add(model)
            for name, f in model.model_fields.items():
                out.add((loader, name))
                for t in (f.annotation, *getattr(f.annotation, "__args__", ())):
                    if isinstance(t, type) and issubclass(t, BaseModel):
                        todo.append(t)
    return out


def test_no_loader_follows_a_path_it_was_not_asked_to():
    """Only the fields in PATH_FIELDS can name another file; a new one (say ``include``) must
    be added there, with its guard, deliberately."""
    suspicious = {(lo, f) for lo, f in _schema_fields() if PATH_WORDS.search(f)}
    assert suspicious <= set(PATH_FIELDS), suspicious - set(PATH_FIELDS)


HEADER = '[scenario]\nname = "t"\n'
CITY_A = '[[city]]\nname = "A"\nlat = 30.0\nlon = 120.0\n'


@pytest.mark.parametrize(
    "ref",
    [
        "/etc/passwd",
        "/etc/hostname.toml",
        "../outside.toml",
        "sub/../../outside.toml",
        "sub/base",
        "link.toml",
    ],
)
def test_extends_cannot_leave_the_scenario_directory(tmp_path, ref):
    """An absolute path, ``..`` out of the directory, a path without .toml or a symbolic link
    pointing elsewhere is refused before anything is read."""
    outside = tmp_path / "outside.toml"
    outside.write_text(HEADER + CITY_A, encoding="utf-8")
    inner = tmp_path / "inner"
    (inner / "sub").mkdir(parents=True)
    (inner / "link.toml").symlink_to(outside)
    path = inner / "s.toml"
    path.write_text(f'extends = "{ref}"\n' + HEADER, encoding="utf-8")
    with pytest.raises(ScenarioError, match="outside this file's directory") as e:
        innosim.load_scenario(path)
    assert e.value.field == "extends" and e.value.value == ref


def test_extends_a_file_below_the_directory_still_works(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.toml").write_text(HEADER + CITY_A, encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('extends = "sub/base.toml"\n[scenario]\nname = "kid"\n', encoding="utf-8")
    assert innosim.load_scenario(path).city_names == ("A",)


# =========================================================================== what is read


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("load", [innosim.load_scenario, load_dataset])
def test_devices_and_pipes_are_refused_not_read(tmp_path, load):
    # the scenario finder refuses what is not a regular file as "not found" before reading
    with pytest.raises(InputError, match=r"not a regular file|not found"):
        load(Path("/dev/zero"))  # would never end if read
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not a regular file|not found"):
        load(fifo)  # would block forever if opened for reading


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_read_file_refuses_devices_and_pipes(tmp_path):
    from innosim.index import load_ranking
    from innosim.inputs import read_toml

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    for p in (Path("/dev/zero"), fifo):
        with pytest.raises(InputError, match="not a regular file"):
            read_toml(p, "policy file")
        with pytest.raises(InputError, match="not a regular file"):
            load_ranking(p)


def test_oversized_files_are_refused(tmp_path, monkeypatch):
    from innosim import inputs
    from innosim.data import dataset

    monkeypatch.setattr(inputs, "MAX_TOML_BYTES", 100)
    monkeypatch.setattr(dataset, "MAX_DATA_BYTES", 100)
    big = tmp_path / "big.toml"
    big.write_text(HEADER + "# " + "x" * 200 + "\n" + CITY_A, encoding="utf-8")
    with pytest.raises(ScenarioError, match="too large") as e:
        innosim.load_scenario(big)
    assert e.value.field == "size"
    csv = tmp_path / "big.csv"
    csv.write_text("city,country\n" + "a,b\n" * 100, encoding="utf-8")
    with pytest.raises(InputError, match="too large"):
        load_dataset(csv)


def test_default_limits_leave_room_for_the_shipped_files():
    from innosim import inputs
    from innosim.data import dataset

    for p in [*ROOT.glob("scenarios/*.toml"), *ROOT.glob("policies/*.toml")]:
        assert p.stat().st_size * 100 < inputs.MAX_TOML_BYTES
    assert (ROOT / "data" / "cities_sourced.csv").stat().st_size * 100 < dataset.MAX_DATA_BYTES


# =========================================================================== the dashboard


def test_dashboard_binds_localhost_by_default():
    """``serve()`` and ``innosim serve --host`` default to 127.0.0.1 (read from the source, so
    the check needs neither solara nor a free port)."""
    server = SRC / "dashboard" / "server.py"
    if not server.exists():
        pytest.skip("no dashboard in this checkout")
    tree = ast.parse(server.read_text(encoding="utf-8"))
    serve = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "serve")
    args = serve.args
    defaults = dict(
        zip(
            [a.arg for a in args.args][-len(args.defaults) :] if args.defaults else [],
            args.defaults,
            strict=True,
        )
    )
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d})
    assert isinstance(defaults.get("host"), ast.Constant)
    assert defaults["host"].value == "127.0.0.1"

    import typer

    from innosim.cli import app

    cmd = typer.main.get_command(app)
    serve_cmd = getattr(cmd, "commands", {}).get("serve")
    if serve_cmd is None:
        pytest.skip("no serve command yet")
    host = next(p for p in serve_cmd.params if p.name == "host")
    assert host.default == "127.0.0.1"
