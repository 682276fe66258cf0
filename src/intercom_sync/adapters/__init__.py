"""Protocol adapters: the same engine, run inside Airbyte, Meltano (Singer) or dlt.

Each plugs in at the page sink (`backend.EmittingBackend`): records and checkpoints go out
as the platform's messages instead of into the local store.
"""
