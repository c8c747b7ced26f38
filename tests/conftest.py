"""Fixtures shared by the whole suite, grouped by what they provide.

Sections:

* Storage engines: a reachable Cassandra/ScyllaDB node for the session, and the ``engine``
  fixture that runs a test once on SQLite and once on ScyllaDB/Cassandra.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from cassandra.cluster import Cluster, ResponseFuture, Session

from infrastructure.settings import StorageSettings
from infrastructure.storage.migrations import MIGRATIONS
from infrastructure.storage.schema import Migration
from infrastructure.storage.scylla_store import PROTOCOL_VERSION, ScyllaStore
from infrastructure.storage.sqlite_store import SQLiteStore
from infrastructure.storage.store import TableStore

ROOT = Path(__file__).resolve().parent.parent


# ================================================================================================
# Storage engines
#
# SQLite gets a fresh file per test. Cassandra DDL is slow, so the scylla engine shares ONE
# keyspace per session (``t_<hex>``, dropped at the end); its tables are created once per set of
# migrations, and tests keep apart by using unique partition keys and names. Test-only
# migrations must therefore use versions that never clash with ``MIGRATIONS`` (9000 and up).
#
# Environment: SCYLLA_HOSTS (comma-separated) points at an external node; otherwise 127.0.0.1
# is used and, when nothing answers there, ``tools/test-services.sh up`` starts a local
# Cassandra. SCYLLA_PORT (or CASSANDRA_PORT) overrides the CQL port 9042.
# ================================================================================================

ENGINES = ("sqlite", "scylla")
SERVICES_SCRIPT = ROOT / "tools" / "test-services.sh"
_REACH_TIMEOUT_S = 60  # an external node or one already starting gets this long to answer CQL
_START_TIMEOUT_S = 280  # ``test-services.sh up``; stays under pytest-timeout's 300 s

_engines_run = pytest.StashKey[set[str]]()
_node_description = pytest.StashKey[str]()


@dataclass
class CassandraNode:
    """A CQL node the suite may use, with a plain driver session for administration."""

    hosts: list[str]
    port: int
    product: str
    version: str
    session: Session
    _pending_drops: list[ResponseFuture] = field(default_factory=list)

    @property
    def description(self) -> str:
        return f"{self.product} {self.version} at {','.join(self.hosts)}"

    def settings(self, keyspace: str) -> StorageSettings:
        return StorageSettings(engine="scylla", scylla_hosts=self.hosts, scylla_port=self.port,
                               scylla_keyspace=keyspace)

    def drop_keyspace(self, keyspace: str) -> None:
        self.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)

    def drop_keyspace_soon(self, keyspace: str) -> None:
        """Start dropping ``keyspace`` (about 1.5 s on Cassandra) while the next tests run."""
        drop = self.session.execute_async(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        self._pending_drops.append(drop)

    def wait_for_drops(self) -> None:
        while self._pending_drops:
            self._pending_drops.pop().result()


def _new_keyspace_name() -> str:
    return f"t_{secrets.token_hex(6)}"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _connect(hosts: list[str], port: int, deadline: float) -> tuple[Cluster, Session]:
    """A driver session to ``hosts``, retried until ``deadline`` (the CQL port opens late)."""
    while True:
        cluster = Cluster(hosts, port=port, protocol_version=PROTOCOL_VERSION, connect_timeout=5)
        try:
            return cluster, cluster.connect()
        except Exception:
            cluster.shutdown()
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _start_local_services() -> None:
    if not SERVICES_SCRIPT.exists():
        pytest.fail(f"no Cassandra answers on 127.0.0.1 and {SERVICES_SCRIPT} does not exist; "
                    "set SCYLLA_HOSTS to use an external node", pytrace=False)
    env = {**os.environ, "CASSANDRA_WAIT": os.environ.get("CASSANDRA_WAIT", str(_START_TIMEOUT_S - 40))}
    # Output goes to a file, not a pipe: a daemon inheriting a pipe would keep run() waiting for EOF.
    with tempfile.TemporaryFile("w+") as log:
        try:
            result = subprocess.run([str(SERVICES_SCRIPT), "up"], cwd=ROOT, env=env, check=False,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    timeout=_START_TIMEOUT_S)
            failure = f"exit {result.returncode}" if result.returncode else ""
        except subprocess.TimeoutExpired:
            failure = f"no answer within {_START_TIMEOUT_S} s"
        log.seek(0)
        output = log.read()[-3000:]
    if failure:
        pytest.fail(f"{SERVICES_SCRIPT} up failed ({failure}):\n{output}", pytrace=False)


@pytest.fixture(scope="session")
def cassandra_node(pytestconfig: pytest.Config) -> Iterator[CassandraNode]:
    """A reachable Cassandra/ScyllaDB node; the tests fail (never skip) when there is none."""
    port = int(os.environ.get("SCYLLA_PORT") or os.environ.get("CASSANDRA_PORT") or 9042)
    external = [h.strip() for h in os.environ.get("SCYLLA_HOSTS", "").split(",") if h.strip()]
    hosts = external or ["127.0.0.1"]
    if not external and not _port_open(hosts[0], port):
        _start_local_services()
    try:
        cluster, session = _connect(hosts, port, time.monotonic() + _REACH_TIMEOUT_S)
    except Exception as exc:
        pytest.fail(f"no CQL node answers at {hosts} port {port}: {exc}", pytrace=False)
    local = session.execute("SELECT release_version FROM system.local").one()
    product, version = "Cassandra", local.release_version
    if version.startswith("3."):  # ScyllaDB reports the Cassandra version it emulates
        product = "ScyllaDB"
        try:
            version = session.execute("SELECT version FROM system.versions").one().version
        except Exception:
            version = f"(CQL {version})"
    node = CassandraNode(hosts, port, product, version, session)
    pytestconfig.stash[_node_description] = node.description
    try:
        yield node
    finally:
        try:
            node.wait_for_drops()
        finally:
            cluster.shutdown()


@dataclass
class ScyllaSessionKeyspace:
    """The keyspace every scylla-engine test shares, with a second independent store on it."""

    node: CassandraNode
    keyspace: str
    store: ScyllaStore
    twin: ScyllaStore | None = None
    _migrations: dict[int, str] = field(default_factory=dict)

    async def migrated(self, migrations: Sequence[Migration]) -> ScyllaStore:
        """The shared store with ``migrations`` applied (once per session)."""
        missing = False
        for migration in migrations:
            known = self._migrations.get(migration.version)
            if known is None:
                missing = True
            elif known != migration.name:
                raise AssertionError(f"migration version {migration.version} is used both by {known!r} and "
                                     f"{migration.name!r}; test-only migrations must use versions >= 9000")
        if missing:
            await self.store.migrate(migrations)
            self._migrations.update({m.version: m.name for m in migrations})
        return self.store

    async def second_store(self) -> ScyllaStore:
        """Another driver session on the same keyspace, opened on first use."""
        if self.twin is None:
            self.twin = await ScyllaStore.open(self.node.settings(self.keyspace))
        return self.twin


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def scylla_keyspace(cassandra_node: CassandraNode) -> AsyncIterator[ScyllaSessionKeyspace]:
    """One keyspace for the whole session, dropped at the end."""
    name = _new_keyspace_name()
    store = await ScyllaStore.open(cassandra_node.settings(name))
    shared = ScyllaSessionKeyspace(cassandra_node, name, store)
    try:
        yield shared
    finally:
        for store in (shared.store, shared.twin):
            if store is not None:
                await store.close()
        cassandra_node.drop_keyspace(name)


@pytest.fixture
def storage_migrations() -> Sequence[Migration]:
    """The migrations ``engine`` applies; a module overrides this fixture for test-only tables."""
    return MIGRATIONS


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """Which storage engine the test runs on; every storage fixture below follows it."""
    return request.param


@pytest.fixture
def scylla_shared(engine_name: str, request: pytest.FixtureRequest) -> ScyllaSessionKeyspace | None:
    """The session keyspace when the test runs on scylla (and only then is Cassandra needed)."""
    # Resolved here, in a plain fixture, because an async fixture cannot request another one lazily.
    return request.getfixturevalue("scylla_keyspace") if engine_name == "scylla" else None


@pytest.fixture
async def engine(engine_name: str, scylla_shared: ScyllaSessionKeyspace | None, tmp_path: Path,
                 storage_migrations: Sequence[Migration], pytestconfig: pytest.Config
                 ) -> AsyncIterator[TableStore]:
    """A migrated TableStore: a fresh SQLite file, or the shared scylla keyspace."""
    if scylla_shared is not None:
        store: TableStore = await scylla_shared.migrated(storage_migrations)
        pytestconfig.stash.setdefault(_engines_run, set()).add(engine_name)
        yield store
        return
    sqlite = await SQLiteStore.open(tmp_path / "store.db")
    try:
        await sqlite.migrate(storage_migrations)
        pytestconfig.stash.setdefault(_engines_run, set()).add(engine_name)
        yield sqlite
    finally:
        await sqlite.close()


@pytest.fixture
async def twin_store(engine: TableStore, scylla_shared: ScyllaSessionKeyspace | None, tmp_path: Path
                     ) -> AsyncIterator[TableStore]:
    """A second, independent store instance on the same database as ``engine``."""
    if scylla_shared is not None:
        yield await scylla_shared.second_store()
        return
    sqlite = await SQLiteStore.open(tmp_path / "store.db")
    try:
        yield sqlite
    finally:
        await sqlite.close()


class BlankDatabase:
    """An empty database (SQLite file or keyspace) that store instances can be opened on."""

    def __init__(self, engine_name: str, path: Path, node: CassandraNode | None) -> None:
        self.engine_name = engine_name
        self._path = path
        self._node = node
        self.keyspace = _new_keyspace_name() if node is not None else None
        self._stores: list[TableStore] = []

    async def open(self) -> TableStore:
        """One more independent store instance on this database."""
        if self._node is not None and self.keyspace is not None:
            store: TableStore = await ScyllaStore.open(self._node.settings(self.keyspace))
        else:
            store = await SQLiteStore.open(self._path)
        self._stores.append(store)
        return store

    async def close(self) -> None:
        for store in self._stores:
            await store.close()
        if self._node is not None and self.keyspace is not None:
            self._node.drop_keyspace_soon(self.keyspace)


@pytest.fixture
async def blank_database(engine_name: str, scylla_shared: ScyllaSessionKeyspace | None, tmp_path: Path,
                         pytestconfig: pytest.Config) -> AsyncIterator[BlankDatabase]:
    """A database nobody migrated yet, for migration tests; a scylla keyspace of its own."""
    node = scylla_shared.node if scylla_shared else None
    database = BlankDatabase(engine_name, tmp_path / "blank.db", node)
    pytestconfig.stash.setdefault(_engines_run, set()).add(engine_name)
    try:
        yield database
    finally:
        await database.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that run on the storage engines carry the ``engines`` marker (``-m engines``)."""
    for item in items:
        if "engine_name" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Say which storage engines the run actually exercised."""
    engines = config.stash.get(_engines_run, set())
    if not engines:
        return
    names = ", ".join(name for name in ENGINES if name in engines)
    node = config.stash.get(_node_description, "")
    suffix = f" ({node})" if "scylla" in engines and node else ""
    terminalreporter.write_line(f"storage engines exercised: {names}{suffix}")
