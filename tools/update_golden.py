"""Regenerate the golden per-tick series used by ``tests/test_golden.py``.

The golden files pin the engine's output bit for bit: an optimisation must leave them unchanged.
A change of the model (a rule or a default) that alters them is committed *on its own*, with
this script's output, and the commit message says why the numbers moved.

Usage::

    .venv/bin/python tools/update_golden.py          # rewrite tests/golden/*
    .venv/bin/python tools/update_golden.py --check  # exit 1 if any golden file would change
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"

# (name, scenario, scale, end year, seed): small enough for the test suite, long enough that
# every mechanism acts (waves start, firms fund, list, fail; chain masters appear in the
# full-horizon demo). The "-numba" in the names dates from the two backends of innosim <= 0.1;
# the files are those the compiled backend wrote then, unchanged.
CASES = (
    ("demo-seed7-numba", "demo", 1.0, None, 7),
    ("hangzhou-nanjing-0.2-2012-seed3-numba", "hangzhou-nanjing", 0.2, 2012, 3),
)


def platform_key() -> str:
    """What may decide the floating-point bits besides the code: NumPy's version and SIMD
    targets, Numba's version and the C library (whose ``exp`` and ``log`` the kernels call).

    NumPy dispatches ufuncs such as ``exp`` and ``log`` to SIMD kernels chosen at run time, and
    kernels for different instruction sets may differ in the last bit; a simulation amplifies
    one bit into different draws. The key is recorded with the golden files and named in the
    test's failure message, so that a mismatch on another platform says where to look.
    """
    import platform

    import numpy as np
    from numpy._core import _multiarray_umath as m

    enabled = [t for t in getattr(m, "__cpu_dispatch__", []) if m.__cpu_features__.get(t)]
    major_minor = ".".join(np.__version__.split(".")[:2])
    key = f"{platform.machine()} numpy-{major_minor} simd-{'+'.join(enabled) or 'baseline'}"
    import numba

    libc = "-".join(platform.libc_ver()) or "libc-unknown"
    return key + f" numba-{'.'.join(numba.__version__.split('.')[:2])} {libc}"


def frame_digest(df) -> str:
    """SHA-256 of a frame's column names, dtypes and raw values (order-sensitive)."""
    h = hashlib.sha256()
    for name in df.columns:
        col = df[name]
        h.update(f"{name}:{col.dtype}\n".encode())
        values = col.to_numpy()
        if values.dtype == object or str(col.dtype) in ("str", "string", "category"):
            h.update("\x1f".join(map(str, values)).encode())
        else:
            h.update(values.tobytes())
    return h.hexdigest()


def produce(case) -> tuple[str, dict]:
    """The golden CSV text of one case's per-tick series, and digests of its other tables."""
    import innosim

    _name, scenario, scale, end, seed = case
    sc = innosim.load_scenario(scenario).with_scale(scale)
    if end is not None:
        sc = sc.with_end_year(end)
    res = innosim.run(sc, seed)
    buf = io.StringIO()
    # repr floats (the default) round-trip float64 exactly, so equal text means equal bits
    res.series.to_csv(buf, index=False, lineterminator="\n")
    digests = {
        "series": frame_digest(res.series),
        "firms": frame_digest(res.firms),
        "firm_years": frame_digest(res.firm_years),
        "investments": frame_digest(res.investments),
        "agent_steps": int(res.meta["agent_steps"]),
        "platform": platform_key(),
    }
    return buf.getvalue(), digests


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    changed = []
    for case in CASES:
        csv_text, digests = produce(case)
        csv_path = GOLDEN / f"{case[0]}.series.csv"
        dig_path = GOLDEN / f"{case[0]}.digests.json"
        dig_text = json.dumps(digests, indent=2, sort_keys=True) + "\n"
        if dig_path.exists():  # same outputs on another platform: keep the writer's record
            old = json.loads(dig_path.read_text())
            if {**old, "platform": digests["platform"]} == digests:
                dig_text = dig_path.read_text()
        for path, text in ((csv_path, csv_text), (dig_path, dig_text)):
            old = path.read_text() if path.exists() else None
            if old != text:
                changed.append(path.name)
                if not args.check:
                    path.write_text(text)
    if changed:
        print(("would change: " if args.check else "wrote: ") + ", ".join(changed))
        return 1 if args.check else 0
    print("golden files unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
