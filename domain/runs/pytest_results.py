"""Per-test results of pytest suites, reported one by one by ``pytest-argus-reporter``."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.runs.service import RunService

MAX_NAME_LENGTH = 2048
# Statistics look at the newest results only, so their cost never grows with history.
STATS_WINDOW = 10_000


class Aggregate(enum.StrEnum):
    """Aggregates the stats route offers."""

    AVG = "avg"
    MIN = "min"
    MAX = "max"
    COUNT = "count"


NUMERIC_FIELDS = frozenset({"duration"})
COUNTABLE_FIELDS = NUMERIC_FIELDS | {"status", "message", "test_type", "run_id", "markers", "session_timestamp",
                                     "test_timestamp"}


class PytestResult(msgspec.Struct, kw_only=True):
    """One test report; ``id`` is the report time, which with name and status identifies it."""

    name: str
    status: str
    id: datetime
    test_type: str
    run_id: UUID
    test_id: UUID | None = None
    release_id: UUID | None = None
    duration: float = 0.0
    message: str | None = None
    test_timestamp: datetime
    session_timestamp: datetime
    markers: list[str] = msgspec.field(default_factory=list)
    user_fields: dict[str, str] = msgspec.field(default_factory=dict)


class PytestResultRepository(Protocol):
    """Results by test name (for statistics) and by run (for the run page)."""

    async def save(self, result: PytestResult) -> None:
        """Upsert by (name, id, status)."""
        ...

    async def latest_for_name(self, name: str, limit: int, since: datetime | None) -> list[PytestResult]:
        """The newest results of one test name, optionally only those after ``since``."""
        ...

    async def for_run(self, run_id: UUID) -> list[PytestResult]:
        """Every result reported for a run."""
        ...


def epoch_to_datetime(value: float, field: str) -> datetime:
    """Epoch seconds to an aware datetime, with millisecond precision like storage keeps."""
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidInput(f"{field} is not a valid epoch timestamp: {value!r}", str(value)) from exc
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class PytestResultService:
    """Stores reports, linking them to their run's test, and answers aggregate questions."""

    def __init__(self, runs: RunService, repository: PytestResultRepository) -> None:
        self._runs = runs
        self._repository = repository

    async def submit(self, result: PytestResult) -> PytestResult:
        """Store a report; it is attached to its run's test and release when the run is known."""
        if not result.name or len(result.name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"name must be 1 to {MAX_NAME_LENGTH} characters")
        run = await self._runs.find_any(result.run_id)
        if run is not None:
            result.test_id, result.release_id = run.test_id, run.release_id
        await self._repository.save(result)
        return result

    async def for_run(self, run_id: UUID) -> list[PytestResult]:
        """Reports of a run, newest first."""
        return sorted(await self._repository.for_run(run_id), key=lambda r: r.id, reverse=True)

    async def stats(self, name: str, field: str, aggregate: str, *, status: str | None = None,
                    since: datetime | None = None) -> float | int | None:
        """An aggregate of ``field`` over the newest results of a test (None when there are none)."""
        try:
            kind = Aggregate(aggregate)
        except ValueError:
            raise InvalidInput(f"aggregate must be one of {[a.value for a in Aggregate]}", aggregate) from None
        allowed = COUNTABLE_FIELDS if kind is Aggregate.COUNT else NUMERIC_FIELDS
        if field not in allowed:
            raise InvalidInput(f"{kind.value} works on {sorted(allowed)}, not {field!r}", field)
        results = await self._repository.latest_for_name(name, STATS_WINDOW, since)
        if status:
            results = [r for r in results if r.status == status]
        if kind is Aggregate.COUNT:
            return sum(1 for r in results if getattr(r, field) is not None)
        values = [float(getattr(r, field)) for r in results]
        if not values:
            return None
        if kind is Aggregate.AVG:
            return sum(values) / len(values)
        return min(values) if kind is Aggregate.MIN else max(values)
