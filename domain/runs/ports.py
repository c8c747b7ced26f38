"""What the run use cases need from storage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.runs.entities import Run, TestSummary


class RunRepository(Protocol):
    """Runs addressed by id; stored by build id and start time, newest first."""

    async def claim(self, run: Run) -> Run | None:
        """Store a new run atomically; when its id is taken, return the run that holds it instead."""
        ...

    async def get(self, run_id: UUID) -> Run | None:
        """The run with this id, whatever its type."""
        ...

    async def update(self, run: Run, changes: Mapping[str, Any]) -> None:
        """Write only the named fields of ``run``, so concurrent calls touching other fields never clash."""
        ...

    async def latest_for_build(self, build_id: str, limit: int, *, before: datetime | None = None,
                               after: datetime | None = None) -> list[Run]:
        """The newest ``limit`` runs of a CI job, optionally only those started strictly between the bounds."""
        ...

    async def with_build_number(self, build_id: str, build_number: int, max_scanned: int) -> Run | None:
        """The run of a CI job with this build number, looking at no more than ``max_scanned`` runs."""
        ...

    async def ignored(self, run_ids: set[UUID]) -> set[UUID]:
        """Those of ``run_ids`` whose investigation status is ``ignored``."""
        ...


class SummaryRepository(Protocol):
    """One summary row per test, grouped by release."""

    async def save(self, summary: TestSummary) -> None:
        """Replace the test's summary."""
        ...

    async def for_release(self, release_id: UUID) -> list[TestSummary]:
        """Every summary of a release's tests."""
        ...
