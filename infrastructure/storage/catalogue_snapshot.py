"""The whole catalogue in memory, rebuilt only after a catalogue write, in every worker process.

Every catalogue write rewrites one token row (``catalogue_version``) after the entity is written; a
reader compares that token (one single-row read) with the one its copy was built under. The token
is read *before* the tables, so a write racing a rebuild leaves a newer token behind and the next
read rebuilds again: a copy is never older than the last write completed before the read began.
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID, uuid4

from domain.catalogue.ports import CatalogueRepository
from domain.catalogue.search import CatalogueSnapshot
from domain.concurrency import bounded_gather
from infrastructure.storage import tables
from infrastructure.storage.store import TableStore

VERSION_KEY = {"name": "catalogue"}
# A safety net for writes that bypass the repository (manual CQL): a copy is rebuilt at least this often.
MAX_SNAPSHOT_AGE_SECONDS = 300.0


async def bump_catalogue_version(store: TableStore) -> None:
    """Tell every cache that the catalogue changed; call after the write itself has completed."""
    await store.insert(tables.catalogue_version, {**VERSION_KEY, "version": uuid4()})


class CachedCatalogueSnapshots:
    """A per-process copy of the catalogue, validated against the version token on every use."""

    def __init__(self, store: TableStore, catalogue: CatalogueRepository, concurrency: int,
                 max_age_seconds: float = MAX_SNAPSHOT_AGE_SECONDS) -> None:
        self._store = store
        self._catalogue = catalogue
        self._concurrency = concurrency
        self._max_age = max_age_seconds
        self._lock = asyncio.Lock()
        self._snapshot: CatalogueSnapshot | None = None
        self._version: UUID | None = None
        self._built_at = 0.0
        self.rebuilds = 0

    async def current(self) -> CatalogueSnapshot:
        """The cached copy when the token is unchanged, else a fresh one (one rebuild at a time)."""
        version = await self._version_token()
        if self._fresh(version):
            assert self._snapshot is not None
            return self._snapshot
        async with self._lock:
            if not self._fresh(version):  # another request may have rebuilt it while this one waited
                snapshot = await self._load()
                self._snapshot, self._version, self._built_at = snapshot, version, time.monotonic()
                self.rebuilds += 1
            assert self._snapshot is not None
            return self._snapshot

    def _fresh(self, version: UUID) -> bool:
        return (self._snapshot is not None and self._version == version
                and time.monotonic() - self._built_at < self._max_age)

    async def _version_token(self) -> UUID:
        row = await self._store.get(tables.catalogue_version, VERSION_KEY)
        if row is None:
            # A catalogue written before this table existed: start versioning it now.
            await self._store.insert(tables.catalogue_version, {**VERSION_KEY, "version": uuid4()},
                                     if_not_exists=True)
            row = await self._store.get(tables.catalogue_version, VERSION_KEY)
            assert row is not None
        return row["version"]

    async def _load(self) -> CatalogueSnapshot:
        """One scan of the releases, then one partition read per release and per group."""
        releases = await self._catalogue.list_releases()
        group_lists = await bounded_gather((self._catalogue.list_groups(r.id) for r in releases), self._concurrency)
        groups = [g for listed in group_lists for g in listed]
        test_lists = await bounded_gather((self._catalogue.list_tests(g.id) for g in groups), self._concurrency)
        return CatalogueSnapshot(releases=tuple(releases), groups=tuple(groups),
                                 tests=tuple(t for listed in test_lists for t in listed))
