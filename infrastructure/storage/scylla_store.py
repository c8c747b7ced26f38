"""The production storage engine: ScyllaDB (or Cassandra 5) through scylla-driver.

Statements are prepared once and executed with ``execute_async``; the driver's callbacks run on
its IO thread and hand results to the event loop with ``call_soon_threadsafe``, so no request
ever blocks the loop. Protocol v4 is pinned because ScyllaDB speaks it at most, which keeps the
two servers behaving alike. Conditional writes are lightweight transactions.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from cassandra import (
    ConsistencyLevel,
    DriverException,
    InvalidRequest,
    OperationTimedOut,
    ReadTimeout,
    Unavailable,
    WriteTimeout,
)
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    ResponseFuture,
    ResultSet,
    Session,
)
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.protocol import ProtocolException
from cassandra.query import PreparedStatement, dict_factory

from infrastructure.settings import StorageSettings
from infrastructure.storage.schema import ColumnType, Migration, Table
from infrastructure.storage.store import (
    Bound,
    InvalidCursor,
    Page,
    Row,
    StorageUnavailable,
    bound_conditions,
    check_key,
    comparisons,
    selected_columns,
)

PROTOCOL_VERSION = 4
_LOCK_TTL_SECONDS = 120
_LOCK_WAIT_SECONDS = 300
_UNAVAILABLE = (NoHostAvailable, OperationTimedOut, Unavailable, ReadTimeout, WriteTimeout)


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():  # the awaiting task may have been cancelled meanwhile
        future.set_result(value)


def _reject(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def from_cql(kind: ColumnType, value: Any) -> Any:
    """Driver value to the Python value both engines return."""
    if value is None:
        if kind.is_collection:
            return set() if kind is ColumnType.SET_TEXT else {} if kind.value.startswith("map") else []
        return None
    if kind is ColumnType.TIMESTAMP:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if kind is ColumnType.SET_TEXT:
        return set(value)
    if kind.value.startswith("map"):
        return dict(value)
    if kind.value.startswith("list"):
        return list(value)
    return value


def to_cql(kind: ColumnType, value: Any) -> Any:
    """Python value to what the driver binds; empty collections are stored as null, as CQL does."""
    if value is None:
        return None
    if kind is ColumnType.UUID and not isinstance(value, uuid.UUID):
        return uuid.UUID(str(value))
    if kind is ColumnType.TIMESTAMP and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if kind.is_collection and not value:
        return None
    return value


def _listing_fingerprint(table: Table, cql: str, params: Sequence[Any]) -> bytes:
    """What a paging state is valid for: this statement with these bound values."""
    return hashlib.sha256(f"{table.name}\0{cql}\0{params!r}".encode()).digest()[:16]


def _unwrap_cursor(cursor: bytes, listing: bytes) -> bytes:
    """The server paging state inside ``cursor``, checked before it reaches the server.

    The server answers a malformed paging state with a protocol error and then closes the whole
    connection (every request in flight on it fails), so a garbage or foreign cursor must never
    be sent: it is wrapped with the fingerprint of the listing that produced it.
    """
    try:
        fingerprint, state = msgspec.msgpack.decode(cursor)
    except (msgspec.DecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if fingerprint != listing or not isinstance(state, bytes) or not state:
        raise InvalidCursor("cursor does not belong to this listing")
    return state


def keyspace_ddl(name: str, replication_factor: int, *, scylla: bool) -> str:
    """Keyspace DDL valid on both servers; tablets are turned off on ScyllaDB because LWT needs it."""
    ddl = (f"CREATE KEYSPACE IF NOT EXISTS {name} WITH replication = "
           f"{{'class': 'NetworkTopologyStrategy', 'replication_factor': {replication_factor}}}")
    return ddl + (" AND tablets = {'enabled': false}" if scylla else "")


def create_table_cql(keyspace: str, table: Table) -> str:
    """CQL DDL of ``table`` using only options both ScyllaDB and Cassandra 5 accept."""
    columns = ", ".join(f"{c.name} {c.type.value}" for c in table.columns)
    partition = ", ".join(table.partition_key)
    key = ", ".join([f"({partition})", *table.clustering_names])
    ddl = f"CREATE TABLE IF NOT EXISTS {keyspace}.{table.name} ({columns}, PRIMARY KEY ({key}))"
    options = []
    if table.clustering:
        options.append("CLUSTERING ORDER BY (" + ", ".join(f"{n} {o.value}" for n, o in table.clustering) + ")")
    if table.comment:
        options.append("comment = '" + table.comment.replace("'", "''") + "'")
    return ddl + (" WITH " + " AND ".join(options) if options else "")


class ScyllaStore:
    """Table layer over a ScyllaDB/Cassandra keyspace."""

    engine = "scylla"

    def __init__(self, cluster: Cluster, session: Session, settings: StorageSettings, *, scylla: bool) -> None:
        self._cluster = cluster
        self._session = session
        self._settings = settings
        self.keyspace = settings.scylla_keyspace
        self.is_scylla = scylla
        self._prepared: dict[str, asyncio.Task[PreparedStatement]] = {}

    @classmethod
    async def open(cls, settings: StorageSettings) -> ScyllaStore:
        """Connect, and create the keyspace if it is missing."""
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.scylla_local_dc)),
            request_timeout=settings.scylla_request_timeout,
            row_factory=dict_factory,
            # Quorum reads see quorum writes and lightweight transactions, so a caller that loses a claim
            # always finds the winner's row, whatever the number of replicas.
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        )
        auth = (PlainTextAuthProvider(settings.scylla_username, settings.scylla_password)
                if settings.scylla_username else None)
        cluster = Cluster(
            settings.scylla_hosts, port=settings.scylla_port, protocol_version=PROTOCOL_VERSION,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile}, auth_provider=auth,
            connect_timeout=settings.scylla_connect_timeout,
            control_connection_timeout=settings.scylla_connect_timeout,
        )
        try:
            session = await asyncio.to_thread(cluster.connect)
        except (NoHostAvailable, OperationTimedOut, DriverException) as exc:
            await asyncio.to_thread(cluster.shutdown)
            raise StorageUnavailable(f"cannot reach ScyllaDB at {settings.scylla_hosts}: {exc}") from exc
        local = await asyncio.to_thread(session.execute, "SELECT release_version FROM system.local")
        release = local.one()["release_version"]
        # ScyllaDB reports the Cassandra version it emulates (3.0.8); Cassandra 5 reports 5.x.
        store = cls(cluster, session, settings, scylla=release.startswith("3."))
        await store._ddl(keyspace_ddl(store.keyspace, settings.scylla_replication_factor, scylla=store.is_scylla))
        return store

    async def close(self) -> None:
        """Shut the driver down (its threads included)."""
        await asyncio.to_thread(self._cluster.shutdown)

    # -- execution ----------------------------------------------------------------------------

    async def _prepare(self, cql: str) -> PreparedStatement:
        task = self._prepared.get(cql)
        if task is None or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(asyncio.to_thread(self._session.prepare, cql))
            self._prepared[cql] = task
        return await asyncio.shield(task)

    async def _run(self, cql: str, params: Sequence[Any], *, fetch_size: int | None = None,
                   paging_state: bytes | None = None) -> tuple[list[Row], bytes | None]:
        """Execute a prepared statement, awaiting one page without blocking the loop."""
        try:
            statement = (await self._prepare(cql)).bind(params)
            if fetch_size is not None:
                statement.fetch_size = fetch_size
            loop = asyncio.get_running_loop()
            future: asyncio.Future[tuple[list[Row], bytes | None]] = loop.create_future()
            response: ResponseFuture = self._session.execute_async(statement, paging_state=paging_state)

            def on_rows(rows: list[Row] | None) -> None:
                # Runs on the driver's IO thread; an exception escaping here would be swallowed by
                # the driver and leave the awaiting coroutine hanging, so everything is caught.
                try:
                    result = (list(rows or []), ResultSet(response, rows).paging_state)
                except BaseException as exc:
                    loop.call_soon_threadsafe(_reject, future, exc)
                else:
                    loop.call_soon_threadsafe(_resolve, future, result)

            def on_error(exc: BaseException) -> None:
                loop.call_soon_threadsafe(_reject, future, exc)

            response.add_callbacks(on_rows, on_error)
            return await future
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"ScyllaDB did not answer: {exc}") from exc

    async def _ddl(self, cql: str) -> None:
        # DDL is rare; the blocking call waits for schema agreement, which the next statement needs.
        try:
            await asyncio.to_thread(self._session.execute, cql, timeout=120)
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"ScyllaDB did not apply schema change: {exc}") from exc

    def _name(self, table: Table) -> str:
        return f"{self.keyspace}.{table.name}"

    @staticmethod
    def _where(table: Table, key: Mapping[str, Any], bounds: Sequence[Bound] = ()) -> tuple[str, list[Any]]:
        clauses, params = comparisons(table, key, to_cql)
        range_clauses, range_params = bound_conditions(table, bounds, to_cql)
        return " AND ".join(clauses + range_clauses), params + range_params

    @staticmethod
    def _condition(table: Table, if_equal: Mapping[str, Any]) -> tuple[str, list[Any]]:
        clauses, params = comparisons(table, if_equal, to_cql)
        return " IF " + " AND ".join(clauses), params

    @staticmethod
    def _applied(rows: list[Row]) -> bool:
        # ScyllaDB returns the old row next to [applied]; only that first column is portable.
        return bool(rows and rows[0].get("[applied]"))

    # -- writes -------------------------------------------------------------------------------

    async def insert(self, table: Table, row: Mapping[str, Any], *, if_not_exists: bool = False,
                     ttl: int | None = None) -> bool:
        """Upsert or lightweight-transaction insert."""
        check_key(table, {k: row.get(k) for k in table.primary_key}, full=True)
        table.check_columns(list(row))
        names = list(row)
        params = [to_cql(table.column(n).type, row[n]) for n in names]
        cql = (f"INSERT INTO {self._name(table)} ({', '.join(names)}) "
               f"VALUES ({', '.join('?' for _ in names)})")
        if if_not_exists:
            cql += " IF NOT EXISTS"
        if ttl:
            cql += " USING TTL ?"
            params.append(ttl)
        rows, _ = await self._run(cql, params)
        return self._applied(rows) if if_not_exists else True

    async def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any], *,
                     if_exists: bool = False, if_equal: Mapping[str, Any] | None = None) -> bool:
        """UPDATE, optionally as a lightweight transaction."""
        check_key(table, key, full=True)
        table.check_columns([*values, *(if_equal or {})])
        if set(values) & set(table.primary_key):
            raise ValueError(f"{table.name}: primary key columns cannot be updated")
        assignments = ", ".join(f"{n} = ?" for n in values)
        params = [to_cql(table.column(n).type, v) for n, v in values.items()]
        where, where_params = self._where(table, key)
        cql = f"UPDATE {self._name(table)} SET {assignments} WHERE {where}"
        if if_equal:
            condition, condition_params = self._condition(table, if_equal)
            cql += condition
            where_params += condition_params
        elif if_exists:
            cql += " IF EXISTS"
        rows, _ = await self._run(cql, params + where_params)
        return self._applied(rows) if (if_exists or if_equal) else True

    async def delete(self, table: Table, key: Mapping[str, Any], *, if_equal: Mapping[str, Any] | None = None
                     ) -> bool:
        """DELETE a row or partition, optionally as a lightweight transaction."""
        check_key(table, key, full=bool(if_equal))
        where, params = self._where(table, key)
        cql = f"DELETE FROM {self._name(table)} WHERE {where}"
        if if_equal:
            condition, condition_params = self._condition(table, if_equal)
            cql += condition
            params += condition_params
        rows, _ = await self._run(cql, params)
        return self._applied(rows) if if_equal else True

    # -- reads --------------------------------------------------------------------------------

    def _decode(self, table: Table, names: Sequence[str], row: Row) -> Row:
        return {n: from_cql(table.column(n).type, row.get(n)) for n in names}

    async def get(self, table: Table, key: Mapping[str, Any], columns: Sequence[str] | None = None) -> Row | None:
        """One row by full primary key."""
        check_key(table, key, full=True)
        names = selected_columns(table, columns)
        where, params = self._where(table, key)
        rows, _ = await self._run(f"SELECT {', '.join(names)} FROM {self._name(table)} WHERE {where}", params)
        return self._decode(table, names, rows[0]) if rows else None

    async def select(self, table: Table, partition: Mapping[str, Any], *, bounds: Sequence[Bound] = (),
                     reverse: bool = False, limit: int = 1000, cursor: bytes | None = None,
                     columns: Sequence[str] | None = None) -> Page:
        """One partition in clustering order (or reversed), paged with the driver's paging state."""
        check_key(table, partition, full=False)
        names = selected_columns(table, columns)
        where, params = self._where(table, partition, bounds)
        cql = f"SELECT {', '.join(names)} FROM {self._name(table)} WHERE {where}"
        if reverse and table.clustering:
            cql += " ORDER BY " + ", ".join(f"{n} {o.reversed().value}" for n, o in table.clustering)
        return await self._page(table, cql, params, names, limit, cursor)

    async def scan(self, table: Table, *, limit: int = 1000, cursor: bytes | None = None,
                   columns: Sequence[str] | None = None) -> Page:
        """The whole table in token order, paged."""
        names = selected_columns(table, columns)
        return await self._page(table, f"SELECT {', '.join(names)} FROM {self._name(table)}", [], names, limit,
                                cursor)

    async def _page(self, table: Table, cql: str, params: list[Any], names: list[str], limit: int,
                    cursor: bytes | None) -> Page:
        if limit < 1:
            raise ValueError("limit must be positive")
        rows: list[Row] = []
        listing = _listing_fingerprint(table, cql, params)
        state = None if cursor is None else _unwrap_cursor(cursor, listing)
        # ScyllaDB may return short pages, so keep asking for the remainder until ``limit`` is met.
        while True:
            try:
                page, state = await self._run(cql, params, fetch_size=limit - len(rows), paging_state=state)
            except (InvalidRequest, ProtocolException) as exc:
                if cursor is not None:
                    raise InvalidCursor("cursor does not belong to this listing") from exc
                raise
            rows += page
            if state is None or len(rows) >= limit:
                break
        next_cursor = None if state is None else msgspec.msgpack.encode([listing, state])
        return Page([self._decode(table, names, r) for r in rows], next_cursor)

    # -- schema -------------------------------------------------------------------------------

    async def _existing_columns(self, table: str) -> set[str]:
        rows, _ = await self._run(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
            [self.keyspace, table])
        return {r["column_name"] for r in rows}

    async def applied_migrations(self) -> list[int]:
        """Versions recorded in ``schema_migrations``."""
        if not await self._existing_columns("schema_migrations"):
            return []
        rows, _ = await self._run(f"SELECT version FROM {self.keyspace}.schema_migrations", [], fetch_size=10_000)
        return sorted(r["version"] for r in rows)

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply missing migrations while holding a lightweight-transaction lock row.

        Concurrent DDL from several processes can leave nodes disagreeing on the schema, so only the
        lock holder changes it; the others wait for the lock, then find nothing left to do. The lock
        row has a TTL so a crashed migrator cannot block start-up forever.
        """
        await self._ddl(f"CREATE TABLE IF NOT EXISTS {self.keyspace}.schema_migrations "
                        "(version int PRIMARY KEY, name text, applied_at timestamp)")
        await self._ddl(f"CREATE TABLE IF NOT EXISTS {self.keyspace}.schema_lock (name text PRIMARY KEY, owner uuid)")
        owner = uuid.uuid4()
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        lock = f"INSERT INTO {self.keyspace}.schema_lock (name, owner) VALUES ('migrate', ?) IF NOT EXISTS USING TTL ?"
        while not self._applied((await self._run(lock, [owner, _LOCK_TTL_SECONDS]))[0]):
            if time.monotonic() > deadline:
                raise StorageUnavailable("another process holds the schema migration lock")
            await asyncio.sleep(0.5)
        try:
            done = set(await self.applied_migrations())
            applied = []
            for migration in sorted(migrations, key=lambda m: m.version):
                if migration.version in done:
                    continue
                for new_table in migration.create:
                    await self._ddl(create_table_cql(self.keyspace, new_table))
                for change in migration.add_columns:
                    if change.column.name not in await self._existing_columns(change.table):
                        await self._ddl(f"ALTER TABLE {self.keyspace}.{change.table} "
                                        f"ADD {change.column.name} {change.column.type.value}")
                await self._run(f"INSERT INTO {self.keyspace}.schema_migrations (version, name, applied_at) "
                                "VALUES (?, ?, ?)", [migration.version, migration.name, datetime.now(UTC)])
                applied.append(migration.version)
            return applied
        finally:
            await self._run(f"DELETE FROM {self.keyspace}.schema_lock WHERE name = 'migrate' IF owner = ?", [owner])

    async def ping(self) -> None:
        """A read of ``system.local`` proves a node answers."""
        await self._run("SELECT release_version FROM system.local", [])
