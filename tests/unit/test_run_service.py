"""Run lifecycle rules per run type, against fakes."""

from __future__ import annotations

import uuid

import pytest

from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput
from domain.runs.entities import NOT_ENDED, LogLink, TestStatus
from domain.runs.errors import RunNotFound, UnsupportedOperation, UnsupportedRunType
from domain.runs.plugins import PluginName
from domain.runs.service import AutoCreate, RunService, parse_run_id, parse_run_type
from domain.runs.submission import RunSubmission
from domain.runs.versions import build_number_from_url, split_version
from tests.unit.fakes import FakeCatalogueRepository, FakeClock, FakeRunRepository, FakeSummaryRepository

BUILD = "scylla-master/longevity/longevity-100gb-4h"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runs_repo() -> FakeRunRepository:
    return FakeRunRepository()


@pytest.fixture
def summaries() -> FakeSummaryRepository:
    return FakeSummaryRepository()


@pytest.fixture
def catalogue_repo() -> FakeCatalogueRepository:
    return FakeCatalogueRepository()


def make_service(runs_repo, summaries, catalogue_repo, clock, auto_create=AutoCreate.ALL) -> RunService:
    return RunService(runs_repo, summaries, CatalogueService(catalogue_repo), clock, auto_create)


@pytest.fixture
def service(runs_repo, summaries, catalogue_repo, clock) -> RunService:
    return make_service(runs_repo, summaries, catalogue_repo, clock)


def submission(build_id: str = BUILD, **kwargs) -> RunSubmission:
    return RunSubmission(run_id=uuid.uuid4(), build_id=build_id, build_url=f"https://jenkins/job/{build_id}/17/",
                         **kwargs)


@pytest.mark.parametrize(("kind", "initial"), [(PluginName.SCT, TestStatus.CREATED),
                                               (PluginName.GENERIC, TestStatus.RUNNING),
                                               (PluginName.DRIVER_MATRIX, TestStatus.CREATED),
                                               (PluginName.SIRENADA, TestStatus.PASSED)])
async def test_initial_status_per_type(service: RunService, kind: PluginName, initial: TestStatus) -> None:
    run, created = await service.submit(kind, submission())
    assert created
    assert run.status is initial
    assert run.build_number == 17


async def test_submit_is_idempotent_and_links_the_catalogue(service: RunService, runs_repo: FakeRunRepository,
                                                            catalogue_repo: FakeCatalogueRepository,
                                                            summaries: FakeSummaryRepository) -> None:
    first = submission(started_by="jenkins")
    run, _ = await service.submit(PluginName.GENERIC, first)
    again, created = await service.submit(PluginName.GENERIC, first)
    assert not created
    assert again.start_time == run.start_time
    assert len(runs_repo.runs) == 1
    [test] = catalogue_repo.tests.values()
    assert (test.build_system_id, test.plugin_name) == (BUILD, PluginName.GENERIC)
    assert run.test_id == test.id
    assert summaries.summaries[test.id].last_runs[0].id == run.id


async def test_submitting_an_id_of_another_type_is_refused(service: RunService) -> None:
    body = submission()
    await service.submit(PluginName.GENERIC, body)
    with pytest.raises(InvalidInput):
        await service.submit(PluginName.SCT, body)


@pytest.mark.parametrize(("mode", "release_exists", "linked"), [
    (AutoCreate.OFF, True, False), (AutoCreate.EXISTING_RELEASES, False, False),
    (AutoCreate.EXISTING_RELEASES, True, True), (AutoCreate.ALL, False, True)])
async def test_auto_create_modes(runs_repo, summaries, catalogue_repo, clock, mode, release_exists, linked) -> None:
    service = make_service(runs_repo, summaries, catalogue_repo, clock, mode)
    if release_exists:
        await CatalogueService(catalogue_repo).create_release("scylla-master")
    run, _ = await service.submit(PluginName.SCT, submission())
    assert (run.test_id is not None) is linked
    assert bool(catalogue_repo.tests) is linked
    assert bool(summaries.summaries) is linked


async def test_generic_versions_are_split_and_plain_ones_kept(service: RunService) -> None:
    run, _ = await service.submit(PluginName.GENERIC, submission(product_version="2024.2.0~rc1-0.20240601.abcdef1"))
    assert (run.scylla_version, run.product_version) == ("2024.2.0~rc1", "2024.2.0~rc1-0.20240601.abcdef1")
    await service.update_product_version(PluginName.GENERIC, run.id, "6.1.0")
    stored = await service.require(PluginName.GENERIC, run.id)
    assert (stored.scylla_version, stored.product_version) == ("6.1.0", "6.1.0")


async def test_package_version_is_not_overwritten_for_sct(service: RunService, runs_repo) -> None:
    run, _ = await service.submit(PluginName.SCT, submission(details={"version_source": "scylla-server-target"}))
    await service.update_product_version(PluginName.SCT, run.id, "5.4.0")
    assert (await service.require(PluginName.SCT, run.id)).scylla_version is None


async def test_terminal_status_stamps_end_time_once(service: RunService, clock: FakeClock) -> None:
    run, _ = await service.submit(PluginName.SCT, submission())
    await service.set_status(PluginName.SCT, run.id, TestStatus.RUNNING)
    assert (await service.require(PluginName.SCT, run.id)).end_time == NOT_ENDED
    clock.advance(hours=1)
    failed_at = clock.now()
    await service.set_status(PluginName.SCT, run.id, TestStatus.FAILED)
    assert (await service.require(PluginName.SCT, run.id)).end_time == failed_at
    clock.advance(hours=1)
    await service.set_status(PluginName.SCT, run.id, TestStatus.ERROR)
    assert (await service.require(PluginName.SCT, run.id)).end_time == failed_at


