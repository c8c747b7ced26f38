"""Run read routes of the existing service's ``testrun_api``: run cards, run types, artifact redirects."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect

from app.caching import REVALIDATE, etag_response
from app.client.documents import run_document
from app.envelope import Ok, ok
from app.runs.schemas import RunDocument, RunsById, RunShort, RunTypeOut
from app.security import LOGIN, login_required
from app.wire import jsonable, parse_uuid
from domain.runs.browsing import DEFAULT_RUNS, MAX_ADDITIONAL_RUNS, MAX_RUNS, RunBrowser, RunWindow
from domain.runs.pytest_results import PytestResult, PytestResultService
from domain.runs.service import parse_run_id, parse_run_type


class RunBrowseController(Controller):
    """What run cards and run pages read besides the run itself."""

    path = "/api/v1"
    tags = ["runs"]
    guards = [login_required]
    opt = LOGIN

    @get("/test/{test_id:str}/runs", operation_id="listTestRuns")
    async def test_runs(
        self, request: Request[Any, Any, Any], run_browser: NamedDependency[RunBrowser], test_id: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_RUNS, description="newest runs to list")] = DEFAULT_RUNS,
        before: Annotated[float | None, QueryParameter(description="started before (epoch seconds)")] = None,
        after: Annotated[float | None, QueryParameter(description="started after (epoch seconds)")] = None,
        full: Annotated[str | None, QueryParameter(description="any non-empty value: whole runs")] = None,
        additional_runs: Annotated[list[str] | None, QueryParameter(
            name="additionalRuns[]", max_items=MAX_ADDITIONAL_RUNS, description="run ids to include too")] = None,
    ) -> Response[Ok[list[RunShort] | list[RunDocument]]]:
        """A test's runs, newest build first; ETag-validated because run cards poll it."""
        window = RunWindow(limit=limit, before=before, after=after,
                           additional=tuple(parse_uuid(r, "run id") for r in additional_runs or ()))
        runs = await run_browser.runs_of_test(parse_uuid(test_id, "test id"), window)
        payload = [run_document(run) for run in runs] if full else [RunShort.of(run) for run in runs]
        return etag_response(request, payload, REVALIDATE)

    @get("/run/{run_id:str}/type", operation_id="getRunType")
    async def run_type(self, run_browser: NamedDependency[RunBrowser], run_id: FromPath[str]) -> Ok[RunTypeOut]:
        """The plugin name of a run."""
        return ok(RunTypeOut(run_type=await run_browser.run_type(parse_run_id(run_id))))

    @post("/get_runs_by_test_id_run_id", operation_id="getRunsByTestIdRunId", status_code=200)
    async def runs_by_id(self, run_browser: NamedDependency[RunBrowser],
                         data: JSONBody[list[tuple[str, str]]]) -> Ok[RunsById]:
        """Runs named by ``[[test_id, run_id], ...]``; runs not of the named test are left out."""
        runs = await run_browser.runs_by_id([(parse_uuid(t, "test id"), parse_run_id(r)) for t, r in data])
        return ok(RunsById(runs={str(run_id): run_document(run) for run_id, run in runs.items()}))

    @get("/tests/{plugin_name:str}/{run_id:str}/log/{log_name:str}/download", operation_id="downloadRunLog")
    async def log_download(self, run_browser: NamedDependency[RunBrowser], plugin_name: FromPath[str],
                           run_id: FromPath[str], log_name: FromPath[str]) -> Redirect:
        """302 to where the log is stored."""
        return Redirect(await run_browser.log_link(parse_run_type(plugin_name), parse_run_id(run_id), log_name))

    @get("/tests/{plugin_name:str}/{run_id:str}/screenshot/{image_name:str}", operation_id="getRunScreenshot")
    async def screenshot(self, run_browser: NamedDependency[RunBrowser], plugin_name: FromPath[str],
                         run_id: FromPath[str], image_name: FromPath[str]) -> Redirect:
        """302 to where the screenshot is stored."""
        link = await run_browser.screenshot_link(parse_run_type(plugin_name), parse_run_id(run_id), image_name)
        return Redirect(link)

    @get("/run/{run_id:str}/pytest/results", operation_id="getRunPytestResults")
    async def pytest_results(self, request: Request[Any, Any, Any],
                             pytest_results: NamedDependency[PytestResultService],
                             run_id: FromPath[str]) -> Response[Ok[list[PytestResult]]]:
        """A run's pytest reports, newest first; polled every few seconds, so ETag-validated."""
        results = await pytest_results.for_run(parse_run_id(run_id))
        return etag_response(request, jsonable(results), REVALIDATE)
