"""The distinct product versions and DB-node images of a release, kept as small index partitions.

The dashboard's version and image pickers need these lists; computing them would mean reading every
run of the release. Instead each value is added (an idempotent upsert) the first time a test summary
of the release names it, so reading a list is one bounded partition read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from domain.runs.entities import RunBrief
from infrastructure.storage import tables
from infrastructure.storage.schema import Table
from infrastructure.storage.store import TableStore

# Values already written by this process; a re-write would be harmless, only wasted statements.
RECORDED_CACHE_SIZE = 50_000
_COLUMN = {tables.release_versions.name: "version", tables.release_images.name: "image_id"}


class StoreReleaseFacetRepository:
    """Versions and image ids per release, one partition each, sorted by value."""

    def __init__(self, store: TableStore) -> None:
        self._store = store
        self._recorded: OrderedDict[tuple[str, UUID, str], None] = OrderedDict()

    async def record(self, release_id: UUID, runs: Iterable[RunBrief]) -> None:
        """Add the versions and images of ``runs`` that this process has not written yet."""
        wanted = {(tables.release_versions, run.scylla_version) for run in runs if run.scylla_version}
        wanted |= {(tables.release_images, run.image_id) for run in runs if run.image_id}
        fresh = [(table, value) for table, value in wanted if (table.name, release_id, value) not in self._recorded]
        if not fresh:
            return
        await asyncio.gather(*(self._store.insert(table, {"release_id": release_id, _COLUMN[table.name]: value})
                               for table, value in fresh))
        for table, value in fresh:
            self._recorded[(table.name, release_id, value)] = None
        while len(self._recorded) > RECORDED_CACHE_SIZE:
            self._recorded.popitem(last=False)

    async def versions(self, release_id: UUID, limit: int) -> list[str]:
        """Up to ``limit`` distinct versions, in text order."""
        return await self._values(tables.release_versions, release_id, limit)

    async def images(self, release_id: UUID, limit: int) -> list[str]:
        """Up to ``limit`` distinct image ids, in text order."""
        return await self._values(tables.release_images, release_id, limit)

    async def _values(self, table: Table, release_id: UUID, limit: int) -> list[str]:
        column = _COLUMN[table.name]
        page = await self._store.select(table, {"release_id": release_id}, limit=limit, columns=[column])
        return [row[column] for row in page.rows]
