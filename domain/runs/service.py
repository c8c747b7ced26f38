"""The run lifecycle CI jobs drive: submit, heartbeat, status, version, logs, finalize.

Each run type keeps the behaviour its clients rely on (initial status, what finalize does), and
every call is idempotent because clients re-send POSTs after a timeout.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.catalogue.service import CatalogueService
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.runs.entities import NOT_ENDED, LogLink, Run, RunBrief, TestStatus, TestSummary
from domain.runs.errors import RunNotFound, UnsupportedOperation, UnsupportedRunType
from domain.runs.plugins import PluginName
from domain.runs.ports import RunRepository, SummaryRepository
from domain.runs.submission import RunSubmission
from domain.runs.versions import build_number_from_url, split_version

# The dashboard shows this many runs per test, as the existing service did.
SUMMARY_RUNS = 15
MAX_LOGS_PER_RUN = 1000


class AutoCreate(enum.StrEnum):
    """What to do with a run whose build id names no known test."""

    ALL = "all"  # create release, group and test from the build id path
    EXISTING_RELEASES = "existing_releases"  # create group and test, but only in a known release
    OFF = "off"  # keep the run, unlinked


class FinalizeRule(enum.Enum):
    """How finalize treats the status, per run type."""

    END_TIME_ONLY = "end_time_only"
    OPTIONAL_STATUS = "optional_status"
    STATUS_DEFAULTS_TO_PASSED = "status_defaults_to_passed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RunTypeRules:
    """The per-type behaviour the existing clients depend on."""

    initial_status: TestStatus
    finalize: FinalizeRule
    logs_supported: bool
    split_versions: bool


# Logs are accepted for generic and driver-matrix runs too, although the existing service refused or
# ignored them there: a job that has log links to report is better served by keeping them.
RULES: dict[PluginName, RunTypeRules] = {
    PluginName.SCT: RunTypeRules(TestStatus.CREATED, FinalizeRule.END_TIME_ONLY, True, False),
    PluginName.GENERIC: RunTypeRules(TestStatus.RUNNING, FinalizeRule.OPTIONAL_STATUS, True, True),
    PluginName.DRIVER_MATRIX: RunTypeRules(TestStatus.CREATED, FinalizeRule.STATUS_DEFAULTS_TO_PASSED, True, False),
    PluginName.SIRENADA: RunTypeRules(TestStatus.PASSED, FinalizeRule.REJECTED, False, False),
}


def parse_run_type(raw: str) -> PluginName:
    """The run type named in a URL, or ``UnsupportedRunType`` with the existing service's message."""
    try:
        return PluginName(raw)
    except ValueError:
        raise UnsupportedRunType(f"Unsupported run type: {raw}", raw) from None


