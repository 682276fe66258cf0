"""PostgreSQL, the shared multi-user backend: the same schema and the same SQL."""

from __future__ import annotations

from typing import Any

import intercom_sync.store.sql as sql
from intercom_sync.store.connect import connect_postgres
from intercom_sync.store.dbapi import DbApiStore
from intercom_sync.store.problems import StoreUnavailable, postgres_problem

# SQLSTATE classes that are about the server, not the SQL: connection, resources (disk
# full), operator intervention, authorization, a database that does not exist.
_SERVER_STATES = ("08", "53", "57P", "28", "3D000", "25006")
# The advisory lock that serialises schema changes ("intercom-sync schema", as a number).
_SCHEMA_LOCK = 0x1C5C_0001


class PostgresStore(DbApiStore):
    dialect_def = sql.POSTGRES

    def _problem(self, error: Exception) -> StoreUnavailable | None:
        import psycopg

        if not isinstance(error, psycopg.Error):
            return None
        state = error.sqlstate
        refused = isinstance(error, psycopg.OperationalError) and state is None
        if refused or (state is not None and state.startswith(_SERVER_STATES)):
            return postgres_problem(self.url, error)
        return None

    def _connect(self) -> Any:
        return connect_postgres(self.url)

    def _lock_schema(self, cur: Any) -> None:
        # CREATE … IF NOT EXISTS is not safe against itself: two processes opening a new
        # database at once collide on its catalog (a unique violation). One advisory lock,
        # held until the transaction ends, takes them in turn.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))

    def _begin(self) -> None:
        self._conn.execute("BEGIN")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")
