"""Engine throughput and memory: agent-steps per second and bytes per agent at 10^4-10^6 agents.

Each size runs the ``hangzhou-nanjing`` scenario in a fresh Python process with
``persons_per_agent`` chosen so that the starting pools add up to the target number of agents,
over a fixed horizon from the scenario's start year. A fresh process per size makes the peak
resident set (``ru_maxrss``) that of that size alone.

Measured per size
    agent_steps_per_s  ``meta["agent_steps"] / meta["wall_seconds"]``: the engine counts, after
                       every tick, people + firms + funds; the wall time is the tick loop only
                       (not building the initial state or assembling the result frames).
    bytes_per_agent    (peak RSS - RSS after importing innosim, numpy and pandas, loading the
                       scenario and its compiled kernels) / peak agents, where peak agents is the largest
                       people + firms + funds over the ticks (from the run's own series). It
                       includes everything the run allocates: state tables with their spare
                       capacity, the archive of dead firms, the recorded series and the result
                       frames.

The largest size also runs with ``profile=True`` and the time per mechanism is printed.

Before anything is timed or the memory baseline is read, each process loads (on a machine's
first run: compiles) the compiled kernels with a tiny run of the scenario, fused and, for the
profile, one by one: loading them costs about a second per process, which would otherwise
count in the loop time of the first ticks.

Usage::

    python benchmarks/bench_engine.py            # 10^4, 10^5, 10^6 agents, 12 years each
    python benchmarks/bench_engine.py --quick    # 10^4 and 10^6, 3 years each (< 90 s)

Prints a table, then one JSON line, and writes ``bench-results/engine.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench-results" / "engine.json"

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 1_000_000)
FULL_YEARS = 12  # 48 quarterly ticks
QUICK_YEARS = 3


def _max_rss_bytes() -> int:
    """Peak resident set of this process so far, in bytes."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024


# --------------------------------------------------------------------------- worker (one size)


def worker(scenario: str, agents: int, years: int, seed: int, profile: bool) -> dict:
    """Run one size in this (fresh) process and return its measurements."""
    t0 = time.perf_counter()
    import numpy  # noqa: F401 - part of the baseline (innosim imports it too)

    import innosim  # imports the engine, pandas and pydantic

    sc = innosim.load_scenario(scenario)
    persons = float((sc.city["population"] * sc.glob["initial_population_share"]).sum())
    tiny = sc.with_scale(sc.persons_per_agent / (persons / 300)).with_end_year(sc.start_year + 2)
    innosim.run(tiny, 0, profile=profile)  # load the kernels (one by one when profiling)
    if profile:
        innosim.run(tiny, 0)  # and fused
    baseline = _max_rss_bytes()

    ppa = persons / agents
    sc = sc.with_scale(sc.persons_per_agent / ppa).with_end_year(sc.start_year + years - 1)

    t1 = time.perf_counter()
    result = innosim.run(sc, seed, profile=profile)
    t2 = time.perf_counter()
    peak = _max_rss_bytes()

    s = result.series
    per_tick = s.groupby("tick")[["agents", "firms"]].sum().sum(axis=1).to_numpy()
    funds = result.meta["agents_final"]["funds"]
    peak_agents = int(per_tick.max() + funds)
    meta = result.meta
    out = {
        "agents_target": agents,
        "persons_per_agent": round(sc.persons_per_agent, 3),
        "years": years,
        "ticks": meta["ticks"],
        "agents_start": int(per_tick[0] + funds),
        "agents_peak": peak_agents,
        "agents_final": meta["agents_final"],
        "firms_ever": len(result.firms),
        "agent_steps": meta["agent_steps"],
        "loop_seconds": meta["wall_seconds"],
        "run_seconds": t2 - t1,
        "process_seconds": time.perf_counter() - t0,
        "agent_steps_per_s": meta["agent_steps"] / meta["wall_seconds"],
        "baseline_rss_bytes": baseline,
        "peak_rss_bytes": peak,
        "bytes_per_agent": (peak - baseline) / peak_agents,
        "versions": meta["versions"],
        "numpy_threads_env": {k: os.environ.get(k) for k in SINGLE_THREAD_ENV},
    }
    if profile:
        out["timings"] = meta["timings"]
    return out


SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _run_worker(scenario: str, agents: int, years: int, seed: int, profile: bool) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--scenario",
        scenario,
        "--agents",
        str(agents),
        "--years",
        str(years),
        "--seed",
        str(seed),
    ]
    if profile:
        cmd.append("--profile")
    # one core: numerical libraries may not spawn threads behind the measurement
    env = {**os.environ, **dict.fromkeys(SINGLE_THREAD_ENV, "1")}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark worker for {agents} agents failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'target':>10} {'persons/agent':>13} {'ticks':>5} {'peak agents':>12} "
        f"{'agent-steps':>13} {'loop s':>7} {'agent-steps/s':>14} {'base MiB':>8} "
        f"{'peak MiB':>8} {'bytes/agent':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{_fmt_int(r['agents_target']):>10} {r['persons_per_agent']:>13.1f} {r['ticks']:>5} "
            f"{_fmt_int(r['agents_peak']):>12} {_fmt_int(r['agent_steps']):>13} "
            f"{r['loop_seconds']:>7.2f} {_fmt_int(r['agent_steps_per_s']):>14} "
            f"{r['baseline_rss_bytes'] / 2**20:>8.1f} {r['peak_rss_bytes'] / 2**20:>8.1f} "
            f"{r['bytes_per_agent']:>11.0f}"
        )


def print_profile(row: dict) -> None:
    timings = row["timings"]
    total = sum(timings.values())
    print(
        f"\nprofile at {_fmt_int(row['agents_peak'])} peak agents, {row['ticks']} ticks "
        f"(meta['timings'], seconds per mechanism, slowest first):"
    )
    for name, sec in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(
            f"  {name:<12} {sec:8.3f} s  {100 * sec / total:5.1f} %  "
            f"{1e3 * sec / row['ticks']:7.2f} ms/tick"
        )
    print(f"  {'total':<12} {total:8.3f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^4 and 10^6 agents, short horizon")
    ap.add_argument(
        "--sizes",
        type=lambda s: [int(float(x)) for x in s.split(",")],
        help="comma-separated agent counts, e.g. 1e4,1e5",
    )
    ap.add_argument("--years", type=int, help="simulated years per size")
    ap.add_argument("--scenario", default="hangzhou-nanjing")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    # worker mode (internal)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--agents", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        print(json.dumps(worker(a.scenario, a.agents, a.years, a.seed, a.profile)))
        return 0

    sizes = a.sizes or (QUICK_SIZES if a.quick else FULL_SIZES)
    years = a.years or (QUICK_YEARS if a.quick else FULL_YEARS)
    largest = max(sizes)
    t0 = time.perf_counter()
    rows = []
    for n in sizes:
        rows.append(_run_worker(a.scenario, n, years, a.seed, profile=n == largest))
    elapsed = time.perf_counter() - t0

    print(
        f"innosim engine benchmark: scenario {a.scenario}, {years} years from its start year, "
        f"seed {a.seed}, one fresh process per size\n"
    )
    print_table(rows)
    print_profile(next(r for r in rows if r["agents_target"] == largest))
    report = {
        "benchmark": "engine",
        "scenario": a.scenario,
        "quick": bool(a.quick),
        "years": years,
        "seed": a.seed,
        "elapsed_seconds": elapsed,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": rows[0]["versions"],
        "results": [{k: v for k, v in r.items() if k != "versions"} for r in rows],
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    summary = {
        "benchmark": "engine",
        "quick": bool(a.quick),
        "years": years,
        "results": [
            {
                "agents": r["agents_peak"],
                "agent_steps_per_s": round(r["agent_steps_per_s"]),
                "bytes_per_agent": round(r["bytes_per_agent"]),
            }
            for r in rows
        ],
    }
    print("\n" + json.dumps(summary, separators=(",", ":")), flush=True)
    print(f"wrote {a.out} ({elapsed:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