def parse_run_id(raw: str) -> UUID:
    """A run id in any form Python's ``UUID()`` accepts (case, braces, no dashes, urn prefix)."""
    try:
        return UUID(raw.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(f"badly formed run id: {raw!r}", raw) from None


def parse_status(raw: Any) -> TestStatus:
    """A ``TestStatus`` value, or ``InvalidInput`` listing the accepted ones."""
    try:
        return TestStatus(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in TestStatus)
        raise InvalidInput(f"{raw!r} is not a valid TestStatus (one of: {allowed})", str(raw)) from None


class RunService:
    """Run use cases shared by every run type; type-specific services build on it."""

    def __init__(self, runs: RunRepository, summaries: SummaryRepository, catalogue: CatalogueService,
                 clock: Clock, auto_create: AutoCreate) -> None:
        self._runs = runs
        self._summaries = summaries
        self._catalogue = catalogue
        self._clock = clock
        self._auto_create = auto_create

    # -- reading ------------------------------------------------------------------------------

    async def find(self, run_type: PluginName, run_id: UUID) -> Run | None:
        """The run, if it exists under this type (a run of another type counts as absent)."""
        run = await self._runs.get(run_id)
        return run if run is not None and run.plugin_name is run_type else None

    async def require(self, run_type: PluginName, run_id: UUID) -> Run:
        """The run, or ``RunNotFound``."""
        run = await self.find(run_type, run_id)
        if run is None:
            raise RunNotFound(f"Run {run_id} of type {run_type} not found", str(run_id))
        return run

    async def find_any(self, run_id: UUID) -> Run | None:
        """The run with this id, whatever its type."""
        return await self._runs.get(run_id)

    async def latest_for_build(self, build_id: str, limit: int) -> list[Run]:
        """The newest runs of a CI job."""
        return await self._runs.latest_for_build(build_id, limit)

    async def summaries_for_release(self, release_id: UUID) -> list[TestSummary]:
        """Per-test summaries of a release, for dashboards."""
        return await self._summaries.for_release(release_id)

    # -- lifecycle ----------------------------------------------------------------------------

    async def submit(self, run_type: PluginName, submission: RunSubmission) -> tuple[Run, bool]:
        """Register a run; an id already registered returns that run unchanged (and False)."""
        build_id = submission.build_id.strip()
        if not build_id:
            raise InvalidInput("build_id must not be empty", submission.build_id)
        now = self._clock.now()
        run = Run(id=submission.run_id, build_id=build_id, start_time=now, plugin_name=run_type,
                  status=RULES[run_type].initial_status, heartbeat=int(now.timestamp()),
                  build_job_url=submission.build_url, build_number=build_number_from_url(submission.build_url),
                  started_by=submission.started_by, details=dict(submission.details),
                  logs=_deduplicated_logs([], submission.logs))
        if submission.product_version:
            self._apply_version(run, submission.product_version)
        await self._link_catalogue(run)
        existing = await self._runs.claim(run)
        if existing is not None:
            if existing.plugin_name is not run_type:
                raise InvalidInput(f"Run {run.id} already exists with type {existing.plugin_name}", str(run.id))
            refreshed = {**existing.details, **{key: run.details[key] for key in submission.refreshed_details
                                                if key in run.details}}
            if refreshed != existing.details:
                await self.apply(existing, {"details": refreshed})
            return existing, False
        await self._refresh_summary(run)
        return run, True

    async def heartbeat(self, run_type: PluginName, run_id: UUID) -> int:
        """Record that the job is alive; returns the epoch seconds stored."""
        run = await self.require(run_type, run_id)
        beat = int(self._clock.now().timestamp())
        run.heartbeat = beat
        await self._runs.update(run, {"heartbeat": beat})
        return beat

    async def set_status(self, run_type: PluginName, run_id: UUID, status: TestStatus) -> TestStatus:
        """Overwrite the status; the first terminal status also stamps ``end_time`` when it is unset."""
        run = await self.require(run_type, run_id)
        changes: dict[str, Any] = {"status": status}
        if status.is_terminal and run.end_time == NOT_ENDED:
            changes["end_time"] = self._clock.now()
        await self.apply(run, changes)
        return status

    async def update_product_version(self, run_type: PluginName, run_id: UUID, version: str) -> None:
        """Record the version under test (a package-derived SCT version is never overwritten)."""
        run = await self.require(run_type, run_id)
        if not version.strip():
            raise InvalidInput("product_version must not be empty", version)
        if run.details.get("version_source"):
            return
        before = (run.scylla_version, run.product_version)
        self._apply_version(run, version)
        if (run.scylla_version, run.product_version) != before:
            await self.apply(run, {"scylla_version": run.scylla_version, "product_version": run.product_version})

    async def submit_logs(self, run_type: PluginName, run_id: UUID, logs: list[LogLink]) -> None:
        """Add log links; a name already present keeps its first link, so re-sends change nothing."""
        if not RULES[run_type].logs_supported:
            raise UnsupportedOperation(f"Log submission is not supported for {run_type}")
        run = await self.require(run_type, run_id)
        merged = _deduplicated_logs(run.logs, logs)
        if len(merged) > MAX_LOGS_PER_RUN:
            raise InvalidInput(f"a run keeps at most {MAX_LOGS_PER_RUN} log links")
        if merged != run.logs:
            await self.apply(run, {"logs": merged})

    async def finalize(self, run_type: PluginName, run_id: UUID, *, status: str | None = None,
                       scylla_version: str | None = None, end_time: float | None = None) -> None:
        """Mark the run finished, with the status rule of its type.

        A re-sent finalize keeps the first ``end_time`` unless the caller gives one explicitly.
        """
        rule = RULES[run_type].finalize
        if rule is FinalizeRule.REJECTED:
            raise UnsupportedOperation(f"{run_type} runs do not need finalization")
        run = await self.require(run_type, run_id)
        changes: dict[str, Any] = {}
        if end_time is not None:
            changes["end_time"] = datetime.fromtimestamp(end_time, UTC)
        elif run.end_time == NOT_ENDED:
            changes["end_time"] = self._clock.now()
        if rule is FinalizeRule.STATUS_DEFAULTS_TO_PASSED:
            changes["status"] = parse_status(status or TestStatus.PASSED)
        elif rule is FinalizeRule.OPTIONAL_STATUS and status:
            changes["status"] = parse_status(status)
        if scylla_version and rule is not FinalizeRule.END_TIME_ONLY:
            self._apply_version(run, scylla_version)
            changes.update(scylla_version=run.scylla_version, product_version=run.product_version)
        if changes:
            await self.apply(run, changes)

    # -- building blocks for the type-specific services ----------------------------------------

    async def apply(self, run: Run, changes: Mapping[str, Any]) -> None:
        """Write ``changes`` to the run and refresh its test's summary."""
        for name, value in changes.items():
            setattr(run, name, value)
        await self._runs.update(run, changes)
        await self._refresh_summary(run)

    def _apply_version(self, run: Run, version: str) -> None:
        if RULES[run.plugin_name].split_versions:
            run.scylla_version, run.product_version = split_version(version)
        else:
            run.scylla_version = version.strip()

    async def _link_catalogue(self, run: Run) -> None:
        test = await self._catalogue.test_by_build_id(run.build_id)
        if test is None and self._auto_create is not AutoCreate.OFF:
            test = await self._catalogue.ensure_test_for_build_id(
                run.build_id, build_url=run.build_job_url,
                create_release=self._auto_create is AutoCreate.ALL)
        if test is None:
            return
        run.test_id, run.group_id, run.release_id = test.id, test.group_id, test.release_id
        if test.plugin_name is not run.plugin_name:
            await self._catalogue.set_plugin(test, run.plugin_name)

    async def _refresh_summary(self, run: Run) -> None:
        """Rebuild the test's summary from its newest runs (a bounded read, never the history)."""
        if run.test_id is None or run.group_id is None or run.release_id is None:
            return
        latest = await self._runs.latest_for_build(run.build_id, SUMMARY_RUNS)
        briefs = [RunBrief(id=r.id, status=r.status, investigation_status=r.investigation_status,
                           start_time=r.start_time, end_time=r.end_time, build_number=r.build_number,
                           build_job_url=r.build_job_url, assignee=r.assignee, scylla_version=r.scylla_version,
                           image_id=r.db_image_id)
                  for r in latest]
        await self._summaries.save(TestSummary(test_id=run.test_id, release_id=run.release_id,
                                               group_id=run.group_id, build_id=run.build_id,
                                               plugin_name=run.plugin_name, last_runs=briefs,
                                               updated_at=self._clock.now()))


def _deduplicated_logs(existing: list[LogLink], new: list[LogLink]) -> list[LogLink]:
    names = {log.name for log in existing}
    merged = list(existing)
    for log in new:
        if log.name not in names:
            names.add(log.name)
            merged.append(log)
    return merged
