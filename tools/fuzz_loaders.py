"""Fuzz every loader of user input: scenario, policy, targets, data and index framework files,
and the command line.

Usage (from the project root)::

    .venv/bin/python tools/fuzz_loaders.py --cases 10000              # every loader
    .venv/bin/python tools/fuzz_loaders.py --cases 2000 --loader cli --seed 3

Each loader gets ``--cases`` generated inputs (``tools/fuzzgen.py`` says what is generated) and
each input ends accepted, refused with a clean error (one line naming file, field, value and
expectation; exit 2 on the command line) or as a failure (a traceback, an incomplete error, an
accepted bad value, a hang). The script prints a table per loader; every distinct failure
(grouped by signature) is written, minimised, to ``--failures`` (default ``fuzz-failures/``) as
the input file (or the argument list) plus a ``.txt`` saying what happened. The exit status is 1
when any case failed. See docs/reliability.md ("Fuzzing").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzzgen


def _write_failure(directory: Path, case: fuzzgen.Case, outcome: fuzzgen.Outcome) -> Path:
    """The minimised case and a note about it, named by a hash of the signature."""
    directory.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(outcome.signature.encode()).hexdigest()[:10]
    stem = directory / f"{case.loader}-{tag}"
    if case.loader == "cli":
        body = "innosim " + " ".join(repr(a) if not a or " " in a else a for a in case.argv)
        (stem.with_suffix(".args")).write_text(body + "\n", encoding="utf-8")
    elif case.payload is not None:
        stem.with_suffix(case.suffix).write_bytes(case.payload)
    note = (
        f"loader: {case.loader}\nkind: {case.kind}\nhow: {case.how[:2000]}\n"
        f"signature: {outcome.signature}\ndetail: {outcome.detail}\n"
    )
    stem.with_suffix(".txt").write_text(note, encoding="utf-8")
    return stem


def fuzz_loader(
    loader: str, cases: int, seed: int, work: fuzzgen.Workdir, failures: Path, quiet: bool
) -> dict[str, object]:
    """Run ``cases`` cases of one loader; returns its row of the table."""
    rng = Random(f"{seed}-{loader}")
    counts: Counter[str] = Counter()
    first: dict[str, tuple[fuzzgen.Case, fuzzgen.Outcome]] = {}
    if loader == "cli":
        fuzzgen.prepare_cli(work)
    t0 = time.perf_counter()
    for i in range(cases):
        case = fuzzgen.generate(rng, loader, work)
        out = fuzzgen.run_case(case, work, i)
        counts[out.kind] += 1
        if out.kind == "failure" and out.signature not in first:
            first[out.signature] = (case, out)
            if not quiet:
                print(f"  [{loader}] new failure: {out.signature}\n      {out.detail[:300]}")
        if not quiet and (i + 1) % 1000 == 0:
            print(f"  [{loader}] {i + 1}/{cases} ({time.perf_counter() - t0:.0f} s)", flush=True)
    seconds = time.perf_counter() - t0
    for sig, (case, out) in first.items():
        small = (
            fuzzgen.minimise(case, work, sig) if case.kind == "file" or loader == "cli" else case
        )
        stem = _write_failure(failures, small, out)
        if not quiet:
            print(f"  [{loader}] wrote {stem}.* ({sig})")
    return {
        "loader": loader,
        "cases": cases,
        "accepted": counts["accepted"],
        "clean": counts["clean"],
        "failures": counts["failure"],
        "signatures": len(first),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000, help="cases per loader (default 10000)")
    ap.add_argument(
        "--loader",
        action="append",
        choices=fuzzgen.LOADERS,
        help="fuzz only this loader (repeatable; default: all)",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the generators (default 0)")
    ap.add_argument(
        "--failures",
        type=Path,
        default=Path("fuzz-failures"),
        help="directory for minimised failing inputs (default fuzz-failures/)",
    )
    ap.add_argument("--quiet", action="store_true", help="print only the table")
    args = ap.parse_args(argv)
    if args.cases < 1:
        ap.error("--cases must be at least 1")
    # in the canonical order: the command line last (its stubs stay installed once it starts)
    loaders = [x for x in fuzzgen.LOADERS if not args.loader or x in args.loader]
    failures = args.failures.resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="innosim-fuzz-") as tmp:
        work = fuzzgen.Workdir(Path(tmp))
        fuzzgen.seeds()
        for loader in loaders:
            if not args.quiet:
                print(f"fuzzing {loader}: {args.cases} cases, seed {args.seed}", flush=True)
            rows.append(fuzz_loader(loader, args.cases, args.seed, work, failures, args.quiet))
    head = (
        f"{'loader':<10} {'cases':>7} {'accepted':>9} {'clean':>7} {'failures':>9} {'seconds':>8}"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['loader']:<10} {r['cases']:>7} {r['accepted']:>9} {r['clean']:>7} "
            f"{r['failures']:>9} {r['seconds']:>8.1f}"
        )
    total_fail = sum(int(r["failures"]) for r in rows)  # type: ignore[call-overload]
    if total_fail:
        print(f"\n{total_fail} failing cases; minimised inputs in {failures}{os.sep}")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
