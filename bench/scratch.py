"""What the read-side benchmarks share: a throw-away database on either engine, and statement counts.

Each benchmark run gets its own SQLite file or Cassandra keyspace, so runs never see each other's
data, and the keyspace is dropped afterwards so a developer's node does not fill up with them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from infrastructure.composition import open_store
from infrastructure.observability import metrics
from infrastructure.settings import Settings, load_settings
from infrastructure.storage.migrations import MIGRATIONS
from infrastructure.storage.store import TableStore


def _cql_port() -> int:
    return int(os.environ.get("SCYLLA_PORT") or os.environ.get("CASSANDRA_PORT") or 9042)


def bench_settings(engine: str, data_dir: str, keyspace: str) -> dict[str, str]:
    """Settings for a quiet service on ``engine`` (``SCYLLA_HOSTS``/``SCYLLA_PORT`` name the node)."""
    overrides = {"ARGUS_STORAGE_DATA_DIR": data_dir, "ARGUS_LOG_LEVEL": "WARNING", "ARGUS_LOG_FORMAT": "json",
                 "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192"}
    if engine == "scylla":
        overrides.update(ARGUS_STORAGE_ENGINE="scylla", ARGUS_STORAGE_SCYLLA_KEYSPACE=keyspace,
                         ARGUS_STORAGE_SCYLLA_HOSTS=os.environ.get("SCYLLA_HOSTS", "127.0.0.1"),
                         ARGUS_STORAGE_SCYLLA_PORT=str(_cql_port()))
    return overrides


def new_keyspace() -> str:
    """A keyspace name no other run uses."""
    return f"bench_{secrets.token_hex(6)}"


def drop_keyspace(keyspace: str) -> None:
    """Drop a benchmark's keyspace with a driver session of its own (the store may be closed already)."""
    from cassandra.cluster import Cluster

    cluster = Cluster(os.environ.get("SCYLLA_HOSTS", "127.0.0.1").split(","), port=_cql_port())
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    finally:
        cluster.shutdown()


@asynccontextmanager
async def scratch_store(engine: str) -> AsyncIterator[tuple[Settings, TableStore]]:
    """A migrated, empty store on ``engine`` and its settings; removed again on exit."""
    keyspace = new_keyspace()
    with tempfile.TemporaryDirectory(prefix="argus-bench-") as data_dir:
        settings = load_settings(bench_settings(engine, data_dir, keyspace))
        store = await open_store(settings)
        try:
            await store.migrate(MIGRATIONS)
            yield settings, store
        finally:
            await store.close()
            if engine == "scylla":
                await asyncio.to_thread(drop_keyspace, keyspace)


def storage_statements(engine: str | None = None) -> float:
    """Statements executed so far by this process (of one engine, if named), from ``InstrumentedStore``'s histogram."""
    return sum(sample.value for family in metrics.storage_operation_seconds.collect() for sample in family.samples
               if sample.name.endswith("_count") and (engine is None or sample.labels.get("engine") == engine))
