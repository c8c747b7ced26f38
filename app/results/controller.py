"""Results tables of a run, for the run page."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.results.schemas import FetchedResults, FetchedTable
from app.security import LOGIN, login_required
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
