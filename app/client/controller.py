"""The CI protocol of ``argus-alm``: run lifecycle routes under ``/api/v1/client/testrun``.

Answers are always HTTP 200 with the envelope, errors included (``app/errors.py``), because the
client reads the reason only from a 200 answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from app.client.base import ClientApiController, RunIdParam, RunTypeParam
from app.client.documents import run_document
from app.client.schemas import (
    CostItems,
    DriverEnvironment,
    DriverFailure,
    DriverMatrixSubmit,
    DriverResult,
    EstimatedCost,
    Finalize,
    GenericSubmit,
    Heartbeat,
    LogsSubmit,
    PytestReport,
    ResultsSubmit,
    SCTSubmit,
    SirenadaSubmit,
    StatusChange,
    VersionChange,
)
from app.envelope import Ok, ResultsSubmitted, ok
from app.wire import decode_body, format_datetime, jsonable
from domain.errors import InvalidInput
from domain.results.errors import DataValidationError
from domain.runs.costs import CostService
from domain.runs.driver_matrix_service import DriverMatrixService
from domain.runs.plugins import PluginName
from domain.runs.pytest_results import PytestResult, PytestResultService, epoch_to_datetime
from domain.runs.reading import RunReader
from domain.runs.run_results import RunResults
from domain.runs.service import RunService, parse_run_id, parse_run_type, parse_status
from domain.runs.sirenada import SirenadaService
from domain.runs.submission import RunSubmission
from domain.sct.config_fields import derived_fields

RunDocument = dict[str, Any]


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
        derived = derived_fields(sct.sct_config)
        return RunSubmission(
            run_id=parse_run_id(sct.run_id),
            build_id=sct.job_name,
            build_url=sct.job_url,
            started_by=sct.started_by,
            details={"commit_id": sct.commit_id, "scm_revision_id": sct.commit_id, "origin_url": sct.origin_url,
                     "branch_name": sct.branch_name, **derived},
            refreshed_details=tuple(derived),
        )
    matrix = decode_body(raw, DriverMatrixSubmit)
    return RunSubmission(run_id=parse_run_id(matrix.run_id), build_id=matrix.job_name, build_url=matrix.job_url)


class ClientRunController(ClientApiController):
    """Run lifecycle calls shared by every run type."""

    path = "/api/v1/client/testrun"

    @post("/{run_type:str}/submit", operation_id="clientSubmitRun", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        runs: NamedDependency[RunService],
        sirenada: NamedDependency[SirenadaService],
        run_type: RunTypeParam,
    ) -> Ok[str]:
        """Register a run (idempotent: an existing run id changes nothing; sirenada adds its cases)."""
        kind = parse_run_type(run_type)
        raw = await request.body()
        if kind is PluginName.SIRENADA:
            body = decode_body(raw, SirenadaSubmit)
            submission = RunSubmission(
                run_id=parse_run_id(body.run_id),
                build_id=body.build_id,
                build_url=body.build_job_url,
                details={"region": body.region},
            )
            await sirenada.submit(submission, body.results)
        else:
            await runs.submit(kind, _submission(kind, raw))
        return ok("Created")

    @get("/{run_type:str}/{run_id:str}/get", operation_id="clientGetRun")
    async def get_run(
        self, run_reader: NamedDependency[RunReader], run_type: RunTypeParam, run_id: RunIdParam
    ) -> Ok[RunDocument | None]:
        """The whole run, or null when there is none (not an error, as upstream)."""
        found = await run_reader.read(parse_run_type(run_type), parse_run_id(run_id))
        return ok(run_document(*found) if found else None)

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

    @post("/{run_type:str}/{run_id:str}/submit_results", operation_id="clientSubmitResults", status_code=200)
    async def submit_results(
        self,
        request: Request[Any, Any, Any],
        run_results: NamedDependency[RunResults],
        run_type: RunTypeParam,
        run_id: RunIdParam,
    ) -> Response[ResultsSubmitted]:
        """Store one results table; an ERROR cell is reported after storing, as CI tools expect."""
        body = decode_body(await request.body(), ResultsSubmit)
        outcome = await run_results.submit(parse_run_type(run_type), parse_run_id(run_id), body.to_domain())
        if outcome.has_errors:
            raise DataValidationError(outcome.name, list(outcome.error_cells))
        return Response(ResultsSubmitted())

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


class PytestResultController(ClientApiController):
    """``pytest-argus-reporter`` routes: one report per test, and duration statistics."""

    path = "/api/v1/client/testrun/pytest"

    @post("/result/submit", operation_id="clientSubmitPytestResult", status_code=200)
    async def submit(
        self, request: Request[Any, Any, Any], pytest_results: NamedDependency[PytestResultService]
    ) -> Ok[dict[str, str]]:
        """Store one test report; answers its name and id (the report time)."""
        report = decode_body(await request.body(), PytestReport)
        markers = list(report.markers) if isinstance(report.markers, dict) else report.markers
        stored = await pytest_results.submit(
            PytestResult(
                name=report.name,
                status=report.status,
                id=epoch_to_datetime(report.timestamp, "timestamp"),
                test_type=report.test_type,
                run_id=parse_run_id(report.run_id),
                duration=report.duration,
                message=report.message,
                test_timestamp=epoch_to_datetime(report.timestamp, "timestamp"),
                session_timestamp=epoch_to_datetime(report.session_timestamp, "session_timestamp"),
                markers=[str(m) for m in markers],
                user_fields=report.user_fields,
            )
        )
        return ok({"name": stored.name, "id": format_datetime(stored.id)})

    @get("/{rest:path}", operation_id="clientPytestStats")
    async def stats(
        self,
        pytest_results: NamedDependency[PytestResultService],
        rest: FromPath[str],
        status: FromQuery[str | None] = None,
        since: FromQuery[float | None] = None,
    ) -> Ok[dict[str, dict[str, dict[str, float | int | None]]]]:
        """``<test name>/stats/<field>/<aggregate>``; the name may contain ``/`` (pytest node ids do).

        The existing service could not route such names and answered 404; the path is parsed from
        the right here so any node id works.
        """
        name, marker, field, aggregate = _split_stats_path(rest)
        if marker != "stats":
            raise InvalidInput("expected <test name>/stats/<field>/<aggregate>", rest)
        value = await pytest_results.stats(
            name,
            field,
            aggregate,
            status=status,
            since=epoch_to_datetime(since, "since") if since is not None else None,
        )
        return ok({name: {field: {aggregate: value}}})


def _split_stats_path(rest: str) -> tuple[str, str, str, str]:
    parts = rest.strip("/").rsplit("/", 3)
    if len(parts) != 4 or not parts[0]:
        raise InvalidInput("expected <test name>/stats/<field>/<aggregate>", rest)
    return parts[0], parts[1], parts[2], parts[3]


class DriverMatrixController(ClientApiController):
    """``ArgusDriverMatrixClient`` routes under ``/api/v1/client/driver_matrix``."""

    path = "/api/v1/client/driver_matrix"

    @post("/result/submit", operation_id="clientSubmitDriverResult", status_code=200)
    async def submit_result(
        self, request: Request[Any, Any, Any], driver_matrix: NamedDependency[DriverMatrixService]
    ) -> Ok[bool]:
        """Store one driver's JUnit report (a name already stored is kept as it is)."""
        body = decode_body(await request.body(), DriverResult)
        await driver_matrix.submit_result(parse_run_id(body.run_id), body.driver_name, body.driver_type, body.raw_xml)
        return ok(True)

    @post("/result/fail", operation_id="clientSubmitDriverFailure", status_code=200)
    async def submit_failure(
        self, request: Request[Any, Any, Any], driver_matrix: NamedDependency[DriverMatrixService]
    ) -> Ok[bool]:
        """Record a driver whose suite could not run."""
        body = decode_body(await request.body(), DriverFailure)
        await driver_matrix.submit_failure(
            parse_run_id(body.run_id), body.driver_name, body.driver_type, body.failure_reason
        )
        return ok(True)

    @post("/env/submit", operation_id="clientSubmitDriverEnvironment", status_code=200)
    async def submit_environment(
        self, request: Request[Any, Any, Any], driver_matrix: NamedDependency[DriverMatrixService]
    ) -> Ok[bool]:
        """Merge the build environment into the run (sets the Scylla version)."""
        body = decode_body(await request.body(), DriverEnvironment)
        await driver_matrix.submit_environment(parse_run_id(body.run_id), body.raw_env)
        return ok(True)

    @get("/test_report", operation_id="clientDriverTestReport")
    async def test_report(
        self,
        driver_matrix: NamedDependency[DriverMatrixService],
        build_id: Annotated[str, QueryParameter(name="buildId", min_length=1)],
    ) -> Ok[dict[str, Any]]:
        """Driver versions a job's recent runs tested, per driver."""
        return ok(jsonable(await driver_matrix.versions(build_id)))


class RunCostController(ClientApiController):
    """Cost routes of newer clients; they address the run by id alone."""

    path = "/api/v1/client/testrun/{run_id:str}/cost"

    @post("/estimated", operation_id="clientSetEstimatedCost", status_code=200)
    async def estimated(
        self, request: Request[Any, Any, Any], costs: NamedDependency[CostService], run_id: RunIdParam
    ) -> Ok[str]:
        """Replace the run's estimated cost (USD)."""
        body = decode_body(await request.body(), EstimatedCost)
        await costs.set_estimate(parse_run_id(run_id), body.value)
        return ok("Submitted")

    @post("/items", operation_id="clientSubmitCostItems", status_code=200)
    async def items(
        self, request: Request[Any, Any, Any], costs: NamedDependency[CostService], run_id: RunIdParam
    ) -> Ok[str]:
        """Add or replace priced items; the run's actual cost is their sum."""
        body = decode_body(await request.body(), CostItems)
        await costs.submit_items(parse_run_id(run_id), body.items)
        return ok("Submitted")
