"""The embedded storage engine: one SQLite file in WAL mode, driven from worker threads.

It emulates the Cassandra semantics of the table layer: upserts that touch only the given
columns, atomic conditional writes (a single statement whose change count says whether it
applied), partitions read in clustering order, and keyset cursors. Every statement is a single
autocommit statement, so several connections and several processes can share the file.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from infrastructure.storage.schema import ColumnType, Migration, Order, Table
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

_SQL_TYPES = {
    ColumnType.TEXT: "TEXT",
    ColumnType.INT: "INTEGER",
    ColumnType.BIGINT: "INTEGER",
    ColumnType.DOUBLE: "REAL",
    ColumnType.BOOLEAN: "INTEGER",
    ColumnType.UUID: "TEXT",
    ColumnType.TIMESTAMP: "INTEGER",
    ColumnType.BLOB: "BLOB",
}
_BUSY_TIMEOUT_MS = 30_000
_READERS = 3
_EXPIRES = "_expires_at"  # hidden column emulating Cassandra's per-row TTL
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _q(name: str) -> str:
    return f'"{name}"'


def to_sql(kind: ColumnType, value: Any) -> Any:
    """Python value to what the SQLite column stores."""
    if value is None:
        return None
    if kind is ColumnType.UUID:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    if kind is ColumnType.TIMESTAMP:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        # Integer arithmetic: ``int(value.timestamp() * 1000)`` loses a millisecond to float
        # rounding for some values; flooring matches what the CQL driver sends.
        return (value - _EPOCH) // _MILLISECOND
    if kind is ColumnType.BOOLEAN:
        return int(bool(value))
    if kind is ColumnType.LIST_UUID:
        return msgspec.json.encode([str(v) for v in value]).decode() if value else None
    if kind is ColumnType.SET_TEXT:
        return msgspec.json.encode(sorted(value)).decode() if value else None
    if kind.is_collection:
        return msgspec.json.encode(value).decode() if value else None
    return value


def from_sql(kind: ColumnType, value: Any) -> Any:
    """SQLite column value back to the Python value both engines return."""
    if kind.is_collection and value is None:
        return _empty_collection(kind)
    if value is None:
        return None
    if kind is ColumnType.UUID:
        return uuid.UUID(value)
    if kind is ColumnType.TIMESTAMP:
        return datetime.fromtimestamp(value / 1000, UTC)
    if kind is ColumnType.BOOLEAN:
        return bool(value)
    if kind is ColumnType.LIST_UUID:
        return [uuid.UUID(v) for v in msgspec.json.decode(value)]
    if kind is ColumnType.SET_TEXT:
        return set(msgspec.json.decode(value))
    if kind.is_collection:
        return msgspec.json.decode(value)
    return value


def _empty_collection(kind: ColumnType) -> Any:
    if kind is ColumnType.SET_TEXT:
        return set()
    if kind in (ColumnType.MAP_TEXT_TEXT, ColumnType.MAP_TEXT_INT):
        return {}
    return []


def create_table_sql(table: Table) -> str:
    """DDL of ``table``; clustering order is mirrored in the primary key index."""
    columns = [f"{_q(c.name)} {_SQL_TYPES.get(c.type, 'TEXT')}" for c in table.columns]
    columns.append(f"{_q(_EXPIRES)} INTEGER")
    key = [_q(n) for n in table.partition_key]
    key += [f"{_q(n)} {order.value}" for n, order in table.clustering]
    return (f"CREATE TABLE IF NOT EXISTS {_q(table.name)} ({', '.join(columns)}, "
            f"PRIMARY KEY ({', '.join(key)})) WITHOUT ROWID")


def _now_ms() -> int:
    return int(time.time() * 1000)


class SQLiteStore:
    """Table layer over a SQLite file; one writer connection and a few reader connections."""

    engine = "sqlite"

    def __init__(self, path: Path, writer: aiosqlite.Connection, readers: list[aiosqlite.Connection]) -> None:
        self.path = path
        self._writer = writer
        self._readers = readers
        self._next_reader = itertools.cycle(readers)

    @classmethod
    async def open(cls, path: Path) -> SQLiteStore:
        """Open (creating if needed) the database file and its connections."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connections: list[aiosqlite.Connection] = []
        try:
            for _ in range(1 + _READERS):
                connections.append(await cls._connect(path))
        except BaseException:
            for connection in connections:  # a leaked connection's thread keeps the process alive
                await connection.close()
            raise
        return cls(path, connections[0], connections[1:])

    @staticmethod
    async def _connect(path: Path) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            # Turning a new file to WAL takes a lock the busy handler does not wait for, so a second
            # process opening the same new file at that moment gets "database is locked": retry.
            for attempt in itertools.count():
                try:
                    await connection.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError:
                    if attempt >= 100:
                        raise
                    await asyncio.sleep(0.05)
            await connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def close(self) -> None:
        """Close every connection (their threads end with them)."""
        for connection in (self._writer, *self._readers):
            await connection.close()

    async def ping(self) -> None:
        """A trivial read proves the file is open and readable."""
        try:
            await next(self._next_reader).execute_fetchall("SELECT 1")
        except (sqlite3.Error, ValueError) as exc:
            raise StorageUnavailable(f"SQLite database {self.path} is not usable: {exc}") from exc

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._writer.execute(sql, params)
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def _read(self, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
        return list(await next(self._next_reader).execute_fetchall(sql, params))

    # -- writes -------------------------------------------------------------------------------

    async def insert(self, table: Table, row: Mapping[str, Any], *, if_not_exists: bool = False,
                     ttl: int | None = None) -> bool:
        """Upsert (or conditionally insert) ``row``; an expired row counts as absent."""
        check_key(table, {k: row.get(k) for k in table.primary_key}, full=True)
        table.check_columns(list(row))
        names = list(row)
        values = [to_sql(table.column(n).type, row[n]) for n in names]
        names.append(_EXPIRES)
        values.append(_now_ms() + ttl * 1000 if ttl else None)
        target = ", ".join(_q(n) for n in table.primary_key)
        columns = ", ".join(_q(n) for n in names)
        marks = ", ".join("?" for _ in names)
        non_key = [n for n in names if n not in table.primary_key]
        assignments = ", ".join(f"{_q(n)} = excluded.{_q(n)}" for n in non_key)
        # Columns this write leaves out must not come back from a row whose TTL has passed.
        unwritten = [n for n in table.column_names if n not in row and n not in table.primary_key]
        expired = f"{_q(_EXPIRES)} IS NOT NULL AND {_q(_EXPIRES)} <= ?"
        now = _now_ms()
        if if_not_exists:
            # Replace only a row whose TTL has passed; a live row makes the insert a no-op.
            cleared = "".join(f", {_q(n)} = NULL" for n in unwritten)
            action = f"DO UPDATE SET {assignments}{cleared} WHERE {expired}"
            changed = await self._write(
                f"INSERT INTO {_q(table.name)} ({columns}) VALUES ({marks}) ON CONFLICT ({target}) {action}",
                [*values, now])
            return changed > 0
        cleared = "".join(f", {_q(n)} = CASE WHEN {expired} THEN NULL ELSE {_q(n)} END" for n in unwritten)
        action = f"DO UPDATE SET {assignments}{cleared}"
        await self._write(f"INSERT INTO {_q(table.name)} ({columns}) VALUES ({marks}) ON CONFLICT ({target}) {action}",
                          [*values, *(now for _ in unwritten)])
        return True

    async def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any], *,
                     if_exists: bool = False, if_equal: Mapping[str, Any] | None = None) -> bool:
        """Set columns at ``key``; unconditional updates create the row like CQL does."""
        check_key(table, key, full=True)
        table.check_columns([*values, *(if_equal or {})])
        if set(values) & set(table.primary_key):
            raise ValueError(f"{table.name}: primary key columns cannot be updated")
        if not (if_exists or if_equal):
            return await self.insert(table, {**key, **values})
        assignments = ", ".join(f"{_q(n)} = ?" for n in values)
        params = [to_sql(table.column(n).type, v) for n, v in values.items()]
        where, where_params = self._where_key(table, key, if_equal or {})
        live, live_params = self._live()  # an expired row does not exist for a condition
        changed = await self._write(f"UPDATE {_q(table.name)} SET {assignments} WHERE {where} AND {live}",
                                    params + where_params + live_params)
        return changed > 0

    async def delete(self, table: Table, key: Mapping[str, Any], *, if_equal: Mapping[str, Any] | None = None
                     ) -> bool:
        """Delete a row or partition; with ``if_equal`` only when the row still holds those values."""
        check_key(table, key, full=bool(if_equal))
        where, params = self._where_key(table, key, if_equal or {})
        if if_equal:
            live, live_params = self._live()
            where += f" AND {live}"
            params += live_params
        changed = await self._write(f"DELETE FROM {_q(table.name)} WHERE {where}", params)
        return changed > 0 or not if_equal

    # -- reads --------------------------------------------------------------------------------

    def _where_key(self, table: Table, key: Mapping[str, Any], expected: Mapping[str, Any] | None = None,
                   bounds: Sequence[Bound] = ()) -> tuple[str, list[Any]]:
        """Key equalities, then null-safe ``IS`` conditions on ``expected`` values, then ranges."""
        clauses, params = comparisons(table, key, to_sql, quote=_q)
        for more_clauses, more_params in (comparisons(table, expected or {}, to_sql, quote=_q, op="IS"),
                                          bound_conditions(table, bounds, to_sql, quote=_q)):
            clauses += more_clauses
            params += more_params
        return " AND ".join(clauses), params

    def _live(self) -> tuple[str, list[Any]]:
        return f"({_q(_EXPIRES)} IS NULL OR {_q(_EXPIRES)} > ?)", [_now_ms()]

    def _decode(self, table: Table, names: Sequence[str], record: Sequence[Any]) -> Row:
        return {n: from_sql(table.column(n).type, v) for n, v in zip(names, record, strict=True)}

    async def get(self, table: Table, key: Mapping[str, Any], columns: Sequence[str] | None = None) -> Row | None:
        """One row by its full primary key."""
        check_key(table, key, full=True)
        names = selected_columns(table, columns)
        where, params = self._where_key(table, key)
        live, live_params = self._live()
        rows = await self._read(
            f"SELECT {', '.join(_q(n) for n in names)} FROM {_q(table.name)} WHERE {where} AND {live}",
            params + live_params)
        return self._decode(table, names, rows[0]) if rows else None

    async def select(self, table: Table, partition: Mapping[str, Any], *, bounds: Sequence[Bound] = (),
                     reverse: bool = False, limit: int = 1000, cursor: bytes | None = None,
                     columns: Sequence[str] | None = None) -> Page:
        """Rows of one partition in clustering order, paged with a keyset cursor."""
        check_key(table, partition, full=False)
        order = [(n, o.reversed() if reverse else o) for n, o in table.clustering if n not in partition]
        where, params = self._where_key(table, partition, bounds=bounds)
        return await self._page(table, where, params, order, limit, cursor, columns)

    async def scan(self, table: Table, *, limit: int = 1000, cursor: bytes | None = None,
                   columns: Sequence[str] | None = None) -> Page:
        """The whole table in primary-key order, paged."""
        order = [(n, Order.ASC) for n in table.partition_key] + list(table.clustering)
        return await self._page(table, "1 = 1", [], order, limit, cursor, columns)

    async def _page(self, table: Table, where: str, params: list[Any], order: list[tuple[str, Order]],
                    limit: int, cursor: bytes | None, columns: Sequence[str] | None) -> Page:
        if limit < 1:
            raise ValueError("limit must be positive")
        names = selected_columns(table, columns)
        order_names = [n for n, _ in order]
        selected = names + [n for n in order_names if n not in names]
        if cursor is not None:
            after, after_params = self._after(table, order, cursor)
            where += f" AND {after}"
            params = params + after_params
        live, live_params = self._live()
        order_sql = ", ".join(f"{_q(n)} {o.value}" for n, o in order) or "1"
        rows = await self._read(
            f"SELECT {', '.join(_q(n) for n in selected)} FROM {_q(table.name)} WHERE {where} AND {live} "
            f"ORDER BY {order_sql} LIMIT ?", [*params, *live_params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = msgspec.msgpack.encode([table.name, [last[selected.index(n)] for n in order_names]])
        return Page([self._decode(table, names, r[: len(names)]) for r in rows], next_cursor)

    def _after(self, table: Table, order: list[tuple[str, Order]], cursor: bytes) -> tuple[str, list[Any]]:
        """Rows strictly after the cursor's key in ``order``: (a > x) OR (a = x AND b < y) ..."""
        try:
            name, values = msgspec.msgpack.decode(cursor)
        except (msgspec.DecodeError, ValueError, TypeError) as exc:
            raise InvalidCursor("cursor is not valid") from exc
        if name != table.name or not isinstance(values, list) or len(values) != len(order):
            raise InvalidCursor("cursor does not belong to this listing")
        clauses, params = [], []
        for i, (column, direction) in enumerate(order):
            equal = [f"{_q(n)} = ?" for n, _ in order[:i]]
            op = ">" if direction is Order.ASC else "<"
            clauses.append("(" + " AND ".join([*equal, f"{_q(column)} {op} ?"]) + ")")
            params += [*values[:i], values[i]]
        return "(" + " OR ".join(clauses) + ")", params

    # -- schema -------------------------------------------------------------------------------

    async def applied_migrations(self) -> list[int]:
        """Versions recorded in ``schema_migrations``."""
        exists = await self._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", [])
        if not exists:
            return []
        return [r[0] for r in await self._read("SELECT version FROM schema_migrations ORDER BY version", [])]

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply missing migrations inside one ``BEGIN IMMEDIATE`` transaction.

        The immediate transaction takes SQLite's write lock first, so a second process starting at
        the same moment waits, then finds the versions recorded and applies nothing.
        """
        connection = await self._connect(self.path)
        try:
            for attempt in itertools.count():
                try:
                    await connection.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError:
                    if attempt > 20:
                        raise
                    await asyncio.sleep(0.25)
            try:
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
                done = {r[0] for r in await connection.execute_fetchall("SELECT version FROM schema_migrations")}
                applied = []
                for migration in sorted(migrations, key=lambda m: m.version):
                    if migration.version in done:
                        continue
                    for new_table in migration.create:
                        await connection.execute(create_table_sql(new_table))
                    for change in migration.add_columns:
                        await connection.execute(
                            f"ALTER TABLE {_q(change.table)} ADD COLUMN {_q(change.column.name)} "
                            f"{_SQL_TYPES.get(change.column.type, 'TEXT')}")
                    await connection.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                                             [migration.version, migration.name, _now_ms()])
                    applied.append(migration.version)
                await connection.execute("COMMIT")
                return applied
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
        finally:
            await connection.close()
