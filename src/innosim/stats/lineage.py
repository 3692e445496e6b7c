"""Spinoff lineages in a firm registry: who descends from whom (issue 16, point 4).

A firm founded by an employee of another firm records that firm's id as its ``parent`` (the
founding mechanism's spinoffs; -1 for a founder from outside any innovative firm). These
functions read the registry only (a DataFrame with ``id``, ``parent``, ``city``, ``born`` and the
outcome columns), so they work on a stored run as well as on a live one.

Klepper (2007, 2010) traced Detroit's car industry and Silicon Valley's semiconductors to a few
early firms whose employees founded most later entrants; Gompers, Lerner and Scharfstein (2005)
find that venture-backed firms are spawned most by young, venture-backed, successful parents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["lineage", "spinoff_summary"]

NO_PARENT = -1


def lineage(registry: pd.DataFrame) -> pd.DataFrame:
    """One row per firm with its lineage: ``root`` (the id of its earliest ancestor, itself if
    it has no parent), ``depth`` (generations below the root), ``children`` (direct spinoffs)
    and ``descendants`` (all generations below it).

    A parent that is not in the registry (it cannot happen in a run's own registry) ends the
    chain: the child is then a root."""
    ids = registry["id"].to_numpy(dtype=np.int64)
    parent = registry["parent"].to_numpy(dtype=np.int64)
    pos = pd.Series(np.arange(ids.size), index=ids)
    p_row = pos.reindex(parent).to_numpy()
    p_row = np.where(np.isnan(p_row), -1, p_row).astype(np.int64)
    # climb one generation per pass (a loop over generations, not firms): every firm's
    # ancestor k generations up, counted for the ancestor's descendants
    n = ids.size
    rows = np.arange(n)
    root_row = rows.copy()
    depth = np.zeros(n, np.int64)
    descendants = np.zeros(n, np.int64)
    up = p_row.copy()
    while (up >= 0).any():
        has = up >= 0
        root_row[has] = up[has]
        depth[has] += 1
        descendants += np.bincount(up[has], minlength=n)
        up = np.where(has, p_row[np.maximum(up, 0)], -1)
    root = ids[root_row]
    children = np.bincount(p_row[p_row >= 0], minlength=n)
    out = registry.copy()
    out["root"] = root
    out["depth"] = depth
    out["children"] = children
    out["descendants"] = descendants
    return out


def spinoff_summary(registry: pd.DataFrame) -> pd.DataFrame:
    """Per city: firms, spinoffs (firms with a parent), their share, and the success share of
    spinoffs against other firms (Klepper's pattern: spinoffs of good parents do better)."""
    reg = registry.assign(spinoff=registry["parent"] >= 0)
    g = reg.groupby("city")
    out = pd.DataFrame(
        {
            "firms": g.size(),
            "spinoffs": g["spinoff"].sum(),
        }
    )
    out["spinoff_share"] = out["spinoffs"] / out["firms"]
    success = reg.groupby(["city", "spinoff"])["success"].mean().unstack("spinoff")
    out["success_spinoffs"] = success.get(True, pd.Series(dtype=float)).reindex(out.index)
    out["success_others"] = success.get(False, pd.Series(dtype=float)).reindex(out.index)
    return out.reset_index()
