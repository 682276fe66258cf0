"""The SQL dialect of metric queries: the store's one dialect layer (`store.sql`).

Kept as a name the metrics modules import until they import `store.sql` directly.
"""

from __future__ import annotations

from intercom_sync.store.sql import ALIAS, POSTGRES, SQLITE, Dialect, for_store

MetricDialect = Dialect

__all__ = ["ALIAS", "POSTGRES", "SQLITE", "MetricDialect", "for_store"]
