"""A full sync of the `small` workspace equals the simulator's ground truth, stream by stream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import Simulator, SimulatorConfig, WorldSpec
from intercom_sync.store.base import Store
from intercom_sync.streams.catalog import TABLE_STREAMS
from tests.e2e.harness import (
    StoreRef,
    differences,
    open_test_store,
    run,
    store_edges,
    truth_edges,
)

pytestmark = pytest.mark.slow


def small_sim(seed: int = 1) -> Simulator:
    spec = WorldSpec.preset("small", seed=seed)
    return Simulator(SimulatorConfig(world=spec), clock=ManualClock(spec.now))


def parts_beyond_the_cap(sim: Simulator, cap: int = 500) -> dict[str, int]:
    """Conversations whose history is longer than one GET can return: id -> parts missing."""
    return {cid: len(parts) - cap for cid, parts in sim.world.parts.items() if len(parts) > cap}


def assert_parts_gaps_reported(store: Store, sim: Simulator) -> None:
    expected = parts_beyond_the_cap(sim)
    assert expected, "the small workspace has conversations longer than the 500-part cap"
    gaps = {
        cid: missing
        for cid, missing in store.query("SELECT conversation_id, missing FROM _parts_gaps")
    }
    assert gaps == expected


@pytest.mark.parametrize("api_version", ["2.11", "2.14"])
def test_full_sync_of_small_equals_the_ground_truth(
    store_at: Callable[[str], StoreRef], api_version: str
) -> None:
    """On SQLite and on PostgreSQL: the same engine through the same store roles."""
    sim = small_sim()
    where = store_at("store")
    outcome = run(sim, where, api_version=api_version)
    assert outcome.status == "succeeded", outcome.errors
    truth = sim.truth(api_version)
    # The newest 500 parts of a long conversation are all a first sync can see; the rest
    # are reported as missing (and accumulate across later syncs, see test_parts_history).
    beyond = parts_beyond_the_cap(sim)
    older = {
        (str(p["id"]),)
        for cid in beyond
        for p in sorted(sim.world.parts[cid], key=lambda p: (p["created_at"], p["id"]))[
            : beyond[cid]
        ]
    }
    truth["conversation_parts"] = {
        k: v for k, v in truth["conversation_parts"].items() if k not in older
    }
    store = open_test_store(where)
    try:
        assert differences(store, truth, TABLE_STREAMS) == {}
        assert_parts_gaps_reported(store, sim)
        have, want = store_edges(store), truth_edges(sim.world)
        assert sorted(have - want)[:5] == [] and sorted(want - have)[:5] == []
        # One entity per live record of each entity stream, and none other.
        for stream, entity_type in (
            ("admins", "intercom_admin"),
            ("teams", "intercom_team"),
            ("contacts", "intercom_contact"),
            ("conversations", "intercom_conversation"),
            ("companies", "intercom_company"),
            ("tickets", "intercom_ticket"),
        ):
            ids = {
                r[0]
                for r in store.query(
                    "SELECT entity_id FROM entities WHERE entity_type = ? AND deleted_at IS NULL",
                    (entity_type,),
                )
            }
            assert ids == {k[0] for k in truth[stream]}, stream
    finally:
        store.close()


def test_the_four_core_streams_alone(tmp_path: Path) -> None:
    sim = small_sim(seed=3)
    streams = ["admins", "teams", "contacts", "conversations"]
    outcome = run(sim, tmp_path / "core.db", streams=streams)
    assert outcome.status == "succeeded"
    assert set(outcome.results) == set(streams)
    store = open_test_store(tmp_path / "core.db")
    try:
        assert differences(store, sim.truth(), streams) == {}
        assert store.query("SELECT count(*) FROM conversation_parts") == [(0,)]
        # Without parts, state-change events come from each conversation's statistics.
        sources = {
            r[0]
            for r in store.query("SELECT DISTINCT json_extract(attributes, '$.source') FROM events")
        }
        assert sources == {"statistics"}
    finally:
        store.close()
