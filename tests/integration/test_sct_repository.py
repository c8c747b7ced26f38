"""SCT run data and run configurations on every storage engine."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from domain.sct.entities import InstanceInfo, JunitReport, Resource, ResourceState, RunConfiguration, StressCommand
from infrastructure.storage.sct_repository import StoreRunConfigRepository, StoreSCTDataRepository
from infrastructure.storage.store import TableStore

T0 = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)


def resource(run_id: uuid.UUID, name: str, **info: object) -> Resource:
    return Resource(run_id=run_id, name=name, state=ResourceState.RUNNING, resource_type="db-node",
                    instance_info=InstanceInfo(**info))  # type: ignore[arg-type]


async def test_resources_are_added_once_and_saved_whole(engine: TableStore) -> None:
    repo, run_id = StoreSCTDataRepository(engine), uuid.uuid4()
    first = resource(run_id, "db-node 1 (eu)", provider="aws", public_ip="1.2.3.4", creation_time=1717236000)
    results = await asyncio.gather(repo.add_resource(first), repo.add_resource(resource(run_id, "db-node 1 (eu)")))
    assert sorted(results) == [False, True]  # racing creates: exactly one is stored
    assert await repo.add_resource(resource(run_id, "loader-1")) is True
    stored = await repo.resource(run_id, "db-node 1 (eu)")
    assert stored is not None and stored.instance_info.provider in ("aws", None)

    await repo.save_resource(first)
    first.state = ResourceState.TERMINATED
    first.instance_info.termination_reason = "done"
    first.instance_info.shards_amount = 8
    await repo.save_resource(first)
    assert await repo.resource(run_id, "db-node 1 (eu)") == first
    assert [r.name for r in await repo.resources(run_id)] == ["db-node 1 (eu)", "loader-1"]
    assert await repo.resource(run_id, "nope") is None
    assert await repo.resources(uuid.uuid4()) == []


async def test_stress_commands_upsert_by_time_newest_first(engine: TableStore) -> None:
    repo, run_id = StoreSCTDataRepository(engine), uuid.uuid4()
    await repo.save_stress_command(StressCommand(run_id=run_id, ts=T0, cmd="c-s write", log_name="l", node_name="n"))
    await repo.save_stress_command(StressCommand(run_id=run_id, ts=T0, cmd="c-s read", log_name=None, node_name=None))
    later = StressCommand(run_id=run_id, ts=T0 + timedelta(seconds=1), cmd="s-b", log_name="l2", node_name="n2")
    await repo.save_stress_command(later)
    assert await repo.stress_commands(run_id) == [
        later, StressCommand(run_id=run_id, ts=T0, cmd="c-s read", log_name=None, node_name=None)]


async def test_junit_reports_upsert_by_file_name(engine: TableStore) -> None:
    repo, run_id = StoreSCTDataRepository(engine), uuid.uuid4()
    await repo.save_junit_report(JunitReport(run_id=run_id, file_name="b.xml", report="<a/>"))
    await repo.save_junit_report(JunitReport(run_id=run_id, file_name="a.xml", report="<x/>"))
    await repo.save_junit_report(JunitReport(run_id=run_id, file_name="b.xml", report="<b/>"))
    assert [(r.file_name, r.report) for r in await repo.junit_reports(run_id)] == [("a.xml", "<x/>"),
                                                                                 ("b.xml", "<b/>")]


async def test_configurations_and_their_values(engine: TableStore) -> None:
    repo, run_a, run_b = StoreRunConfigRepository(engine, 8), uuid.uuid4(), uuid.uuid4()
    param = f"cfg_{uuid.uuid4().hex[:8]}.n_db_nodes"
    await repo.save(RunConfiguration(run_id=run_a, name="cfg.json", content='{"n_db_nodes": 3}'), {param: "3"})
    await repo.save(RunConfiguration(run_id=run_a, name="cfg.json", content='{"n_db_nodes": 4}'), {param: "4"})
    await repo.save(RunConfiguration(run_id=run_b, name="cfg.json", content='{"n_db_nodes": 4}'), {param: "4"})
    await repo.save(RunConfiguration(run_id=run_a, name="a.yaml", content="x: 1\n"), {})
    assert [(c.name, c.content) for c in await repo.for_run(run_a)] == [("a.yaml", "x: 1\n"),
                                                                        ("cfg.json", '{"n_db_nodes": 4}')]
    assert sorted(await repo.runs_with(param, "4", 10)) == sorted([run_a, run_b])
    assert await repo.runs_with(param, "3", 10) == [run_a]  # the index is append-only, as upstream's
    assert await repo.runs_with(param, "5", 10) == []
