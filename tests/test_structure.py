"""Structural promises of the code base that no single module test covers."""

from __future__ import annotations

import csv
import re
from pathlib import Path

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
