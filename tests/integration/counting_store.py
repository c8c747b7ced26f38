"""A store wrapper counting reads per table, for tests that pin how many statements a read costs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from infrastructure.storage.schema import Table
from infrastructure.storage.store import Page, Row, TableStore


class ReadCountingStore:
    """Delegates to ``inner``; ``reads`` counts (operation, table name) of every get and select."""

    def __init__(self, inner: TableStore) -> None:
        self.inner = inner
        self.reads: Counter[tuple[str, str]] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, table: Table, key: Mapping[str, Any], columns: Sequence[str] | None = None) -> Row | None:
        self.reads["get", table.name] += 1
        return await self.inner.get(table, key, columns)

    async def select(self, table: Table, partition: Mapping[str, Any], **options: Any) -> Page:
        self.reads["select", table.name] += 1
        return await self.inner.select(table, partition, **options)
