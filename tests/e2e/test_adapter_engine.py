"""The engine run through the protocol adapters' page sink (`adapters.run.read`), against
the simulator, checked against its ground truth: what every platform adapter (Airbyte,
Singer, dlt) builds on.

* A read passes on every record of every stream, as Intercom sent it.
* A read cut off at any message and resumed from the last checkpoint before the cut loses
  nothing (what a platform does after a killed read).
* A read from the last checkpoint passes on only what changed since.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from intercom_sync.adapters.backend import PENDING
from intercom_sync.adapters.run import read
from intercom_sync.adapters.settings import settings_from_config
from intercom_sync.adapters.streams import PLATFORM_STREAMS
from intercom_sync.clock import ManualClock
from intercom_sync.engine.sync import SyncOutcome
from intercom_sync.simulator.service import (
    DEFAULT_TOKEN,
    IN_PROCESS_BASE_URL,
    Simulator,
    SimulatorConfig,
    WorldSpec,
)
from intercom_sync.store.schema import RAW_TABLES

pytestmark = pytest.mark.slow

ALL = list(PLATFORM_STREAMS)
Key = tuple[str, ...]


@dataclass
class Log:
    """Every message a read sent, in order: ("record", stream, record) or ("state", snap)."""

    messages: list[tuple[Any, ...]] = field(default_factory=list)

    def record(self, stream: str, record: dict[str, Any]) -> None:
        self.messages.append(("record", stream, record))

    def checkpoint(self, state: dict[str, Any]) -> None:
        self.messages.append(("state", state))

    def records(self, upto: int | None = None) -> dict[str, dict[Key, dict[str, Any]]]:
        out: dict[str, dict[Key, dict[str, Any]]] = {}
        for message in self.messages[:upto]:
            if message[0] == "record":
                _, stream, record = message
                out.setdefault(stream, {})[key_of(stream, record)] = record
        return out

    def last_state(self, upto: int | None = None) -> dict[str, Any]:
        states = [m[1] for m in self.messages[:upto] if m[0] == "state"]
        return states[-1] if states else {}


def key_of(stream: str, record: dict[str, Any]) -> Key:
    return tuple(str(record[k]) for k in RAW_TABLES[stream].key_names)


def local_day(ts: float, zone: str) -> date:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).date()


def small_sim(seed: int) -> Simulator:
    spec = WorldSpec.preset("small", seed=seed)
    return Simulator(SimulatorConfig(world=spec), clock=ManualClock(spec.now))


def platform_read(
    sim: Simulator, log: Log, state: dict[str, Any] | None = None, streams: list[str] = ALL
) -> SyncOutcome:
    config = {
        "access_token": DEFAULT_TOKEN,
        "base_url": IN_PROCESS_BASE_URL,
        "start_date": "2015-01-01T00:00:00Z",
    }
    return read(
        settings_from_config(config),
        streams,
        state or {},
        log,
        transport=sim.transport(),
        clock=sim.clock,
    )


def truth_of(sim: Simulator) -> dict[str, dict[Key, dict[str, Any]]]:
    """The ground truth, less the parts older than the newest 500 of a conversation: no
    read of one conversation can see them (the store keeps them across syncs; a platform
    keeps what it loaded)."""
    truth = sim.truth()
    hidden: set[Key] = set()
    for parts in sim.world.parts.values():
        ordered = sorted(parts, key=lambda p: (p["created_at"], p["id"]))
        hidden |= {(str(p["id"]),) for p in ordered[: max(0, len(ordered) - 500)]}
    truth["conversation_parts"] = {
        k: v for k, v in truth["conversation_parts"].items() if k not in hidden
    }
    return {stream: truth[stream] for stream in ALL}


def test_a_read_passes_on_every_record_as_received() -> None:
    sim = small_sim(seed=11)
    log = Log()
    outcome = platform_read(sim, log)
    assert outcome.status == "succeeded", outcome.errors
    truth, have = truth_of(sim), log.records()
    for stream in ALL:
        got = have.get(stream, {})
        assert set(got) == set(truth[stream]), stream
        if not RAW_TABLES[stream].of_records:  # a membership: its two ids are the record
            continue
        for key, record in truth[stream].items():
            extra = {k: got[key][k] for k in set(got[key]) - set(record)}
            assert {k: got[key][k] for k in record} == record, (stream, key)
            assert set(extra) <= set(RAW_TABLES[stream].parent_key), (stream, extra)
    # The last message is a checkpoint: everything passed on is covered by a saved state,
    # and the child queue is empty at the end.
    assert log.messages[-1][0] == "state"
    final = log.messages[-1][1]
    assert not final.get(PENDING)
    assert {"conversations", "contacts", "tickets", "companies", "activity_logs"} <= set(final)


def test_a_read_cut_off_anywhere_and_resumed_from_its_last_checkpoint_loses_nothing() -> None:
    sim = small_sim(seed=12)
    first = Log()
    assert platform_read(sim, first).status == "succeeded"
    truth = truth_of(sim)
    states = [i for i, m in enumerate(first.messages) if m[0] == "state"]
    assert len(states) >= 5, "checkpoints are taken during a read, not only at its end"
    rng = random.Random(7)
    # Cut just before a checkpoint (the most records uncovered), and anywhere at random.
    cuts = [states[len(states) // 2], *rng.sample(range(1, len(first.messages)), 3)]
    for cut in cuts:
        resumed = Log()
        before = first.last_state(cut)
        assert platform_read(sim, resumed, state=before).status == "succeeded"
        kept, again = first.records(cut), resumed.records()
        for stream in ALL:
            have = set(kept.get(stream, {})) | set(again.get(stream, {}))
            missing = set(truth[stream]) - have
            assert not missing, f"cut at {cut}: {stream} lost {sorted(missing)[:3]}"


def test_a_read_from_the_last_checkpoint_passes_on_only_what_changed() -> None:
    sim = small_sim(seed=13)
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    first = Log()
    assert platform_read(sim, first).status == "succeeded"
    state = first.last_state()
    changes = sim.mutator.random(40, deletions=False)
    assert changes
    clock.advance(3_600)

    second = Log()
    assert platform_read(sim, second, state=state).status == "succeeded"
    truth, again = truth_of(sim), second.records()
    zone = sim.world.spec.timezone
    for stream in ("contacts", "conversations", "tickets"):
        cursor = int(state[stream]["cursor"])
        changed = {k for k, r in truth[stream].items() if r["updated_at"] >= cursor}
        got = set(again.get(stream, {}))
        assert changed <= got, stream
        if stream == "contacts":
            # Contact search matches by the workspace's calendar day: the rest of the
            # cursor's day comes again (at least once, never lost), nothing older.
            day = local_day(cursor, zone)
            changed |= {
                k for k, r in truth[stream].items() if local_day(r["updated_at"], zone) >= day
            }
        assert got == changed, stream
        assert len(changed) < len(truth[stream]) / 4, stream
    # Parts are read again only for the conversations that were.
    moved = {k[0] for k in again.get("conversations", {})}
    assert {r["conversation_id"] for r in again.get("conversation_parts", {}).values()} <= moved
    first_parts = first.records()["conversation_parts"]
    new_parts = set(truth["conversation_parts"]) - set(first_parts)
    assert new_parts <= set(again.get("conversation_parts", {}))
    # Streams with no incremental mode pass on all of themselves every read (a platform
    # replaces what it held); company segments need their companies read whole.
    for stream in ("admins", "teams", "tags", "contact_segments", "contact_tags", "companies"):
        assert set(again.get(stream, {})) == set(truth[stream]), stream


def test_a_full_refresh_of_a_child_reads_its_parent_whole() -> None:
    sim = small_sim(seed=14)
    first = Log()
    streams = ["conversations", "conversation_parts"]
    assert platform_read(sim, first, streams=streams).status == "succeeded"
    second = Log()
    outcome = read(
        settings_from_config(
            {
                "access_token": DEFAULT_TOKEN,
                "base_url": IN_PROCESS_BASE_URL,
                "start_date": "2015-01-01T00:00:00Z",
            }
        ),
        streams,
        first.last_state(),
        second,
        full_refresh=["conversation_parts"],
        transport=sim.transport(),
        clock=sim.clock,
    )
    assert outcome.status == "succeeded"
    truth = truth_of(sim)
    assert set(second.records()["conversation_parts"]) == set(truth["conversation_parts"])
