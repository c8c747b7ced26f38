"""The CI protocol of ``argus-alm``: run lifecycle routes under ``/api/v1/client/testrun``.

Answers are always HTTP 200 with the envelope, errors included (``app/errors.py``), because the
client reads the reason only from a 200 answer.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.client.documents import run_document
from app.client.schemas import (
    DriverMatrixSubmit,
    Finalize,
    GenericSubmit,
    Heartbeat,
    LogsSubmit,
    SCTSubmit,
    StatusChange,
    VersionChange,
)
from app.envelope import Ok, ok
from app.security import LOGIN, login_required
from app.wire import decode_body
from domain.runs.plugins import PluginName
from domain.runs.service import RunService, parse_run_id, parse_run_type, parse_status
from domain.runs.submission import RunSubmission

RunDocument = dict[str, Any]
# Both stay strings here so a bad value gets the client contract's error envelope, not a routing 404.
RunTypeParam = FromPath[str]
RunIdParam = FromPath[str]


def _submission(run_type: PluginName, raw: bytes) -> RunSubmission:
    """The type's submit body, turned into the type-neutral submission."""
    if run_type is PluginName.GENERIC:
        generic = decode_body(raw, GenericSubmit)
        return RunSubmission(
            run_id=parse_run_id(generic.run_id),
            build_id=generic.build_id,
            build_url=generic.build_url,
            started_by=generic.started_by,
            product_version=generic.scylla_version,
            details={"sub_type": generic.sub_type},
        )
    if run_type is PluginName.SCT:
        sct = decode_body(raw, SCTSubmit)
        return RunSubmission(
            run_id=parse_run_id(sct.run_id),
            build_id=sct.job_name,
            build_url=sct.job_url,
            started_by=sct.started_by,
            details={"commit_id": sct.commit_id, "origin_url": sct.origin_url, "branch_name": sct.branch_name},
        )
    matrix = decode_body(raw, DriverMatrixSubmit)
    return RunSubmission(run_id=parse_run_id(matrix.run_id), build_id=matrix.job_name, build_url=matrix.job_url)


class ClientRunController(Controller):
    """Run lifecycle calls shared by every run type."""

    path = "/api/v1/client/testrun"
    tags = ["ci protocol"]
    guards = [login_required]
    opt = LOGIN

    @post("/{run_type:str}/submit", operation_id="clientSubmitRun", status_code=200)
    async def submit(
        self, request: Request[Any, Any, Any], runs: NamedDependency[RunService], run_type: RunTypeParam
    ) -> Ok[str]:
        """Register a run (idempotent: an existing run id changes nothing)."""
        kind = parse_run_type(run_type)
        await runs.submit(kind, _submission(kind, await request.body()))
        return ok("Created")

    @get("/{run_type:str}/{run_id:str}/get", operation_id="clientGetRun")
    async def get_run(
        self, runs: NamedDependency[RunService], run_type: RunTypeParam, run_id: RunIdParam
    ) -> Ok[RunDocument | None]:
        """The whole run, or null when there is none (not an error, as upstream)."""
        run = await runs.find(parse_run_type(run_type), parse_run_id(run_id))
        return ok(run_document(run) if run else None)

    @post("/{run_type:str}/{run_id:str}/heartbeat", operation_id="clientHeartbeat", status_code=200)
    async def heartbeat(
        self,
        request: Request[Any, Any, Any],
        runs: NamedDependency[RunService],
        run_type: RunTypeParam,
        run_id: RunIdParam,
    ) -> Ok[int]:
        """Record liveness; answers the epoch seconds stored."""
        decode_body(await request.body() or b"{}", Heartbeat)
        return ok(await runs.heartbeat(parse_run_type(run_type), parse_run_id(run_id)))

    @get("/{run_type:str}/{run_id:str}/get_status", operation_id="clientGetStatus")
    async def get_status(
        self, runs: NamedDependency[RunService], run_type: RunTypeParam, run_id: RunIdParam
    ) -> Ok[str]:
        """The run's status string."""
        run = await runs.require(parse_run_type(run_type), parse_run_id(run_id))
        return ok(run.status.value)

    @post("/{run_type:str}/{run_id:str}/set_status", operation_id="clientSetStatus", status_code=200)
    async def set_status(
        self,
        request: Request[Any, Any, Any],
        runs: NamedDependency[RunService],
        run_type: RunTypeParam,
        run_id: RunIdParam,
    ) -> Ok[str]:
        """Overwrite the status."""
        change = decode_body(await request.body(), StatusChange)
        status = await runs.set_status(parse_run_type(run_type), parse_run_id(run_id), parse_status(change.new_status))
        return ok(status.value)

    @post(
        "/{run_type:str}/{run_id:str}/update_product_version",
        operation_id="clientUpdateProductVersion",
        status_code=200,
    )
    async def update_product_version(
        self,
        request: Request[Any, Any, Any],
        runs: NamedDependency[RunService],
        run_type: RunTypeParam,
        run_id: RunIdParam,
    ) -> Ok[str]:
        """Record the version under test."""
        change = decode_body(await request.body(), VersionChange)
        await runs.update_product_version(parse_run_type(run_type), parse_run_id(run_id), change.product_version)
        return ok("Submitted")

    @post("/{run_type:str}/{run_id:str}/logs/submit", operation_id="clientSubmitLogs", status_code=200)
    async def submit_logs(
        self,
        request: Request[Any, Any, Any],
        runs: NamedDependency[RunService],
        run_type: RunTypeParam,
        run_id: RunIdParam,
    ) -> Ok[str]:
        """Add log links (names already present keep their first link)."""
        body = decode_body(await request.body(), LogsSubmit)
        await runs.submit_logs(parse_run_type(run_type), parse_run_id(run_id), [e.to_domain() for e in body.logs])
        return ok("Submitted")

    @post("/{run_type:str}/{run_id:str}/finalize", operation_id="clientFinalizeRun", status_code=200)
    async def finalize(
        self,
        request: Request[Any, Any, Any],
        runs: NamedDependency[RunService],
        run_type: RunTypeParam,
        run_id: RunIdParam,
    ) -> Ok[str]:
        """Mark the run finished (status rule per run type)."""
        body = decode_body(await request.body() or b"{}", Finalize)
        await runs.finalize(
            parse_run_type(run_type),
            parse_run_id(run_id),
            status=body.status,
            scylla_version=body.scylla_version,
            end_time=body.end_time,
        )
        return ok("Finalized")
