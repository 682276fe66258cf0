"""PostgreSQL, the shared multi-user backend: the same schema and the same SQL."""

from __future__ import annotations

from typing import Any

from intercom_sync.store import sql
from intercom_sync.store.dbapi import DbApiStore


class PostgresStore(DbApiStore):
    dialect_def = sql.POSTGRES

    def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "store.url is PostgreSQL but psycopg is not installed: "
                "pip install 'intercom-sync[postgres]'"
            ) from exc
        return psycopg.connect(self.url, autocommit=True)

    def _begin(self) -> None:
        self._conn.execute("BEGIN")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")
