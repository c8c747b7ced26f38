"""The release dashboard ("status board"): per test, per group and per release, what state testing is in.

Field names are the existing service's, camelCase included, because its UI reads them as they are.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.catalogue.entities import Group, Release, Test
from domain.runs.entities import InvestigationStatus, RunBrief, TestStatus

# ``productVersion`` value that selects runs without a version, as the existing UI sends it.
NO_VERSION = "!noVersion"


def empty_matrix() -> dict[str, int]:
    """One investigation status's row of the status matrix, every status present so the shape never varies."""
    return dict.fromkeys((s.value for s in TestStatus), 0)


class StatusCounts(msgspec.Struct, kw_only=True):
    """Tests per status, the investigation x status matrix, and the most urgent status seen."""

    total: int = 0
    created: int = 0
    running: int = 0
    failed: int = 0
    test_error: int = 0
    error: int = 0
    passed: int = 0
    aborted: int = 0
    not_planned: int = 0
    not_run: int = 0
    last_status: TestStatus = msgspec.field(default=TestStatus.NOT_PLANNED, name="lastStatus")
    last_investigation_status: InvestigationStatus = msgspec.field(default=InvestigationStatus.NOT_INVESTIGATED,
                                                                   name="lastInvestigationStatus")
    not_investigated: dict[str, int] = msgspec.field(default_factory=empty_matrix)
    in_progress: dict[str, int] = msgspec.field(default_factory=empty_matrix)
    investigated: dict[str, int] = msgspec.field(default_factory=empty_matrix)
    ignored: dict[str, int] = msgspec.field(default_factory=empty_matrix)


class TestStats(msgspec.Struct, kw_only=True):
    """One tile of the board: the tracked build's status and the latest runs behind it."""

    __test__ = False

    test: Test
    status: TestStatus
    investigation_status: InvestigationStatus
    last_runs: list[RunBrief]
    start_time: datetime | None
    # No issue or comment is stored yet, so these are always false; the UI reads them, so they stay.
    has_bug_report: bool = msgspec.field(default=False, name="hasBugReport")
    has_comments: bool = msgspec.field(default=False, name="hasComments")
    build_number: int | None = msgspec.field(default=None, name="buildNumber")
    build_id: str = msgspec.field(default="", name="buildId")


class GroupStats(StatusCounts, kw_only=True):
    """The enabled tests of one enabled group."""

    group: Group
    disabled: bool = False  # only enabled groups are shown, so always false; the UI reads it
    tests: dict[str, TestStats] = msgspec.field(default_factory=dict)


class ReleaseStats(StatusCounts, kw_only=True):
    """The whole board of a release."""

    release: Release
    groups: dict[str, GroupStats] = msgspec.field(default_factory=dict)
    disabled: bool = False
    perpetual: bool = False
    has_bug_report: bool = msgspec.field(default=False, name="hasBugReport")


class DormantRelease(msgspec.Struct):
    """What a dormant release answers unless the caller forces the board."""

    dormant: bool = True


class StatsFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which runs count: by product version prefix (or ``!noVersion``), versionless runs, DB image."""

    product_version: str | None = None
    include_no_version: bool = False
    image_id: str | None = None

    def accepts(self, run: RunBrief) -> bool:
        """Whether ``run`` passes the version and image filters."""
        if self.image_id is not None and run.image_id != self.image_id:
            return False
        if not run.scylla_version:
            return self.include_no_version or self.product_version == NO_VERSION
        if self.product_version == NO_VERSION:
            return False
        return self.product_version is None or run.scylla_version.startswith(self.product_version)
