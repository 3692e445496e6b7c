"""Phase diagram of C9's loop: where a city's culture and capital tip (issue 16, point 2).

Sweeps one city's starting ``risk_appetite`` and ``failure_tolerance`` levers on a grid (the
other cities as in the scenario) and records, in the last year, how far the city's culture has
moved from where it started (the learned shift of the tolerance its founders face, climate
mechanism), its funds' appetite and its firms. A positive shift is the virtuous side of the
loop (successes teach tolerance), a negative one the vicious side (few successes, fear); the
zero contour is where the loop tips.

    .venv/bin/python tools/c9_phase.py [--scenario demo] [--city Nanjing] [--year 2024]
        [--seeds 2] [--n 5] [--out docs/figures]

Writes ``c9_phase.csv`` (one row per cell and seed) and ``c9_phase.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import innosim


def sweep(scenario: str, city: str, year: int, seeds: int, n: int) -> pd.DataFrame:
    base = innosim.load_scenario(scenario).with_end_year(year)
    rows = []
    for appetite in np.linspace(0.1, 0.9, n):
        for tolerance in np.linspace(0.3, 0.9, n):
            sc = base.with_city_params(
                city, risk_appetite=float(appetite), failure_tolerance=float(tolerance)
            )
            for seed in range(1, seeds + 1):
                y = innosim.run(sc, seed).yearly()
                last = y[(y.year == year) & (y.city == city)].iloc[0]
                rows.append(
                    {
                        "risk_appetite": appetite,
                        "failure_tolerance": tolerance,
                        "seed": seed,
                        "tolerance_shift": float(last["failure_tolerance"]) - tolerance,
                        "appetite_now": float(last["risk_appetite"]),
                        "firms": float(last["firms"]),
                        "unicorns": float(last["unicorns"]),
                    }
                )
            print(f"appetite {appetite:.2f} tolerance {tolerance:.2f}", flush=True)
    return pd.DataFrame(rows)


def figure(df: pd.DataFrame, city: str, year: int, path: Path) -> None:
    mean = df.groupby(["risk_appetite", "failure_tolerance"]).mean(numeric_only=True)
    a = np.sort(df["risk_appetite"].unique())
    t = np.sort(df["failure_tolerance"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    for ax, col, title, cmap in (
        (axes[0], "tolerance_shift", f"learned tolerance shift in {year}", "RdBu"),
        (axes[1], "firms", f"innovative firms in {year}", "viridis"),
    ):
        z = mean[col].unstack("failure_tolerance").loc[a, t].to_numpy()
        if col == "tolerance_shift":
            lim = max(abs(z).max(), 1e-6)
            im = ax.pcolormesh(t, a, z, cmap=cmap, vmin=-lim, vmax=lim, shading="nearest")
            if z.min() < 0 < z.max():
                ax.contour(t, a, z, levels=[0.0], colors="k", linewidths=1.5)
        else:
            im = ax.pcolormesh(t, a, z, cmap=cmap, shading="nearest")
        fig.colorbar(im, ax=ax)
        ax.set_xlabel(f"{city}: starting failure tolerance (lever)")
        ax.set_ylabel(f"{city}: starting risk appetite (lever)")
        ax.set_title(title)
    fig.suptitle(f"C9 phase diagram: {city}, mean of {df['seed'].nunique()} seeds")
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="demo")
    ap.add_argument("--city", default="Nanjing")
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    df = sweep(args.scenario, args.city, args.year, args.seeds, args.n)
    df.to_csv(args.out / "c9_phase.csv", index=False)
    figure(df, args.city, args.year, args.out / "c9_phase.png")
    print(f"wrote {args.out / 'c9_phase.csv'} and {args.out / 'c9_phase.png'}")


if __name__ == "__main__":
    main()
