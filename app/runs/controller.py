"""Run pages' JSON: a run by type and id with everything its type stores."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.caching import REVALIDATE, etag_response
from app.client.documents import run_document
from app.envelope import Ok
from app.security import LOGIN, login_required
from domain.runs.reading import RunReader
from domain.runs.service import parse_run_id, parse_run_type


class RunController(Controller):
    """Read routes of the existing service's ``testrun_api`` (mounted at ``/api/v1``)."""

    path = "/api/v1/run"
    tags = ["runs"]
    guards = [login_required]
    opt = LOGIN

    @get("/{run_type:str}/{run_id:str}", operation_id="getRun")
    async def get_run(self, request: Request[Any, Any, Any], run_reader: NamedDependency[RunReader],
                      run_type: FromPath[str], run_id: FromPath[str]) -> Response[Ok[dict[str, Any] | None]]:
        """The whole run with its per-type data, or null; ETag-validated because run pages poll it."""
        found = await run_reader.read(parse_run_type(run_type), parse_run_id(run_id))
        return etag_response(request, run_document(*found) if found else None, REVALIDATE)
