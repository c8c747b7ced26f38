"""Releases, groups and tests on the table layer (either engine)."""

from __future__ import annotations

from uuid import UUID

from domain.catalogue.entities import Group, Release, Test
from infrastructure.storage import tables
from infrastructure.storage.catalogue_snapshot import bump_catalogue_version
from infrastructure.storage.store import TableStore
from infrastructure.storage.struct_rows import from_row, to_row

# Catalogue listings are bounded: a release has tens of groups, a group hundreds of tests.
MAX_LISTED = 10_000


class StoreCatalogueRepository:
    """Writes the entity row first, then claims its unique name; a lost claim removes the row.

    That order means a name never points at a missing entity, and a listing can only show a
    losing duplicate for the instant between its insert and its removal.
    """

    def __init__(self, store: TableStore) -> None:
        self._store = store

    # -- releases -----------------------------------------------------------------------------

    async def add_release(self, release: Release) -> bool:
        """Insert, then claim the name."""
        await self._store.insert(tables.releases, to_row(release, tables.releases))
        claimed = await self._store.insert(tables.release_names, {"name": release.name, "release_id": release.id},
                                           if_not_exists=True)
        if not claimed:
            await self._store.delete(tables.releases, {"id": release.id})
        await bump_catalogue_version(self._store)
        return claimed

    async def save_release(self, release: Release) -> None:
        """Overwrite the release row."""
        await self._store.insert(tables.releases, to_row(release, tables.releases))
        await bump_catalogue_version(self._store)

    async def get_release(self, release_id: UUID) -> Release | None:
        """By id."""
        row = await self._store.get(tables.releases, {"id": release_id})
        return from_row(row, Release) if row else None

    async def release_by_name(self, name: str) -> Release | None:
        """Through the name claim."""
        claim = await self._store.get(tables.release_names, {"name": name})
        return await self.get_release(claim["release_id"]) if claim else None

    async def list_releases(self) -> list[Release]:
        """A scan of the (small) releases table."""
        page = await self._store.scan(tables.releases, limit=MAX_LISTED)
        return sorted((from_row(r, Release) for r in page.rows), key=lambda r: r.name)

    # -- groups -------------------------------------------------------------------------------

    async def add_group(self, group: Group) -> bool:
        """Insert with its locator, then claim the name within the release."""
        await self._store.insert(tables.groups, to_row(group, tables.groups))
        await self._store.insert(tables.group_locator, {"id": group.id, "release_id": group.release_id})
        claim = {"release_id": group.release_id, "name": group.name, "group_id": group.id}
        claimed = await self._store.insert(tables.group_names, claim, if_not_exists=True)
        if not claimed:
            await self._store.delete(tables.group_locator, {"id": group.id})
            await self._store.delete(tables.groups, {"release_id": group.release_id, "id": group.id})
        await bump_catalogue_version(self._store)
        return claimed

    async def save_group(self, group: Group) -> None:
        """Overwrite the group row."""
        await self._store.insert(tables.groups, to_row(group, tables.groups))
        await bump_catalogue_version(self._store)

    async def get_group(self, group_id: UUID) -> Group | None:
        """Locator, then the row in its release's partition."""
        locator = await self._store.get(tables.group_locator, {"id": group_id})
        if locator is None:
            return None
        row = await self._store.get(tables.groups, {"release_id": locator["release_id"], "id": group_id})
        return from_row(row, Group) if row else None

    async def group_by_name(self, release_id: UUID, name: str) -> Group | None:
        """Through the name claim."""
        claim = await self._store.get(tables.group_names, {"release_id": release_id, "name": name})
        if claim is None:
            return None
        row = await self._store.get(tables.groups, {"release_id": release_id, "id": claim["group_id"]})
        return from_row(row, Group) if row else None

    async def list_groups(self, release_id: UUID) -> list[Group]:
        """One partition read."""
        page = await self._store.select(tables.groups, {"release_id": release_id}, limit=MAX_LISTED)
        return sorted((from_row(r, Group) for r in page.rows), key=lambda g: g.name)

    # -- tests --------------------------------------------------------------------------------

    async def add_test(self, test: Test) -> bool:
        """Insert with its locator, then claim the build id."""
        await self._store.insert(tables.tests, to_row(test, tables.tests))
        await self._store.insert(tables.test_locator, {"id": test.id, "group_id": test.group_id})
        claim = {"build_id": test.build_system_id, "test_id": test.id, "group_id": test.group_id}
        claimed = await self._store.insert(tables.test_build_ids, claim, if_not_exists=True)
        if not claimed:
            await self._store.delete(tables.test_locator, {"id": test.id})
            await self._store.delete(tables.tests, {"group_id": test.group_id, "id": test.id})
        await bump_catalogue_version(self._store)
        return claimed

    async def save_test(self, test: Test) -> None:
        """Overwrite the test row."""
        await self._store.insert(tables.tests, to_row(test, tables.tests))
        await bump_catalogue_version(self._store)

    async def get_test(self, test_id: UUID) -> Test | None:
        """Locator, then the row in its group's partition."""
        locator = await self._store.get(tables.test_locator, {"id": test_id})
        if locator is None:
            return None
        return await self._test_at(locator["group_id"], test_id)

    async def _test_at(self, group_id: UUID, test_id: UUID) -> Test | None:
        row = await self._store.get(tables.tests, {"group_id": group_id, "id": test_id})
        return from_row(row, Test) if row else None

    async def test_by_build_id(self, build_id: str) -> Test | None:
        """Through the build id claim, which also names the partition."""
        claim = await self._store.get(tables.test_build_ids, {"build_id": build_id})
        return await self._test_at(claim["group_id"], claim["test_id"]) if claim else None

    async def list_tests(self, group_id: UUID) -> list[Test]:
        """One partition read."""
        page = await self._store.select(tables.tests, {"group_id": group_id}, limit=MAX_LISTED)
        return sorted((from_row(r, Test) for r in page.rows), key=lambda t: t.name)
