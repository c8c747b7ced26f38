"""Driver-matrix runs: one JUnit report (or a failure) per driver version, plus the build environment."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol
from uuid import UUID

import msgspec

from domain.catalogue.service import CatalogueService
from domain.clock import Clock
from domain.runs.driver_matrix import (
    EnvironmentEntry,
    TestCollection,
    decode_base64_xml,
    failed_collection,
    parse_environment,
    parse_junit,
    scylla_version_from_environment,
)
from domain.runs.driver_matrix import test_report as versions_report
from domain.runs.entities import Run, TestStatus
from domain.runs.plugins import PluginName
from domain.runs.service import RunService

# How many recent runs of a job the versions report looks at.
REPORT_RUNS = 50


class DriverCollectionRepository(Protocol):
    """Collections of driver-matrix runs, one per driver version name."""

    async def add(self, run_id: UUID, collection: TestCollection) -> bool:
        """Store the collection unless the run has one of that name already; say whether it was stored."""
        ...

    async def exists(self, run_id: UUID, name: str) -> bool:
        """Whether the run has a collection of that name."""
        ...

    async def for_run(self, run_id: UUID) -> list[TestCollection]:
        """The run's collections, by name."""
        ...


class DriverMatrixService:
    """Results, failures and environment of driver-matrix runs; every call is idempotent."""

    def __init__(self, runs: RunService, collections: DriverCollectionRepository, catalogue: CatalogueService,
                 clock: Clock) -> None:
        self._runs = runs
        self._collections = collections
        self._catalogue = catalogue
        self._clock = clock

    async def submit_result(self, run_id: UUID, driver_name: str, driver_type: str, raw_xml: str) -> None:
        """Parse and store one driver's report; a name already stored is left as it is."""
        run = await self._runs.require(PluginName.DRIVER_MATRIX, run_id)
        if await self._collections.exists(run.id, driver_name):
            return
        collection = parse_junit(driver_name, driver_type, decode_base64_xml(raw_xml), self._clock.now())
        await self._store(run, collection)

    async def submit_failure(self, run_id: UUID, driver_name: str, driver_type: str, reason: str) -> None:
        """Record that a driver's suite could not run at all."""
        run = await self._runs.require(PluginName.DRIVER_MATRIX, run_id)
        await self._store(run, failed_collection(driver_name, driver_type, reason, self._clock.now()))

    async def _store(self, run: Run, collection: TestCollection) -> None:
        await self._collections.add(run.id, collection)
        if run.status is TestStatus.CREATED:
            await self._runs.apply(run, {"status": TestStatus.RUNNING})

    async def submit_environment(self, run_id: UUID, raw_env: str) -> None:
        """Merge ``Build-00.txt`` into the run's environment (known keys keep their first value)."""
        run = await self._runs.require(PluginName.DRIVER_MATRIX, run_id)
        entries = parse_environment(raw_env)
        known = [msgspec.convert(e, EnvironmentEntry) for e in run.details.get("environment_info", [])]
        seen = {e.key for e in known}
        merged = known + [e for e in entries if e.key not in seen]
        # The version of the file just sent wins, as upstream; earlier files only fill a gap.
        version = scylla_version_from_environment(entries) or scylla_version_from_environment(merged)
        changes: dict[str, Any] = {}
        if len(merged) != len(known):
            changes["details"] = {**run.details, "environment_info": msgspec.to_builtins(merged)}
        if version and version != run.scylla_version:
            changes["scylla_version"] = version
        if changes:
            await self._runs.apply(run, changes)

    async def run_fields(self, run_id: UUID) -> dict[str, Any]:
        """What the run page shows beside the run: its collections."""
        return {"test_collection": await self._collections.for_run(run_id)}

    async def versions(self, build_id: str) -> dict[str, Any]:
        """Driver versions tested by a job's recent runs, per driver, with the job's catalogue names."""
        test = await self._catalogue.test_by_build_id(build_id)
        release = await self._catalogue.get_release(test.release_id) if test else None
        runs = [r for r in await self._runs.latest_for_build(build_id, REPORT_RUNS)
                if r.plugin_name is PluginName.DRIVER_MATRIX]
        per_run = await asyncio.gather(*(self._collections.for_run(r.id) for r in runs))
        collections = [c for run_collections in per_run for c in run_collections]
        return {"build_id": build_id, "release": release.name if release else None,
                "test": test.name if test else None, "versions": versions_report(collections)}
