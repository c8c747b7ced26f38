"""Runs, summaries and per-type run data on every storage engine."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.runs.driver_matrix import TestCollection
from domain.runs.entities import InvestigationStatus, LogLink, Run, RunBrief, TestStatus, TestSummary
from domain.runs.plugins import PluginName
from domain.runs.pytest_results import PytestResult
from domain.runs.sirenada import SirenadaCase
from infrastructure.storage.release_facet_repository import StoreReleaseFacetRepository
from infrastructure.storage.run_data_repository import (
    StoreDriverCollectionRepository,
    StorePytestResultRepository,
    StoreSirenadaRepository,
)
from infrastructure.storage.run_repository import StoreRunRepository, StoreSummaryRepository
from infrastructure.storage.store import TableStore
from tests.integration.counting_store import ReadCountingStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_run(build_id: str, start: datetime, **fields) -> Run:
    return Run(id=uuid.uuid4(), build_id=build_id, start_time=start, plugin_name=PluginName.SCT,
               heartbeat=int(start.timestamp()), **fields)


@pytest.fixture
def build_id() -> str:
    return f"rel/group/job-{uuid.uuid4().hex[:8]}"


async def test_claim_get_and_partial_updates(engine: TableStore, build_id: str) -> None:
    repo = StoreRunRepository(engine, concurrency=8)
    run = make_run(build_id, T0, started_by="jenkins", logs=[LogLink("db", "s3://db.tar.zst")],
                   details={"commit_id": "abc123", "nested": {"a": [1, 2]}})
    assert await repo.claim(run) is None
    assert await repo.get(run.id) == run
    again = make_run(build_id, T0 + timedelta(minutes=5))
    again.id = run.id
    assert await repo.claim(again) == run  # the id is taken: the stored run comes back unchanged

    # Two writers touching different fields at once both land.
    copy_a, copy_b = await repo.get(run.id), await repo.get(run.id)
    await asyncio.gather(repo.update(copy_a, {"heartbeat": 123}),
                         repo.update(copy_b, {"status": TestStatus.RUNNING, "scylla_version": "2025.1.0"}))
    stored = await repo.get(run.id)
    assert (stored.heartbeat, stored.status, stored.scylla_version) == (123, TestStatus.RUNNING, "2025.1.0")
    assert stored.details == {"commit_id": "abc123", "nested": {"a": [1, 2]}}
    assert await repo.get(uuid.uuid4()) is None


async def test_two_processes_submitting_the_same_run_create_one(engine: TableStore, twin_store: TableStore,
                                                                build_id: str) -> None:
    first, second = StoreRunRepository(engine, 8), StoreRunRepository(twin_store, 8)
    run_id = uuid.uuid4()
    attempts = []
    for repo, offset in ((first, 0), (second, 1), (first, 2), (second, 3)):
        candidate = make_run(build_id, T0 + timedelta(seconds=offset))
        candidate.id = run_id
        attempts.append(repo.claim(candidate))
    outcomes = await asyncio.gather(*attempts)
    assert sum(outcome is None for outcome in outcomes) == 1
    assert len(await first.latest_for_build(build_id, 10)) == 1


async def test_latest_runs_newest_first_and_ignored(engine: TableStore, build_id: str) -> None:
    repo = StoreRunRepository(engine, 8)
    runs = [make_run(build_id, T0 + timedelta(hours=i)) for i in range(5)]
    for run in runs:
        await repo.claim(run)
    await repo.update(runs[1], {"investigation_status": InvestigationStatus.IGNORED})
    assert [r.id for r in await repo.latest_for_build(build_id, 3)] == [runs[4].id, runs[3].id, runs[2].id]
    assert await repo.ignored({r.id for r in runs} | {uuid.uuid4()}) == {runs[1].id}


async def test_get_many_reads_job_slices_and_each_run_past_a_slice_span(engine: TableStore) -> None:
    dense, sparse = f"rel/group/dense-{uuid.uuid4().hex[:8]}", f"rel/group/sparse-{uuid.uuid4().hex[:8]}"
    writer = StoreRunRepository(engine, 8)
    dense_runs = [make_run(dense, T0 + timedelta(hours=i), product_version=f"2025.1.{i}") for i in range(12)]
    sparse_runs = [make_run(sparse, T0 + timedelta(minutes=i)) for i in range(30)]
    for run in dense_runs + sparse_runs:
        await writer.claim(run)
    await writer.update(dense_runs[3], {"investigation_status": InvestigationStatus.IGNORED})
    wanted = [*dense_runs[1:11], sparse_runs[0], sparse_runs[-1]]
    counter = ReadCountingStore(engine)
    found = await StoreRunRepository(counter, 8).get_many([r.id for r in wanted] + [uuid.uuid4()])
    assert found == {r.id: await writer.get(r.id) for r in wanted}
    assert found[dense_runs[3].id].investigation_status is InvestigationStatus.IGNORED
    # The dense job is one slice; the sparse one spans 30 runs for 2 wanted, so its slice stops at
    # 8 rows (the newest wanted run is among them) and the oldest is read on its own.
    assert (counter.reads["select", "runs"], counter.reads["get", "runs"]) == (2, 1)
    assert await StoreRunRepository(engine, 8).get_many([]) == {}


async def test_summaries_by_release(engine: TableStore) -> None:
    repo = StoreSummaryRepository(engine, StoreReleaseFacetRepository(engine))
    release_id = uuid.uuid4()
    brief = RunBrief(id=uuid.uuid4(), status=TestStatus.FAILED, investigation_status=InvestigationStatus.IN_PROGRESS,
                     start_time=T0, end_time=T0 + timedelta(hours=1), build_number=7, build_job_url="u",
                     assignee=None, scylla_version="2025.1.0")
    summaries = [TestSummary(test_id=uuid.uuid4(), release_id=release_id, group_id=uuid.uuid4(), build_id=f"r/g/{i}",
                             plugin_name=PluginName.GENERIC, last_runs=[brief] * i, updated_at=T0) for i in range(3)]
    for summary in summaries:
        await repo.save(summary)
    await repo.save(summaries[0])
    stored = sorted(await repo.for_release(release_id), key=lambda s: s.build_id)
    assert stored == sorted(summaries, key=lambda s: s.build_id)
    assert await repo.for_release(uuid.uuid4()) == []


async def test_driver_collections_keep_the_first_of_a_name(engine: TableStore) -> None:
    repo = StoreDriverCollectionRepository(engine)
    run_id = uuid.uuid4()
    first = TestCollection(name="pytest.datastax.v4.3.29.1", driver="datastax", tests_total=3, failures=1,
                           timestamp=T0)
    assert await repo.add(run_id, first)
    assert not await repo.add(run_id, TestCollection(name=first.name, driver="datastax", tests_total=99))
    assert await repo.exists(run_id, first.name)
    assert not await repo.exists(run_id, "other")
    assert await repo.for_run(run_id) == [first]


async def test_sirenada_cases_upsert_by_identity(engine: TableStore) -> None:
    repo = StoreSirenadaRepository(engine, concurrency=4)
    run_id = uuid.uuid4()
    cases = [SirenadaCase(test_name=f"test_{i}", status="passed", browser_type="chrome") for i in range(10)]
    await repo.save_cases(run_id, cases)
    await repo.save_cases(run_id, [SirenadaCase(test_name="test_3", status="failed", browser_type="chrome")])
    stored = {c.test_name: c.status for c in await repo.cases(run_id)}
    assert len(stored) == 10
    assert stored["test_3"] == "failed"


async def test_pytest_results_by_name_and_by_run(engine: TableStore) -> None:
    repo = StorePytestResultRepository(engine)
    run_id = uuid.uuid4()
    name = f"tests/test_x.py::test_{uuid.uuid4().hex[:6]}[a/b]"
    results = [PytestResult(name=name, status="passed", id=T0 + timedelta(seconds=i), test_type="dtest",
                            run_id=run_id, duration=float(i), test_timestamp=T0, session_timestamp=T0,
                            markers=["slow"], user_fields={"k": "v"}) for i in range(5)]
    for result in results:
        await repo.save(result)
    await repo.save(results[0])
    assert [r.duration for r in await repo.latest_for_name(name, 10, None)] == [4.0, 3.0, 2.0, 1.0, 0.0]
    assert [r.duration for r in await repo.latest_for_name(name, 10, T0 + timedelta(seconds=2))] == [4.0, 3.0]
    assert sorted(r.duration for r in await repo.for_run(run_id)) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert (await repo.for_run(run_id))[0].user_fields == {"k": "v"}
