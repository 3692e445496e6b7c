"""Structural promises of the code base that no single module test covers."""

from __future__ import annotations

import ast
import csv
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import innosim

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "innosim"


def _city_names() -> set[str]:
    names = set()
    with open(ROOT / "data" / "cities_sourced.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = re.sub(r"\s*\(prov\.\)\s*$", "", row["city"]).strip()
            if name:
                names.add(name)
    for scen in innosim.list_scenarios():
        names.update(innosim.load_scenario(scen).city_names)
    return names


def test_no_city_name_in_the_source_code() -> None:
    """Cities differ only by parameters and data: no city is named in src/ (only in data/ and
    scenarios/)."""
    names = _city_names()
    assert {"Hangzhou", "Nanjing"} <= names
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)), re.I)
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = pattern.search(line)
            if m:
                hits.append(f"{path.relative_to(ROOT)}:{no}: {m.group(0)}")
    assert not hits, "city names in src/:\n" + "\n".join(hits)


# ---------------------------------------------------------------------------------- layers
PYPROJECT = ROOT / "pyproject.toml"


def _lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts of pyproject.toml over the package under ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_import_contracts_hold(tmp_path: Path) -> None:
    """The layers of docs/architecture.md, as import-linter contracts (also run by make lint)."""
    r = _lint_imports(SRC.parent, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout, r.stdout


def test_a_back_import_breaks_the_layers(tmp_path: Path) -> None:
    """The contracts have teeth: the engine importing the API (a layer above) is reported."""
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "innosim", ignore=shutil.ignore_patterns("__pycache__"))
    state = copy / "innosim" / "engine" / "state.py"
    state.write_text(state.read_text(encoding="utf-8") + "\nimport innosim.api  # noqa\n")
    r = _lint_imports(copy, tmp_path)
    assert r.returncode != 0
    assert "innosim.engine.state -> innosim.api" in r.stdout, r.stdout


