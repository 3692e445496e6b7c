"""Golden per-tick series: optimisations of the engine must not change a single bit (issue 6).

``tests/golden/`` holds, for fixed scenarios and seeds, the per-tick series as CSV (repr floats,
so equal text means equal float64 bits) and SHA-256 digests of the firm registry, the firm-year
panel and the investment ledger, written by ``tools/update_golden.py``. A change of the model
that moves them is committed on its own with the regenerated files and says why.

The bits may depend on NumPy's SIMD kernels, Numba and the C library (``platform_key``): the
comparison runs on every platform, and a mismatch names the platform that wrote the files and
this one, so that a difference caused by the platform is told from one caused by the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
golden = load_tool("update_golden")


@pytest.mark.parametrize("case", golden.CASES, ids=[c[0] for c in golden.CASES])
def test_per_tick_series_are_bit_identical_to_the_golden_files(case):
    expected = json.loads((golden.GOLDEN / f"{case[0]}.digests.json").read_text())
    written_on, here = expected.pop("platform"), golden.platform_key()
    where = f"(golden files written on {written_on!r}; this is {here!r})"
    csv_text, digests = golden.produce(case)
    want_csv = (golden.GOLDEN / f"{case[0]}.series.csv").read_text()
    if csv_text != want_csv:
        got_lines, want_lines = csv_text.splitlines(), want_csv.splitlines()
        header = want_lines[0].split(",")
        for i, (a, b) in enumerate(zip(got_lines, want_lines, strict=False)):
            if a != b:
                cols = [
                    f"{h}: {x} != {y}"
                    for h, x, y in zip(header, a.split(","), b.split(","), strict=False)
                    if x != y
                ]
                pytest.fail(f"{case[0]}: series row {i} differs first: {cols[:5]} {where}")
        pytest.fail(
            f"{case[0]}: series has {len(got_lines)} lines, golden {len(want_lines)} {where}"
        )
    digests.pop("platform")
    assert digests == expected, f"{case[0]}: tables differ from the golden digests {where}"


def test_digest_sees_a_one_bit_change():
    import numpy as np
    import pandas as pd

    a = pd.DataFrame({"x": np.array([0.1, 0.2, 0.3])})
    b = a.copy()
    b.loc[1, "x"] = np.nextafter(0.2, 1.0)
    assert golden.frame_digest(a) != golden.frame_digest(b)
    assert golden.frame_digest(a) == golden.frame_digest(a.copy())
