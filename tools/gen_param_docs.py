"""Generate docs/parameters.md from the parameter and wave declarations.

The parameter table is the one place every parameter is declared
(:data:`innosim.params.declarations.PARAMS`) and the default wave timeline is
:data:`innosim.params.waves.DEFAULT_WAVES`. This script renders both as Markdown, so the
reference documentation can never drift from the code:

    .venv/bin/python tools/gen_param_docs.py            # (re)write docs/parameters.md
    .venv/bin/python tools/gen_param_docs.py --check    # exit 1 if docs/parameters.md is stale
    .venv/bin/python tools/gen_param_docs.py --stdout   # print instead of writing

The "read by" column is found by scanning the engine and mechanism sources for attribute
access to the parameter (``g.name``, ``c.name``, ``lv.name``, ``levers.name``); it tells a
reader which submodel of docs/model.md uses the parameter. Output is deterministic (no dates),
so ``--check`` compares bytes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import get_args

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "parameters.md"

try:  # an installed (editable) innosim, else the source tree
    import innosim  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(ROOT / "src"))

from innosim.params.declarations import PARAMS  # noqa: E402
from innosim.params.spec import Group, ParamSpec  # noqa: E402
from innosim.params.waves import DEFAULT_WAVES, REQUIREMENTS, WaveSpec  # noqa: E402

GROUP_TITLES: dict[str, str] = {
    "calendar": "Calendar",
    "talent": "Talent: graduates, careers and migration",
    "culture": "Culture: opportunity, fear of failure, recycling",
    "demand": "Demand mix",
    "capital": "Capital: founders' money and venture funds, valuation and exits",
    "firms": "Firms: learning, growth and costs",
    "waves": "Technology waves",
    "chains": "Chains: chain masters, suppliers, branch R&D",
    "place": "Place: infrastructure and hub links",
    "policy": "Policy levers",
    "economy": "Economy and accounting",
}

# where a parameter is read: the engine (initial state, yearly aggregation) and the mechanisms
SCANNED = ("model/runner.py", "engine/state.py", "mechanisms/*.py")
ACCESS = r"(?:\b(?:g|c|kp|lv|levers|LV)\.{name}\b|\bglob\[\"{name}\"\])"
LITERAL = re.compile(r"``[^`\n]*``")  # a docstring's ``code``: names, not reads


# --------------------------------------------------------------------------- formatting


def fmt_num(x: float) -> str:
    """Compact, exact-enough number: 0.025, 12, 2e5, 1e-3."""
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e5:
        return str(int(x))
    s = f"{x:g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def claims(spec_claims: tuple[str, ...]) -> str:
    return ", ".join(spec_claims) if spec_claims else ""


# --------------------------------------------------------------------------- usage scan


def _sources() -> dict[str, str]:
    pkg = ROOT / "src" / "innosim"
    out: dict[str, str] = {}
    for pattern in SCANNED:
        for path in sorted(pkg.glob(pattern)):
            if path.name == "__init__.py":
                continue
            key = path.stem if "mechanisms" in path.parts else "engine"
            text = LITERAL.sub("", path.read_text(encoding="utf-8"))  # not docstrings' examples
            out[key] = out.get(key, "") + text
    return out


def readers(specs: tuple[ParamSpec, ...]) -> dict[str, list[str]]:
    """Modules that read each parameter (by attribute access in their source)."""
    srcs = _sources()
    found: dict[str, list[str]] = {}
    for p in specs:
        rx = re.compile(ACCESS.format(name=re.escape(p.name)))
        found[p.name] = [mod for mod, text in srcs.items() if rx.search(text)]
        if p.lever and "policy" not in found[p.name]:
            found[p.name].insert(0, "policy")  # policy writes every lever generically
    return found


def _reader_cell(mods: list[str]) -> str:
    return ", ".join(f"`{m}`" for m in mods) or "—"


# --------------------------------------------------------------------------- rendering


def render_params(specs: tuple[ParamSpec, ...]) -> list[str]:
    used = readers(specs)
    lines: list[str] = []
    order = [g for g in get_args(Group)]
    present = [g for g in order if any(p.group == g for p in specs)]
    present += sorted({p.group for p in specs} - set(present))

    lines += ["## Contents", ""]
    for g in present:
        n = sum(p.group == g for p in specs)
        lines.append(f"- [{GROUP_TITLES.get(g, g)}](#group-{g}) ({n})")
    lines += [
        "- [Policy levers at a glance](#levers)",
        "- [Parameters inferred by calibration](#not-measured)",
        "- [Default wave timeline](#waves-timeline)",
        "",
    ]

    header = (
        "| name | scope | unit | bounds | default | lever | claims | read by | description "
        "| source / rationale |"
    )
    rule = "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    for g in present:
        lines += [f'<a id="group-{g}"></a>', "", f"## {GROUP_TITLES.get(g, g)}", ""]
        lines += [header, rule]
        for p in (p for p in specs if p.group == g):
            bounds = f"[{fmt_num(p.low)}, {fmt_num(p.high)}]"
            if p.integer:
                bounds += " integer"
            lines.append(
                "| "
                + " | ".join(
                    [
                        f'<a id="{p.name}"></a>`{p.name}`',
                        p.scope,
                        cell(p.unit),
                        bounds,
                        fmt_num(p.default),
                        "yes" if p.lever else "",
                        claims(p.claims),
                        _reader_cell(used[p.name]),
                        cell(p.description),
                        cell(p.source),
                    ]
                )
                + " |"
            )
        lines.append("")

    levers = [p for p in specs if p.lever]
    lines += [
        '<a id="levers"></a>',
        "",
        "## Policy levers at a glance",
        "",
        "A lever is a city parameter that a scenario's `[[policy]]` timeline may change over "
        "time (`set`, `add` or `scale`, clipped to the bounds; see docs/scenarios.md). The "
        "mechanisms read levers from `state.levers`, never from the base values.",
        "",
        "| lever | group | unit | bounds | default | read by |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in levers:
        mods = [m for m in used[p.name] if m != "policy"]
        lines.append(
            f"| [`{p.name}`](#{p.name}) | {p.group} | {cell(p.unit)} | "
            f"[{fmt_num(p.low)}, {fmt_num(p.high)}] | {fmt_num(p.default)} | "
            f"{_reader_cell(mods)} |"
        )
    lines.append("")

    hidden = [
        p
        for p in specs
        if "not measured" in p.source.lower() or p.source.lower().startswith("calibrated")
    ]
    lines += [
        '<a id="not-measured"></a>',
        "",
        "## Parameters inferred by calibration",
        "",
        "No statistic measures these directly; their defaults are placeholders that calibration "
        "replaces with estimates and uncertainty (their source says so).",
        "",
    ]
    lines += [f"- [`{p.name}`](#{p.name}) ({p.scope}): {cell(p.source)}" for p in hidden]
    lines.append("")
    unused = [p.name for p in specs if not used[p.name]]
    if unused:
        lines += [
            "Declared but not read by any mechanism or the initial state (found by scanning "
            "the sources): " + ", ".join(f"`{n}`" for n in unused) + ".",
            "",
        ]
    return lines


def render_waves(waves: tuple[WaveSpec, ...]) -> list[str]:
    req_cols = " | ".join(f"req. {r.replace('_', ' ')}" for r in REQUIREMENTS)
    lines = [
        '<a id="waves-timeline"></a>',
        "",
        "## Default wave timeline",
        "",
        "`innosim.params.waves.DEFAULT_WAVES`, used unless a scenario gives its own `[[wave]]` "
        "tables (which replace the whole timeline). Demand of wave $w$ follows "
        "$\\text{weight}_w \\cdot m \\cdot N(t)/4 \\cdot S_w(a)$ with the logistic $S_w$ centred "
        "`4 / growth_rate` years after the start (column *mid-point*), and declines after "
        "[`wave_life_years`](#wave_life_years) (docs/model.md, submodel *waves*). The "
        "requirement columns are the exponents $r_{w,k}$ of a city's access to compute, chips, "
        "supply chain and labs in its cost advantage (submodel *place*).",
        "",
        f"| # | wave | start | weight | growth rate (1/yr) | mid-point | To C share | {req_cols} "
        "| source |",
        "| --- | --- | --- | --- | --- | --- | --- | "
        + " | ".join("---" for _ in REQUIREMENTS)
        + " | --- |",
    ]
    for i, w in enumerate(waves):
        mid = w.start_year + 4.0 / w.growth_rate
        reqs = " | ".join(fmt_num(getattr(w, f"requires_{r}")) for r in REQUIREMENTS)
        lines.append(
            f"| {i} | {cell(w.name)} | {fmt_num(w.start_year)} | {fmt_num(w.weight)} | "
            f"{fmt_num(w.growth_rate)} | {mid:.1f} | {fmt_num(w.toc_share)} | {reqs} | "
            f"{cell(w.source)} |"
        )
    lines.append("")
    return lines


def render() -> str:
    n_city = sum(p.scope == "city" for p in PARAMS)
    n_lever = sum(p.lever for p in PARAMS)
    lines = [
        "# Parameters",
        "",
        "<!-- Generated by tools/gen_param_docs.py from innosim.params.declarations.PARAMS and "
        "innosim.params.waves.DEFAULT_WAVES. Do not edit by hand: run "
        "`.venv/bin/python tools/gen_param_docs.py` (CI runs it with --check). -->",
        "",
        f"Every model parameter, declared once as data: {len(PARAMS)} parameters, of which "
        f"{n_city} take one value per city and {n_lever} are policy levers. Scenario files "
        "override defaults (docs/scenarios.md); values outside the bounds are rejected with an "
        "error naming file, field, value and the accepted range. How each parameter enters "
        "the model is in docs/model.md (section 7, one subsection per mechanism).",
        "",
        "Units. *Model CNY* is 10⁴ CNY (万元): per person for rates such as GDP per capita, per "
        "firm for a firm's cash, costs and valuation. Firms are real firms and *persons* real "
        "people at any agent scale; people rows are a weighted sample of the population, "
        "each standing for about the scenario's `persons_per_agent` people. *utils* are units of the logit utilities of founding and of choosing a city. "
        "Rates marked 1/yr are yearly hazards, converted to a quarterly tick as "
        "$1 - e^{-r/4}$. Bounds are inclusive.",
        "",
        "Columns: *scope* `global` (one value) or `city` (one value per city; the default is "
        "what a city gets when the scenario says nothing); *lever* yes if `[[policy]]` may "
        "change it over time; *claims* the article's claims (docs/model.md, table in section 8) "
        "it helps represent; *read by* the mechanisms whose source reads it (`engine`: the "
        "initial state or the yearly aggregation in model/runner.py).",
        "",
    ]
    lines += render_params(PARAMS)
    lines += render_waves(DEFAULT_WAVES)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the output file is missing or differs from what would be "
        "generated; write nothing",
    )
    ap.add_argument("--stdout", action="store_true", help="print instead of writing")
    ap.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUT,
        help=f"file to write (default {DEFAULT_OUT.relative_to(ROOT)})",
    )
    args = ap.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    out: Path = args.output
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            state = "missing" if current is None else "out of date"
            print(
                f"{out} is {state}; regenerate it with: python tools/gen_param_docs.py",
                file=sys.stderr,
            )
            return 1
        print(f"{out} is up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file() and out.read_text(encoding="utf-8") == text:
        print(f"{out} unchanged")
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
