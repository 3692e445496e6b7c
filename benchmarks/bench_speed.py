"""Speed of innosim against its Mesa reference, throughput and memory at 10^4-10^7 agents.

Everything runs on one core: each measurement is a fresh Python process with
``OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = 1``, one after another, pinned to
the same CPU (the first this process may use), so that innosim and Mesa run on the same core.
innosim's core mechanisms are compiled Numba kernels (its only implementation); they are
loaded by a tiny run before anything is timed or the memory baseline is read (a fixed cost per
process, like the imports).

1. *innosim vs Mesa* (``comparison``): the ``hangzhou-nanjing`` scenario scaled so the starting
   pools are sampled as N person rows (N = 10^3, 10^4, 10^5; firms are real firms, so their
   number, about 13,600 in 10 years, does not depend on N), ``--compare-years`` years (default
   10, 1999-2008) in both: innosim with the non-core mechanisms off
   (``disable=benchmarks.mesa_reference.model.DISABLED``) and the Mesa reference
   (``benchmarks/mesa_reference``), the same rules one object per agent. Time per simulated
   year = the tick loop's seconds / years (initial state and result assembly excluded on both
   sides), the best of ``--repeats`` timings in one process, a timing being the mean over as
   many identical runs as make it last at least 0.2 s (as ``timeit``'s autorange: at 10^4 one
   Mesa run, tens of innosim runs). The comparison is ``--processes``
   pairs of processes one after the other, Mesa then innosim, both with ``PYTHONHASHSEED`` = k
   (k = 0, 1, ...: Mesa's speed depends on it); a pair's ratio is Mesa's best over innosim's,
   and the reported ``ratio_vs_mesa`` is the median over the pairs (with its min and max). A
   Mesa process that does not finish within ``--mesa-budget`` seconds is killed and the size
   recorded as skipped if no pair finished.
2. *Throughput* (``throughput``): innosim with **all** mechanisms, the same scenario scaled to
   N = 10^4 ... 10^7 agents over its full horizon (1999-2030, 128 ticks) unless ``--years``.
   ``agent_steps_per_s`` = ``meta["agent_steps"]`` (people + firms + funds summed over ticks) /
   ``meta["wall_seconds"]`` (the tick loop); ``bytes_per_agent`` = (peak RSS - RSS after the
   imports and loading the scenario) / peak agents (largest people + firms + funds over the
   ticks); ``wall_seconds`` = the whole ``innosim.run`` call (state, loop, result frames).
   ``bytes_per_agent_loop`` is the same with the peak RSS read at the last tick, before the
   result frames (series, firm registry, firm-year panel, ledger) are assembled.
3. *Scaling*: loop seconds per tick against mean agents per tick, log-log, fitted by least
   squares (exponent over 10^4-10^7 and over 10^5-10^7), plotted to ``bench-results/scaling.png``.

Beside every wall time the CPU time of the same loop is recorded (``cpu_s_per_year``,
``ratio_cpu``, ``agent_steps_per_cpu_s``, ``scaling_exponent_cpu``): on a shared machine it is
less disturbed by other processes than the wall time.

Usage::

    python benchmarks/bench_speed.py             # full: writes bench-results/speed.json, scaling.png
    python benchmarks/bench_speed.py --quick     # 10^4 comparison + 10^6 throughput (~1.5 min),
                                                 # prints one JSON line, writes speed-quick.json
    python benchmarks/bench_speed.py --city 1e7  # one throughput run (e.g. 10^7 agents, 1999-2030)

Timings depend on the machine and its load: the JSON records the machine, the library
versions and the load average before and after every measurement.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bench-results"
SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SCENARIO = "hangzhou-nanjing"

COMPARE_SIZES = (1_000, 10_000, 100_000)
THROUGHPUT_SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
QUICK_COMPARE_SIZES = (10_000,)
QUICK_THROUGHPUT_SIZES = (1_000_000,)
COMPARE_YEARS = 10
MESA_BUDGET_S = 300.0
MIN_TIMING_S = 0.2  # a timing lasts at least this long (runs repeated and averaged, as timeit)


def _max_rss_bytes() -> int:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024  # Linux: KiB


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _label(n: float) -> str:
    e = math.log10(n)
    return f"1e{round(e)}" if abs(e - round(e)) < 1e-9 else f"{n:g}"


# --------------------------------------------------------------------------- workers


class _LoopCPU:
    """``progress`` callback of ``innosim.run``: CPU seconds of the tick loop (one process).

    The CPU clock is read after every tick; the loop's CPU time is the span from the first
    tick's end to the last tick's, scaled by n / (n - 1) for the first tick. On a shared machine
    CPU time is less disturbed by other processes than wall time (not free of it: caches and
    memory bandwidth are shared)."""

    def __init__(self) -> None:
        self.first = self.last = 0.0
        self.n = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.process_time()
        if done == 1:
            self.first = now
        self.last, self.n = now, total

    def seconds(self) -> float:
        return (self.last - self.first) * self.n / max(self.n - 1, 1)


def _warm_up() -> None:
    """Load (or compile, on a machine's first run) the compiled kernels with a tiny run, so
    that neither the loop times nor the memory per agent count the compiler (a fixed cost per
    process, like the imports: see the module docstring)."""
    import innosim

    sc = innosim.load_scenario(SCENARIO)
    persons = float((sc.city["population"] * sc.glob["initial_population_share"]).sum())
    tiny = sc.with_scale(sc.persons_per_agent / (persons / 300)).with_end_year(sc.start_year + 2)
    innosim.run(tiny, 0)


def worker_compare(model: str, agents: int, years: int, seed: int, repeats: int) -> dict:
    """One model (``mesa`` or ``innosim``) at one size: the best of ``repeats`` timings
    (fresh process), a timing being the mean of as many identical runs as make it last at
    least ``MIN_TIMING_S``."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.mesa_reference.compare import scaled_scenario
    from benchmarks.mesa_reference.model import DISABLED, InnoModel

    import innosim

    sc = scaled_scenario(SCENARIO, agents, years)
    if model == "innosim":
        _warm_up()

    backend = None  # the implementation innosim records (meta["backend"]); None for Mesa

    def once(run_seed: int) -> tuple[float, float, float, int]:
        """(loop s, loop CPU s, other s, agent-steps) of one run."""
        if model == "mesa":
            t0 = time.perf_counter()
            mm = InnoModel(sc, seed=run_seed)
            t1, c1 = time.perf_counter(), time.process_time()
            for _ in range(sc.n_ticks):
                mm.step()
            loop, cpu = time.perf_counter() - t1, time.process_time() - c1
            # people rows (founders split off included) + firms + funds after every tick
            steps = sum(rec["agents"] + rec["firms"] + len(mm.funds) for rec in mm.records)
            return loop, cpu, t1 - t0, steps
        nonlocal backend
        clock = _LoopCPU()
        t0 = time.perf_counter()
        res = innosim.run(sc, run_seed, disable=sorted(DISABLED), progress=clock)
        backend = res.meta["backend"]
        loop = float(res.meta["wall_seconds"])
        return loop, clock.seconds(), time.perf_counter() - t0 - loop, int(res.meta["agent_steps"])

    loops, cpus, inits, steps, runs = [], [], [], 0, 1
    for r in range(repeats):
        loop, cpu, init, steps = once(seed + r)
        if r == 0:  # as timeit's autorange: runs per timing so that a timing lasts >= 0.2 s
            runs = max(1, math.ceil(MIN_TIMING_S / max(loop, 1e-9)))
        for _ in range(runs - 1):  # the same run again: the timing is their mean
            more = once(seed + r)
            loop, cpu, init = loop + more[0], cpu + more[1], init + more[2]
        loops.append(loop / runs)
        cpus.append(cpu / runs)
        inits.append(init / runs)
    best, best_cpu = min(loops), min(cpus)
    return {
        "model": model,
        "backend": backend,
        "agents": agents,
        "years": years,
        "ticks": sc.n_ticks,
        "repeats": repeats,
        "runs_per_timing": runs,
        "hash_seed": os.environ.get("PYTHONHASHSEED"),
        "loop_seconds": loops,
        "loop_cpu_seconds": cpus,
        "other_seconds": inits,
        "s_per_year": best / years,
        "cpu_s_per_year": best_cpu / years,
        "ms_per_tick": 1e3 * best / sc.n_ticks,
        "agent_steps": steps,
        "agent_steps_per_s": steps / best,
        "peak_rss_bytes": _max_rss_bytes(),
    }


def worker_throughput(agents: int, years: int | None, seed: int) -> dict:
    """innosim with every mechanism at one size (fresh process: the peak RSS is this run's)."""
    t0 = time.perf_counter()
    import numpy as np

    import innosim

    _warm_up()
    sc = innosim.load_scenario(SCENARIO)
    baseline = _max_rss_bytes()
    persons = float((sc.city["population"] * sc.glob["initial_population_share"]).sum())
    sc = sc.with_scale(sc.persons_per_agent / (persons / agents))
    if years is not None:
        sc = sc.with_end_year(sc.start_year + years - 1)
    loop_peak: list[int] = []
    clock = _LoopCPU()

    def at_last_tick(done: int, total: int) -> None:  # peak RSS before the result frames
        clock(done, total)
        if done == total:
            loop_peak.append(_max_rss_bytes())

    t1 = time.perf_counter()
    res = innosim.run(sc, seed, progress=at_last_tick)
    t2 = time.perf_counter()
    peak = _max_rss_bytes()
    meta = res.meta
    per_tick = res.series.groupby("tick")[["agents", "firms"]].sum().sum(axis=1).to_numpy()
    funds = meta["agents_final"]["funds"]
    peak_agents = int(np.max(per_tick) + funds)
    return {
        "backend": meta["backend"],
        "agents_target": agents,
        "start_year": sc.start_year,
        "end_year": sc.end_year,
        "ticks": meta["ticks"],
        "persons_per_agent": sc.persons_per_agent,
        "agents_start": int(per_tick[0] + funds),
        "agents_peak": peak_agents,
        "agents_final": meta["agents_final"],
        "firms_ever": len(res.firms),
        "agent_steps": meta["agent_steps"],
        "mean_agents": meta["agent_steps"] / meta["ticks"],
        "loop_seconds": meta["wall_seconds"],
        "ms_per_tick": 1e3 * meta["wall_seconds"] / meta["ticks"],
        "wall_seconds": t2 - t1,
        "process_seconds": time.perf_counter() - t0,
        "agent_steps_per_s": meta["agent_steps"] / meta["wall_seconds"],
        "loop_cpu_seconds": clock.seconds(),
        "agent_steps_per_cpu_s": meta["agent_steps"] / clock.seconds(),
        "baseline_rss_bytes": baseline,
        "peak_rss_bytes": peak,
        "bytes_per_agent": (peak - baseline) / peak_agents,
        "peak_rss_loop_bytes": loop_peak[0],
        "bytes_per_agent_loop": (loop_peak[0] - baseline) / peak_agents,
        "versions": meta["versions"],
    }


def _bench_cpu() -> int | None:
    """The one CPU every worker runs on (the first this process may use): innosim and Mesa
    are timed on the same core, not on whichever core the scheduler picks (on a virtual machine
    the cores' speeds can differ by tens of percent)."""
    if not hasattr(os, "sched_getaffinity"):  # pragma: no cover - not Linux
        return None
    return min(os.sched_getaffinity(0))


def _spawn(
    args: list[str], timeout: float | None = None, env: dict[str, str] | None = None
) -> dict | None:
    """Run a worker in a fresh single-threaded process on the bench CPU; None if it ran past
    ``timeout``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    cpu = _bench_cpu()
    if cpu is not None:
        cmd[2:2] = ["--cpu", str(cpu)]
    env = {**os.environ, **dict.fromkeys(SINGLE_THREAD_ENV, "1"), **(env or {})}
    load0 = _load()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark worker {' '.join(args)} failed (exit {proc.returncode})")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["load_before"], out["load_after"] = load0, _load()
    return out


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- measurements


def _median(xs: list[float]) -> float:
    import statistics

    return float(statistics.median(xs))


def compare(
    sizes,
    years: int,
    seed: int,
    repeats: int,
    mesa_budget: float,
    processes: int = 5,
) -> list[dict]:
    """innosim (the compiled core) against Mesa at each size.

    Mesa's speed depends on the process's string-hash seed (its agents are Python objects:
    attribute and dict lookups probe hash tables laid out by it; between hash seeds we measured
    0.35 to 0.69 s for the same 10-year run), and a shared machine's speed drifts, so the
    comparison is ``processes`` pairs of processes, one after the other: Mesa then innosim, both
    with ``PYTHONHASHSEED`` = k (k = 0, 1, ...). A pair's ratio is Mesa's best loop time over
    innosim's; the row's ratio is the median over the pairs (``ratio_min`` / ``ratio_max``
    beside it). The two never share a process (a Mesa heap left in the process would make
    innosim's garbage collections scan it).
    """
    import importlib.util

    have_mesa = importlib.util.find_spec("mesa") is not None
    rows = []
    for n in sizes:
        rep = repeats if n <= 10_000 else 1
        args = [*_common(n, years, seed), "--repeats", str(rep)]
        if not have_mesa:
            _log(f"comparison at {n:,} agents, {years} years: innosim (core) ...")
            inno = _spawn(["compare", "--model", "innosim", *args])
            row = {"agents": n, "years": years, "innosim": inno, "mesa": None, "ratio": None}
            row["mesa_status"] = "skipped: mesa not installed (pip install -e '.[bench]')"
            rows.append(row)
            continue
        pairs = []
        for k in range(processes):
            _log(
                f"comparison at {n:,} agents, {years} years, hash seed {k}: Mesa (budget "
                f"{mesa_budget:.0f} s), then innosim (core) ..."
            )
            env = {"PYTHONHASHSEED": str(k)}
            mesa = _spawn(["compare", "--model", "mesa", *args], timeout=mesa_budget, env=env)
            if mesa is None:
                break
            inno = _spawn(["compare", "--model", "innosim", *args], env=env)
            pairs.append({"mesa": mesa, "innosim": inno})
        row = {"agents": n, "years": years, "processes": []}
        if not pairs:
            row.update(innosim=None, mesa=None, ratio=None)
            row["mesa_status"] = f"skipped: not finished within {mesa_budget:.0f} s"
            rows.append(row)
            continue
        for got in pairs:
            mm, ii = got["mesa"], got["innosim"]
            row["processes"].append(
                {
                    "hash_seed": mm["hash_seed"],
                    "mesa_s_per_year": mm["s_per_year"],
                    "innosim_s_per_year": ii["s_per_year"],
                    "ratio": mm["s_per_year"] / ii["s_per_year"],
                    "ratio_cpu": mm["cpu_s_per_year"] / ii["cpu_s_per_year"],
                }
            )
        ratios = [p["ratio"] for p in row["processes"]]
        # the process with the median ratio stands for the row (its full records)
        mid = sorted(range(len(pairs)), key=lambda i: ratios[i])[(len(pairs) - 1) // 2]
        row["mesa"], row["innosim"] = pairs[mid]["mesa"], pairs[mid]["innosim"]
        row["mesa_status"] = "ok"
        row["ratio"] = _median(ratios)
        row["ratio_min"], row["ratio_max"] = min(ratios), max(ratios)
        row["ratio_cpu"] = _median([p["ratio_cpu"] for p in row["processes"]])
        rows.append(row)
    return rows


def _common(n: int, years: int | None, seed: int) -> list[str]:
    out = ["--agents", str(n), "--seed", str(seed)]
    if years is not None:
        out += ["--years", str(years)]
    return out


def throughput(sizes, years: int | None, seed: int) -> list[dict]:
    rows = []
    for n in sizes:
        _log(f"throughput at {n:,} agents (all mechanisms) ...")
        rows.append(_spawn(["throughput", *_common(n, years, seed)]))
    return rows


def fit_exponent(rows: list[dict], lo: float = 0.0, key: str = "loop_seconds") -> float | None:
    import numpy as np

    pts = [(r["mean_agents"], r[key] / r["ticks"]) for r in rows if r["mean_agents"] >= lo]
    if len(pts) < 2:
        return None
    x, y = np.log10([p[0] for p in pts]), np.log10([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def plot(thr: list[dict], cmp_rows: list[dict], exps: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    x = np.array([r["mean_agents"] for r in thr])
    y = np.array([1e3 * r["loop_seconds"] / r["ticks"] for r in thr])
    ax.loglog(x, y, "o-", label=f"innosim, all mechanisms (exponent {exps['all']:.2f})")
    if len(x) >= 2:
        k = exps["all"]
        c = np.mean(np.log10(y) - k * np.log10(x))
        xs = np.array([x.min(), x.max()])
        ax.loglog(xs, 10 ** (c + k * np.log10(xs)), ":", color="C0", lw=1)
    if exps.get("from_1e5") is not None:
        ax.plot([], [], " ", label=f"exponent over 10^5-10^7: {exps['from_1e5']:.2f}")
    ci = [r for r in cmp_rows if r["innosim"]]
    if ci:
        ax.loglog(
            [r["agents"] for r in ci],
            [r["innosim"]["ms_per_tick"] for r in ci],
            "s--",
            label=f"innosim, core only ({ci[0]['years']} years)",
        )
    cm = [r for r in cmp_rows if r["mesa"]]
    if cm:
        ax.loglog(
            [r["agents"] for r in cm],
            [r["mesa"]["ms_per_tick"] for r in cm],
            "^--",
            label=f"Mesa reference, core ({cm[0]['years']} years)",
        )
    ax.set_xlabel("agents (people + firms + funds, mean per tick)")
    ax.set_ylabel("wall time per tick (ms, one core)")
    yrs = f"{thr[0]['start_year']}-{thr[0]['end_year']}" if thr else ""
    ax.set_title(f"innosim scaling, {SCENARIO} {yrs}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _mesa_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mesa")
    except metadata.PackageNotFoundError:
        return "not installed"


def _machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def summary_of(cmp_rows: list[dict], thr: list[dict], exps: dict) -> dict:
    s: dict = {}
    for r in cmp_rows:
        lab = _label(r["agents"])
        s[f"ratio_vs_mesa_{lab}"] = None if r["ratio"] is None else round(r["ratio"], 2)
        s[f"ratio_vs_mesa_cpu_{lab}"] = r.get("ratio_cpu") and round(r["ratio_cpu"], 2)
        if r.get("ratio_min") is not None:
            s[f"ratio_vs_mesa_min_{lab}"] = round(r["ratio_min"], 2)
            s[f"ratio_vs_mesa_max_{lab}"] = round(r["ratio_max"], 2)
        s[f"mesa_s_per_year_{lab}"] = r["mesa"] and round(r["mesa"]["s_per_year"], 5)
        s[f"innosim_core_s_per_year_{lab}"] = r["innosim"] and round(r["innosim"]["s_per_year"], 5)
    for r in thr:
        lab = _label(r["agents_target"])
        s[f"agent_steps_per_s_{lab}"] = round(r["agent_steps_per_s"])
        s[f"agent_steps_per_cpu_s_{lab}"] = round(r["agent_steps_per_cpu_s"])
        s[f"bytes_per_agent_{lab}"] = round(r["bytes_per_agent"], 1)
        s[f"bytes_per_agent_loop_{lab}"] = round(r["bytes_per_agent_loop"], 1)
    if exps:
        s["scaling_exponent"] = exps.get("all") and round(exps["all"], 3)
        s["scaling_exponent_from_1e5"] = exps.get("from_1e5") and round(exps["from_1e5"], 3)
        s["scaling_exponent_cpu"] = exps.get("all_cpu") and round(exps["all_cpu"], 3)
    return s


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^4 comparison, 10^6 throughput")
    ap.add_argument("--city", type=float, help="only one throughput run at this many agents")
    ap.add_argument("--compare-sizes", type=lambda s: [int(float(x)) for x in s.split(",") if x])
    ap.add_argument("--throughput-sizes", type=lambda s: [int(float(x)) for x in s.split(",") if x])
    ap.add_argument("--compare-years", type=int, default=COMPARE_YEARS)
    ap.add_argument("--years", type=int, help="throughput horizon (default: the scenario's)")
    ap.add_argument("--repeats", type=int, default=3, help="comparison runs per size <= 10^4")
    ap.add_argument(
        "--processes",
        type=int,
        default=5,
        help="comparison processes per size (PYTHONHASHSEED 0, 1, ...; the median ratio)",
    )
    ap.add_argument("--mesa-budget", type=float, default=MESA_BUDGET_S)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    # worker mode (internal)
    ap.add_argument("--worker", choices=("compare", "throughput"), help=argparse.SUPPRESS)
    ap.add_argument("--model", choices=("mesa", "innosim"), help=argparse.SUPPRESS)
    ap.add_argument("--agents", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker and a.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {a.cpu})
    if a.worker == "compare":
        out = worker_compare(a.model, a.agents, a.years, a.seed, a.repeats)
        print(json.dumps(out))
        return 0
    if a.worker == "throughput":
        print(json.dumps(worker_throughput(a.agents, a.years, a.seed)))
        return 0

    t0 = time.perf_counter()
    load0 = _load()
    if a.city:
        row = throughput([int(a.city)], a.years, a.seed)[0]
        out = a.out or OUT_DIR / f"city-{_label(a.city)}.json"
        record = {"benchmark": "city", "scenario": SCENARIO, "machine": _machine(), **row}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        keys = (
            "agents_peak",
            "start_year",
            "end_year",
            "wall_seconds",
            "loop_seconds",
            "process_seconds",
            "agent_steps_per_s",
            "loop_cpu_seconds",
            "agent_steps_per_cpu_s",
            "peak_rss_bytes",
            "bytes_per_agent",
            "bytes_per_agent_loop",
            "load_before",
            "load_after",
        )
        line = {"benchmark": "city", **{k: row[k] for k in keys}}
        line["peak_rss_gib"] = round(row["peak_rss_bytes"] / 2**30, 3)
        print(json.dumps(line, separators=(",", ":")), flush=True)
        _log(f"wrote {out}")
        return 0

    csizes = a.compare_sizes
    if csizes is None:
        csizes = QUICK_COMPARE_SIZES if a.quick else COMPARE_SIZES
    tsizes = a.throughput_sizes
    if tsizes is None:
        tsizes = QUICK_THROUGHPUT_SIZES if a.quick else THROUGHPUT_SIZES
    cmp_rows = compare(csizes, a.compare_years, a.seed, a.repeats, a.mesa_budget, a.processes)
    thr = throughput(tsizes, a.years, a.seed)
    exps: dict = {}
    if len(thr) >= 2:
        exps = {
            "all": fit_exponent(thr),
            "from_1e5": fit_exponent(thr, lo=0.9e5),
            "all_cpu": fit_exponent(thr, key="loop_cpu_seconds"),
            "from_1e5_cpu": fit_exponent(thr, lo=0.9e5, key="loop_cpu_seconds"),
        }
    elapsed = time.perf_counter() - t0
    summary = summary_of(cmp_rows, thr, exps)
    summary["elapsed_s"] = round(elapsed, 1)
    summary["load_before"], summary["load_after"] = load0, _load()
    report = {
        "benchmark": "speed",
        "quick": bool(a.quick),
        "scenario": SCENARIO,
        "seed": a.seed,
        "machine": _machine(),
        "versions": {**(thr[0]["versions"] if thr else {}), "mesa": _mesa_version()},
        "threads_env": dict.fromkeys(SINGLE_THREAD_ENV, "1"),
        "summary": summary,
        "comparison": cmp_rows,
        "throughput": [{k: v for k, v in r.items() if k != "versions"} for r in thr],
        "scaling": exps,
    }
    out = a.out or OUT_DIR / ("speed-quick.json" if a.quick else "speed.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    if a.quick:
        print(json.dumps({"benchmark": "speed-quick", **summary}, separators=(",", ":")))
        _log(f"wrote {out} ({elapsed:.1f} s)")
        return 0

    print(
        f"innosim (compiled) vs Mesa reference ({SCENARIO}, {a.compare_years} years, "
        "core mechanisms)"
    )
    print(
        f"{'agents':>9} {'Mesa s/yr':>10} {'innosim s/yr':>13} {'ratio':>8} "
        f"{'(CPU s/yr: Mesa':>16} {'innosim':>8} {'ratio)':>7} {'load':>6}"
    )
    for r in cmp_rows:
        mm, ii = r["mesa"], r["innosim"]
        m = f"{mm['s_per_year']:.4f}" if mm else "skipped"
        mc = f"{mm['cpu_s_per_year']:.4f}" if mm else "-"
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
        rc = f"{r['ratio_cpu']:.1f}x" if r.get("ratio_cpu") else "-"
        print(
            f"{r['agents']:>9,} {m:>10} {ii['s_per_year']:>13.4f} {ratio:>8} {mc:>16} "
            f"{ii['cpu_s_per_year']:>8.4f} {rc:>7} {ii['load_before'][0]:>6.2f}"
        )
    if thr:
        print(f"\ninnosim throughput, all mechanisms, {thr[0]['start_year']}-{thr[0]['end_year']}")
        print(
            f"{'target':>11} {'peak agents':>12} {'ms/tick':>9} {'agent-steps/s':>14} "
            f"{'run s':>8} {'peak MiB':>9} {'bytes/agent':>12} {'(loop)':>7} {'load':>6} "
            f"{'steps/CPU s':>12}"
        )
        for r in thr:
            print(
                f"{r['agents_target']:>11,} {r['agents_peak']:>12,} {r['ms_per_tick']:>9.2f} "
                f"{r['agent_steps_per_s']:>14,.0f} {r['wall_seconds']:>8.1f} "
                f"{r['peak_rss_bytes'] / 2**20:>9.0f} {r['bytes_per_agent']:>12.0f} "
                f"{r['bytes_per_agent_loop']:>7.0f} {r['load_before'][0]:>6.2f} "
                f"{r['agent_steps_per_cpu_s']:>12,.0f}"
            )
    if len(thr) >= 2:
        png = out.parent / "scaling.png"
        plot(thr, cmp_rows, exps, png)
        e5 = exps["from_1e5"]
        print(
            f"\nscaling exponent (time per tick ~ agents^k): k = {exps['all']:.3f} over "
            f"{_label(tsizes[0])}-{_label(tsizes[-1])}"
            + (f", {e5:.3f} from 10^5" if e5 is not None else "")
            + f" (CPU time: {exps['all_cpu']:.3f}); plot {png}"
        )
    print("\n" + json.dumps({"benchmark": "speed", **summary}, separators=(",", ":")), flush=True)
    _log(f"wrote {out} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
