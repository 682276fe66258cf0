"""The store's writer thread: calls in order, queued page writes combined into one
transaction, and an error reaches only the write that caused it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from intercom_sync.store import PageWrite, RecordWrite, open_store
from intercom_sync.store.base import ApplyResult, Store
from intercom_sync.store.schema import RAW_TABLES
from intercom_sync.store.writer import AsyncStore


def contact(cid: str, updated_at: int) -> RecordWrite:
    table = RAW_TABLES["contacts"]
    raw = orjson.dumps({"id": cid, "updated_at": updated_at}).decode()
    return RecordWrite((cid,), updated_at, (cid, *([None] * len(table.columns)), updated_at, raw))


def page(cid: str, updated_at: int = 10) -> PageWrite:
    return PageWrite(table="contacts", records=[contact(cid, updated_at)], state={"s": {"at": cid}})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


class GatedStore:
    """Wraps a store: the first `apply` blocks until released, so writes pile up behind it;
    records how writes reached the database."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.transactions: list[list[str]] = []

    def apply(self, write: PageWrite, now: int) -> ApplyResult:
        self.entered.set()
        self.gate.wait(10)
        self.transactions.append([r.key[0] for r in write.records])
        return self.inner.apply(write, now)

    def apply_many(self, writes: Sequence[PageWrite], now: int) -> list[ApplyResult]:
        self.transactions.append([r.key[0] for w in writes for r in w.records])
        return self.inner.apply_many(writes, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_writes_queued_behind_a_busy_writer_share_one_transaction(store: Store) -> None:
    gated = GatedStore(store)
    writer = AsyncStore(gated, max_batch=3)  # type: ignore[arg-type]
    try:
        first = asyncio.create_task(writer.apply(page("a"), 100))
        await asyncio.to_thread(gated.entered.wait, 10)
        rest = [asyncio.create_task(writer.apply(page(c), 100)) for c in "bcdef"]
        await asyncio.sleep(0)  # every task has queued its write
        gated.gate.set()
        results = await asyncio.gather(first, *rest)
    finally:
        writer.close()
    assert gated.transactions == [["a"], ["b", "c", "d"], ["e", "f"]]
    assert [r.written for r in results] == [1] * 6
    assert store.query("SELECT count(*) FROM contacts") == [(6,)]
    assert store.get_state("s") == {"at": "f"}  # checkpoints applied in issue order


async def test_a_call_issued_after_a_write_sees_it(store: Store) -> None:
    writer = AsyncStore(store)
    try:
        pending = [asyncio.create_task(writer.apply(page(c), 100)) for c in "xyz"]
        await asyncio.sleep(0)  # the writes are queued (not yet applied, most likely)
        count = await writer.run(lambda _: store.query("SELECT count(*) FROM contacts"))
        await asyncio.gather(*pending)
    finally:
        writer.close()
    assert count == [(3,)]


async def test_a_failing_write_fails_alone_and_the_others_commit(store: Store) -> None:
    gated = GatedStore(store)
    writer = AsyncStore(gated)  # type: ignore[arg-type]
    broken = PageWrite(table="contacts", records=[RecordWrite(("bad",), 1, ("too", "short"))])
    try:
        first = asyncio.create_task(writer.apply(page("a"), 100))
        await asyncio.to_thread(gated.entered.wait, 10)
        good = asyncio.create_task(writer.apply(page("b"), 100))
        bad = asyncio.create_task(writer.apply(broken, 100))
        after = asyncio.create_task(writer.apply(page("c"), 100))
        await asyncio.sleep(0)
        gated.gate.set()
        await asyncio.gather(first, good, after)
        with pytest.raises(Exception, match=r"(?i)values|binding|column"):
            await bad
    finally:
        writer.close()
    ids = [r[0] for r in store.query("SELECT id FROM contacts ORDER BY id")]
    assert ids == ["a", "b", "c"]


async def test_close_drains_the_queue_and_refuses_new_work(store: Store) -> None:
    writer = AsyncStore(store)
    task = asyncio.create_task(writer.apply(page("q"), 100))
    await asyncio.sleep(0)
    await asyncio.to_thread(writer.close)
    assert (await task).written == 1
    with pytest.raises(RuntimeError, match="closed"):
        await writer.apply(page("r"), 100)


def test_apply_many_is_one_transaction_in_order(store: Store) -> None:
    newer, older = page("k", updated_at=20), page("k", updated_at=10)
    results = store.apply_many([newer, older, page("m")], now=100)
    assert [(r.written, r.stale) for r in results] == [(1, 0), (0, 1), (1, 0)]
    assert store.query("SELECT id, updated_at FROM contacts ORDER BY id") == [
        ("k", 20),
        ("m", 10),
    ]
    broken = PageWrite(table="contacts", records=[RecordWrite(("bad",), 1, ("too", "short"))])
    with pytest.raises(Exception, match=r"(?i)values|binding|column"):
        store.apply_many([page("n"), broken], now=100)
    assert store.query("SELECT count(*) FROM contacts WHERE id = 'n'") == [(0,)]
