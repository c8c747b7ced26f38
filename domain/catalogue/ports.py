"""What the catalogue needs from storage, named for the domain."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.catalogue.entities import Group, Release, Test


class CatalogueRepository(Protocol):
    """Releases, groups and tests, with the uniqueness rules enforced atomically by storage."""

    async def add_release(self, release: Release) -> bool:
        """Store a new release; False when its name is already taken (nothing is written)."""
        ...

    async def save_release(self, release: Release) -> None:
        """Overwrite an existing release's fields (its name never changes)."""
        ...

    async def get_release(self, release_id: UUID) -> Release | None:
        """The release with this id, if any."""
        ...

    async def release_by_name(self, name: str) -> Release | None:
        """The release with this name, if any."""
        ...

    async def list_releases(self) -> list[Release]:
        """Every release, ordered by name."""
        ...

    async def add_group(self, group: Group) -> bool:
        """Store a new group; False when its release already has a group of that name."""
        ...

    async def save_group(self, group: Group) -> None:
        """Overwrite an existing group's fields (its name and release never change)."""
        ...

    async def get_group(self, group_id: UUID) -> Group | None:
        """The group with this id, if any."""
        ...

    async def group_by_name(self, release_id: UUID, name: str) -> Group | None:
        """The group of this release with this name, if any."""
        ...

    async def list_groups(self, release_id: UUID) -> list[Group]:
        """The groups of a release, ordered by name."""
        ...

    async def add_test(self, test: Test) -> bool:
        """Store a new test; False when its build id belongs to another test."""
        ...

    async def save_test(self, test: Test) -> None:
        """Overwrite an existing test's fields (its build id and group never change)."""
        ...

    async def get_test(self, test_id: UUID) -> Test | None:
        """The test with this id, if any."""
        ...

    async def test_by_build_id(self, build_id: str) -> Test | None:
        """The test whose runs carry this build id, if any."""
        ...

    async def list_tests(self, group_id: UUID) -> list[Test]:
        """The tests of a group, ordered by name."""
        ...
