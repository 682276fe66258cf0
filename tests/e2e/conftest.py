"""Fixtures of the end-to-end tests.

* `store_at` — makes stores for a test on each backend in turn (the test runs once on
  SQLite, once on PostgreSQL): `store_at("name")` gives a SQLite file, or the URL of a
  fresh database in the module's throwaway PostgreSQL cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.harness import StoreRef


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], StoreRef]:
    if request.param == "sqlite":
        return lambda name: tmp_path / f"{name}.db"
    cluster: str = request.getfixturevalue("postgres_url")

    def make(name: str) -> StoreRef:
        import psycopg

        database = f"t_{name}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(cluster, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"'.encode())
        return urlunsplit(urlsplit(cluster)._replace(path=f"/{database}"))

    return make
