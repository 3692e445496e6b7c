"""The experiments sit below the public API and the report layer: they import neither, and
import no other module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "innosim"
OWN = sorted(
    [
        *(SRC / "experiments").glob("*.py"),
        SRC / "api.py",
        SRC / "validation.py",
        SRC / "params" / "space.py",
        SRC / "report" / "outputs.py",
    ]
)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


@pytest.mark.parametrize("path", sorted((SRC / "experiments").glob("*.py")), ids=lambda p: p.name)
def test_experiments_import_neither_api_nor_report(path: Path) -> None:
    bad = [m for m, _ in _imports(path) if m == "innosim.api" or m.startswith("innosim.report")]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", OWN, ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_names_imported_from_other_modules(path: Path) -> None:
    bad = [
        f"{m}.{n}"
        for m, names in _imports(path)
        if m.startswith("innosim")
        for n in names
        if n.startswith("_") and n != "__version__"
    ]
    assert not bad, f"{path.relative_to(SRC)} imports private names {bad}"


def test_validation_is_a_bottom_utility() -> None:
    mods = {m for m, _ in _imports(SRC / "validation.py") if m.startswith("innosim")}
    assert mods <= {"innosim.errors"}
