"""SCT run data and run configurations on the table layer (either engine), each in its run's partition."""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.concurrency import bounded_gather
from domain.sct.entities import InstanceInfo, JunitReport, Resource, ResourceState, RunConfiguration, StressCommand
from infrastructure.storage import tables
from infrastructure.storage.store import Row, TableStore

MAX_ROWS_PER_RUN = 100_000
_instance = msgspec.json.Decoder(InstanceInfo)


def _resource_row(resource: Resource) -> dict[str, object]:
    return {"run_id": resource.run_id, "name": resource.name, "state": resource.state.value,
            "resource_type": resource.resource_type,
            "instance_info": msgspec.json.encode(resource.instance_info).decode()}


def _resource(row: Row) -> Resource:
    return Resource(run_id=row["run_id"], name=row["name"], state=ResourceState(row["state"]),
                    resource_type=row["resource_type"] or "", instance_info=_instance.decode(row["instance_info"]))


class StoreSCTDataRepository:
    """Resources by name, stress commands by time, JUnit reports by file name."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add_resource(self, resource: Resource) -> bool:
        """A lightweight transaction, so racing retries of a create store one resource."""
        return await self._store.insert(tables.sct_resources, _resource_row(resource), if_not_exists=True)

    async def save_resource(self, resource: Resource) -> None:
        """Upsert of the whole row."""
        await self._store.insert(tables.sct_resources, _resource_row(resource))

    async def resource(self, run_id: UUID, name: str) -> Resource | None:
        """A key read."""
        row = await self._store.get(tables.sct_resources, {"run_id": run_id, "name": name})
        return _resource(row) if row else None

    async def resources(self, run_id: UUID) -> list[Resource]:
        """One partition read."""
        page = await self._store.select(tables.sct_resources, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [_resource(row) for row in page.rows]

    async def save_stress_command(self, command: StressCommand) -> None:
        """Upsert by (run, ts)."""
        await self._store.insert(tables.sct_stress_commands, {
            "run_id": command.run_id, "ts": command.ts, "cmd": command.cmd, "log_name": command.log_name,
            "node_name": command.node_name})

    async def stress_commands(self, run_id: UUID) -> list[StressCommand]:
        """One partition read, newest first."""
        page = await self._store.select(tables.sct_stress_commands, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [StressCommand(run_id=row["run_id"], ts=row["ts"], cmd=row["cmd"] or "", log_name=row["log_name"],
                              node_name=row["node_name"]) for row in page.rows]

    async def save_junit_report(self, report: JunitReport) -> None:
        """Upsert by (run, file name)."""
        await self._store.insert(tables.sct_junit_reports, {"run_id": report.run_id, "file_name": report.file_name,
                                                            "report": report.report})

    async def junit_reports(self, run_id: UUID) -> list[JunitReport]:
        """One partition read."""
        page = await self._store.select(tables.sct_junit_reports, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [JunitReport(run_id=row["run_id"], file_name=row["file_name"], report=row["report"] or "")
                for row in page.rows]


class StoreRunConfigRepository:
    """Files in their run's partition; each flattened value is a partition listing the runs that have it."""

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    async def save(self, configuration: RunConfiguration, params: dict[str, str]) -> None:
        """Upsert the file, then its values (concurrently, bounded)."""
        await self._store.insert(tables.run_configurations, {
            "run_id": configuration.run_id, "name": configuration.name, "content": configuration.content})
        await bounded_gather((self._store.insert(tables.run_config_params, {
            "name": name, "value": value, "run_id": configuration.run_id}) for name, value in params.items()),
            self._concurrency)

    async def for_run(self, run_id: UUID) -> list[RunConfiguration]:
        """One partition read."""
        page = await self._store.select(tables.run_configurations, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [RunConfiguration(run_id=row["run_id"], name=row["name"], content=row["content"] or "")
                for row in page.rows]

    async def runs_with(self, param: str, value: str, limit: int) -> list[UUID]:
        """One partition read."""
        page = await self._store.select(tables.run_config_params, {"name": param, "value": value}, limit=limit)
        return [row["run_id"] for row in page.rows]
