"""Catalogue use cases against the dict-backed fake repository."""

from __future__ import annotations

import asyncio

import pytest

from domain.catalogue.build_id import place_build_id
from domain.catalogue.entities import GroupPlan, ReleasePlan
from domain.catalogue.service import CatalogueService
from domain.errors import AlreadyExists, InvalidInput, NotFound
from tests.unit.fakes import FakeCatalogueRepository


@pytest.fixture
def repository() -> FakeCatalogueRepository:
    return FakeCatalogueRepository()


@pytest.fixture
def catalogue(repository: FakeCatalogueRepository) -> CatalogueService:
    return CatalogueService(repository)


@pytest.mark.parametrize(("build_id", "expected"), [
    ("scylla-master/longevity/longevity-10gb",
     ("scylla-master", "longevity", "longevity-10gb", "scylla-master/longevity")),
    ("scylla-master/job", ("scylla-master", "scylla-master-root", "job", "scylla-master")),
    ("lonely-job", ("untracked", "untracked", "lonely-job", "")),
    ("rel/a/b/c/test", ("rel", "a-b-c", "test", "rel/a/b/c")),
    ("/rel//grp/test/", ("rel", "grp", "test", "rel/grp")),
])
def test_build_id_placement(build_id: str, expected: tuple[str, str, str, str]) -> None:
    placement = place_build_id(build_id)
    assert (placement.release, placement.group, placement.test, placement.group_build_system_id) == expected


def test_empty_build_id_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        place_build_id(" / ")


async def test_duplicate_release_name_is_refused(catalogue: CatalogueService) -> None:
    await catalogue.create_release("scylla-master")
    with pytest.raises(AlreadyExists):
        await catalogue.create_release("scylla-master")
    assert [r.name for r in await catalogue.list_releases()] == ["scylla-master"]


@pytest.mark.parametrize("name", ["", "   ", "a/b", "x" * 201])
async def test_bad_release_names_are_refused(catalogue: CatalogueService, name: str) -> None:
    with pytest.raises(InvalidInput):
        await catalogue.create_release(name)


async def test_disabled_entries_are_listed_only_on_request(catalogue: CatalogueService,
                                                          repository: FakeCatalogueRepository) -> None:
    release = await catalogue.create_release("r1")
    hidden = await catalogue.create_release("r2")
    hidden.enabled = False
    await repository.save_release(hidden)
    assert [r.name for r in await catalogue.list_releases()] == ["r1"]
    assert [r.name for r in await catalogue.list_releases(include_disabled=True)] == ["r1", "r2"]
    group = await catalogue.create_group(release.id, "g")
    test = await catalogue.create_test(group.id, "t", build_system_id="r1/g/t")
    test.enabled = False
    await repository.save_test(test)
    assert await catalogue.list_tests(group.id) == []
    assert [t.id for t in await catalogue.list_tests(group.id, include_disabled=True)] == [test.id]


async def test_unknown_ids_raise_not_found(catalogue: CatalogueService) -> None:
    from uuid import uuid4

    for call in (catalogue.get_release, catalogue.get_group, catalogue.get_test, catalogue.list_groups,
                 catalogue.list_tests, catalogue.test_with_parents):
        with pytest.raises(NotFound):
            await call(uuid4())


async def test_build_id_belongs_to_one_test(catalogue: CatalogueService) -> None:
    release = await catalogue.create_release("r")
    group = await catalogue.create_group(release.id, "g")
    await catalogue.create_test(group.id, "t", build_system_id="r/g/t")
    with pytest.raises(AlreadyExists):
        await catalogue.create_test(group.id, "other", build_system_id="r/g/t")


async def test_ensure_test_creates_the_hierarchy_once(catalogue: CatalogueService,
                                                      repository: FakeCatalogueRepository) -> None:
    first, second = await asyncio.gather(catalogue.ensure_test_for_build_id("rel/grp/sub/test"),
                                         catalogue.ensure_test_for_build_id("rel/grp/sub/test"))
    assert first.id == second.id
    test, group, release = await catalogue.test_with_parents(first.id)
    assert (release.name, group.name, group.build_system_id, test.name) == ("rel", "grp-sub", "rel/grp/sub", "test")
    assert (len(repository.releases), len(repository.groups), len(repository.tests)) == (1, 1, 1)


async def test_create_releases_is_all_or_nothing(catalogue: CatalogueService) -> None:
    await catalogue.create_release("taken")
    plans = [ReleasePlan("fresh", groups=(GroupPlan("g", tests=("t1",)),)), ReleasePlan("taken")]
    with pytest.raises(AlreadyExists):
        await catalogue.create_releases(plans)
    assert [r.name for r in await catalogue.list_releases()] == ["taken"]


async def test_create_releases_builds_jenkins_paths(catalogue: CatalogueService) -> None:
    [release] = await catalogue.create_releases(
        [ReleasePlan("rel", groups=(GroupPlan("grp", pretty_name="Group", tests=("t1", "t2")),))])
    [group] = await catalogue.list_groups(release.id)
    assert (group.pretty_name, group.build_system_id) == ("Group", "rel/grp")
    assert [t.build_system_id for t in await catalogue.list_tests(group.id)] == ["rel/grp/t1", "rel/grp/t2"]
    assert (await catalogue.test_by_build_id("rel/grp/t2")) is not None
