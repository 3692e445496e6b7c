"""A CJK font for Chinese text inside the report's figures.

Matplotlib draws only with fonts in its font cache, and that cache may predate a font installed
later (``make test`` installs WenQuanYi Zen Hei with Debian's chromium). :func:`cjk_family`
first looks for a known CJK family in the cache, then for a known CJK font file among the
system's fonts and registers it with ``fontManager.addfont``. Without one, Chinese glyphs in the
figures are drawn as boxes; :func:`fonts` then warns once (a :class:`FontWarning`, which the CLI
prints as one line) and the HTML text is unaffected.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib import font_manager as fm

__all__ = ["CJK_FAMILIES", "FontWarning", "cjk_family", "fonts"]

CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
"""Families tried, in order of preference."""

_FILE_HINTS = (
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "simhei",
    "msyh",
    "pingfang",
    "droidsansfallback",
    "uming",
)
"""Substrings of font file names (lower case, no '-' or '_') that hold Chinese glyphs."""

_warned = False


class FontWarning(UserWarning):
    """No CJK font: Chinese labels inside the figures will be drawn as boxes."""


@functools.cache
def cjk_family() -> str | None:
    """The name of a CJK font family Matplotlib can draw with, or None when there is none."""

    def known() -> str | None:
        names = {f.name for f in fm.fontManager.ttflist}
        return next((f for f in CJK_FAMILIES if f in names), None)

    found = known()
    if found is not None:
        return found
    for path in fm.findSystemFonts():
        stem = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(h in stem for h in _FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # unreadable or unsupported file
                continue
    return known()


@contextmanager
def fonts(lang: str) -> Iterator[None]:
    """Within the block, Matplotlib draws text in a CJK font when ``lang`` is ``"zh"``."""
    rc: dict[str, object] = {}
    if lang == "zh":
        family = cjk_family()
        if family is None:
            _warn_once()
        else:
            # DejaVu Sans first: Latin text, digits and the minus sign of mathtext tick labels
            # (which CJK fonts may lack); Matplotlib falls back glyph by glyph to the CJK font
            rc = {"font.family": ["DejaVu Sans", family]}
    # a CJK font of weight 500 makes font_manager log "Failed to find font weight normal"
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with matplotlib.rc_context(rc):
            yield
    finally:
        log.setLevel(level)


def _warn_once() -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(
        "no CJK font found (looked for " + ", ".join(CJK_FAMILIES[:4]) + " and others): Chinese "
        "labels inside the figures will be drawn as boxes; install one, e.g. "
        "'apt-get install fonts-wqy-zenhei' or 'fonts-noto-cjk' (the HTML text is unaffected)",
        FontWarning,
        stacklevel=3,
    )
