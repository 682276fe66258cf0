"""The JSON schemas the adapters declare (Airbyte `discover`, Singer `SCHEMA`) against
Intercom's OpenAPI files and against what the simulator sends.

* The committed `record_schemas.json` is what `tests/record_schemas.py` builds from the
  OpenAPI files now (regenerate with `.venv/bin/python -m tests.record_schemas`).
* Every record a read passes on, in both API versions, validates against its stream's
  schema, and has no top-level field the schema does not list (a field Intercom sends
  that the schema misses would load untyped, or not at all, on a strict platform).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from intercom_sync.adapters.run import read
from intercom_sync.adapters.settings import settings_from_config
from intercom_sync.adapters.streams import PLATFORM_STREAMS, json_schema
from intercom_sync.clock import ManualClock
from intercom_sync.simulator.service import (
    DEFAULT_TOKEN,
    IN_PROCESS_BASE_URL,
    Simulator,
    SimulatorConfig,
    WorldSpec,
)
from tests.record_schemas import OUTPUT, render


def test_the_committed_schemas_are_built_from_the_openapi_files() -> None:
    assert OUTPUT.read_bytes() == render(), (
        "record_schemas.json is stale: run `.venv/bin/python -m tests.record_schemas`"
    )


class Collect:
    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}

    def record(self, stream: str, record: dict[str, Any]) -> None:
        self.records.setdefault(stream, []).append(record)

    def checkpoint(self, state: dict[str, Any]) -> None:
        return None


@pytest.mark.parametrize("api_version", ["2.11", "2.14"])
def test_every_record_sent_fits_its_declared_schema(api_version: str) -> None:
    spec = WorldSpec.preset("tiny", seed=5)
    sim = Simulator(SimulatorConfig(world=spec), clock=ManualClock(spec.now))
    sink = Collect()
    config = {
        "access_token": DEFAULT_TOKEN,
        "base_url": IN_PROCESS_BASE_URL,
        "api_version": api_version,
        "start_date": "2015-01-01T00:00:00Z",
    }
    streams = list(PLATFORM_STREAMS)
    outcome = read(
        settings_from_config(config), streams, {}, sink, transport=sim.transport(), clock=sim.clock
    )
    assert outcome.status == "succeeded", outcome.errors
    assert set(sink.records) == set(streams), "every stream has records to check"
    for stream, records in sink.records.items():
        schema = json_schema(stream)
        validator = jsonschema.Draft7Validator(schema)
        listed = set(schema["properties"])
        for record in records:
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, (stream, errors[:3])
            assert set(record) <= listed, (stream, sorted(set(record) - listed))


def test_key_fields_are_required_and_never_null() -> None:
    for stream, platform in PLATFORM_STREAMS.items():
        schema = json_schema(stream)
        assert schema["required"] == list(platform.primary_key), stream
        for key in platform.primary_key:
            assert "null" not in schema["properties"][key]["type"], (stream, key)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({k: None for k in platform.primary_key}, schema)
