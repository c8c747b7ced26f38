"""``ArgusSCTClient`` routes under ``/api/v1/client/sct/{run_id}`` and the configuration upload.

Answers keep the existing service's exact strings ("updated", "added", ...) because SCT logs them,
and errors are the HTTP 200 envelope like every client route (``app/errors.py``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.client.base import ClientApiController, RunIdParam
from app.envelope import Ok, ok
from app.sct.schemas import (
    ConfigSubmit,
    GeminiSubmit,
    JunitSubmit,
    LegacyEventsSubmit,
    PackagesSubmit,
    PerformanceSubmit,
    ResourceCreate,
    ResourceShards,
    ResourceTerminate,
    ResourceUpdate,
    RunnerSet,
    ScreenshotsSubmit,
    StressCommandSubmit,
)
from app.wire import decode_body, jsonable
from domain.runs.service import parse_run_id
from domain.sct.service import RunConfigService, SCTService

NameParam = FromPath[str]
SCT = NamedDependency[SCTService]
AnyRequest = Request[Any, Any, Any]


class SCTRunController(ClientApiController):
    """Runner, packages, resources, stress commands, reports and legacy results of SCT runs."""

    path = "/api/v1/client/sct/{run_id:str}"

    @post("/sct_runner/set", operation_id="clientSetSCTRunner", status_code=200)
    async def set_runner(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Record the runner machine (and create its resource when absent)."""
        body = decode_body(await request.body(), RunnerSet)
        await sct.set_runner(parse_run_id(run_id), public_ip=body.public_ip, private_ip=body.private_ip,
                             region=body.region, backend=body.backend, name=body.name)
        return ok("updated")

    @post("/packages/submit", operation_id="clientSubmitSCTPackages", status_code=200)
    async def submit_packages(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Append packages not yet known; a ``*target*`` package sets the version under test."""
        body = decode_body(await request.body(), PackagesSubmit)
        await sct.submit_packages(parse_run_id(run_id), body.packages)
        return ok("added")

    @post("/stress_cmd/submit", operation_id="clientSubmitSCTStressCommand", status_code=200)
    async def submit_stress_command(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Store a stress command at its time (a command at the same time replaces it)."""
        body = decode_body(await request.body(), StressCommandSubmit)
        await sct.add_stress_command(parse_run_id(run_id), cmd=body.cmd, ts=body.ts, log_name=body.log_name,
                                     loader_name=body.loader_name)
        return ok("added")

    @get("/stress_cmd/get", operation_id="clientGetSCTStressCommands")
    async def stress_commands(self, sct: SCT, run_id: RunIdParam) -> Ok[list[dict[str, Any]]]:
        """The run's stress commands, newest first."""
        return ok(jsonable(await sct.stress_commands(parse_run_id(run_id))))

    @post("/screenshots/submit", operation_id="clientSubmitSCTScreenshots", status_code=200)
    async def submit_screenshots(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Append screenshot links not yet known."""
        body = decode_body(await request.body(), ScreenshotsSubmit)
        await sct.submit_screenshots(parse_run_id(run_id), body.screenshot_links)
        return ok("submitted")

    @post("/resource/create", operation_id="clientCreateSCTResource", status_code=200)
    async def create_resource(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Store a resource unless the run has one of that name."""
        resource = decode_body(await request.body(), ResourceCreate).resource
        await sct.create_resource(parse_run_id(run_id), name=resource.name, resource_type=resource.resource_type,
                                  state=resource.state, instance=resource.instance_details)
        return ok("created")

    @get("/resource/all", operation_id="clientGetSCTResources")
    async def resources(self, sct: SCT, run_id: RunIdParam) -> Ok[list[dict[str, Any]]]:
        """The run's resources, by name."""
        return ok(jsonable(await sct.resources(parse_run_id(run_id))))

    @get("/resource/{name:str}/get", operation_id="clientGetSCTResource")
    async def resource(self, sct: SCT, run_id: RunIdParam, name: NameParam) -> Ok[dict[str, Any]]:
        """One resource."""
        return ok(jsonable(await sct.resource(parse_run_id(run_id), name)))

    @post("/resource/{name:str}/terminate", operation_id="clientTerminateSCTResource", status_code=200)
    async def terminate_resource(self, request: AnyRequest, sct: SCT, run_id: RunIdParam,
                                 name: NameParam) -> Ok[str]:
        """Mark a resource terminated now."""
        body = decode_body(await request.body(), ResourceTerminate)
        await sct.terminate_resource(parse_run_id(run_id), name, body.reason)
        return ok("terminated")

    @post("/resource/{name:str}/shards", operation_id="clientUpdateSCTResourceShards", status_code=200)
    async def update_shards(self, request: AnyRequest, sct: SCT, run_id: RunIdParam, name: NameParam) -> Ok[str]:
        """Set a resource's shard count."""
        body = decode_body(await request.body(), ResourceShards)
        await sct.update_shards(parse_run_id(run_id), name, body.shards)
        return ok("updated")

    @post("/resource/{name:str}/update", operation_id="clientUpdateSCTResource", status_code=200)
    async def update_resource(self, request: AnyRequest, sct: SCT, run_id: RunIdParam,
                              name: NameParam) -> Ok[dict[str, Any]]:
        """Apply a new state and known instance fields; answers what was applied."""
        changes = decode_body(await request.body(), ResourceUpdate).update_data
        applied = await sct.update_resource(parse_run_id(run_id), name, changes.state, changes.instance_info)
        return ok({"state": "updated", "fields": jsonable(applied)})

    @post("/junit/submit", operation_id="clientSubmitSCTJunitReport", status_code=200)
    async def submit_junit(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[bool]:
        """Store a JUnit report by file name."""
        body = decode_body(await request.body(), JunitSubmit)
        await sct.submit_junit(parse_run_id(run_id), body.file_name, body.content)
        return ok(True)

    @post("/gemini/submit", operation_id="clientSubmitSCTGemini", status_code=200)
    async def submit_gemini(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Store Gemini results; a status other than PASSED fails the run."""
        body = decode_body(await request.body(), GeminiSubmit)
        await sct.submit_gemini(parse_run_id(run_id), body.gemini_data)
        return ok("submitted")

    @post("/performance/submit", operation_id="clientSubmitSCTPerformance", status_code=200)
    async def submit_performance(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Store legacy performance results and pass or fail the run against earlier versions."""
        body = decode_body(await request.body(), PerformanceSubmit)
        await sct.submit_performance(parse_run_id(run_id), body.performance_results)
        return ok("submitted")

    @post("/events/submit", operation_id="clientSubmitSCTLegacyEvents", status_code=200)
    async def submit_legacy_events(self, request: AnyRequest, sct: SCT, run_id: RunIdParam) -> Ok[str]:
        """Legacy event summaries: checked and dropped, as the existing service does (events have their own route)."""
        decode_body(await request.body(), LegacyEventsSubmit)
        await sct.require_run(parse_run_id(run_id))
        return ok("added")


class RunConfigController(ClientApiController):
    """Configuration files of a run: ``/api/v1/client/{run_id}/config`` (no run type, no ``/sct``, as upstream)."""

    path = "/api/v1/client/{run_id:str}/config"

    @post("/submit", operation_id="clientSubmitRunConfig", status_code=200)
    async def submit(self, request: AnyRequest, run_configs: NamedDependency[RunConfigService],
                     run_id: RunIdParam) -> Ok[bool]:
        """Store a base64 configuration file by name and index its values when it is a JSON object."""
        body = decode_body(await request.body(), ConfigSubmit)
        await run_configs.submit(parse_run_id(run_id), body.name, body.content)
        return ok(True)

    @get("/all", operation_id="clientGetRunConfigs")
    async def all_configs(self, run_configs: NamedDependency[RunConfigService],
                          run_id: RunIdParam) -> Ok[list[dict[str, Any]]]:
        """The run's configuration files."""
        return ok(jsonable(await run_configs.for_run(parse_run_id(run_id))))
