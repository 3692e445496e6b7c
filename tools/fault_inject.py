"""Fault injection: SIGKILL ``innosim run``, ``sweep``, ``validate`` and ``index`` at random moments
and check that nothing written is lost or corrupted (issue 8, point 2).

For each command the script first runs it once to completion into a reference directory (its
duration sets the range of kill moments and its outputs are the expected values). Then, for each
trial, it starts the command on a *shared* output directory (so earlier trials' finished work is
at stake), sends SIGKILL to its whole process group after a delay drawn uniformly from
``[0, 1.2 x reference duration]``, and checks:

* the store or output directory still opens and every visible file is whole (Parquet and JSON
  parse, CSV reads, PNG carries its end marker);
* every run finished before the trial is still there and reads back in full (``run``), every
  finished sweep shard is still there unchanged (``sweep``);
* the interrupted command, started again, completes, and its results equal the reference
  (a sweep resumes: it computes only the runs that are missing);
* no temporary directory is visible as a result (``.tmp-*`` names are the writers' staging
  areas and are not part of any result).

Then it checks the two hostile directories: a read-only output directory and a full file
system (a 256 KiB tmpfs, mounted when the process may mount; skipped with the reason otherwise):
the command exits 2 with a one-paragraph message naming ``--out``, and what the directory held
before is unchanged.

Usage::

    .venv/bin/python tools/fault_inject.py                       # 20 trials per command
    .venv/bin/python tools/fault_inject.py --trials 5 --commands run,index --seed 3

A sweep trial starts from an empty store and is killed twice (the second kill hits a store
holding finished shards), so its kill counts can reach twice its trials.

Prints a table (command, trials, kills that landed while it ran, runs that ended before the kill
moment, corrupted stores, lost finished work, reruns equal to the reference) and exits 1 if any trial corrupted or lost anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

# a small targets file for validate: two statistics on a short, small run
VALIDATE_TARGETS = """\
[validation]
scenario = "demo"
replicates = 2
seed = 5

[[target]]
statistic = "survival_rate"
args = { age_years = 1 }
value = 0.8
low = 0.0
high = 1.0
source = "fault-injection fixture"

[[target]]
statistic = "founder_success_rate"
args = { history = "first_time" }
value = 0.2
low = 0.0
high = 1.0
source = "fault-injection fixture"
"""


def innosim_cmd() -> list[str]:
    """How to start the CLI: the venv's script beside this Python, else ``python -m innosim``."""
    script = Path(sys.executable).with_name("innosim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "innosim"]


def command_args(command: str, out: Path, work: Path) -> list[str]:
    """The command line of one command writing into ``out`` (small, fast settings)."""
    if command == "run":
        return ["run", "demo", "--seed", "11", "--until", "2006", "--out", str(out)]
    if command == "sweep":
        return ["sweep", "demo", "-p", "failure_tolerance=0.3:0.9:3", "--replicates", "2",
                "--year", "2001", "--scale", "0.3", "--seed", "3", "--metrics",
                "firms,unicorns,value_added", "--workers", "1", "--batch", "1", "--no-figure",
                "--out", str(out)]  # fmt: skip
    if command == "validate":
        targets = work / "targets.toml"
        if not targets.exists():
            targets.write_text(VALIDATE_TARGETS)
        return ["validate", "--targets", str(targets), "--workers", "1", "--format", "json",
                "--out", str(out)]  # fmt: skip
    if command == "index":
        return ["index", "--draws", "100", "--format", "csv", "--out", str(out)]
    raise ValueError(f"unknown command {command!r}")


COMMANDS = ("run", "sweep", "validate", "index")


# --------------------------------------------------------------------------- reading outputs


class Corrupt(Exception):
    """A visible file or store that does not read back whole."""


def read_file(path: Path) -> object:
    """Read one output file by its kind; raise :class:`Corrupt` if it is not whole."""
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".json":
            return json.loads(path.read_text())
        if path.suffix == ".csv":
            return pd.read_csv(path)
        if path.suffix == ".png":
            data = path.read_bytes()
            if not (data.startswith(b"\x89PNG") and data.rstrip().endswith(b"IEND\xaeB`\x82")):
                raise Corrupt(f"{path}: PNG without its end marker")
            return len(data)
        if path.suffix in (".html", ".txt", ".md"):
            return path.read_text()
    except Corrupt:
        raise
    except Exception as e:  # any parse error is corruption
        raise Corrupt(f"{path}: {type(e).__name__}: {e}") from None
    return path.read_bytes()


def visible_files(out: Path) -> list[Path]:
    """Files a reader would take as results: not under a dot-named (staging) directory."""
    if not out.exists():
        return []
    return sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    )


