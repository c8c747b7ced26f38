"""Use cases over the catalogue: browse it, create entries, and place a build id in it."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.catalogue.build_id import place_build_id
from domain.catalogue.entities import Group, Release, ReleasePlan, Test
from domain.catalogue.ports import CatalogueRepository
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.runs.plugins import PluginName

MAX_NAME_LENGTH = 200


def _check_name(kind: str, name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(f"{kind} name must not be empty", name)
    if len(name) > MAX_NAME_LENGTH or "/" in name:
        raise InvalidInput(f"{kind} name must be at most {MAX_NAME_LENGTH} characters without '/'", name)
    return name


class CatalogueService:
    """The only way the web layer and the CI ingestion touch releases, groups and tests."""

    def __init__(self, repository: CatalogueRepository) -> None:
        self._repository = repository

    async def list_releases(self, *, include_disabled: bool = False) -> list[Release]:
        """Releases people can pick from; disabled ones only on request."""
        releases = await self._repository.list_releases()
        return [r for r in releases if include_disabled or r.enabled]

    async def get_release(self, release_id: UUID) -> Release:
        """The release, or ``NotFound``."""
        release = await self._repository.get_release(release_id)
        if release is None:
            raise NotFound(f"Release {release_id} not found", str(release_id))
        return release

    async def list_groups(self, release_id: UUID, *, include_disabled: bool = False) -> list[Group]:
        """Groups of an existing release."""
        await self.get_release(release_id)
        groups = await self._repository.list_groups(release_id)
        return [g for g in groups if include_disabled or g.enabled]

    async def get_group(self, group_id: UUID) -> Group:
        """The group, or ``NotFound``."""
        group = await self._repository.get_group(group_id)
        if group is None:
            raise NotFound(f"Group {group_id} not found", str(group_id))
        return group

    async def list_tests(self, group_id: UUID, *, include_disabled: bool = False) -> list[Test]:
        """Tests of an existing group."""
        await self.get_group(group_id)
        tests = await self._repository.list_tests(group_id)
        return [t for t in tests if include_disabled or t.enabled]

    async def get_test(self, test_id: UUID) -> Test:
        """The test, or ``NotFound``."""
        test = await self._repository.get_test(test_id)
        if test is None:
            raise NotFound(f"Test {test_id} not found", str(test_id))
        return test

    async def test_with_parents(self, test_id: UUID) -> tuple[Test, Group, Release]:
        """A test with the group and release it belongs to."""
        test = await self.get_test(test_id)
        return test, await self.get_group(test.group_id), await self.get_release(test.release_id)

    async def test_by_build_id(self, build_id: str) -> Test | None:
        """The test a CI job reports to, if the catalogue knows it."""
        return await self._repository.test_by_build_id(build_id)

    async def create_release(self, name: str, *, pretty_name: str = "", description: str = "") -> Release:
        """A new release; ``AlreadyExists`` when the name is taken."""
        release = Release(id=uuid4(), name=_check_name("Release", name), pretty_name=pretty_name,
                          description=description)
        if not await self._repository.add_release(release):
            raise AlreadyExists(f"Release {release.name} already exists", release.name)
        return release

    async def create_group(self, release_id: UUID, name: str, *, pretty_name: str = "",
                           build_system_id: str = "") -> Group:
        """A new group in an existing release; ``AlreadyExists`` when the release has one so named."""
        await self.get_release(release_id)
        group = Group(id=uuid4(), release_id=release_id, name=_check_name("Group", name),
                      pretty_name=pretty_name, build_system_id=build_system_id)
        if not await self._repository.add_group(group):
            raise AlreadyExists(f"Group {group.name} already exists in this release", group.name)
        return group

    async def create_test(self, group_id: UUID, name: str, *, build_system_id: str, pretty_name: str = "",
                          build_system_url: str = "") -> Test:
        """A new test in an existing group; ``AlreadyExists`` when another test has the build id."""
        group = await self.get_group(group_id)
        build_system_id = build_system_id.strip()
        if not build_system_id:
            raise InvalidInput("Build id must not be empty", build_system_id)
        test = Test(id=uuid4(), group_id=group.id, release_id=group.release_id, name=_check_name("Test", name),
                    build_system_id=build_system_id, pretty_name=pretty_name, build_system_url=build_system_url)
        if not await self._repository.add_test(test):
            raise AlreadyExists("Build Id is already used by another test", build_system_id)
        return test

    async def create_releases(self, plans: list[ReleasePlan]) -> list[Release]:
        """Create whole release trees; nothing is written when any release name is taken.

        Tests get the build id ``release/group/test``, the Jenkins path the trees mirror.
        """
        for plan in plans:
            _check_name("Release", plan.name)
            for group in plan.groups:
                _check_name("Group", group.name)
                for test in group.tests:
                    _check_name("Test", test)
            if await self._repository.release_by_name(plan.name.strip()) is not None:
                raise AlreadyExists(f"Release {plan.name} already exists", plan.name)
        created = []
        for plan in plans:
            release = await self.create_release(plan.name, pretty_name=plan.pretty_name)
            for group_plan in plan.groups:
                group = await self.create_group(release.id, group_plan.name, pretty_name=group_plan.pretty_name,
                                                build_system_id=f"{release.name}/{group_plan.name}")
                for test_name in group_plan.tests:
                    await self.create_test(group.id, test_name,
                                           build_system_id=f"{release.name}/{group.name}/{test_name}")
            created.append(release)
        return created

    async def ensure_release(self, name: str) -> Release:
        """The release of this name, created if missing; safe when two callers race."""
        existing = await self._repository.release_by_name(name)
        if existing is not None:
            return existing
        candidate = Release(id=uuid4(), name=_check_name("Release", name))
        if await self._repository.add_release(candidate):
            return candidate
        winner = await self._repository.release_by_name(name)
        if winner is None:  # the name was taken by a release deleted since; nothing sensible to return
            raise AlreadyExists(f"Release {name} is being created concurrently", name)
        return winner

    async def ensure_group(self, release: Release, name: str, build_system_id: str) -> Group:
        """The group of this name in the release, created if missing; safe when two callers race."""
        existing = await self._repository.group_by_name(release.id, name)
        if existing is not None:
            return existing
        candidate = Group(id=uuid4(), release_id=release.id, name=_check_name("Group", name),
                          build_system_id=build_system_id)
        if await self._repository.add_group(candidate):
            return candidate
        winner = await self._repository.group_by_name(release.id, name)
        if winner is None:
            raise AlreadyExists(f"Group {name} is being created concurrently", name)
        return winner

    async def ensure_test_for_build_id(self, build_id: str, *, build_url: str = "",
                                       create_release: bool = True) -> Test | None:
        """The test owning this build id, creating what is missing of its release, group and test.

        With ``create_release`` off, a build id whose release is unknown is left unplaced (None).
        """
        existing = await self._repository.test_by_build_id(build_id)
        if existing is not None:
            return existing
        placement = place_build_id(build_id)
        if create_release:
            release = await self.ensure_release(placement.release)
        else:
            found = await self._repository.release_by_name(placement.release)
            if found is None:
                return None
            release = found
        group = await self.ensure_group(release, placement.group, placement.group_build_system_id)
        candidate = Test(id=uuid4(), group_id=group.id, release_id=release.id,
                         name=_check_name("Test", placement.test), build_system_id=build_id.strip(),
                         build_system_url=build_url)
        if await self._repository.add_test(candidate):
            return candidate
        winner = await self._repository.test_by_build_id(build_id)
        if winner is None:
            raise AlreadyExists(f"Test for {build_id} is being created concurrently", build_id)
        return winner

    async def set_plugin(self, test: Test, plugin_name: PluginName) -> Test:
        """Record which run type the test's runs have (the last reported type wins, as upstream)."""
        test.plugin_name = plugin_name
        await self._repository.save_test(test)
        return test
