"""A ``TableStore`` wrapper that times every operation for Prometheus, whichever engine is behind it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from infrastructure.observability import metrics
from infrastructure.storage.schema import Migration, Table
from infrastructure.storage.store import Bound, Page, Row, TableStore

T = TypeVar("T")


class InstrumentedStore:
    """Delegates to the real engine and records ``argus_storage_operation_duration_seconds``."""

    def __init__(self, inner: TableStore) -> None:
        self.inner = inner
        self.engine = inner.engine

    async def _timed(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await call()
            outcome = "ok"
            return result
        finally:
            metrics.storage_operation_seconds.labels(self.engine, operation, outcome).observe(
                time.perf_counter() - started)

    async def insert(self, table: Table, row: Mapping[str, Any], *, if_not_exists: bool = False,
                     ttl: int | None = None) -> bool:
        """Timed ``insert``."""
        return await self._timed("insert_lwt" if if_not_exists else "insert",
                                 lambda: self.inner.insert(table, row, if_not_exists=if_not_exists, ttl=ttl))

    async def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any], *,
                     if_exists: bool = False, if_equal: Mapping[str, Any] | None = None) -> bool:
        """Timed ``update``."""
        operation = "update_lwt" if (if_exists or if_equal) else "update"
        return await self._timed(operation, lambda: self.inner.update(table, key, values, if_exists=if_exists,
                                                                      if_equal=if_equal))

    async def delete(self, table: Table, key: Mapping[str, Any], *, if_equal: Mapping[str, Any] | None = None
                     ) -> bool:
        """Timed ``delete``."""
        return await self._timed("delete", lambda: self.inner.delete(table, key, if_equal=if_equal))

    async def get(self, table: Table, key: Mapping[str, Any], columns: Sequence[str] | None = None) -> Row | None:
        """Timed ``get``."""
        return await self._timed("get", lambda: self.inner.get(table, key, columns))

    async def select(self, table: Table, partition: Mapping[str, Any], *, bounds: Sequence[Bound] = (),
                     reverse: bool = False, limit: int = 1000, cursor: bytes | None = None,
                     columns: Sequence[str] | None = None) -> Page:
        """Timed ``select``."""
        return await self._timed("select", lambda: self.inner.select(
            table, partition, bounds=bounds, reverse=reverse, limit=limit, cursor=cursor, columns=columns))

    async def scan(self, table: Table, *, limit: int = 1000, cursor: bytes | None = None,
                   columns: Sequence[str] | None = None) -> Page:
        """Timed ``scan``."""
        return await self._timed("scan", lambda: self.inner.scan(table, limit=limit, cursor=cursor, columns=columns))

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Migrations are not timed: they run once, at start-up."""
        return await self.inner.migrate(migrations)

    async def applied_migrations(self) -> list[int]:
        """Versions already applied."""
        return await self.inner.applied_migrations()

    async def ping(self) -> None:
        """Timed readiness probe."""
        await self._timed("ping", self.inner.ping)

    async def close(self) -> None:
        """Close the engine."""
        await self.inner.close()