def snapshot_runs(out: Path) -> dict[str, dict[str, object]]:
    """Every run in a results store, read back in full: run id -> {table: frame, meta: dict}."""
    from innosim.store.runs import RunStore

    if not (out / "runs").exists():
        return {}
    try:
        store = RunStore(out)
        listing = store.list_runs()
        runs = {}
        for run_id in listing["run_id"]:
            stored = store.load_run(str(run_id))
            runs[str(run_id)] = {name: stored.table(name) for name in stored.tables}
        # the SQL view over all runs opens too
        store.query("SELECT count(*) AS n FROM series")
    except Exception as e:
        raise Corrupt(f"store {out}: {type(e).__name__}: {e}") from None
    return runs


def snapshot_sweep(out: Path) -> dict[str, bytes]:
    """Every finished sweep shard: name -> bytes (each must read as Parquet)."""
    shards = out / "shards"
    if not shards.exists():
        return {}
    got = {}
    for p in sorted(shards.glob("*.parquet")):
        if p.name.startswith("."):
            continue
        read_file(p)
        got[p.name] = p.read_bytes()
    return got


def sweep_results(out: Path) -> pd.DataFrame:
    """The sweep's rows in a canonical order (for comparison with the reference)."""
    frames = [pd.read_parquet(p) for p in sorted((out / "shards").glob("*.parquet"))]
    df = pd.concat(frames, ignore_index=True)
    keep = [c for c in df.columns if "time" not in c and "wall" not in c]
    keys = [c for c in ("run_id", "city") if c in keep] or keep[:1]
    return df[keep].sort_values(keys, kind="stable").reset_index(drop=True)


TIMING_KEYS = ("timings", "elapsed_seconds", "wall_seconds", "seconds")


