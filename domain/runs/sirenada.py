"""Sirenada (browser tests of Scylla Cloud): one call registers the run and reports its cases.

The existing service appended every case again on each call, so a retried submit duplicated the
results; here a case is identified by what it tested, and a re-sent case replaces itself. Test
account passwords the client sends are dropped rather than stored and shown.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.runs.entities import TestStatus
from domain.runs.plugins import PluginName
from domain.runs.service import RunService
from domain.runs.submission import RunSubmission

CASE_STATUSES = frozenset({"passed", "failed", "error", "skipped"})
MAX_CASES_PER_CALL = 10_000


class SirenadaCase(msgspec.Struct, kw_only=True):
    """One browser test case, with the field names the client sends and the UI reads."""

    test_name: str
    class_name: str = ""
    file_name: str = ""
    browser_type: str = ""
    cluster_type: str = ""
    status: str
    duration: float = 0.0
    message: str | None = None
    start_time: datetime | None = None
    stack_trace: str | None = None
    screenshot_file: str | None = None
    s3_folder_id: str | None = None
    requests_file: str | None = None
    sirenada_test_id: str | None = None
    sirenada_user: str | None = None
    sirenada_password: str | None = None

    @property
    def key(self) -> str:
        """What identifies the case within a run, so re-sending it replaces it."""
        identity = "\x1f".join((self.class_name, self.file_name, self.test_name, self.browser_type,
                                self.cluster_type, self.sirenada_test_id or ""))
        return hashlib.sha256(identity.encode()).hexdigest()


class SirenadaRepository(Protocol):
    """Cases of sirenada runs."""

    async def save_cases(self, run_id: UUID, cases: list[SirenadaCase]) -> None:
        """Upsert cases by their key."""
        ...

    async def cases(self, run_id: UUID) -> list[SirenadaCase]:
        """Every case of the run."""
        ...


class SirenadaService:
    """Registers sirenada runs and derives their status and summary fields from the cases."""

    def __init__(self, runs: RunService, repository: SirenadaRepository) -> None:
        self._runs = runs
        self._repository = repository

    async def submit(self, submission: RunSubmission, cases: list[SirenadaCase]) -> None:
        """Create the run if needed, store the cases, and fail the run when any case failed."""
        if len(cases) > MAX_CASES_PER_CALL:
            raise InvalidInput(f"at most {MAX_CASES_PER_CALL} results per call")
        for case in cases:
            if case.status not in CASE_STATUSES:
                raise InvalidInput(f"result status {case.status!r} is not one of {sorted(CASE_STATUSES)}",
                                   case.status)
        run, _ = await self._runs.submit(PluginName.SIRENADA, submission)
        # The test account's password is a secret; it is accepted on the wire and never stored.
        await self._repository.save_cases(run.id, [msgspec.structs.replace(c, sirenada_password=None) for c in cases])
        stored = await self._repository.cases(run.id)
        status = TestStatus.FAILED if any(c.status in ("failed", "error") for c in stored) else TestStatus.PASSED
        if run.status is not status:
            await self._runs.apply(run, {"status": status})

    async def run_fields(self, run_id: UUID) -> dict[str, Any]:
        """The run's results and the lists the existing service derived from them."""
        cases = await self._repository.cases(run_id)
        results = []
        for case in cases:
            fields = msgspec.structs.asdict(case)
            del fields["sirenada_password"]  # never stored, so never shown either
            results.append(fields)
        return {
            "results": results,
            "sirenada_test_ids": sorted({c.sirenada_test_id for c in cases if c.sirenada_test_id}),
            "browsers": sorted({c.browser_type for c in cases if c.browser_type}),
            "clusters": sorted({c.cluster_type for c in cases if c.cluster_type}),
            "s3_folder_ids": sorted({(c.s3_folder_id, c.sirenada_test_id or "") for c in cases if c.s3_folder_id}),
        }
