"""Time the TOP index: all 16 cities of the shipped dataset with the default 1,000-draw Monte
Carlo uncertainty analysis (issue budget: <= 60 s). Prints one JSON line."""

from __future__ import annotations

import json
import time

from innosim.index import build_index


def main() -> None:
    t0 = time.perf_counter()
    r = build_index(draws=1000, seed=0)
    elapsed = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "index_cities": len(r.table),
                "index_draws": 1000,
                "index_seconds": round(elapsed, 2),
                "index_budget_seconds": 60,
                "index_within_budget": elapsed <= 60,
            }
        )
    )


if __name__ == "__main__":
    main()
