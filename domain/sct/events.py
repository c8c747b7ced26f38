"""SCT events: the hottest ingestion path of the service (an SCT run sends tens of thousands).

An event is keyed by (run, severity, ts): the same key re-sent overwrites itself, so retries are
harmless. Counts per severity are kept on write, incremented only for keys that were new, so the
run page reads them in O(1) and a retried batch never counts twice.
"""

from __future__ import annotations

import asyncio
import enum
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.runs.entities import LogLink
from domain.runs.plugins import PluginName
from domain.runs.service import RunService

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A bound on one request, so a runaway job cannot make one call hold the writer for minutes.
MAX_EVENTS_PER_REQUEST = 10_000
COREDUMP_EVENT = "CoredumpEvent"
_COREFILE = re.compile(r"corefile_url=(\S+)")
_NODE = re.compile(r"\bnode=(\S+)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Severity(enum.StrEnum):
    """SCT event severities, most severe first (the run page shows them in this order)."""

    CRITICAL = "CRITICAL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    NORMAL = "NORMAL"
    DEBUG = "DEBUG"


class EventPayload(msgspec.Struct, forbid_unknown_fields=True):
    """One event as ``argus-alm`` sends it; unknown keys are rejected as the existing service did."""

    run_id: str
    severity: str
    ts: float
    message: str
    event_type: str
    received_timestamp: str | None = None
    nemesis_name: str | None = None
    duration: float | None = None
    node: str | None = None
    target_node: str | None = None
    known_issue: str | None = None
    nemesis_status: str | None = None


class SCTEvent(msgspec.Struct, kw_only=True):
    """A stored event; ``event_id`` is given on first write and kept when the key is re-sent."""

    run_id: UUID
    severity: Severity
    ts: datetime
    event_type: str
    message: str
    event_id: UUID | None = None
    received_timestamp: datetime | None = None
    nemesis_name: str | None = None
    duration: float | None = None
    node: str | None = None
    target_node: str | None = None
    known_issue: str | None = None
    nemesis_status: str | None = None


class EventRepository(Protocol):
    """Events partitioned by (run, severity), newest first, with a count per partition."""

    async def upsert(self, events: list[SCTEvent]) -> list[bool]:
        """Write every event (same key overwrites); say for each whether its key was new."""
        ...

    async def add_counts(self, run_id: UUID, new: dict[Severity, int]) -> None:
        """Add newly stored events to the run's per-severity counts."""
        ...

    async def counts(self, run_id: UUID) -> dict[Severity, int]:
        """Stored events per severity (severities with none are absent)."""
        ...

    async def latest(self, run_id: UUID, severity: Severity, *, limit: int, before: datetime | None,
                     after: datetime | None) -> list[SCTEvent]:
        """Up to ``limit`` events of one severity, newest first, strictly inside the bounds."""
        ...


def parse_severity(raw: str) -> Severity:
    """A severity in any case, or ``InvalidInput`` listing the accepted ones."""
    try:
        return Severity(str(raw).upper())
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise InvalidInput(f"{raw!r} is not a valid event severity (one of: {allowed})", str(raw)) from None


def epoch_to_ms(ts: float) -> datetime:
    """Epoch seconds at the millisecond precision both storage engines keep, so keys compare equal."""
    return _EPOCH + timedelta(milliseconds=round(ts * 1000))


def to_event(run_id: UUID, payload: EventPayload) -> SCTEvent:
    """Check and normalise one payload; the run id of the URL wins over the one in the body."""
    received = None
    if payload.received_timestamp:
        try:
            received = datetime.fromisoformat(payload.received_timestamp)
        except ValueError:
            raise InvalidInput(f"received_timestamp is not an ISO datetime: {payload.received_timestamp!r}",
                               payload.received_timestamp) from None
        received = received if received.tzinfo else received.replace(tzinfo=UTC)
    try:
        ts = epoch_to_ms(payload.ts)
    except (OverflowError, ValueError, OSError):
        raise InvalidInput(f"ts is not a valid epoch time: {payload.ts!r}", str(payload.ts)) from None
    return SCTEvent(run_id=run_id, severity=parse_severity(payload.severity), ts=ts,
                    event_type=payload.event_type, message=payload.message, received_timestamp=received,
                    nemesis_name=payload.nemesis_name, duration=payload.duration, node=payload.node,
                    target_node=payload.target_node, known_issue=payload.known_issue,
                    nemesis_status=payload.nemesis_status)


def coredump_log(event: SCTEvent) -> LogLink | None:
    """The log link a ``CoredumpEvent`` announces, named by node and event time so re-sends dedupe."""
    if event.event_type != COREDUMP_EVENT:
        return None
    url, node = _COREFILE.search(event.message), _NODE.search(event.message)
    if url is None or node is None:
        return None
    link = url.group(1)
    suffix = PurePosixPath(urlsplit(link).path).suffix
    return LogLink(name=f"core.scylla-{node.group(1)}-{event.ts:%Y-%m-%d_%H-%M-%S}{suffix}", link=link)


def _epoch_bound(name: str, value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise InvalidInput(f"{name} is not a valid epoch time: {value}", str(value)) from None


class SCTEventService:
    """Event ingestion and paging for SCT runs."""

    def __init__(self, runs: RunService, events: EventRepository) -> None:
        self._runs = runs
        self._events = events

    async def submit(self, run_id: UUID, payloads: list[EventPayload]) -> None:
        """Store a batch, all or nothing at validation: one bad event rejects the batch before any write.

        The existing service wrote events one by one and stopped at the first bad one, leaving a
        prefix stored; checking everything first means a rejected batch can simply be fixed and re-sent.
        """
        if len(payloads) > MAX_EVENTS_PER_REQUEST:
            raise InvalidInput(f"at most {MAX_EVENTS_PER_REQUEST} events per request", str(len(payloads)))
        run = await self._runs.require(PluginName.SCT, run_id)
        events = [to_event(run.id, payload) for payload in payloads]
        created = await self._events.upsert(events)
        new = Counter(event.severity for event, is_new in zip(events, created, strict=True) if is_new)
        if new:
            await self._events.add_counts(run.id, dict(new))
        logs = [log for log in map(coredump_log, events) if log is not None]
        if logs:
            await self._runs.submit_logs(PluginName.SCT, run.id, logs)

    async def latest(self, run_id: UUID, severities: list[Severity] | None = None, *, limit: int = DEFAULT_LIMIT,
                     before: int | None = None, after: int | None = None) -> list[SCTEvent]:
        """Newest events, ``limit`` per severity (all severities by default), newest first overall."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", str(limit))
        run = await self._runs.require(PluginName.SCT, run_id)
        upper, lower = _epoch_bound("before", before), _epoch_bound("after", after)
        per_severity = await asyncio.gather(*(
            self._events.latest(run.id, severity, limit=limit, before=upper, after=lower)
            for severity in dict.fromkeys(severities or list(Severity))))
        return sorted((e for events in per_severity for e in events), key=lambda e: e.ts, reverse=True)

    async def count(self, run_id: UUID, severity: Severity) -> int:
        """Stored events of one severity."""
        return (await self.counts(run_id))[severity]

    async def counts(self, run_id: UUID) -> dict[Severity, int]:
        """Stored events per severity, every severity present."""
        run = await self._runs.require(PluginName.SCT, run_id)
        stored = await self._events.counts(run.id)
        return {severity: stored.get(severity, 0) for severity in Severity}

    async def run_fields(self, run_id: UUID) -> dict[str, Any]:
        """What the run page shows beside an SCT run: the event counts."""
        stored = await self._events.counts(run_id)
        return {"event_counts": {severity.value: stored.get(severity, 0) for severity in Severity}}
