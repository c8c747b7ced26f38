"""``ArgusSCTClient`` event and nemesis routes under ``/api/v1/client/sct``, plus the event reads of the run page.

Answers are HTTP 200 envelopes, errors included, as every client route (``app/errors.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from app.client.base import ClientApiController, RunIdParam
from app.envelope import Ok, ok
from app.sct.event_schemas import EventSubmit, NemesisFinalize, NemesisSubmit
from app.wire import decode_body, jsonable
from domain.runs.service import parse_run_id
from domain.sct.events import DEFAULT_LIMIT, SCTEventService, parse_severity
from domain.sct.nemeses import NemesisService

SeverityParam = FromPath[str]
Limit = Annotated[int, QueryParameter(description="events per severity (1-1000)")]
EpochBound = Annotated[int | None, QueryParameter(description="epoch seconds, exclusive")]


class SCTEventController(ClientApiController):
    """Events and nemeses of SCT runs."""

    path = "/api/v1/client/sct"

    @post("/{run_id:str}/event/submit", operation_id="clientSubmitSCTEvent", status_code=200)
    async def submit_event(
        self, request: Request[Any, Any, Any], sct_events: NamedDependency[SCTEventService], run_id: RunIdParam
    ) -> Ok[bool]:
        """Store one event or a batch; the whole batch is checked before anything is written."""
        body = decode_body(await request.body(), EventSubmit)
        events = body.data if isinstance(body.data, list) else [body.data]
        await sct_events.submit(parse_run_id(run_id), events)
        return ok(True)

    @get("/{run_id:str}/events/get", operation_id="clientGetSCTEvents")
    async def events(
        self,
        sct_events: NamedDependency[SCTEventService],
        run_id: RunIdParam,
        severity: Annotated[list[str] | None, QueryParameter(description="repeatable; all when absent")] = None,
        limit: Limit = DEFAULT_LIMIT,
        before: EpochBound = None,
        after: EpochBound = None,
    ) -> Ok[list[dict[str, Any]]]:
        """Newest events, ``limit`` per severity, newest first."""
        severities = [parse_severity(s) for s in severity or []]
        found = await sct_events.latest(parse_run_id(run_id), severities, limit=limit, before=before, after=after)
        return ok(jsonable(found))

    @get("/{run_id:str}/events/{severity:str}/get", operation_id="clientGetSCTEventsOfSeverity")
    async def events_of_severity(
        self,
        sct_events: NamedDependency[SCTEventService],
        run_id: RunIdParam,
        severity: SeverityParam,
        limit: Limit = DEFAULT_LIMIT,
        before: EpochBound = None,
        after: EpochBound = None,
    ) -> Ok[list[dict[str, Any]]]:
        """Newest events of one severity."""
        found = await sct_events.latest(parse_run_id(run_id), [parse_severity(severity)], limit=limit,
                                        before=before, after=after)
        return ok(jsonable(found))

    @get("/{run_id:str}/events/{severity:str}/count", operation_id="clientCountSCTEvents")
    async def count(
        self, sct_events: NamedDependency[SCTEventService], run_id: RunIdParam, severity: SeverityParam
    ) -> Ok[int]:
        """Stored events of one severity (a kept counter, not a scan)."""
        return ok(await sct_events.count(parse_run_id(run_id), parse_severity(severity)))

    @get("/{run_id:str}/events/counts", operation_id="clientCountSCTEventsPerSeverity")
    async def counts(self, sct_events: NamedDependency[SCTEventService], run_id: RunIdParam) -> Ok[dict[str, int]]:
        """Stored events per severity, for the run page's counters in one call."""
        return ok(jsonable(await sct_events.counts(parse_run_id(run_id))))

    @post("/{run_id:str}/nemesis/submit", operation_id="clientSubmitNemesis", status_code=200)
    async def submit_nemesis(
        self, request: Request[Any, Any, Any], nemeses: NamedDependency[NemesisService], run_id: RunIdParam
    ) -> Ok[str]:
        """Record a started nemesis (a start time already recorded changes nothing)."""
        start = decode_body(await request.body(), NemesisSubmit).nemesis
        await nemeses.submit(parse_run_id(run_id), name=start.name, class_name=start.class_name,
                             start_time=start.start_time, node_name=start.node_name, node_ip=start.node_ip,
                             node_shards=start.node_shards)
        return ok("created")

    @post("/{run_id:str}/nemesis/finalize", operation_id="clientFinalizeNemesis", status_code=200)
    async def finalize_nemesis(
        self, request: Request[Any, Any, Any], nemeses: NamedDependency[NemesisService], run_id: RunIdParam
    ) -> Ok[str]:
        """Record a nemesis outcome once (a finished nemesis keeps its first outcome)."""
        outcome = decode_body(await request.body(), NemesisFinalize).nemesis
        await nemeses.finalize(parse_run_id(run_id), name=outcome.name, start_time=outcome.start_time,
                               status=outcome.status, message=outcome.message)
        return ok("updated")

    @get("/{run_id:str}/nemesis/get", operation_id="clientGetNemeses")
    async def get_nemeses(
        self, nemeses: NamedDependency[NemesisService], run_id: RunIdParam
    ) -> Ok[list[dict[str, Any]]]:
        """The run's nemeses by start time, times as epoch seconds."""
        return ok(jsonable(await nemeses.for_run(parse_run_id(run_id))))
