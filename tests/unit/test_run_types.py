"""Sirenada, pytest and driver-matrix use cases against fakes."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput
from domain.runs.driver_matrix import TestCollection
from domain.runs.driver_matrix_service import DriverMatrixService
from domain.runs.entities import TestStatus
from domain.runs.plugins import PluginName
from domain.runs.pytest_results import PytestResult, PytestResultService
from domain.runs.service import AutoCreate, RunService
from domain.runs.sirenada import SirenadaCase, SirenadaService
from domain.runs.submission import RunSubmission
from tests.unit.fakes import FakeCatalogueRepository, FakeClock, FakeRunRepository, FakeSummaryRepository

FIXTURES = Path(__file__).parents[1] / "fixtures" / "driver_matrix"


class FakeCaseRepository:
    def __init__(self) -> None:
        self.stored: dict[UUID, dict[str, SirenadaCase]] = {}

    async def save_cases(self, run_id: UUID, cases: list[SirenadaCase]) -> None:
        self.stored.setdefault(run_id, {}).update({c.key: c for c in cases})

    async def cases(self, run_id: UUID) -> list[SirenadaCase]:
        return list(self.stored.get(run_id, {}).values())


class FakePytestRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple, PytestResult] = {}

    async def save(self, result: PytestResult) -> None:
        self.rows[(result.name, result.id, result.status)] = result

    async def latest_for_name(self, name, limit, since):
        found = [r for r in self.rows.values() if r.name == name and (since is None or r.id > since)]
        return sorted(found, key=lambda r: r.id, reverse=True)[:limit]

    async def for_run(self, run_id):
        return [r for r in self.rows.values() if r.run_id == run_id]


class FakeCollectionRepository:
    def __init__(self) -> None:
        self.collections: dict[UUID, dict[str, TestCollection]] = {}

    async def add(self, run_id: UUID, collection: TestCollection) -> bool:
        stored = self.collections.setdefault(run_id, {})
        if collection.name in stored:
            return False
        stored[collection.name] = collection
        return True

    async def exists(self, run_id: UUID, name: str) -> bool:
        return name in self.collections.get(run_id, {})

    async def for_run(self, run_id: UUID) -> list[TestCollection]:
        return sorted(self.collections.get(run_id, {}).values(), key=lambda c: c.name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def catalogue() -> CatalogueService:
    return CatalogueService(FakeCatalogueRepository())


@pytest.fixture
def runs(clock: FakeClock, catalogue: CatalogueService) -> RunService:
    return RunService(FakeRunRepository(), FakeSummaryRepository(), catalogue, clock, AutoCreate.ALL)


def case(name: str, status: str, **extra) -> SirenadaCase:
    return SirenadaCase(test_name=name, class_name="TestLogin", file_name="test_login.py", browser_type="chrome",
                        cluster_type="serverless", status=status, sirenada_test_id="T-1", **extra)


async def test_sirenada_cases_decide_the_status_and_resubmission_changes_nothing(runs: RunService) -> None:
    cases = FakeCaseRepository()
    service = SirenadaService(runs, cases)
    submission = RunSubmission(run_id=uuid.uuid4(), build_id="siren/ui/login", details={"region": "us-east-1"})
    await service.submit(submission, [case("test_ok", "passed", sirenada_password="hunter2")])
    assert (await runs.require(PluginName.SIRENADA, submission.run_id)).status is TestStatus.PASSED
    await service.submit(submission, [case("test_bad", "failed", message="boom"), case("test_ok", "passed")])
    await service.submit(submission, [case("test_bad", "failed", message="boom"), case("test_ok", "passed")])
    fields = await service.run_fields(submission.run_id)
    assert sorted(c["test_name"] for c in fields["results"]) == ["test_bad", "test_ok"]
    assert all("sirenada_password" not in c for c in fields["results"])
    assert (fields["browsers"], fields["clusters"], fields["sirenada_test_ids"]) == (["chrome"], ["serverless"],
                                                                                     ["T-1"])
    assert (await runs.require(PluginName.SIRENADA, submission.run_id)).status is TestStatus.FAILED


async def test_sirenada_rejects_unknown_case_status_before_writing(runs: RunService) -> None:
    cases = FakeCaseRepository()
    submission = RunSubmission(run_id=uuid.uuid4(), build_id="siren/ui/login")
    with pytest.raises(InvalidInput):
        await SirenadaService(runs, cases).submit(submission, [case("t", "exploded")])
    assert await runs.find(PluginName.SIRENADA, submission.run_id) is None
    assert cases.stored == {}


async def test_pytest_results_link_to_their_run_and_aggregate(runs: RunService, clock: FakeClock) -> None:
    service = PytestResultService(runs, FakePytestRepository())
    run, _ = await runs.submit(PluginName.GENERIC, RunSubmission(run_id=uuid.uuid4(), build_id="rel/dtest/gating"))
    name = "tests/test_lwt.py::TestLWT::test_insert[vnodes]"
    for seconds, (status, duration) in enumerate([("passed", 2.0), ("failure", 6.0), ("passed", 4.0)]):
        stored = await service.submit(PytestResult(
            name=name, status=status, id=clock.now() + timedelta(seconds=seconds), test_type="dtest", run_id=run.id,
            duration=duration, test_timestamp=clock.now(), session_timestamp=clock.now()))
        assert stored.test_id == run.test_id
    assert await service.stats(name, "duration", "avg") == pytest.approx(4.0)
    assert await service.stats(name, "duration", "max", status="passed") == 4.0
    assert await service.stats(name, "status", "count", status="passed") == 2
    assert await service.stats(name, "duration", "count", since=clock.now()) == 2
    assert await service.stats("unknown", "duration", "avg") is None
    with pytest.raises(InvalidInput):
        await service.stats(name, "message", "avg")
    with pytest.raises(InvalidInput):
        await service.stats(name, "duration", "median")


async def test_driver_matrix_results_failures_and_environment(runs: RunService, clock: FakeClock,
                                                              catalogue: CatalogueService) -> None:
    collections = FakeCollectionRepository()
    service = DriverMatrixService(runs, collections, catalogue, clock)
    run, _ = await runs.submit(PluginName.DRIVER_MATRIX, RunSubmission(run_id=uuid.uuid4(),
                                                                       build_id="rel/drivers/python-matrix"))
    xml = (FIXTURES / "pytest.datastax.v4.3.29.1.xml").read_bytes()
    encoded = base64.encodebytes(xml).decode()
    await service.submit_result(run.id, "pytest.datastax.v4.3.29.1", "python", encoded)
    await service.submit_result(run.id, "pytest.datastax.v4.3.29.1", "python", encoded)
    await service.submit_failure(run.id, "pytest.datastax.v3.3.28.0", "python", "compilation failed")
    assert (await runs.require(PluginName.DRIVER_MATRIX, run.id)).status is TestStatus.RUNNING
    stored = await collections.for_run(run.id)
    assert [c.name for c in stored] == ["pytest.datastax.v3.3.28.0", "pytest.datastax.v4.3.29.1"]
    assert stored[0].failure_message == "compilation failed"
    env = (FIXTURES / "Build-00.txt").read_text()
    await service.submit_environment(run.id, env)
    await service.submit_environment(run.id, env + "extra-key: 1\n")
    updated = await runs.require(PluginName.DRIVER_MATRIX, run.id)
    keys = [e["key"] for e in updated.details["environment_info"]]
    assert keys.count("scylla-version") == 1
    assert keys[-1] == "extra-key"
    assert updated.scylla_version
    report = await service.versions("rel/drivers/python-matrix")
    assert report["release"] == "rel"
    assert report["versions"] == {"datastax": ["pytest.datastax.v3.3.28.0", "pytest.datastax.v4.3.29.1"]}


async def test_driver_matrix_bad_input_stores_nothing(runs: RunService, clock: FakeClock,
                                                      catalogue: CatalogueService) -> None:
    collections = FakeCollectionRepository()
    service = DriverMatrixService(runs, collections, catalogue, clock)
    run, _ = await runs.submit(PluginName.DRIVER_MATRIX, RunSubmission(run_id=uuid.uuid4(), build_id="rel/d/m"))
    for raw in ("!!!", base64.encodebytes(b"<testsuite><testcase></testsuite>").decode()):
        with pytest.raises(InvalidInput):
            await service.submit_result(run.id, "pytest.datastax.v4.3.29.1", "python", raw)
    with pytest.raises(InvalidInput):
        await service.submit_environment(run.id, "no separator here\n")
    assert collections.collections == {}
    stored = await runs.require(PluginName.DRIVER_MATRIX, run.id)
    assert stored.status is TestStatus.CREATED
    assert "environment_info" not in stored.details


async def test_costs_sum_items_by_name(runs: RunService) -> None:
    from domain.runs.costs import CostItem, CostService
    from domain.runs.errors import RunNotFound

    costs = CostService(runs)
    run, _ = await runs.submit(PluginName.SCT, RunSubmission(run_id=uuid.uuid4(), build_id="rel/longevity/4h"))
    await costs.set_estimate(run.id, 40.0)
    await costs.submit_items(run.id, [CostItem(name="db-1", category="ec2", cost=10.5),
                                      CostItem(name="loader-1", category="ec2", cost=2.25, leaked=True)])
    await costs.submit_items(run.id, [CostItem(name="db-1", category="ec2", cost=12.0)])
    details = (await runs.require(PluginName.SCT, run.id)).details
    assert details["estimated_cost"] == 40.0
    assert details["actual_cost"] == 14.25
    assert details["cost_items"]["loader-1"]["leaked"] is True
    for bad in ([CostItem(name="x", category="c", cost=-1.0)], [CostItem(name="x", category="c", cost=float("nan"))],
                [CostItem(name="x", category="c", cost=1.0), CostItem(name="x", category="c", cost=2.0)]):
        with pytest.raises(InvalidInput):
            await costs.submit_items(run.id, bad)
    assert (await runs.require(PluginName.SCT, run.id)).details == details
    with pytest.raises(RunNotFound):
        await costs.set_estimate(uuid.uuid4(), 1.0)
