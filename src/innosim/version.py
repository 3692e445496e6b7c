"""innosim's version: the installed distribution's, else the source tree's."""

from __future__ import annotations

from importlib import metadata

SOURCE_VERSION = "0.1.0"
"""The version in this source tree (pyproject.toml's), used when innosim is not installed."""


def version() -> str:
    """The installed innosim's version (``importlib.metadata``), else :data:`SOURCE_VERSION`."""
    try:
        return metadata.version("innosim")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout on sys.path
        return SOURCE_VERSION


__all__ = ["SOURCE_VERSION", "version"]
