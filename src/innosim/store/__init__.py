"""Results store: finished runs as a directory of Parquet tables plus a ``meta.json``.

Layout under the store root::

    root/
      runs/<run_id>/meta.json
      runs/<run_id>/<table>.parquet     # one file per table (series, firms, investments, ...)
      .tmp-<random>/                    # in-progress or crashed writes; ignored by readers

A run becomes visible only through one atomic ``os.rename`` of a fully written, fsynced
directory, so readers never see half a run. See :class:`RunStore` and :class:`StoredRun`.
"""

from __future__ import annotations

from innosim.store.runs import RunStore, StoredRun

__all__ = ["RunStore", "StoredRun"]