def _without_timings(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def comparable(path: Path) -> object:
    """A file's content with run-specific noise (timings, temp paths) removed."""
    obj = read_file(path)
    if isinstance(obj, dict):
        return _without_timings(obj)
    if isinstance(obj, pd.DataFrame):
        return obj.drop(columns=[c for c in obj.columns if "seconds" in c], errors="ignore")
    return obj


def same(a: object, b: object) -> bool:
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        return a.shape == b.shape and a.reset_index(drop=True).equals(b.reset_index(drop=True))
    return a == b


# --------------------------------------------------------------------------- one command


@dataclass
class Tally:
    command: str
    trials: int = 0
    killed: int = 0  # SIGKILL arrived while the command ran
    finished_first: int = 0  # the command ended before the kill moment
    corrupted: int = 0
    lost: int = 0
    resumed_equal: int = 0
    notes: list[str] = field(default_factory=list)


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*innosim_cmd(), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _kill_after(args: list[str], delay: float) -> bool:
    """Start the command, SIGKILL its process group after ``delay`` s; True if it was running."""
    proc = subprocess.Popen(
        [*innosim_cmd(), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < delay:
        time.sleep(0.005)
    running = proc.poll() is None
    if running:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return running


def _state(command: str, out: Path) -> object:
    """What a trial must not lose: the finished runs or shards, or the whole output files."""
    if command == "run":
        return snapshot_runs(out)
    if command == "sweep":
        return snapshot_sweep(out)
    return {p.name: comparable(p) for p in visible_files(out)}


def _kept(command: str, before: object, after: object) -> bool:
    """Everything finished before is still there, unchanged."""
    if command == "run":
        return all(
            k in after and all(same(v, after[k].get(t)) for t, v in tables.items())
            for k, tables in before.items()
        )
    if command == "sweep":
        return all(after.get(k) == v for k, v in before.items())
    # validate, index: a complete earlier set stays complete (same files, same content)
    return set(before) <= set(after) and all(same(before[k], after[k]) for k in before)


def trial_loop(command: str, trials: int, rnd: random.Random, work: Path, log: Callable) -> Tally:
    tally = Tally(command)
    ref_out = work / f"{command}-reference"
    t0 = time.monotonic()
    done = _run(command_args(command, ref_out, work))
    duration = time.monotonic() - t0
    if done.returncode != 0:
        raise SystemExit(f"reference {command} failed:\n{done.stderr}")
    reference = _state(command, ref_out)
    ref_rows = sweep_results(ref_out) if command == "sweep" else None
    shared = work / f"{command}-shared"
    for i in range(trials):
        tally.trials += 1
        # A sweep that completed has nothing left to do, so each sweep trial starts afresh and is
        # killed twice: the second kill lands on a store that already holds finished shards.
        kills = 1
        if command == "sweep":
            shutil.rmtree(shared, ignore_errors=True)
            kills = 2

        def state_or_none(when: str) -> object | None:
            """The store's state, or None (counted as corrupted) if it cannot be read."""
            try:
                return _state(command, shared)
            except Corrupt as e:
                tally.corrupted += 1
                tally.notes.append(f"trial {i} ({when}): {e}")  # noqa: B023 - used at once
                return None

        broken = False
        for _ in range(kills):
            before = state_or_none("before")
            if before is None:
                broken = True
                break
            delay = rnd.uniform(0.0, 1.2 * duration)
            if _kill_after(command_args(command, shared, work), delay):
                tally.killed += 1
            else:
                tally.finished_first += 1
            after = state_or_none(f"kill at {delay:.2f}s")
            if after is None:
                broken = True
                break
            if not _kept(command, before, after):
                tally.lost += 1
                tally.notes.append(
                    f"trial {i} (kill at {delay:.2f}s): finished work changed or lost"
                )
        if broken:
            continue
        # start again: it must complete and give the reference's results
        again = _run(command_args(command, shared, work))
        if again.returncode != 0:
            tally.notes.append(f"trial {i}: rerun failed: {again.stderr.strip()[:300]}")
            continue
        final = _state(command, shared)
        if command == "run":
            ok = all(k in final for k in reference)
        elif command == "sweep":
            ok = same(sweep_results(shared), ref_rows)
        else:
            ok = set(reference) <= set(final) and all(
                same(reference[k], final[k]) for k in reference
            )
        tally.resumed_equal += ok
        if not ok:
            tally.notes.append(f"trial {i}: rerun differs from the reference")
        log(f"{command} trial {i + 1}/{trials}: kill at {delay:.2f}s of ~{duration:.2f}s, ok")
    return tally


# --------------------------------------------------------------------------- hostile directories


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return r.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def hostile_dirs(work: Path, commands: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(command, case, result) for a read-only and a full output directory."""
    rows = []
    for case, opts in (("read-only", "size=4m"), ("full", "size=256k")):
        mnt = work / f"mnt-{case}"
        if not _mount_tmpfs(mnt, opts):
            rows += [(c, case, "skipped: cannot mount a tmpfs here (needs root)") for c in commands]
            continue
        try:
            for c in commands:
                out = mnt / c
                out.mkdir()
                (out / "keep.txt").write_text("written before\n")
                if case == "read-only":
                    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
                else:  # fill the file system up to the last few bytes
                    fd = os.open(mnt / f"filler-{c}", os.O_WRONLY | os.O_CREAT, 0o644)
                    try:
                        while os.write(fd, b"\0" * 4096):
                            pass
                    except OSError:
                        pass  # ENOSPC: the file system is full
                    finally:
                        os.close(fd)
                r = _run(command_args(c, out, work), timeout=300)
                text = (r.stdout + r.stderr).strip()
                clean = (
                    r.returncode == 2
                    and "Traceback" not in text
                    and ("--out" in text or str(out) in text)
                    and (out / "keep.txt").read_text() == "written before\n"
                )
                rows.append(
                    (
                        c,
                        case,
                        "clean error (exit 2)"
                        if clean
                        else f"FAIL rc={r.returncode}: {text[-300:]}",
                    )
                )
                if case == "read-only":
                    subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
                else:
                    (mnt / f"filler-{c}").unlink()
        finally:
            _umount(mnt)
    return rows


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--commands", default=",".join(COMMANDS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None, help="work directory (default: a temp dir)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    commands = tuple(c.strip() for c in args.commands.split(",") if c.strip())
    unknown = set(commands) - set(COMMANDS)
    if unknown:
        ap.error(f"unknown commands {sorted(unknown)}; expected some of {', '.join(COMMANDS)}")
    rnd = random.Random(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="innosim-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    t0 = time.monotonic()
    tallies = [trial_loop(c, args.trials, rnd, work, log) for c in commands]
    hostile = hostile_dirs(work, commands)
    print()
    print(
        f"{'command':<10}{'trials':>7}{'killed':>8}{'ended':>7}{'corrupt':>9}{'lost':>6}{'resumed=':>10}"
    )
    for t in tallies:
        print(f"{t.command:<10}{t.trials:>7}{t.killed:>8}{t.finished_first:>7}{t.corrupted:>9}"
              f"{t.lost:>6}{t.resumed_equal:>10}")  # fmt: skip
        for n in t.notes:
            print("   ", n)
    print()
    for c, case, result in hostile:
        print(f"{c:<10}{case:<11}{result}")
    print(f"\n{time.monotonic() - t0:.0f} s; work directory {work}")
    bad = sum(t.corrupted + t.lost + (t.trials - t.resumed_equal) for t in tallies)
    bad += sum(1 for *_, r in hostile if r.startswith("FAIL"))
    if args.work is None and not bad:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