def _imports(path: Path):
    """(node, inside a function) for every import statement of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = {
        id(n)
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(f)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, id(node) in inside


def _innosim_modules(node) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.module and node.module.startswith("innosim") else []
    return [a.name for a in node.names if a.name.startswith("innosim")]


def test_no_module_imports_private_names() -> None:
    """``from innosim.x import _y`` or ``import innosim._x``: private means private."""
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        for node, _ in _imports(path):
            for mod in _innosim_modules(node):
                names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
                private = [p for p in mod.split(".") if p.startswith("_")]
                private += [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private:
                    bad.append(f"{path.relative_to(SRC)}:{node.lineno}: {mod} {private}")
    assert not bad, "imports of private names:\n" + "\n".join(bad)


LAZY_FOR_EXTRAS = {
    ("cli/serve.py", "innosim.dashboard.server"): "Solara and uvicorn: the dashboard extra",
    ("experiments/calibrate.py", "innosim.experiments.pyabc_priors"): "pyabc: the calibrate extra",
}
"""innosim modules imported inside a function because they import an optional extra."""


def test_innosim_imports_are_at_module_top() -> None:
    """No import of an innosim module inside a function, except a module that needs an
    optional extra: the dependencies of a module are what its header says."""
    bad = [
        f"{path.relative_to(SRC)}:{node.lineno}: {', '.join(_innosim_modules(node))}"
        for path in sorted(SRC.rglob("*.py"))
        for node, in_function in _imports(path)
        if in_function
        and _innosim_modules(node)
        and (str(path.relative_to(SRC)), _innosim_modules(node)[0]) not in LAZY_FOR_EXTRAS
    ]
    assert not bad, "innosim imports inside functions:\n" + "\n".join(bad)


OPTIONAL_EXTRAS = {
    "solara": "the dashboard extra (Solara reads its settings from the environment on import)",
    "uvicorn": "the dashboard extra (Solara's server)",
    "playwright": "the dashboard extra (browser checks)",
    "pyabc": "the calibrate extra (ABC-SMC)",
    "optuna": "the calibrate extra (SMM's optimiser)",
    "cloudpickle": "the calibrate extra (pyabc brings it; ships the sampler to workers)",
    "dask": "the distributed extra",
    "distributed": "the distributed extra (the Dask executor)",
    "mesa": "the bench extra (reference model)",
    "psutil": "the bench extra (memory readings)",
}
"""Third-party packages that may be imported inside a function: optional extras only, so that
the modules needing them import without them. Everything else -- the standard library and the
core dependencies of pyproject.toml -- is imported at module top."""


def _top_package(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return ["innosim"] if node.level else [(node.module or "").split(".")[0]]
    return [a.name.split(".")[0] for a in node.names]


def test_optional_extras_are_not_core_dependencies() -> None:
    """An allowlisted package must not be a core dependency (those import at module top)."""
    with open(PYPROJECT, "rb") as fh:
        project = tomllib.load(fh)["project"]
    core = {re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    assert {"matplotlib", "scipy", "salib", "jinja2", "duckdb", "pyarrow"} <= core
    assert not {p.lower() for p in OPTIONAL_EXTRAS} & core


def test_dependencies_are_imported_at_module_top() -> None:
    """No import of the standard library or of a core dependency inside a function: only an
    optional extra (:data:`OPTIONAL_EXTRAS`) is imported lazily, where it is needed."""
    bad = [
        f"{path.relative_to(SRC)}:{node.lineno}: {pkg}"
        for path in sorted(SRC.rglob("*.py"))
        for node, in_function in _imports(path)
        if in_function
        for pkg in _top_package(node)
        if pkg != "innosim" and pkg not in OPTIONAL_EXTRAS
    ]
    assert not bad, "library imports inside functions:\n" + "\n".join(bad)


def test_no_pyplot() -> None:
    """Figures use Matplotlib's object API on their own Agg canvas; ``pyplot`` (global figure
    state and backend) is imported nowhere."""
    bad = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in sorted(SRC.rglob("*.py"))
        for node, _ in _imports(path)
        if any(
            m == "matplotlib.pyplot" or (m == "matplotlib" and a == "pyplot")
            for m, a in (
                [(node.module or "", a.name) for a in node.names]
                if isinstance(node, ast.ImportFrom)
                else [(a.name, "") for a in node.names]
            )
        )
    ]
    assert not bad, "pyplot imported:\n" + "\n".join(bad)


def test_import_innosim_is_lazy() -> None:
    """``import innosim`` loads no numerical library and no report module (PEP 562)."""
    code = (
        "import sys, innosim\n"
        "heavy = ('matplotlib', 'scipy', 'numpy', 'pandas', 'innosim.report', 'innosim.api')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    """Every name of ``__all__`` resolves to the object of the module that defines it, is
    cached in the package and listed by ``dir()``; the lazy table and the ``TYPE_CHECKING``
    imports name the same objects."""
    lazy = innosim._LAZY
    assert set(lazy) == set(innosim.__all__) - {"__version__"}
    assert innosim.__version__ == innosim.version.SOURCE_VERSION
    for name in innosim.__all__:
        value = getattr(innosim, name)
        if name in lazy:
            module, attr = lazy[name]
            assert value is getattr(importlib.import_module(module), attr), name
        assert name in vars(innosim) and name in dir(innosim), name
    namespace: dict[str, object] = {}
    exec("from innosim import *", namespace)
    assert set(innosim.__all__) <= set(namespace)
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    typed = {
        alias.asname or alias.name: (node.module, alias.name)
        for block in tree.body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == lazy
    with pytest.raises(AttributeError):
        innosim.no_such_name  # noqa: B018


def test_no_import_cycles_between_modules() -> None:
    """Not only between layers: no two modules of the package import each other, directly or
    through others (strongly connected components of grimp's import graph)."""
    import grimp  # the graph library under import-linter (dev tools)

    graph = grimp.build_graph("innosim", cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = [stack.pop()]
            while comp[-1] != v:
                comp.append(stack.pop())
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    assert len(graph.modules) > 100
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)
