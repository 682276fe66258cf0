"""A `Store` over any DB-API connection; SQLite and PostgreSQL subclass it."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

import intercom_sync.store.sql as sql
from intercom_sync.processes import process_alive
from intercom_sync.store.problems import StoreUnavailable
from intercom_sync.store.schema import (
    INTERNAL_TABLES,
    RAW_TABLES,
    SCHEMA_VERSION,
    SHAPE_TABLES,
    RawTable,
)
from intercom_sync.store.writes import (
    ApplyResult,
    PageWrite,
    RecordWrite,
    RunRecord,
    Shapes,
)

_BATCH = 400  # keys per IN list: well under SQLite's and PostgreSQL's parameter limits

_ENTITY_COLS = tuple(c for c, _ in SHAPE_TABLES["entities"].columns)
_EVENT_COLS = tuple(c for c, _ in SHAPE_TABLES["events"].columns)
_EDGE_COLS = tuple(c for c, _ in SHAPE_TABLES["edges"].columns)
_METRIC_COLS = tuple(c for c, _ in SHAPE_TABLES["metrics"].columns)
_MISSING: Any = object()


class DbApiStore(ABC):
    """A `Store` (every role in `store.base`) over one DB-API connection; SQLite and
    PostgreSQL subclass it with how they connect and begin a transaction."""

    dialect_def: sql.Dialect
    keeps_history = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = self.dialect_def.name
        with self._explained():
            self._conn: Any = self._connect()
        self._statements: dict[str, str] = {}
        self._seq = 0

    # -- backend hooks ---------------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any: ...

    def _problem(self, error: Exception) -> StoreUnavailable | None:
        """A failure of the store itself (read-only, not a database, a server that
        refuses) explained in one line; None for anything else (a bug, a bad query)."""
        return None

    @contextmanager
    def _explained(self) -> Iterator[None]:
        try:
            yield
        except StoreUnavailable:
            raise
        except Exception as error:
            problem = self._problem(error)
            if problem is None:
                raise
            raise problem from error

    @abstractmethod
    def _begin(self) -> None: ...

    def _commit(self) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        self._conn.rollback()

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._explained():
            self._begin()
            cur = self._conn.cursor()
            try:
                yield cur
            except BaseException:
                self._rollback()
                raise
            else:
                self._commit()
            finally:
                cur.close()

    def close(self) -> None:
        self._conn.close()

    # -- schema ----------------------------------------------------------------------------
    def migrate(self) -> None:
        d = self.dialect_def
        stmts: list[str] = []
        for raw in RAW_TABLES.values():
            stmts += sql.raw_table_ddl(d, raw)
        for table in (*SHAPE_TABLES.values(), *INTERNAL_TABLES.values()):
            stmts += sql.table_ddl(d, table)
        with self._tx() as cur:
            self._lock_schema(cur)
            for stmt in stmts:
                cur.execute(stmt)
            cur.execute(
                d.translate("SELECT version FROM _schema_version WHERE version = ?"),
                (SCHEMA_VERSION,),
            )
            if cur.fetchone() is None:
                cur.execute(
                    d.translate("INSERT INTO _schema_version (version, applied_at) VALUES (?, ?)"),
                    (SCHEMA_VERSION, int(_wall())),
                )

    def _lock_schema(self, cur: Any) -> None:  # noqa: B027 - a hook: PostgreSQL needs it
        """Keep two processes from changing the schema at once (a transaction does that
        wherever DDL takes the write lock, as SQLite's BEGIN IMMEDIATE does)."""

    def execute_ddl(self, statements: list[str]) -> None:
        with self._tx() as cur:
            self._lock_schema(cur)
            for stmt in statements:
                cur.execute(stmt)

    def optimize(self) -> None:  # noqa: B027 - a hook: SQLite overrides it
        """Nothing by default (PostgreSQL's autovacuum analyses on its own)."""

    def analyze(self) -> None:
        self._conn.execute("ANALYZE")

    # -- statements ------------------------------------------------------------------------
    def _stmt(self, name: str, build: Any) -> str:
        stmt = self._statements.get(name)
        if stmt is None:
            stmt = self._statements[name] = build()
        return stmt

    def _raw_upsert(self, t: RawTable) -> str:
        cols = tuple(c for c, _ in t.all_columns)
        return self._stmt(
            f"upsert:{t.name}",
            lambda: sql.upsert(
                self.dialect_def, t.name, cols, t.key_names, newer_only=t.has_updated_at
            ),
        )

    # -- writes ----------------------------------------------------------------------------
    def apply(self, write: PageWrite, now: int) -> ApplyResult:
        with self._tx() as cur:
            return self._apply_in(cur, write, now)

    def apply_many(self, writes: Sequence[PageWrite], now: int) -> list[ApplyResult]:
        """Several page writes, in order, in ONE transaction: a commit costs far more than
        a small child write, so the writer thread combines the writes that queued up while
        it was busy."""
        with self._tx() as cur:
            return [self._apply_in(cur, write, now) for write in writes]

    def _apply_in(self, cur: Any, write: PageWrite, now: int) -> ApplyResult:
        result = ApplyResult()
        shapes = Shapes()
        if write.table is not None and write.records:
            table = RAW_TABLES[write.table]
            fresh, stale, moved = self._split_stale(cur, table, write.records)
            self._write_raw(cur, table, fresh, write.seen_pass, now)
            self._touch_seen(cur, table, stale, write.seen_pass)
            result.written, result.stale, result.moved = len(fresh), len(stale), moved
            for rec in fresh:
                if rec.shapes:
                    shapes.extend(rec.shapes)
            self._enqueue_children(cur, write, fresh, moved, now)
        if write.table is not None:
            for scope in write.complete_scopes:
                self._close_scope(cur, RAW_TABLES[write.table], write, scope, now)
        shapes.extend(write.shapes)
        self._write_shapes(cur, shapes, now)
        self._write_gaps(cur, write, now)
        self._dequeue_children(cur, write.dequeue_children)
        self._write_state(cur, write.state, now)
        return result

    def _enqueue_children(
        self,
        cur: Any,
        write: PageWrite,
        fresh: list[RecordWrite],
        moved: list[tuple[str, ...]],
        now: int,
    ) -> None:
        if not write.enqueue_children or not moved:
            return
        moved_set = set(moved)
        cols = ("stream", "parent_id", "parent_updated_at", "enqueued_at", "seq")
        stmt = self._stmt(
            "enqueue",
            lambda: sql.upsert(
                self.dialect_def, "_pending_children", cols, ("stream", "parent_id")
            ),
        )
        rows = [
            (child, rec.key[0], rec.updated_at, now, self._next_seq())
            for rec in fresh
            if rec.key in moved_set
            for child in write.enqueue_children
            if rec.children is None or child in rec.children
        ]
        cur.executemany(stmt, rows)

    def _next_seq(self) -> int:
        """Microseconds since the epoch, strictly increasing within this process: ordered
        across processes sharing the store as far as their clocks agree."""
        self._seq = max(self._seq + 1, time.time_ns() // 1_000)
        return self._seq

    def _close_scope(
        self, cur: Any, t: RawTable, write: PageWrite, scope: dict[str, Any], now: int
    ) -> None:
        """Mark rows of the scope that this complete listing no longer contains."""
        conds = [f"{col} = ?" for col in scope] + ["deleted_at IS NULL"]
        params: list[Any] = list(scope.values())
        keys = [r.key for r in write.records]
        if keys:
            conds.append(f"NOT ({sql.key_match(sql.SQLITE, t.key_names, len(keys))})")
            params += [v for k in keys for v in k]
        stmt = f"UPDATE {t.name} SET deleted_at = ? WHERE {' AND '.join(conds)}"
        cur.execute(self.dialect_def.translate(stmt), (now, *params))

    def _dequeue_children(self, cur: Any, done: list[tuple[str, str, int]]) -> None:
        if done:
            stmt = self.dialect_def.translate(
                "DELETE FROM _pending_children WHERE stream = ? AND parent_id = ? "
                "AND (parent_updated_at IS NULL OR parent_updated_at <= ?)"
            )
            cur.executemany(stmt, done)

    def _split_stale(
        self, cur: Any, t: RawTable, records: list[RecordWrite]
    ) -> tuple[list[RecordWrite], list[RecordWrite], list[tuple[str, ...]]]:
        """Split a page into fresh and stale records, and list the keys that moved.

        A record older than the stored version is stale: it never replaces newer data. A
        fresh record "moved" when it is new or its `updated_at` grew; only those schedule
        child fetches (conversation parts are fetched only for conversations that moved).
        """
        if not t.has_updated_at:
            return records, [], [r.key for r in records]
        stored = self._stored_versions(cur, t, [r.key for r in records])
        fresh: list[RecordWrite] = []
        stale: list[RecordWrite] = []
        moved: list[tuple[str, ...]] = []
        for rec in records:
            have = stored.get(rec.key, _MISSING)
            if have is _MISSING or have is None or rec.updated_at is None:
                fresh.append(rec)
                moved.append(rec.key)
            elif rec.updated_at < have:
                stale.append(rec)
            else:
                fresh.append(rec)
                if rec.updated_at > have:
                    moved.append(rec.key)
        return fresh, stale, moved

    def _stored_versions(
        self, cur: Any, t: RawTable, keys: list[tuple[str, ...]]
    ) -> dict[tuple[str, ...], Any]:
        stored: dict[tuple[str, ...], Any] = {}
        nkey = len(t.key)
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i : i + _BATCH]
            where = sql.key_match(self.dialect_def, t.key_names, len(chunk))
            params = [v for k in chunk for v in k]
            cur.execute(
                f"SELECT {', '.join(t.key_names)}, updated_at FROM {t.name} WHERE {where}", params
            )
            for row in cur.fetchall():
                stored[tuple(str(v) for v in row[:nkey])] = row[nkey]
        return stored

    def _write_raw(
        self, cur: Any, t: RawTable, records: list[RecordWrite], seen_pass: str | None, now: int
    ) -> None:
        if not records:
            return
        rows = [(*rec.row, now, seen_pass, None) for rec in records]
        cur.executemany(self._raw_upsert(t), rows)

    def _touch_seen(
        self, cur: Any, t: RawTable, records: list[RecordWrite], seen_pass: str | None
    ) -> None:
        if not records or seen_pass is None:
            return
        where = " AND ".join(f"{k} = ?" for k in t.key_names)
        stmt = self.dialect_def.translate(
            f"UPDATE {t.name} SET seen_pass = ?, deleted_at = NULL WHERE {where}"
        )
        cur.executemany(stmt, [(seen_pass, *rec.key) for rec in records])

    def _write_shapes(self, cur: Any, shapes: Shapes, now: int) -> None:
        d = self.dialect_def
        if shapes.edge_scopes:
            stmt = d.translate(
                "DELETE FROM edges WHERE connector = ? AND src_type = ? AND src_id = ? "
                "AND relation = ?"
            )
            cur.executemany(stmt, shapes.edge_scopes)
        if shapes.event_scopes:
            stmt = d.translate(
                "DELETE FROM events WHERE connector = ? AND event_type = ? "
                "AND entity_type = ? AND entity_id = ?"
            )
            cur.executemany(stmt, shapes.event_scopes)
        if shapes.metric_scopes:
            stmt = d.translate(
                "DELETE FROM metrics WHERE connector = ? AND entity_type = ? AND entity_id = ?"
            )
            cur.executemany(stmt, shapes.metric_scopes)
        if shapes.entities:
            stmt = self._stmt(
                "entities",
                lambda: sql.upsert(
                    d, "entities", _ENTITY_COLS, SHAPE_TABLES["entities"].key, newer_only=True
                ),
            )
            cur.executemany(stmt, [(*e, now, None) for e in shapes.entities])
        if shapes.events:
            stmt = self._stmt(
                "events", lambda: sql.upsert(d, "events", _EVENT_COLS, SHAPE_TABLES["events"].key)
            )
            cur.executemany(stmt, [(*e, now) for e in shapes.events])
        if shapes.edges:
            stmt = self._stmt(
                "edges", lambda: sql.upsert(d, "edges", _EDGE_COLS, SHAPE_TABLES["edges"].key)
            )
            cur.executemany(stmt, [(*e, now) for e in shapes.edges])
        if shapes.metrics:
            stmt = self._stmt(
                "metrics",
                lambda: sql.upsert(d, "metrics", _METRIC_COLS, SHAPE_TABLES["metrics"].key),
            )
            cur.executemany(stmt, [(*m, now) for m in shapes.metrics])

    def _write_gaps(self, cur: Any, write: PageWrite, now: int) -> None:
        d = self.dialect_def
        if write.gaps_closed:
            stmt = d.translate("DELETE FROM _parts_gaps WHERE conversation_id = ?")
            cur.executemany(stmt, [(cid,) for cid in write.gaps_closed])
        if write.gaps:
            cols = ("conversation_id", "expected", "stored", "missing", "detected_at")
            stmt = self._stmt(
                "gaps", lambda: sql.upsert(d, "_parts_gaps", cols, ("conversation_id",))
            )
            rows = [
                (g.conversation_id, g.expected, g.stored, g.expected - g.stored, now)
                for g in write.gaps
            ]
            cur.executemany(stmt, rows)

    def _write_state(self, cur: Any, states: dict[str, dict[str, Any]], now: int) -> None:
        if not states:
            return
        d = self.dialect_def
        stmt = self._stmt(
            "state",
            lambda: sql.upsert(d, "_sync_state", ("stream", "state", "updated_at"), ("stream",)),
        )
        cur.executemany(stmt, [(s, orjson.dumps(v).decode(), now) for s, v in states.items()])

    def save_state(self, states: dict[str, dict[str, Any]], now: int) -> None:
        with self._tx() as cur:
            self._write_state(cur, states, now)

    def mark_deleted(
        self,
        table: str,
        pass_id: str,
        now: int,
        *,
        updated_since: int | None = None,
        state: dict[str, dict[str, Any]] | None = None,
        entity_type: str | None = None,
        connector: str = "intercom",
        cascade: tuple[str, ...] = (),
        keys: Sequence[tuple[str, ...]] | None = None,
    ) -> int:
        t = RAW_TABLES[table]
        where, params = self._unseen_where(t, pass_id, updated_since)
        d = self.dialect_def
        with self._tx() as cur:
            if keys is not None:
                marked = self._mark_keys(
                    cur, t, where, params, list(keys), now, entity_type, connector
                )
            else:
                self._mark_entities(cur, t, where, params, now, entity_type, connector)
                cur.execute(
                    d.translate(f"UPDATE {t.name} SET deleted_at = ? WHERE {where}"),
                    (now, *params),
                )
                marked = int(cur.rowcount or 0)
            for child in cascade:
                self._mark_orphans(cur, RAW_TABLES[child], t, now)
            self._write_state(cur, state or {}, now)
        return marked

    def _unseen_where(
        self, t: RawTable, pass_id: str, updated_since: int | None
    ) -> tuple[str, list[Any]]:
        conds = ["deleted_at IS NULL", "(seen_pass IS NULL OR seen_pass <> ?)"]
        params: list[Any] = [pass_id]
        if updated_since is not None and t.has_updated_at:
            conds.append("(updated_at IS NULL OR updated_at >= ?)")
            params.append(updated_since)
        return " AND ".join(conds), params

    def _mark_keys(
        self,
        cur: Any,
        t: RawTable,
        where: str,
        params: list[Any],
        keys: list[tuple[str, ...]],
        now: int,
        entity_type: str | None,
        connector: str,
    ) -> int:
        """Mark just `keys` (each still unseen), in batches that fit a statement."""
        marked = 0
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i : i + _BATCH]
            match = sql.key_match(self.dialect_def, t.key_names, len(chunk))
            chunk_where = f"{where} AND {match}"
            chunk_params = [*params, *(v for k in chunk for v in k)]
            self._mark_entities(cur, t, chunk_where, chunk_params, now, entity_type, connector)
            cur.execute(
                self.dialect_def.translate(
                    f"UPDATE {t.name} SET deleted_at = ? WHERE {chunk_where}"
                ),
                (now, *chunk_params),
            )
            marked += int(cur.rowcount or 0)
        return marked

    def _mark_entities(
        self,
        cur: Any,
        t: RawTable,
        where: str,
        params: list[Any],
        now: int,
        entity_type: str | None,
        connector: str,
    ) -> None:
        if entity_type is None or t.key_names != ("id",):
            return
        cur.execute(
            self.dialect_def.translate(
                "UPDATE entities SET deleted_at = ? WHERE connector = ? "
                "AND entity_type = ? AND deleted_at IS NULL AND entity_id IN "
                f"(SELECT id FROM {t.name} WHERE {where})"
            ),
            (now * 1000, connector, entity_type, *params),
        )

    def _mark_orphans(self, cur: Any, child: RawTable, parent: RawTable, now: int) -> None:
        """Rows of a child table whose parent is marked deleted are deleted too."""
        column = child.parent_key[0]
        cur.execute(
            self.dialect_def.translate(
                f"UPDATE {child.name} SET deleted_at = ? WHERE deleted_at IS NULL AND {column} "
                f"IN (SELECT id FROM {parent.name} WHERE deleted_at IS NOT NULL)"
            ),
            (now,),
        )

    # -- reads -----------------------------------------------------------------------------
    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn.cursor()
        try:
            with self._explained():
                cur.execute(self.dialect_def.translate(statement), tuple(params))
                rows = cur.fetchall()
        finally:
            cur.close()
        self._end_read()
        return [tuple(r) for r in rows]

    def _end_read(self) -> None:  # noqa: B027 - a hook for drivers that need it
        """Close the implicit read transaction some drivers open."""

    def get_state(self, stream: str) -> dict[str, Any] | None:
        rows = self.query("SELECT state FROM _sync_state WHERE stream = ?", (stream,))
        return _load_json(rows[0][0]) if rows else None

    def all_states(self) -> dict[str, dict[str, Any]]:
        return {s: _load_json(v) for s, v in self.query("SELECT stream, state FROM _sync_state")}

    # -- memberships ---------------------------------------------------------------------
    def stage_members(self, stream: str, group_id: str, scan_id: str, members: list[str]) -> None:
        if not members:
            return
        cols = ("stream", "group_id", "scan_id", "member_id")
        stmt = self._stmt(
            "stage",
            lambda: sql.upsert(self.dialect_def, "_member_scans", cols, cols, do_nothing=True),
        )
        with self._tx() as cur:
            cur.executemany(stmt, [(stream, group_id, scan_id, m) for m in members])

    def staged_count(self, stream: str, group_id: str, scan_id: str) -> int:
        rows = self.query(
            "SELECT count(*) FROM _member_scans WHERE stream = ? AND group_id = ? AND scan_id = ?",
            (stream, group_id, scan_id),
        )
        return int(rows[0][0])

    def replace_members(
        self,
        stream: str,
        group_column: str,
        group_id: str,
        scan_id: str,
        now: int,
        *,
        edge: tuple[str, str, str],
        connector: str = "intercom",
    ) -> tuple[int, int]:
        t = RAW_TABLES[stream]
        member = t.key_names[0]
        staged = (
            "SELECT member_id FROM _member_scans WHERE stream = ? AND group_id = ? AND scan_id = ?"
        )
        scan = (stream, group_id, scan_id)
        src_type, relation, dst_type = edge
        d = self.dialect_def
        with self._tx() as cur:
            # `WHERE true`: SQLite needs it to read ON CONFLICT after INSERT … SELECT.
            cur.execute(
                d.translate(
                    f"INSERT INTO {t.name} ({member}, {group_column}, synced_at, seen_pass, "
                    f"deleted_at) SELECT member_id, ?, ?, ?, NULL FROM ({staged}) AS s WHERE true "
                    f"ON CONFLICT ({member}, {group_column}) DO UPDATE SET deleted_at = NULL, "
                    "synced_at = excluded.synced_at, seen_pass = excluded.seen_pass"
                ),
                (group_id, now, scan_id, *scan),
            )
            members = int(cur.rowcount or 0)
            cur.execute(
                d.translate(
                    f"UPDATE {t.name} SET deleted_at = ? WHERE {group_column} = ? AND "
                    f"deleted_at IS NULL AND {member} NOT IN ({staged})"
                ),
                (now, group_id, *scan),
            )
            ended = int(cur.rowcount or 0)
            cur.execute(
                d.translate(
                    "DELETE FROM edges WHERE connector = ? AND src_type = ? AND relation = ? "
                    "AND dst_type = ? AND dst_id = ?"
                ),
                (connector, src_type, relation, dst_type, group_id),
            )
            cur.execute(
                d.translate(
                    "INSERT INTO edges (connector, src_type, src_id, relation, dst_type, dst_id, "
                    f"attributes, synced_at) SELECT ?, ?, member_id, ?, ?, ?, NULL, ? FROM "
                    f"({staged}) AS s"
                ),
                (connector, src_type, relation, dst_type, group_id, now, *scan),
            )
            cur.execute(
                d.translate("DELETE FROM _member_scans WHERE stream = ? AND group_id = ?"),
                (stream, group_id),
            )
        return members, ended

    def end_groups(
        self,
        stream: str,
        group_column: str,
        keep: list[str],
        now: int,
        *,
        edge: tuple[str, str, str],
        connector: str = "intercom",
    ) -> int:
        t = RAW_TABLES[stream]
        src_type, relation, dst_type = edge
        d = self.dialect_def
        marks = ", ".join("?" * len(keep)) or "NULL"
        with self._tx() as cur:
            cur.execute(
                d.translate(
                    f"UPDATE {t.name} SET deleted_at = ? WHERE deleted_at IS NULL AND "
                    f"({group_column} NOT IN ({marks}) OR {len(keep)} = 0)"
                ),
                (now, *keep),
            )
            ended = int(cur.rowcount or 0)
            cur.execute(
                d.translate(
                    "DELETE FROM edges WHERE connector = ? AND src_type = ? AND relation = ? "
                    f"AND dst_type = ? AND (dst_id NOT IN ({marks}) OR {len(keep)} = 0)"
                ),
                (connector, src_type, relation, dst_type, *keep),
            )
            cur.execute(d.translate("DELETE FROM _member_scans WHERE stream = ?"), (stream,))
        return ended

    def count_rows(self, table: str, lo: int, hi: int, *, seen_pass: str | None = None) -> int:
        t = RAW_TABLES[table]
        where = "updated_at >= ? AND updated_at <= ?"
        if seen_pass is None:
            rows = self.query(
                f"SELECT count(*) FROM {t.name} WHERE {where} AND deleted_at IS NULL", (lo, hi)
            )
        else:
            rows = self.query(
                f"SELECT count(*) FROM {t.name} WHERE {where} AND seen_pass = ?",
                (lo, hi, seen_pass),
            )
        return int(rows[0][0])

    def live_versions(self, table: str, lo: int, hi: int) -> dict[str, int]:
        t = RAW_TABLES[table]
        rows = self.query(
            f"SELECT id, updated_at FROM {t.name} WHERE updated_at >= ? AND updated_at <= ? "
            "AND deleted_at IS NULL",
            (lo, hi),
        )
        return {str(i): int(u) for i, u in rows}

    def unseen_keys(
        self, table: str, pass_id: str, *, updated_since: int | None = None
    ) -> list[tuple[str, ...]]:
        t = RAW_TABLES[table]
        where, params = self._unseen_where(t, pass_id, updated_since)
        rows = self.query(f"SELECT {', '.join(t.key_names)} FROM {t.name} WHERE {where}", params)
        return [tuple(str(v) for v in row) for row in rows]

    def stored_parts(self, conversation_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT raw FROM conversation_parts WHERE conversation_id = ? ORDER BY created_at, id",
            (conversation_id,),
        )
        return [orjson.loads(r[0]) for r in rows]

    def stored_record(self, table: str, key: tuple[str, ...]) -> dict[str, Any] | None:
        t = RAW_TABLES[table]
        where = " AND ".join(f"{k} = ?" for k in t.key_names)
        rows = self.query(f"SELECT raw FROM {t.name} WHERE {where}", key)
        return orjson.loads(rows[0][0]) if rows else None

    def stored_parts_many(self, conversation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {cid: [] for cid in conversation_ids}
        ids = list(out)
        for i in range(0, len(ids), _BATCH):
            chunk = ids[i : i + _BATCH]
            rows = self.query(
                "SELECT conversation_id, raw FROM conversation_parts WHERE conversation_id IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY conversation_id, created_at, id",
                chunk,
            )
            for cid, raw in rows:
                out[cid].append(orjson.loads(raw))
        return out

    def pending_children(self, stream: str, limit: int | None = None) -> list[tuple[str, int]]:
        return [(p, u) for p, u, _ in self.pending_after(stream, 0, limit)]

    def pending_after(
        self, stream: str, after_seq: int, limit: int | None = None
    ) -> list[tuple[str, int, int]]:
        sql_text = (
            "SELECT parent_id, parent_updated_at, seq FROM _pending_children "
            "WHERE stream = ? AND seq > ? ORDER BY seq"
        )
        if limit is not None:
            sql_text += f" LIMIT {int(limit)}"
        rows = self.query(sql_text, (stream, after_seq))
        return [(str(p), int(u or 0), int(q or 0)) for p, u, q in rows]

    # -- runs ------------------------------------------------------------------------------
    def start_run(self, run: RunRecord) -> list[str]:
        d = self.dialect_def
        with self._tx() as cur:
            cur.execute("SELECT run_id, pid FROM _sync_runs WHERE status = 'running'")
            dead = [rid for rid, pid in cur.fetchall() if not process_alive(pid)]
            if dead:
                cur.executemany(
                    d.translate("UPDATE _sync_runs SET status = 'interrupted' WHERE run_id = ?"),
                    [(rid,) for rid in dead],
                )
            cur.execute(
                d.translate(
                    "INSERT INTO _sync_runs (run_id, started_at, status, mode, pid, streams, "
                    "requests, rate_limited, errors) VALUES (?, ?, 'running', ?, ?, ?, 0, 0, ?)"
                ),
                (run.run_id, run.started_at, run.mode, run.pid, "{}", "[]"),
            )
        return dead

    def finish_run(
        self,
        run_id: str,
        *,
        finished_at: int,
        status: str,
        streams: dict[str, Any],
        requests: int,
        rate_limited: int,
        errors: list[str],
        mode: str | None = None,
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                self.dialect_def.translate(
                    "UPDATE _sync_runs SET finished_at = ?, status = ?, streams = ?, requests = ?, "
                    "rate_limited = ?, errors = ?, mode = COALESCE(?, mode) WHERE run_id = ?"
                ),
                (
                    finished_at,
                    status,
                    orjson.dumps(streams).decode(),
                    requests,
                    rate_limited,
                    orjson.dumps(errors).decode(),
                    mode,
                    run_id,
                ),
            )

    # -- locks -----------------------------------------------------------------------------
    def try_lock(self, name: str, owner: str, ttl: float, now: float) -> bool:
        d = self.dialect_def
        with self._tx() as cur:
            cur.execute(
                d.translate(
                    "INSERT INTO _locks (name, owner, expires_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                    "expires_at = excluded.expires_at "
                    "WHERE _locks.expires_at < ? OR _locks.owner = excluded.owner"
                ),
                (name, owner, now + ttl, now),
            )
            cur.execute(d.translate("SELECT owner FROM _locks WHERE name = ?"), (name,))
            row = cur.fetchone()
        return bool(row and row[0] == owner)

    def lock_holder(self, name: str) -> str | None:
        rows = self.query("SELECT owner FROM _locks WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def release_lock(self, name: str, owner: str) -> None:
        with self._tx() as cur:
            cur.execute(
                self.dialect_def.translate("DELETE FROM _locks WHERE name = ? AND owner = ?"),
                (name, owner),
            )


def _load_json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    loaded = orjson.loads(value)
    return loaded if isinstance(loaded, dict) else {}


def _wall() -> float:
    import time

    return time.time()
