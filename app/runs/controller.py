"""Run pages' JSON: a run by type and id with everything its type stores."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.client.documents import run_document
from app.envelope import Ok, ok
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
    async def get_run(self, run_reader: NamedDependency[RunReader], run_type: FromPath[str],
                      run_id: FromPath[str]) -> Ok[dict[str, Any] | None]:
        """The whole run with its per-type data, or null."""
        found = await run_reader.read(parse_run_type(run_type), parse_run_id(run_id))
        return ok(run_document(*found) if found else None)