async def test_finalize_rules_per_type(service: RunService, clock: FakeClock) -> None:
    sct, _ = await service.submit(PluginName.SCT, submission())
    await service.finalize(PluginName.SCT, sct.id, status="passed")
    stored = await service.require(PluginName.SCT, sct.id)
    assert stored.status is TestStatus.CREATED  # SCT finalize never changes the status
    assert stored.end_time == clock.now()

    matrix, _ = await service.submit(PluginName.DRIVER_MATRIX, submission())
    await service.finalize(PluginName.DRIVER_MATRIX, matrix.id)
    assert (await service.require(PluginName.DRIVER_MATRIX, matrix.id)).status is TestStatus.PASSED

    generic, _ = await service.submit(PluginName.GENERIC, submission())
    await service.finalize(PluginName.GENERIC, generic.id)
    assert (await service.require(PluginName.GENERIC, generic.id)).status is TestStatus.RUNNING
    await service.finalize(PluginName.GENERIC, generic.id, status="test_error", scylla_version="5.2.1")
    stored = await service.require(PluginName.GENERIC, generic.id)
    assert (stored.status, stored.scylla_version) == (TestStatus.TEST_ERROR, "5.2.1")

    sirenada, _ = await service.submit(PluginName.SIRENADA, submission())
    with pytest.raises(UnsupportedOperation):
        await service.finalize(PluginName.SIRENADA, sirenada.id)


async def test_refinalizing_keeps_the_first_end_time(service: RunService, clock: FakeClock) -> None:
    run, _ = await service.submit(PluginName.GENERIC, submission())
    await service.finalize(PluginName.GENERIC, run.id, status="passed")
    first = (await service.require(PluginName.GENERIC, run.id)).end_time
    clock.advance(minutes=5)
    await service.finalize(PluginName.GENERIC, run.id, status="passed")
    assert (await service.require(PluginName.GENERIC, run.id)).end_time == first
    await service.finalize(PluginName.GENERIC, run.id, end_time=1_700_000_000.5)
    assert (await service.require(PluginName.GENERIC, run.id)).end_time.timestamp() == 1_700_000_000.5


async def test_invalid_finalize_status_changes_nothing(service: RunService, runs_repo: FakeRunRepository) -> None:
    run, _ = await service.submit(PluginName.GENERIC, submission())
    writes = runs_repo.writes
    with pytest.raises(InvalidInput):
        await service.finalize(PluginName.GENERIC, run.id, status="exploded")
    assert runs_repo.writes == writes


async def test_logs_are_deduplicated_by_name(service: RunService) -> None:
    run, _ = await service.submit(PluginName.SCT, submission())
    await service.submit_logs(PluginName.SCT, run.id, [LogLink("db-logs", "s3://a"), LogLink("db-logs", "s3://b")])
    await service.submit_logs(PluginName.SCT, run.id, [LogLink("db-logs", "s3://c"), LogLink("loader", "s3://d")])
    assert (await service.require(PluginName.SCT, run.id)).logs == [LogLink("db-logs", "s3://a"),
                                                                   LogLink("loader", "s3://d")]
    sirenada, _ = await service.submit(PluginName.SIRENADA, submission())
    with pytest.raises(UnsupportedOperation):
        await service.submit_logs(PluginName.SIRENADA, sirenada.id, [LogLink("x", "y")])


async def test_unknown_runs_and_types(service: RunService) -> None:
    with pytest.raises(RunNotFound):
        await service.heartbeat(PluginName.SCT, uuid.uuid4())
    run, _ = await service.submit(PluginName.GENERIC, submission())
    assert await service.find(PluginName.SCT, run.id) is None  # a run of another type is not found
    with pytest.raises(UnsupportedRunType):
        parse_run_type("jenkins-tests")
    with pytest.raises(InvalidInput):
        parse_run_id("not-a-uuid")
    assert parse_run_id("{" + run.id.hex.upper() + "}") == run.id


async def test_summary_keeps_the_newest_runs(service: RunService, summaries: FakeSummaryRepository,
                                             clock: FakeClock) -> None:
    ids = []
    for _ in range(20):
        clock.advance(minutes=1)
        run, _ = await service.submit(PluginName.GENERIC, submission())
        ids.append(run.id)
    await service.set_status(PluginName.GENERIC, ids[-1], TestStatus.FAILED)
    [summary] = summaries.summaries.values()
    assert [b.id for b in summary.last_runs] == list(reversed(ids))[:15]
    assert summary.last_runs[0].status is TestStatus.FAILED


@pytest.mark.parametrize(("url", "number"), [("https://j/job/a/job/b/123/", 123), ("https://j/job/a/45", 45),
                                             ("https://j/job/a/lastBuild/", None), ("", None)])
def test_build_number(url: str, number: int | None) -> None:
    assert build_number_from_url(url) == number


@pytest.mark.parametrize(("version", "expected"), [
    ("2024.2.0~rc1-0.20240601.abcdef1", ("2024.2.0~rc1", "2024.2.0~rc1-0.20240601.abcdef1")),
    ("5.4.3-20240101.deadbeef", ("5.4.3", "5.4.3-20240101.deadbeef")),
    ("6.1.0", ("6.1.0", "6.1.0"))])
def test_split_version(version: str, expected: tuple[str, str]) -> None:
    assert split_version(version) == expected
