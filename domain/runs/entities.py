"""Runs: one execution of a CI job, reported by the job itself while it runs."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.runs.plugins import PluginName

# "Not ended" on the wire is the epoch, as the existing service and its UI expect.
NOT_ENDED = datetime(1970, 1, 1, tzinfo=UTC)


class TestStatus(enum.StrEnum):
    """Run status strings exactly as ``argus-alm`` sends and reads them."""

    __test__ = False

    CREATED = "created"
    RUNNING = "running"
    FAILED = "failed"
    TEST_ERROR = "test_error"
    ERROR = "error"
    PASSED = "passed"
    ABORTED = "aborted"
    NOT_PLANNED = "not_planned"
    NOT_RUN = "not_run"

    @property
    def is_terminal(self) -> bool:
        """Whether the run has ended with this status."""
        return self in _TERMINAL


_TERMINAL = frozenset({TestStatus.FAILED, TestStatus.TEST_ERROR, TestStatus.ERROR, TestStatus.PASSED,
                       TestStatus.ABORTED})


class InvestigationStatus(enum.StrEnum):
    """Where triage of a run stands."""

    NOT_INVESTIGATED = "not_investigated"
    IN_PROGRESS = "in_progress"
    INVESTIGATED = "investigated"
    IGNORED = "ignored"


class LogLink(msgspec.Struct, frozen=True):
    """A named link to a log archive; names are unique within a run."""

    name: str
    link: str


class Run(msgspec.Struct, kw_only=True):
    """The fields every run type shares, plus the type's own scalar fields in ``details``.

    Large per-type data (driver collections, sirenada cases, results) lives in tables of its own,
    so writing a heartbeat never rewrites them.
    """

    id: UUID
    build_id: str
    start_time: datetime
    plugin_name: PluginName
    release_id: UUID | None = None
    group_id: UUID | None = None
    test_id: UUID | None = None
    assignee: UUID | None = None
    status: TestStatus = TestStatus.CREATED
    investigation_status: InvestigationStatus = InvestigationStatus.NOT_INVESTIGATED
    heartbeat: int = 0
    end_time: datetime = NOT_ENDED
    build_job_url: str = ""
    build_number: int | None = None
    product_version: str | None = None
    scylla_version: str | None = None
    started_by: str | None = None
    logs: list[LogLink] = msgspec.field(default_factory=list)
    details: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def db_image_id(self) -> str | None:
        """The DB nodes' image, as SCT records it in ``details.cloud_setup`` (dashboards filter by it)."""
        setup = self.details.get("cloud_setup")
        node = setup.get("db_node") if isinstance(setup, dict) else None
        image = node.get("image_id") if isinstance(node, dict) else None
        return str(image) if image else None


class RunBrief(msgspec.Struct, kw_only=True):
    """What a dashboard shows of one run."""

    id: UUID
    status: TestStatus
    investigation_status: InvestigationStatus
    start_time: datetime
    end_time: datetime
    build_number: int | None
    build_job_url: str
    assignee: UUID | None
    scylla_version: str | None
    # Summaries written before the image id was recorded lack it.
    image_id: str | None = None


class TestSummary(msgspec.Struct, kw_only=True):
    """The latest runs of one test, kept current on every run write so dashboards read O(tests)."""

    __test__ = False

    test_id: UUID
    release_id: UUID
    group_id: UUID
    build_id: str
    plugin_name: PluginName
    last_runs: list[RunBrief]
    updated_at: datetime
