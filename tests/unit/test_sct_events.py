"""SCT events and nemeses use cases against fakes."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from uuid import UUID

import pytest

from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput
from domain.runs.entities import LogLink
from domain.runs.errors import RunNotFound
from domain.runs.plugins import PluginName
from domain.runs.service import AutoCreate, RunService
from domain.runs.submission import RunSubmission
from domain.sct.events import EventPayload, SCTEvent, SCTEventService, Severity, coredump_log, to_event
from domain.sct.nemeses import Nemesis, NemesisNotFound, NemesisService, NemesisStatus
from tests.unit.fakes import FakeCatalogueRepository, FakeClock, FakeRunRepository, FakeSummaryRepository

CORE_URL = "https://storage.example/upload/core.scylla.112.abc.zst"


class FakeEventRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[UUID, Severity, datetime], SCTEvent] = {}
        self.totals: Counter[tuple[UUID, Severity]] = Counter()
        self.writes = 0

    async def upsert(self, events: list[SCTEvent]) -> list[bool]:
        created = []
        for event in events:
            key = (event.run_id, event.severity, event.ts)
            created.append(key not in self.rows)
            self.rows[key] = event
            self.writes += 1
        return created

    async def add_counts(self, run_id: UUID, new: dict[Severity, int]) -> None:
        for severity, n in new.items():
            self.totals[(run_id, severity)] += n

    async def counts(self, run_id: UUID) -> dict[Severity, int]:
        return {s: n for (r, s), n in self.totals.items() if r == run_id}

    async def latest(self, run_id, severity, *, limit, before, after):
        found = [e for (r, s, ts), e in self.rows.items() if r == run_id and s is severity
                 and (before is None or ts < before) and (after is None or ts > after)]
        return sorted(found, key=lambda e: e.ts, reverse=True)[:limit]


class FakeNemesisRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[UUID, int], Nemesis] = {}

    async def add(self, nemesis: Nemesis) -> bool:
        key = (nemesis.run_id, nemesis.start_time)
        if key in self.rows:
            return False
        self.rows[key] = nemesis
        return True

    async def get(self, run_id: UUID, start_time: int) -> Nemesis | None:
        found = self.rows.get((run_id, start_time))
        return None if found is None else Nemesis(**{f: getattr(found, f) for f in found.__struct_fields__})

    async def finish(self, nemesis: Nemesis) -> bool:
        if self.rows[(nemesis.run_id, nemesis.start_time)].status is not NemesisStatus.RUNNING:
            return False
        self.rows[(nemesis.run_id, nemesis.start_time)] = nemesis
        return True

    async def for_run(self, run_id: UUID) -> list[Nemesis]:
        return sorted((n for (r, _), n in self.rows.items() if r == run_id), key=lambda n: n.start_time)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runs(clock: FakeClock) -> RunService:
    return RunService(FakeRunRepository(), FakeSummaryRepository(), CatalogueService(FakeCatalogueRepository()),
                      clock, AutoCreate.ALL)


@pytest.fixture
async def run_id(runs: RunService) -> UUID:
    run, _ = await runs.submit(PluginName.SCT, RunSubmission(run_id=uuid.uuid4(), build_id="rel/sct/longevity"))
    return run.id


def event(severity: str = "ERROR", ts: float = 1_700_000_000.5, **extra) -> EventPayload:
    fields = {"message": "boom", "event_type": "DatabaseLogEvent", **extra}
    return EventPayload(run_id=str(uuid.uuid4()), severity=severity, ts=ts, **fields)


def test_severity_is_upper_cased_and_the_url_run_id_wins() -> None:
    run_id = uuid.uuid4()
    stored = to_event(run_id, event("warning", received_timestamp="2026-01-01T10:00:00"))
    assert (stored.run_id, stored.severity, stored.received_timestamp.tzinfo is not None) == (
        run_id, Severity.WARNING, True)
    assert stored.ts.microsecond == 500_000
    with pytest.raises(InvalidInput, match="severity"):
        to_event(run_id, event("FATAL"))
    with pytest.raises(InvalidInput, match="received_timestamp"):
        to_event(run_id, event(received_timestamp="yesterday"))


def test_coredump_links_are_named_by_node_and_time() -> None:
    message = f"CoredumpEvent Severity.ERROR node=db-node-1 corefile_url={CORE_URL} backtrace=..."
    stored = to_event(uuid.uuid4(), event(ts=1_700_000_000, event_type="CoredumpEvent", message=message))
    assert coredump_log(stored) == LogLink("core.scylla-db-node-1-2023-11-14_22-13-20.zst", CORE_URL)
    assert coredump_log(to_event(uuid.uuid4(), event(event_type="CoredumpEvent"))) is None
    assert coredump_log(to_event(uuid.uuid4(), event(message=message))) is None


async def test_a_bad_event_rejects_the_whole_batch_before_any_write(runs: RunService, run_id: UUID) -> None:
    repo = FakeEventRepository()
    with pytest.raises(InvalidInput):
        await SCTEventService(runs, repo).submit(run_id, [event(ts=1.0), event("NOPE", ts=2.0)])
    assert repo.writes == 0


async def test_resent_events_overwrite_and_count_once(runs: RunService, run_id: UUID) -> None:
    service = SCTEventService(runs, FakeEventRepository())
    batch = [event(s, ts=100.0 + i) for i, s in enumerate(["critical", "ERROR", "ERROR", "debug"])]
    await service.submit(run_id, batch)
    await service.submit(run_id, batch)
    await service.submit(run_id, [event("ERROR", ts=101.0, message="changed")])
    counts = await service.counts(run_id)
    assert counts == {Severity.CRITICAL: 1, Severity.ERROR: 2, Severity.WARNING: 0, Severity.NORMAL: 0,
                      Severity.DEBUG: 1}
    assert await service.count(run_id, Severity.ERROR) == 2
    errors = await service.latest(run_id, [Severity.ERROR])
    assert [e.message for e in errors] == ["boom", "changed"]
    assert (await service.run_fields(run_id))["event_counts"]["ERROR"] == 2


async def test_paging_is_per_severity_and_bounded(runs: RunService, run_id: UUID) -> None:
    service = SCTEventService(runs, FakeEventRepository())
    await service.submit(run_id, [event(s, ts=float(t)) for s in ("ERROR", "NORMAL") for t in range(10, 20)])
    newest = await service.latest(run_id, limit=3)
    assert [(e.severity, int(e.ts.timestamp())) for e in newest][:2] == [(Severity.ERROR, 19), (Severity.NORMAL, 19)]
    assert len(newest) == 6
    window = await service.latest(run_id, [Severity.NORMAL], before=15, after=11)
    assert [int(e.ts.timestamp()) for e in window] == [14, 13, 12]
    with pytest.raises(InvalidInput):
        await service.latest(run_id, limit=0)
    with pytest.raises(InvalidInput):
        await service.latest(run_id, limit=1001)


async def test_a_coredump_event_adds_a_log_link_once(runs: RunService, run_id: UUID) -> None:
    service = SCTEventService(runs, FakeEventRepository())
    message = f"node=db-node-2 corefile_url={CORE_URL}"
    core = event(ts=1_700_000_000, event_type="CoredumpEvent", message=message)
    await service.submit(run_id, [core])
    await service.submit(run_id, [core])
    run = await runs.require(PluginName.SCT, run_id)
    assert run.logs == [LogLink("core.scylla-db-node-2-2023-11-14_22-13-20.zst", CORE_URL)]


async def test_events_need_an_sct_run(runs: RunService) -> None:
    with pytest.raises(RunNotFound):
        await SCTEventService(runs, FakeEventRepository()).submit(uuid.uuid4(), [event()])


async def test_nemesis_lifecycle_and_statistics(runs: RunService, run_id: UUID, clock: FakeClock) -> None:
    service = NemesisService(runs, FakeNemesisRepository(), clock)
    start = int(clock.now().timestamp())
    node = {"node_name": "db-1", "node_ip": "10.0.0.1", "node_shards": 8}
    assert await service.submit(run_id, name="disrupt_a", class_name="ANemesis", start_time=start, **node)
    assert not await service.submit(run_id, name="disrupt_a", class_name="ANemesis", start_time=start, **node)
    await service.submit(run_id, name="disrupt_b", class_name="BNemesis", start_time=start + 1, **node)
    await service.submit(run_id, name="disrupt_c", class_name="CNemesis", start_time=start + 2, **node)
    clock.advance(seconds=90)
    await service.finalize(run_id, name="disrupt_a", start_time=start, status="succeeded", message="")
    await service.finalize(run_id, name="disrupt_a", start_time=start, status="failed", message="late")
    await service.finalize(run_id, name="disrupt_b", start_time=start + 1, status="failed", message="Traceback")
    first, second, third = await service.for_run(run_id)
    assert (first.status, first.end_time, first.duration, first.stack_trace) == (
        NemesisStatus.SUCCEEDED, start + 90, 90, "")
    assert (second.status, second.stack_trace, second.target_node.shards) == (NemesisStatus.FAILED, "Traceback", 8)
    assert (third.status, third.end_time, third.duration) == (NemesisStatus.RUNNING, 0, 0)
    fields = await service.run_fields(run_id)
    assert fields["nemesis_stats"] == {"total": 3, "succeeded": 1, "failed": 1}
    assert len(fields["nemesis_data"]) == 3


async def test_finalizing_an_unknown_nemesis_or_status_fails(runs: RunService, run_id: UUID,
                                                             clock: FakeClock) -> None:
    service = NemesisService(runs, FakeNemesisRepository(), clock)
    with pytest.raises(NemesisNotFound, match="Nemesis not found"):
        await service.finalize(run_id, name="x", start_time=1, status="failed", message="")
    with pytest.raises(InvalidInput, match="NemesisStatus"):
        await service.finalize(run_id, name="x", start_time=1, status="exploded", message="")
