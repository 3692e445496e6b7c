"""One self-contained HTML report of a stored run or of an experiment (``innosim report``).

The report is a list of sections (:mod:`innosim.report.blocks`): for a stored run they come from
:mod:`innosim.report.run_report`, for the ``--out`` directory of ``innosim validate``,
``compare``, ``explain``, ``index`` or ``sweep`` from :mod:`innosim.report.experiments`.
Figures are drawn with Matplotlib's object API into memory and embedded as base64 PNG; the CSS
is inline, so the file opens without a network. Every word comes from the label catalog
(:mod:`innosim.labels`) in the chosen language; city names come from the data
(``name_zh`` in Chinese). The file is written to a temporary name beside the target and renamed
over it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2

from innosim.atomic import atomic_write
from innosim.errors import InputError, StoreError
from innosim.labels import check_lang
from innosim.report.blocks import Section, Words
from innosim.report.experiments import KINDS, experiment_kinds, experiment_sections
from innosim.report.fonts import fonts
from innosim.report.run_report import BURN_IN_YEARS, run_sections, run_words, survival_by_age
from innosim.store import RunStore

__all__ = ["BURN_IN_YEARS", "render_report", "report", "survival_by_age"]

_OUT_EXPECTED = "a path like report.html in an existing, writable directory"


def report(
    run_ref: str | os.PathLike[str],
    lang: str = "en",
    out: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] = "results",
) -> Path:
    """Write the HTML report of a stored run or of an experiment and return its path.

    Parameters
    ----------
    run_ref : str or path
        A stored run: its id, a unique prefix of at least 4 characters, ``"latest"``, or its
        directory. Or an experiment: the ``--out`` directory of ``innosim validate``
        (``validation.json``), ``compare`` (``compare.json``), ``explain`` (``explain.json``),
        ``index`` (``index.csv`` and ``meta.json``) or ``sweep`` (``sweep.json`` and
        ``summary.csv``); a directory holding the files of several gets the sections of each.
    lang : {"en", "zh"}
        Language of every title, caption, axis label, table header and city name.
    out : str or path, optional
        HTML file to write (default: ``report.<lang>.html`` in the run or experiment directory).
    store : str or path
        Root of the results store (for run ids, prefixes and ``latest``).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        ``lang`` is not a report language, ``out`` is not an ``.html`` file in a writable
        directory, or ``run_ref`` is a directory that is neither a run nor an experiment.
    StoreError
        The run cannot be found or read, or ``out`` cannot be written.
    """
    lang = check_lang(lang)
    directory = Path(run_ref).expanduser() if _is_dir(run_ref) else None
    kinds = experiment_kinds(directory) if directory is not None else []
    if directory is not None and not kinds and not _is_run_dir(directory):
        raise InputError(
            "this directory is neither a stored run nor the output of an experiment",
            file=str(directory),
            expected="a run directory (meta.json and series.parquet, as written by innosim "
            "run), the --out directory of "
            + ", ".join(f"innosim {k} ({' and '.join(f)})" for k, f in KINDS.items())
            + ", or a run id, a unique id prefix or 'latest' in the results store",
        )
    if directory is not None and kinds:
        target = directory / f"report.{lang}.html" if out is None else Path(out)
        _check_target(target)
        html = _render_experiment(kinds, directory, lang)
    else:
        stored = RunStore(store).load_run(directory if directory is not None else run_ref)
        target = stored.path / f"report.{lang}.html" if out is None else Path(out)
        _check_target(target)
        html = render_report(stored, lang)
    _write_atomic(target, html)
    return target


def render_report(stored: Any, lang: str) -> str:
    """The HTML text of the report of a :class:`~innosim.store.runs.StoredRun`."""
    lang = check_lang(lang)
    w, scenario = run_words(stored.meta, lang)
    with fonts(lang):
        sections = run_sections(stored, w, scenario)
    return _render(w, w.t("report_title"), sections)


def _render_experiment(kinds: list[str], directory: Path, lang: str) -> str:
    with fonts(lang):
        title, w, sections = experiment_sections(kinds, directory, lang)
    return _render(w, title, sections)


def _render(w: Words, title: str, sections: list[Section]) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("innosim.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(
        html_lang="zh-CN" if w.lang == "zh" else "en",
        t=w.t,
        title=title,
        sections=sections,
    )


def _is_dir(ref: object) -> bool:
    if not isinstance(ref, str | os.PathLike) or ref == "latest":
        return False
    try:
        return Path(ref).expanduser().is_dir()
    except (OSError, ValueError):
        return False


def _is_run_dir(path: Path) -> bool:
    return (path / "meta.json").is_file() and (path / "series.parquet").is_file()


def _check_target(target: Path) -> None:
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError(
            "the report file must end in .html",
            field="out",
            value=str(target),
            expected=_OUT_EXPECTED,
        )
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise InputError(
            "the report's directory does not exist or is not writable",
            field="out",
            value=str(target),
            expected=_OUT_EXPECTED,
        )


def _write_atomic(target: Path, text: str) -> None:
    try:
        atomic_write(target, text)
    except OSError as exc:
        raise StoreError(
            f"cannot write the report ({exc.strerror})", file=str(target), expected=_OUT_EXPECTED
        ) from None
