"""SCT events (with their per-severity counts) and nemeses on the table layer (either engine).

Counting without double counting: an event is first written with ``IF NOT EXISTS``; only a key that
was new is counted, and a re-sent key is then overwritten with a plain upsert (keeping the first
``event_id``). The count row is bumped by compare-and-set, once per severity per batch, so a batch
of thousands of events costs at most five contended writes. The price is one lightweight
transaction per event on ScyllaDB; a plain upsert plus read-before-write would be cheaper but
counts a retry twice when it overlaps the first attempt, and correctness under retries matters more.
What remains: a request that dies between storing events and bumping the count leaves those events
uncounted (the retry finds them stored); a count can be under, never over.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from uuid import UUID

from domain.concurrency import bounded_gather
from domain.sct.events import SCTEvent, Severity
from domain.sct.nemeses import Nemesis, NemesisStatus, TargetNode
from infrastructure.storage import tables
from infrastructure.storage.store import Bound, Row, StorageError, TableStore
from infrastructure.storage.struct_rows import from_row, to_row

# Compare-and-set attempts before giving up; only concurrent batches of one run contend.
MAX_COUNT_ATTEMPTS = 100
MAX_NEMESES_PER_RUN = 10_000


class StoreEventRepository:
    """Events in (run, severity) partitions, newest first; counts in one small partition per run."""

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    async def upsert(self, events: list[SCTEvent]) -> list[bool]:
        """Write the batch with at most ``concurrency`` statements in flight."""
        return await bounded_gather((self._upsert(event) for event in events), self._concurrency)

    async def _upsert(self, event: SCTEvent) -> bool:
        row = to_row(event, tables.sct_events)
        if await self._store.insert(tables.sct_events, {**row, "event_id": uuid.uuid4()}, if_not_exists=True):
            return True
        row.pop("event_id", None)
        await self._store.insert(tables.sct_events, row)
        return False

    async def add_counts(self, run_id: UUID, new: dict[Severity, int]) -> None:
        """One compare-and-set loop per severity, run side by side."""
        await asyncio.gather(*(self._add_count(run_id, severity, n) for severity, n in new.items()))

    async def _add_count(self, run_id: UUID, severity: Severity, n: int) -> None:
        key = {"run_id": run_id, "severity": severity.value}
        for _ in range(MAX_COUNT_ATTEMPTS):
            row = await self._store.get(tables.sct_event_counts, key, columns=["total"])
            if row is None:
                if await self._store.insert(tables.sct_event_counts, {**key, "total": n}, if_not_exists=True):
                    return
            elif await self._store.update(tables.sct_event_counts, key, {"total": row["total"] + n},
                                          if_equal={"total": row["total"]}):
                return
        raise StorageError(f"event count of run {run_id} ({severity}) kept changing; gave up")

    async def counts(self, run_id: UUID) -> dict[Severity, int]:
        """One read of a partition of at most five rows."""
        page = await self._store.select(tables.sct_event_counts, {"run_id": run_id}, limit=len(Severity))
        return {Severity(row["severity"]): row["total"] for row in page.rows}

    async def latest(self, run_id: UUID, severity: Severity, *, limit: int, before: datetime | None,
                     after: datetime | None) -> list[SCTEvent]:
        """The head of one partition, bounded on ``ts``."""
        bounds = ([Bound("ts", "<", before)] if before else []) + ([Bound("ts", ">", after)] if after else [])
        page = await self._store.select(tables.sct_events, {"run_id": run_id, "severity": severity.value},
                                        bounds=bounds, limit=limit)
        return [from_row(row, SCTEvent) for row in page.rows]


def _nemesis(row: Row) -> Nemesis:
    return Nemesis(run_id=row["run_id"], start_time=row["start_time"], name=row["name"] or "",
                   class_name=row["class_name"] or "",
                   target_node=TargetNode(name=row["target_name"] or "", ip=row["target_ip"] or "",
                                          shards=row["target_shards"] or 0),
                   status=NemesisStatus(row["status"]), end_time=row["end_time"] or 0,
                   duration=row["duration"] or 0, stack_trace=row["stack_trace"] or "")


class StoreNemesisRepository:
    """Nemeses in their run's partition, by start time; both writes are conditional."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add(self, nemesis: Nemesis) -> bool:
        """``IF NOT EXISTS``, so racing retries store one nemesis."""
        row = to_row(nemesis, tables.sct_nemeses, target_name=nemesis.target_node.name,
                     target_ip=nemesis.target_node.ip, target_shards=nemesis.target_node.shards)
        return await self._store.insert(tables.sct_nemeses, row, if_not_exists=True)

    async def get(self, run_id: UUID, start_time: int) -> Nemesis | None:
        """A key read."""
        row = await self._store.get(tables.sct_nemeses, {"run_id": run_id, "start_time": start_time})
        return _nemesis(row) if row else None

    async def finish(self, nemesis: Nemesis) -> bool:
        """``IF status = 'running'``, so racing finalizes record one outcome."""
        return await self._store.update(
            tables.sct_nemeses, {"run_id": nemesis.run_id, "start_time": nemesis.start_time},
            {"status": nemesis.status.value, "stack_trace": nemesis.stack_trace, "end_time": nemesis.end_time,
             "duration": nemesis.duration},
            if_equal={"status": NemesisStatus.RUNNING.value})

    async def for_run(self, run_id: UUID) -> list[Nemesis]:
        """One partition read."""
        page = await self._store.select(tables.sct_nemeses, {"run_id": run_id}, limit=MAX_NEMESES_PER_RUN)
        return [_nemesis(row) for row in page.rows]
