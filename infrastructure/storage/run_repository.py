"""Runs and test summaries on the table layer (either engine)."""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.concurrency import bounded_gather
from domain.runs.entities import InvestigationStatus, LogLink, Run, RunBrief, TestSummary
from infrastructure.storage import tables
from infrastructure.storage.release_facet_repository import StoreReleaseFacetRepository
from infrastructure.storage.store import Bound, Row, TableStore
from infrastructure.storage.struct_rows import from_row

# Locators never change once written, so they can be cached for the process lifetime.
LOCATOR_CACHE_SIZE = 50_000
BUILD_NUMBER_PAGE = 500
SLICE_SPAN = 4  # rows a job slice may read per wanted run before the rest are read one by one
_JSON_FIELDS = {"logs", "details"}
_logs = msgspec.json.Decoder(list[LogLink])
_briefs = msgspec.json.Decoder(list[RunBrief])


def _column_value(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS:
        return msgspec.json.encode(value).decode()
    return value.value if isinstance(value, enum.Enum) else value


def _run_row(run: Run) -> dict[str, Any]:
    return {name: _column_value(name, getattr(run, name)) for name in tables.runs.column_names}


def _run(row: Row) -> Run:
    values = dict(row)
    values["logs"] = _logs.decode(row["logs"]) if row.get("logs") else []
    values["details"] = msgspec.json.decode(row["details"]) if row.get("details") else {}
    return from_row(values, Run)


class StoreRunRepository:
    """Runs live in their CI job's partition; a locator row maps a run id to it.

    Submitting claims the id in ``run_locator`` with a lightweight transaction first, so two
    retries of the same submit racing each other create one run.
    """

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency
        self._locators: OrderedDict[UUID, Row] = OrderedDict()

    async def claim(self, run: Run) -> Run | None:
        """Claim the id, then write the run; a taken id returns the run holding it."""
        locator = {"id": run.id, "build_id": run.build_id, "start_time": run.start_time,
                   "plugin_name": run.plugin_name.value}
        if not await self._store.insert(tables.run_locator, locator, if_not_exists=True):
            existing = await self.get(run.id)
            if existing is not None:
                return existing
            # An earlier attempt claimed the id and died before writing the run: finish its work
            # at the position it claimed.
            claimed = await self._locator(run.id)
            if claimed is None:
                raise RuntimeError(f"run {run.id} lost its locator while being submitted")
            run.build_id, run.start_time = claimed["build_id"], claimed["start_time"]
        # The row itself is written only if absent too: a retry repairing an apparently abandoned claim
        # may race the first attempt, and exactly one of them must report the run as new.
        if await self._store.insert(tables.runs, _run_row(run), if_not_exists=True):
            return None
        stored = await self.get(run.id)
        if stored is None:
            raise RuntimeError(f"run {run.id} vanished while being submitted")
        return stored

    async def _locator(self, run_id: UUID) -> Row | None:
        cached = self._locators.get(run_id)
        if cached is not None:
            self._locators.move_to_end(run_id)
            return cached
        row = await self._store.get(tables.run_locator, {"id": run_id})
        if row is not None:
            self._locators[run_id] = row
            if len(self._locators) > LOCATOR_CACHE_SIZE:
                self._locators.popitem(last=False)
        return row

    async def get(self, run_id: UUID) -> Run | None:
        """Locator (usually cached), then the run row."""
        locator = await self._locator(run_id)
        if locator is None:
            return None
        row = await self._store.get(tables.runs, {"build_id": locator["build_id"],
                                                  "start_time": locator["start_time"], "id": run_id})
        return _run(row) if row else None

    async def update(self, run: Run, changes: Mapping[str, Any]) -> None:
        """Only the changed columns are written."""
        key = {"build_id": run.build_id, "start_time": run.start_time, "id": run.id}
        await self._store.update(tables.runs, key, {n: _column_value(n, v) for n, v in changes.items()})

    async def latest_for_build(self, build_id: str, limit: int, *, before: datetime | None = None,
                               after: datetime | None = None) -> list[Run]:
        """The head of the job's partition, or of its slice between the bounds: one bounded read."""
        bounds = ([Bound("start_time", "<", before)] if before else []) + (
            [Bound("start_time", ">", after)] if after else [])
        page = await self._store.select(tables.runs, {"build_id": build_id}, bounds=bounds, limit=limit)
        return [_run(row) for row in page.rows]

    async def with_build_number(self, build_id: str, build_number: int, max_scanned: int) -> Run | None:
        """Pages through the job's partition newest first reading only the keys and build numbers.

        The build number is no key column, so this is the one read that walks a partition; it is bounded
        by ``max_scanned`` and usually ends on the first page because links point at recent builds.
        """
        cursor: bytes | None = None
        scanned = 0
        while scanned < max_scanned:
            page = await self._store.select(tables.runs, {"build_id": build_id}, cursor=cursor,
                                            limit=min(BUILD_NUMBER_PAGE, max_scanned - scanned),
                                            columns=["build_id", "start_time", "id", "build_number"])
            found = next((row for row in page.rows if row["build_number"] == build_number), None)
            if found is not None:
                row = await self._store.get(tables.runs, {k: found[k] for k in ("build_id", "start_time", "id")})
                return _run(row) if row else None
            scanned += len(page.rows)
            if page.cursor is None:
                return None
            cursor = page.cursor
        return None

    async def get_many(self, run_ids: Collection[UUID]) -> dict[UUID, Run]:
        """The runs that exist among ``run_ids``, by id.

        Runs of one test mostly sit together in their CI job's partition, so each job's runs are read
        as one slice between the oldest and newest wanted start times instead of one read per run. A
        slice that would also walk many other runs stops after ``SLICE_SPAN`` rows per wanted run;
        the runs it did not reach are then read one by one, so the cost stays bounded either way.
        """
        locators = await bounded_gather((self._locator(i) for i in run_ids), self._concurrency)
        by_build: dict[str, dict[UUID, Row]] = {}
        for locator in locators:
            if locator is not None:
                by_build.setdefault(locator["build_id"], {})[locator["id"]] = locator
        slices = await bounded_gather((self._job_slice(build_id, wanted) for build_id, wanted in by_build.items()),
                                      self._concurrency)
        return {run.id: run for found in slices for run in found}

    async def _job_slice(self, build_id: str, wanted: dict[UUID, Row]) -> list[Run]:
        starts = [locator["start_time"] for locator in wanted.values()]
        bounds = [Bound("start_time", "<=", max(starts)), Bound("start_time", ">=", min(starts))]
        budget = SLICE_SPAN * len(wanted)
        found: list[Run] = []
        cursor: bytes | None = None
        while budget > 0:
            page = await self._store.select(tables.runs, {"build_id": build_id}, bounds=bounds, cursor=cursor,
                                            limit=min(BUILD_NUMBER_PAGE, budget))
            found += [_run(row) for row in page.rows if row["id"] in wanted]
            budget -= len(page.rows)
            cursor = page.cursor
            if cursor is None:
                return found  # the whole slice was read: wanted runs not in it have no row
        missed = [locator for run_id, locator in wanted.items() if run_id not in {run.id for run in found}]
        rows = await bounded_gather((self._store.get(tables.runs, {k: locator[k] for k in ("build_id", "start_time",
                                                                                           "id")})
                                     for locator in missed), self._concurrency)
        return found + [_run(row) for row in rows if row]

    async def ignored(self, run_ids: set[UUID]) -> set[UUID]:
        """Runs read together (``get_many``); unknown ids are not ignored."""
        runs = await self.get_many(run_ids)
        return {i for i, r in runs.items() if r.investigation_status is InvestigationStatus.IGNORED}


class StoreSummaryRepository:
    """One row per test in its release's partition, so a dashboard is one partition read.

    Saving a summary also indexes the versions and images it names (``release_facet_repository``),
    so the release's picker lists stay current with every run write.
    """

    def __init__(self, store: TableStore, facets: StoreReleaseFacetRepository) -> None:
        self._store = store
        self._facets = facets

    async def save(self, summary: TestSummary) -> None:
        """Overwrite the test's row, then index the release's versions and images it names."""
        await self._store.insert(tables.test_summaries, {
            "release_id": summary.release_id, "test_id": summary.test_id, "group_id": summary.group_id,
            "build_id": summary.build_id, "plugin_name": summary.plugin_name.value,
            "last_runs": msgspec.json.encode(summary.last_runs).decode(), "updated_at": summary.updated_at})
        await self._facets.record(summary.release_id, summary.last_runs)

    async def for_release(self, release_id: UUID) -> list[TestSummary]:
        """The release's partition (bounded by the number of tests a release can have)."""
        page = await self._store.select(tables.test_summaries, {"release_id": release_id}, limit=100_000)
        return [from_row({**row, "last_runs": _briefs.decode(row["last_runs"])}, TestSummary) for row in page.rows]
