"""The page's front-end files (Vuetify app, RequireJS, Font Awesome), installed once with npm.

Solara's page loads its JavaScript and CSS from a CDN through the server's asset proxy, which
keeps what it fetched in a cache directory (``solara.server.settings.assets.proxy_cache_dir``).
Where the CDN cannot be reached (an offline server, CI), the page stays blank. :func:`install`
fills that cache from the npm registry with the ordinary ``npm pack`` client, the exact
packages and versions Solara's page template names; :func:`missing` says what is absent. Each
package is unpacked into a temporary directory and renamed into place, so two processes
installing at once never leave a half-written package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Final

from innosim.errors import InputError

__all__ = ["cache_dir", "install", "missing", "required_packages"]

NPM_TIMEOUT_S: Final = 300
_CDN_REF: Final = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/")


def cache_dir() -> Path:
    """Solara's asset-proxy cache directory (``SOLARA_ASSETS_PROXY_CACHE_DIR`` overrides it)."""
    from solara.server import settings  # the dashboard extra

    return Path(settings.assets.proxy_cache_dir)


def required_packages() -> list[tuple[str, str]]:
    """``(npm name, version)`` of every package the page template loads from the CDN, for the
    installed ipyvuetify (the Vuetify 3 app for ipyvuetify 3, the Vuetify 2 app otherwise)."""
    import solara.server  # the dashboard extra
    from solara.server import settings  # the dashboard extra

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    found = dict(_CDN_REF.findall(template.read_text(encoding="utf-8")))
    fa = _CDN_REF.match("{{cdn}}" + settings.assets.fontawesome_path)
    if fa:
        found[fa.group(1)] = fa.group(2)
    try:
        v3 = int(metadata.version("ipyvuetify").split(".")[0]) >= 3
    except metadata.PackageNotFoundError:  # pragma: no cover - solara depends on it
        v3 = False
    unused = "@widgetti/solara-vuetify-app" if v3 else "@widgetti/solara-vuetify3-app"
    return sorted((name, ver) for name, ver in found.items() if name != unused)


def _target(root: Path, name: str, version: str) -> Path:
    return root / f"{name}@{version}"


def missing(root: Path | None = None) -> list[tuple[str, str]]:
    """Required packages not yet in the cache directory."""
    root = cache_dir() if root is None else root
    return [
        (n, v)
        for n, v in required_packages()
        if not (_target(root, n, v) / "package.json").is_file()
    ]


def install(root: Path | None = None, say: Callable[[str], None] | None = None) -> list[str]:
    """Download the missing packages with ``npm pack`` and unpack them into the cache.

    Returns the ``name@version`` installed (empty when nothing was missing).

    Raises
    ------
    InputError
        npm is not installed, or it could not fetch a package (naming the package and npm's
        last message).
    """
    root = cache_dir() if root is None else root
    todo = missing(root)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise InputError(
            "the dashboard's front-end files are missing and npm is not installed",
            field="assets",
            value=", ".join(f"{n}@{v}" for n, v in todo),
            expected=f"npm (Node.js) to fetch them once into {root}, or those packages "
            "unpacked there by hand",
        )
    root.mkdir(parents=True, exist_ok=True)
    done = []
    for name, version in todo:
        spec = f"{name}@{version}"
        if say:
            say(f"Fetching {spec} with npm (once) into {root}")
        with tempfile.TemporaryDirectory(dir=root, prefix=".npm-") as tmp:
            proc = subprocess.run(
                [npm, "pack", spec, "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                cwd=tmp,
                check=False,
            )
            tarballs = list(Path(tmp).glob("*.tgz"))
            if proc.returncode != 0 or len(tarballs) != 1:
                last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                raise InputError(
                    "npm could not fetch a front-end package",
                    field="assets",
                    value=spec,
                    expected=f"a reachable npm registry ({last[0]})",
                )
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tarballs[0]) as tar:
                tar.extractall(unpacked, filter="data")
            target = _target(root, name, version)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and not (target / "package.json").is_file():
                shutil.rmtree(target, ignore_errors=True)  # single files the proxy cached
            try:
                (unpacked / "package").rename(target)
            except OSError:
                if not (target / "package.json").is_file():  # not another process's install
                    raise
        done.append(spec)
    return done
