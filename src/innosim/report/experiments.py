"""Reports of experiments (work in progress)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

KINDS: dict[str, tuple[str, ...]] = {}


def experiment_kind(directory: Path) -> str | None:
    return None


def experiment_sections(kind: str, directory: Path, lang: str) -> tuple[str, Any, list[Any]]:
    raise NotImplementedError(kind)
