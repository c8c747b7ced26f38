"""SCT events (paging, counts under re-sends) and nemeses on every storage engine."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from domain.sct.events import SCTEvent, Severity
from domain.sct.nemeses import Nemesis, NemesisStatus, TargetNode
from infrastructure.storage.sct_events_repository import StoreEventRepository, StoreNemesisRepository
from infrastructure.storage.store import TableStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_event(run_id: uuid.UUID, severity: Severity, seconds: float, **fields) -> SCTEvent:
    return SCTEvent(run_id=run_id, severity=severity, ts=T0 + timedelta(seconds=seconds),
                    event_type=fields.pop("event_type", "DatabaseLogEvent"),
                    message=fields.pop("message", f"{severity} at {seconds}"), **fields)


async def counted(repo: StoreEventRepository, run_id: uuid.UUID, events: list[SCTEvent]) -> None:
    """What the service does: upsert, then count what was new."""
    created = await repo.upsert(events)
    new: dict[Severity, int] = {}
    for event, is_new in zip(events, created, strict=True):
        if is_new:
            new[event.severity] = new.get(event.severity, 0) + 1
    await repo.add_counts(run_id, new)


async def test_events_round_trip_and_overwrite_keeps_the_first_id(engine: TableStore) -> None:
    repo = StoreEventRepository(engine, concurrency=8)
    run_id = uuid.uuid4()
    full = make_event(run_id, Severity.ERROR, 1.25, node="db-1", target_node="db-2", nemesis_name="disrupt",
                      nemesis_status="failed", known_issue="scylladb/scylladb#1", duration=2.5,
                      received_timestamp=T0)
    assert await repo.upsert([full]) == [True]
    first = (await repo.latest(run_id, Severity.ERROR, limit=10, before=None, after=None))[0]
    assert first.event_id is not None
    full.event_id = first.event_id
    assert first == full
    changed = make_event(run_id, Severity.ERROR, 1.25, message="rewritten")
    assert await repo.upsert([changed]) == [False]
    (again,) = await repo.latest(run_id, Severity.ERROR, limit=10, before=None, after=None)
    assert (again.message, again.node, again.event_id) == ("rewritten", None, first.event_id)


async def test_paging_by_bounds_and_limit_per_severity(engine: TableStore) -> None:
    repo = StoreEventRepository(engine, concurrency=8)
    run_id = uuid.uuid4()
    await counted(repo, run_id, [make_event(run_id, s, t) for s in (Severity.ERROR, Severity.DEBUG)
                                 for t in range(20)])
    newest = await repo.latest(run_id, Severity.ERROR, limit=5, before=None, after=None)
    assert [int((e.ts - T0).total_seconds()) for e in newest] == [19, 18, 17, 16, 15]
    window = await repo.latest(run_id, Severity.DEBUG, limit=100, before=T0 + timedelta(seconds=8),
                               after=T0 + timedelta(seconds=4))
    assert [int((e.ts - T0).total_seconds()) for e in window] == [7, 6, 5]
    assert await repo.latest(run_id, Severity.WARNING, limit=5, before=None, after=None) == []


async def test_counts_ignore_resent_events_even_when_resends_race(engine: TableStore) -> None:
    repo = StoreEventRepository(engine, concurrency=8)
    run_id = uuid.uuid4()
    batch = [make_event(run_id, Severity.ERROR, t) for t in range(30)] + [
        make_event(run_id, Severity.CRITICAL, t) for t in range(3)]
    await asyncio.gather(counted(repo, run_id, batch), counted(repo, run_id, batch),
                         counted(repo, run_id, batch[:10]))
    await counted(repo, run_id, [make_event(run_id, Severity.ERROR, 100)])
    assert await repo.counts(run_id) == {Severity.ERROR: 31, Severity.CRITICAL: 3}
    assert await repo.counts(uuid.uuid4()) == {}


async def test_nemesis_submit_is_once_and_finish_applies_while_running(engine: TableStore) -> None:
    repo = StoreNemesisRepository(engine)
    run_id = uuid.uuid4()
    nemesis = Nemesis(run_id=run_id, start_time=1_746_000_000, name="disrupt_kill", class_name="KillNemesis",
                      target_node=TargetNode(name="db-1", ip="10.0.0.1", shards=8))
    assert await repo.add(nemesis)
    assert not await repo.add(nemesis)
    later = Nemesis(run_id=run_id, start_time=1_746_000_100, name="disrupt_b", class_name="B",
                    target_node=TargetNode(name="db-2", ip="10.0.0.2", shards=4))
    await repo.add(later)
    assert await repo.get(run_id, 1_746_000_000) == nemesis
    assert await repo.get(run_id, 1) is None
    nemesis.status, nemesis.end_time, nemesis.duration, nemesis.stack_trace = (
        NemesisStatus.FAILED, 1_746_000_060, 60, "Traceback")
    assert await repo.finish(nemesis)
    assert not await repo.finish(nemesis)
    assert await repo.for_run(run_id) == [nemesis, later]
