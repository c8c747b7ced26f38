"""The results page's routes: Chart.js configs of a test's results tables, and saved graph views.

Paths, parameter and field names are the existing service's (``testId``, ``startDate``,
``tableNames[]``), since its page and widgets call them as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get, head, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_404_NOT_FOUND

from app.caching import etag_response
from app.envelope import Ok, ok
from app.security import LOGIN, login_required
from domain.errors import InvalidInput
from domain.results.graph_views import GraphView
from domain.results.graphs import ResultGraphsService, TestGraphs

TestIdQuery = Annotated[UUID, QueryParameter(name="testId")]
# The page polls while it is open; ``no-cache`` makes the browser revalidate with the ETag each time.
REVALIDATE = {"Cache-Control": "no-cache"}


class GraphViewCreate(msgspec.Struct, kw_only=True, rename="camel"):
    """``{testId, name, description}``."""

    test_id: UUID
    name: str
    description: str = ""


class GraphViewUpdate(msgspec.Struct, kw_only=True, rename="camel"):
    """``{testId, id, name, description, graphs}``; ``graphs`` replaces the view's charts."""

    test_id: UUID
    id: UUID
    name: str
    description: str = ""
    graphs: dict[str, str]


def parse_moment(raw: str | None, parameter: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 date or date-time (naive means UTC); empty means unbounded, as the page sends it.

    A bare date as the end of a range includes that whole day.
    """
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time.max if end_of_day else time.min, UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"{parameter} must be an ISO 8601 date or date-time, got {raw[:50]!r}", parameter) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ResultGraphsController(Controller):
    """Results graphs of a test and the graph views saved for it."""

    path = "/api/v1"
    tags = ["results"]
    guards = [login_required]
    opt = LOGIN

    @get("/test-results", operation_id="getTestResultGraphs")
    async def test_results(
        self,
        request: Request[Any, Any, Any],
        result_graphs: NamedDependency[ResultGraphsService],
        test_id: TestIdQuery,
        start_date: Annotated[str | None, QueryParameter(name="startDate", description="ISO 8601")] = None,
        end_date: Annotated[str | None, QueryParameter(name="endDate", description="ISO 8601; a date is inclusive")]
        = None,
        table_names: Annotated[list[str] | None, QueryParameter(name="tableNames[]", description="repeatable")]
        = None,
    ) -> Response[Ok[TestGraphs]]:
        """Chart.js configs per table and column over the newest runs, with an ETag for polling."""
        graphs = await result_graphs.test_graphs(test_id, since=parse_moment(start_date, "startDate"),
                                                 until=parse_moment(end_date, "endDate", end_of_day=True),
                                                 table_names=table_names)
        return etag_response(request, graphs, REVALIDATE)

    @head("/test-results", operation_id="probeTestResults")
    async def probe_test_results(self, result_graphs: NamedDependency[ResultGraphsService],
                                 test_id: TestIdQuery) -> Response[None]:
        """200 when the test has results tables, 404 when not; no body either way."""
        found = await result_graphs.has_results(test_id)
        return Response(None, status_code=HTTP_200_OK if found else HTTP_404_NOT_FOUND, media_type=MediaType.TEXT)

    @post("/create-graph-view", operation_id="createGraphView", status_code=200)
    async def create_graph_view(self, result_graphs: NamedDependency[ResultGraphsService],
                                data: JSONBody[GraphViewCreate]) -> Ok[GraphView]:
        """A new empty view of the test's charts."""
        return ok(await result_graphs.create_view(data.test_id, data.name, data.description))

    @post("/update-graph-view", operation_id="updateGraphView", status_code=200)
    async def update_graph_view(self, result_graphs: NamedDependency[ResultGraphsService],
                                data: JSONBody[GraphViewUpdate]) -> Ok[GraphView]:
        """Rename a view and set the charts it shows."""
        return ok(await result_graphs.update_view(data.test_id, data.id, data.name, data.description, data.graphs))
