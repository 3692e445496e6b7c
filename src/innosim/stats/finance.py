"""Venture-finance statistics: the fund ledger's return distribution and the unicorn funnel.

Read the venture ledger (``result.investments``: one row per investment, ``amount`` and, once
``realised``, ``proceeds``) and the firm registry (``rounds``, ``unicorn_ever``).
"""

from __future__ import annotations

import math

import numpy as np

from innosim.model.runner import RunResult
from innosim.stats.registry import ArgSpec, ratio, statistic, window_tick

__all__ = [
    "MULTIPLE_RTOL",
    "seed_to_unicorn_rate",
    "vc_share_deals_below_1x",
    "vc_top_deals_return_share",
]

MULTIPLE_RTOL = 1e-4
"""Relative tolerance below 1x under which a realised multiple counts as a loss."""


def _realised(result: RunResult):
    inv = result.investments
    if inv.empty:
        return inv
    return inv[inv["realised"].astype(bool)]


@statistic("finance", "share")
def vc_share_deals_below_1x(result: RunResult) -> float:
    """Share of realised fund investments returning less than invested.

    Reads the venture ledger: among investments with ``realised`` true (the firm listed, was
    acquired or failed), the share with ``proceeds < amount`` (a relative tolerance
    ``MULTIPLE_RTOL`` = 1e-4 counts a deal paid back exactly — a 1x liquidation preference, a
    sale at the last round's price — as 1x despite the ledger's single-precision columns).
    Investments still open at the end of the run are not counted. NaN with no realised investment.
    Unit: share.
    """
    r = _realised(result)
    if r.empty:
        return math.nan
    amount = r["amount"].to_numpy(np.float64)
    return float((r["proceeds"].to_numpy(np.float64) < amount * (1.0 - MULTIPLE_RTOL)).mean())


@statistic("finance", "share", ArgSpec("top_share", "float", 0.06, low=0.0, high=1.0))
def vc_top_deals_return_share(result: RunResult, top_share: float = 0.06) -> float:
    """Share of gross returns earned by the best ``top_share`` of realised investments.

    Reads the venture ledger: with ``n`` realised investments and
    ``k = max(ceil(top_share * n), 1)``, the sum of the ``k`` largest proceeds over the sum of
    all proceeds. NaN with no realised investment or no proceeds. Unit: share.
    """
    r = _realised(result)
    if r.empty:
        return math.nan
    p = np.sort(r["proceeds"].to_numpy(np.float64))[::-1]
    k = max(math.ceil(top_share * p.size), 1)
    total = float(p.sum())
    return ratio(float(p[:k].sum()), total) if total > 0 else math.nan


@statistic("finance", "share")
def seed_to_unicorn_rate(result: RunResult) -> float:
    """Share of firms that ever raised outside capital which ever reach a valuation of at least
    the scenario's ``unicorn_valuation`` (1 billion US dollars or its currency equivalent).

    Reads the firm registry: firms founded in the measured window with ``rounds > 0``; the
    share with ``unicorn_ever``. Firms founded late have had less time to get there (as in the
    CB Insights funnel, which follows cohorts for about a decade). NaN when no firm raised.
    Unit: share.
    """
    f = result.firms
    raised = f[(f["born"].astype(np.int64) >= window_tick(result)) & (f["rounds"] > 0)]
    if raised.empty:
        return math.nan
    return float(raised["unicorn_ever"].astype(bool).mean())
