"""Storage behind the run list, build links and the search snapshot, on every engine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.catalogue.entities import Group, Release, Test
from domain.runs.entities import Run
from domain.runs.plugins import PluginName
from infrastructure.storage import tables
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.catalogue_snapshot import CachedCatalogueSnapshots
from infrastructure.storage.run_repository import StoreRunRepository
from infrastructure.storage.store import TableStore

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def build_id() -> str:
    return f"browse/group/job-{uuid.uuid4().hex[:8]}"


async def _runs(repo: StoreRunRepository, build_id: str, count: int) -> list[Run]:
    """``count`` runs one minute apart, build numbers 1..count, oldest first."""
    runs = [Run(id=uuid.uuid4(), build_id=build_id, start_time=T0 + timedelta(minutes=i), build_number=i + 1,
                plugin_name=PluginName.GENERIC) for i in range(count)]
    for run in runs:
        assert await repo.claim(run) is None
    return runs


async def test_a_build_slice_is_bounded_on_both_sides(engine: TableStore, build_id: str) -> None:
    repo = StoreRunRepository(engine, concurrency=8)
    runs = await _runs(repo, build_id, 8)

    newest = await repo.latest_for_build(build_id, 3)
    assert [r.build_number for r in newest] == [8, 7, 6]
    before = await repo.latest_for_build(build_id, 3, before=runs[5].start_time)
    assert [r.build_number for r in before] == [5, 4, 3]
    between = await repo.latest_for_build(build_id, 10, before=runs[5].start_time, after=runs[1].start_time)
    assert [r.build_number for r in between] == [5, 4, 3]
    after = await repo.latest_for_build(build_id, 10, after=runs[6].start_time)
    assert [r.build_number for r in after] == [8]
    assert await repo.latest_for_build(build_id, 10, before=T0) == []
    assert await repo.latest_for_build(f"{build_id}-other", 10) == []


async def test_a_build_number_is_found_within_the_scan_bound(engine: TableStore, build_id: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infrastructure.storage.run_repository.BUILD_NUMBER_PAGE", 2)  # several pages
    repo = StoreRunRepository(engine, concurrency=8)
    runs = await _runs(repo, build_id, 7)

    found = await repo.with_build_number(build_id, 2, max_scanned=100)
    assert found == runs[1]
    assert await repo.with_build_number(build_id, 99, max_scanned=100) is None
    # Build 1 is the 7th newest run: a bound of 6 never reaches it.
    assert await repo.with_build_number(build_id, 1, max_scanned=6) is None
    assert (await repo.with_build_number(build_id, 1, max_scanned=7)) == runs[0]
    assert await repo.with_build_number("no/such/job", 1, max_scanned=100) is None


async def _tree(repo: StoreCatalogueRepository, name: str) -> tuple[Release, Group, Test]:
    release = Release(id=uuid.uuid4(), name=name)
    group = Group(id=uuid.uuid4(), release_id=release.id, name="grp")
    test = Test(id=uuid.uuid4(), group_id=group.id, release_id=release.id, name="first",
                build_system_id=f"{name}/grp/first")
    assert await repo.add_release(release) and await repo.add_group(group) and await repo.add_test(test)
    return release, group, test


async def test_the_snapshot_is_reused_until_a_write_in_any_process(engine: TableStore,
                                                                   twin_store: TableStore) -> None:
    repo, twin_repo = StoreCatalogueRepository(engine), StoreCatalogueRepository(twin_store)
    name = f"snap-{uuid.uuid4().hex[:8]}"
    release, group, test = await _tree(repo, name)
    snapshots = CachedCatalogueSnapshots(engine, repo, concurrency=8)

    first = await snapshots.current()
    assert release in first.releases and group in first.groups and test in first.tests
    assert await snapshots.current() is first
    assert snapshots.rebuilds == 1

    # Another process (its own store and repository) adds a test: this process's copy is replaced.
    added = Test(id=uuid.uuid4(), group_id=group.id, release_id=release.id, name="second",
                 build_system_id=f"{name}/grp/second")
    assert await twin_repo.add_test(added)
    second = await snapshots.current()
    assert added in second.tests and snapshots.rebuilds == 2

    # An overwrite counts as a write too.
    test.pretty_name = "First test"
    await twin_repo.save_test(test)
    assert test in (await snapshots.current()).tests
    assert snapshots.rebuilds == 3


async def test_a_losing_duplicate_never_stays_in_the_snapshot(engine: TableStore) -> None:
    repo = StoreCatalogueRepository(engine)
    name = f"dup-{uuid.uuid4().hex[:8]}"
    release, group, _ = await _tree(repo, name)
    snapshots = CachedCatalogueSnapshots(engine, repo, concurrency=8)
    await snapshots.current()
    loser = Group(id=uuid.uuid4(), release_id=release.id, name=group.name)
    assert not await repo.add_group(loser)
    assert loser.id not in (await snapshots.current()).group_by_id


async def test_a_catalogue_older_than_the_version_row_is_versioned_on_first_read(engine: TableStore) -> None:
    repo = StoreCatalogueRepository(engine)
    await _tree(repo, f"old-{uuid.uuid4().hex[:8]}")
    await engine.delete(tables.catalogue_version, {"name": "catalogue"})
    snapshots = CachedCatalogueSnapshots(engine, repo, concurrency=8)
    first = await snapshots.current()
    assert await snapshots.current() is first
    assert await engine.get(tables.catalogue_version, {"name": "catalogue"}) is not None
