"""What the SCT use cases need from storage."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.sct.entities import JunitReport, Resource, RunConfiguration, StressCommand


class SCTDataRepository(Protocol):
    """Per-run SCT data, each kind in its run's partition."""

    async def add_resource(self, resource: Resource) -> bool:
        """Store the resource unless the run has one of that name; say whether it was stored."""
        ...

    async def save_resource(self, resource: Resource) -> None:
        """Overwrite the resource's state and instance details."""
        ...

    async def resource(self, run_id: UUID, name: str) -> Resource | None:
        """The run's resource of that name."""
        ...

    async def resources(self, run_id: UUID) -> list[Resource]:
        """The run's resources, by name."""
        ...

    async def save_stress_command(self, command: StressCommand) -> None:
        """Upsert by (run, time)."""
        ...

    async def stress_commands(self, run_id: UUID) -> list[StressCommand]:
        """The run's stress commands, newest first."""
        ...

    async def save_junit_report(self, report: JunitReport) -> None:
        """Upsert by (run, file name)."""
        ...

    async def junit_reports(self, run_id: UUID) -> list[JunitReport]:
        """The run's JUnit reports, by file name."""
        ...


class RunConfigRepository(Protocol):
    """Configuration files of runs, and their flattened values for finding runs that share one."""

    async def save(self, configuration: RunConfiguration, params: dict[str, str]) -> None:
        """Upsert the file by (run, name) and index each ``param -> value`` for the run."""
        ...

    async def for_run(self, run_id: UUID) -> list[RunConfiguration]:
        """The run's configuration files, by name."""
        ...

    async def runs_with(self, param: str, value: str, limit: int) -> list[UUID]:
        """Runs whose configuration has ``param`` set to ``value``."""
        ...
