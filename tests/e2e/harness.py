"""Helpers for end-to-end tests: run a sync against a simulator, compare with its truth."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson

from intercom_sync.clock import Clock
from intercom_sync.config import Settings, load_settings
from intercom_sync.engine.sync import SyncOutcome, sync
from intercom_sync.simulator.service import DEFAULT_TOKEN, IN_PROCESS_BASE_URL, Simulator
from intercom_sync.store import Store, open_store
from intercom_sync.store.schema import RAW_TABLES

TOKEN_ENV = "E2E_INTERCOM_TOKEN"


# Where a test's store lives: a SQLite file, or the URL of any store (a PostgreSQL database).
StoreRef = Path | str


def store_url(ref: StoreRef) -> str:
    return ref if isinstance(ref, str) else f"sqlite:///{ref}"


def settings_for(
    store_path: StoreRef,
    *,
    base_url: str = IN_PROCESS_BASE_URL,
    token: str = DEFAULT_TOKEN,
    **overrides: Any,
) -> Settings:
    values: dict[str, Any] = {
        "access_token": {"env": TOKEN_ENV},
        "base_url": base_url,
        "store_url": store_url(store_path),
        "search_lag_seconds": 120,
        "start_date": "2015-01-01T00:00:00Z",
        # Tests compare memberships with the truth after every run (the product default
        # re-scans them hourly).
        "membership_refresh": "every run",
    }
    values.update(overrides)
    # No intercom-sync.toml is read from where a test runs (only a file store has a folder).
    cwd = store_path.parent if isinstance(store_path, Path) else Path(__file__).parent
    return load_settings(None, env={TOKEN_ENV: token}, overrides=values, cwd=cwd)


def run(
    sim: Simulator,
    store_path: StoreRef,
    *,
    full: bool = False,
    streams: Iterable[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    **overrides: Any,
) -> SyncOutcome:
    settings = settings_for(store_path, **overrides)
    return asyncio.run(
        sync(
            settings,
            full=full,
            streams=list(streams) if streams else None,
            transport=transport or sim.transport(),
            clock=clock or sim.clock,
        )
    )


def stored(store: Store, stream: str) -> dict[tuple[str, ...], tuple[int | None, Any]]:
    """Live rows of a raw table: key -> (updated_at, parsed raw, None where raw is null)."""
    table = RAW_TABLES[stream]
    keys = ", ".join(table.key_names)
    rows = store.query(f"SELECT {keys}, updated_at, raw FROM {stream} WHERE deleted_at IS NULL")
    n = len(table.key_names)
    return {
        tuple(str(v) for v in r[:n]): (r[n], None if r[n + 1] is None else orjson.loads(r[n + 1]))
        for r in rows
    }


def differences(
    store: Store, truth: dict[str, dict[tuple[str, ...], dict[str, Any]]], streams: Iterable[str]
) -> dict[str, list[str]]:
    """Per stream, what differs between the store and the truth (empty when equal)."""
    out: dict[str, list[str]] = {}
    for stream in [s for s in streams if s in truth]:
        have = stored(store, stream)
        want = truth[stream]
        problems: list[str] = []
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        if missing:
            problems.append(f"{len(missing)} missing, e.g. {missing[:3]}")
        if extra:
            problems.append(f"{len(extra)} extra, e.g. {extra[:3]}")
        # Membership rows hold no record of their own (raw is null): their keys are the data.
        changed = [
            k for k in set(want) & set(have) if have[k][1] is not None and have[k][1] != want[k]
        ]
        if changed:
            k = sorted(changed)[0]
            diff_keys = sorted(
                f for f in set(want[k]) | set(have[k][1]) if want[k].get(f) != have[k][1].get(f)
            )
            problems.append(f"{len(changed)} differ, e.g. {k} in {diff_keys[:5]}")
        wrong_ts = [
            k
            for k in set(want) & set(have)
            if RAW_TABLES[stream].of_records
            and "updated_at" in want[k]
            and have[k][0] != want[k]["updated_at"]
        ]
        if wrong_ts:
            problems.append(f"{len(wrong_ts)} with a wrong updated_at column")
        if problems:
            out[stream] = problems
    return out


def open_test_store(path: StoreRef) -> Store:
    return open_store(store_url(path))


_RELATION_NAMES = {"member_of": "belongs_to"}


def truth_edges(world: Any) -> set[tuple[str, str, str, str, str]]:
    """The simulator's ground-truth edges in the store's vocabulary."""
    from intercom_sync.simulator.service import ground_truth_edges

    return {
        (f"intercom_{src}", sid, _RELATION_NAMES.get(rel, rel), f"intercom_{dst}", did)
        for src, sid, rel, dst, did in ground_truth_edges(world, contact_tags=True)
    }


def store_edges(store: Store) -> set[tuple[str, str, str, str, str]]:
    rows = store.query("SELECT src_type, src_id, relation, dst_type, dst_id FROM edges")
    return {(a, b, c, d, e) for a, b, c, d, e in rows}
