"""Results tables for the run page and their history per test, for charts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from app.envelope import Ok, ok
from app.results.schemas import FetchedResults, FetchedTable
from app.security import LOGIN, login_required
from app.wire import jsonable
from domain.results.service import ResultsService


class ResultsController(Controller):
    """Read side of results tables; CI writes them through the client API."""

    path = "/api/v1"
    tags = ["results"]
    guards = [login_required]
    opt = LOGIN

    @get("/run/{test_id:uuid}/{run_id:uuid}/fetch_results", operation_id="fetchRunResults")
    async def fetch_results(self, results: NamedDependency[ResultsService], test_id: FromPath[UUID],
                            run_id: FromPath[UUID]) -> FetchedResults:
        """Every table the run submitted, with a worst-cell ``table_status`` each."""
        tables = await results.tables_for_run(test_id, run_id)
        return FetchedResults(tables=[{t.name: FetchedTable.of(t)} for t in tables])

    @get("/test/{test_id:uuid}/results/history", operation_id="testResultsHistory")
    async def history(
        self,
        results: NamedDependency[ResultsService],
        test_id: FromPath[UUID],
        tables: Annotated[list[str] | None, QueryParameter(name="table", description="repeatable; all when absent")]
        = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> Ok[list[dict[str, Any]]]:
        """Per table and column the values over the newest runs, with best results and rule history."""
        history = await results.history(test_id, table_names=tables, since=since, until=until)
        return ok(jsonable(history))
