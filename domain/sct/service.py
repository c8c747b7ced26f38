"""SCT runs while they run: the runner, packages, resources, stress commands, reports and legacy results.

Every call addresses an existing SCT run and is idempotent, because the client re-sends POSTs after
a timeout: packages, screenshots and resources are added only when absent, the rest are upserts.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import defusedxml.ElementTree
import msgspec
from defusedxml import DefusedXmlException

from domain.clock import Clock
from domain.errors import InvalidInput, NotFound
from domain.runs.entities import Run, TestStatus
from domain.runs.errors import RunNotFound
from domain.runs.plugins import PluginName
from domain.runs.service import RunService
from domain.sct.entities import (
    GeminiResults,
    InstanceInfo,
    JunitReport,
    Package,
    PerformanceResults,
    Resource,
    ResourceState,
    RunConfiguration,
    StressCommand,
)
from domain.sct.ports import RunConfigRepository, SCTDataRepository

SCT_RUNNER = "sct-runner"
MAX_NAME_LENGTH = 256
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_PACKAGES = 1000
MAX_SCREENSHOTS = 1000
MAX_CONFIG_PARAMS = 10_000
MAX_PARAM_VALUE_LENGTH = 1000  # longer values are kept in the file but not indexed (they key a partition)
# The performance rule compares with this many recent runs of the job, so its cost never grows with history.
PERFORMANCE_HISTORY_RUNS = 100
REGRESSION_THRESHOLD = 0.10
# metric -> whether a higher value is better
PERFORMANCE_METRICS = {"perf_op_rate_total": True, "perf_avg_latency_99th": False, "perf_avg_latency_mean": False}
_WHITESPACE = re.compile(r"\s+")


class ResourceNotFound(NotFound):
    """The run has no resource of this name."""


def decode_base64(raw: str, what: str) -> bytes:
    """Decode ``base64.encodebytes`` output (a newline every 76 characters); other stray characters are refused."""
    compact = _WHITESPACE.sub("", raw)
    if len(compact) > 4 * MAX_DOCUMENT_BYTES // 3 + 4:
        raise InvalidInput(f"{what} is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return base64.b64decode(compact, validate=True)
    except ValueError as error:
        raise InvalidInput(f"{what} is not valid base64", str(error)) from error


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{what} is not UTF-8 text", str(error)) from error


def check_resource_name(name: str) -> str:
    """Names address resources in URLs, so they are non-empty, bounded and free of ``/``."""
    if not name.strip() or len(name) > MAX_NAME_LENGTH or "/" in name:
        raise InvalidInput(f"resource name must be 1 to {MAX_NAME_LENGTH} characters without '/'", name[:80])
    return name


def parse_resource_state(raw: str) -> ResourceState:
    """A ``ResourceState`` value, or ``InvalidInput`` listing the accepted ones."""
    try:
        return ResourceState(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in ResourceState)
        raise InvalidInput(f"{raw!r} is not a valid ResourceState (one of: {allowed})", str(raw)) from None


def merge_packages(run: Run, packages: list[Package]) -> dict[str, Any]:
    """Run changes for submitted packages: new ones appended, and the version a ``*target*`` package sets.

    The version under test of an upgrade test is the target's; once an ``upgrade-target`` package set it,
    the plain ``scylla-server-target`` package (the base of the upgrade) does not override it.
    """
    stored = list(run.details.get("packages", []))
    known = {tuple(p.get(f) for f in Package.__struct_fields__) for p in stored}
    details = dict(run.details)
    changes: dict[str, Any] = {}
    for package in packages:
        row = msgspec.to_builtins(package)
        identity = tuple(row.get(f) for f in Package.__struct_fields__)
        if identity not in known:
            known.add(identity)
            stored.append(row)
        source = details.get("version_source") or ""
        if "target" in package.name and not ("upgrade-target" in source and package.name == "scylla-server-target"):
            details["version_source"] = package.name
            if package.version and package.version != run.scylla_version:
                changes["scylla_version"] = package.version
    if len(stored) > MAX_PACKAGES:
        raise InvalidInput(f"a run keeps at most {MAX_PACKAGES} packages")
    details["packages"] = stored
    if details != run.details:
        changes["details"] = details
    return changes


def _regressed(value: float, reference: float, higher_is_better: bool) -> bool:
    if reference == 0:
        return False
    change = (reference - value) / abs(reference) if higher_is_better else (value - reference) / abs(reference)
    return change > REGRESSION_THRESHOLD


def performance_status(current: PerformanceResults, earlier: list[Run]) -> TestStatus:
    """``failed`` when a metric is more than 10% worse than the best or the last run of another version.

    ``earlier`` are older performance runs of the same job and test, newest first; runs of the same
    version are the run's own peers, not a baseline.
    """
    by_version: dict[str, list[Run]] = {}
    for run in earlier:
        if run.scylla_version:
            by_version.setdefault(run.scylla_version, []).append(run)
    for metric, higher_is_better in PERFORMANCE_METRICS.items():
        value = getattr(current, metric)
        if value is None:
            continue
        for runs in by_version.values():
            values = [float(r.details[metric]) for r in runs if r.details.get(metric) is not None]
            if not values:
                continue
            best = max(values) if higher_is_better else min(values)
            if _regressed(value, values[0], higher_is_better) or _regressed(value, best, higher_is_better):
                return TestStatus.FAILED
    return TestStatus.PASSED


def flatten_config(name: str, content: str) -> dict[str, str]:
    """``<name>.<dotted key path> -> value`` of a JSON object config; other content has no params.

    Strings are kept as they are; other values as JSON (``true``, ``3``, ``null``, ``[...]``).
    """
    try:
        document = json.loads(content)
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    params: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}", item)
            return
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) <= MAX_PARAM_VALUE_LENGTH:
            params[prefix] = text

    walk(name.replace(".", "_").replace(" ", "_"), document)
    if len(params) > MAX_CONFIG_PARAMS:
        raise InvalidInput(f"a configuration keeps at most {MAX_CONFIG_PARAMS} values", name)
    return params


class SCTService:
    """SCT-specific calls of ``argus-alm``'s ``ArgusSCTClient``."""

    def __init__(self, runs: RunService, data: SCTDataRepository, clock: Clock) -> None:
        self._runs = runs
        self._data = data
        self._clock = clock

    async def require_run(self, run_id: UUID) -> Run:
        """The SCT run, or ``RunNotFound`` with the existing service's message."""
        run = await self._runs.find(PluginName.SCT, run_id)
        if run is None:
            raise RunNotFound("Run not found", str(run_id))
        return run

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    # -- run fields ---------------------------------------------------------------------------

    async def set_runner(self, run_id: UUID, *, public_ip: str | None, private_ip: str | None,
                         region: str | None, backend: str | None, name: str | None) -> None:
        """Record the machine running SCT on the run, and as a resource of the run."""
        resource_name = check_resource_name(name or SCT_RUNNER)
        run = await self.require_run(run_id)
        host = {"public_ip": public_ip, "private_ip": private_ip, "provider": backend, "region": region}
        if run.details.get("sct_runner_host") != host:
            await self._runs.apply(run, {"details": {**run.details, "sct_runner_host": host}})
        await self._data.add_resource(Resource(
            run_id=run.id, name=resource_name, state=ResourceState.RUNNING,
            resource_type=SCT_RUNNER,
            instance_info=InstanceInfo(provider=backend, region=region, public_ip=public_ip, private_ip=private_ip,
                                       creation_time=self._now())))

    async def submit_packages(self, run_id: UUID, packages: list[Package]) -> None:
        """Append packages not yet known; a ``*target*`` package sets the version under test."""
        run = await self.require_run(run_id)
        changes = merge_packages(run, packages)
        if changes:
            await self._runs.apply(run, changes)

    async def submit_screenshots(self, run_id: UUID, links: list[str]) -> None:
        """Append the links not yet known."""
        run = await self.require_run(run_id)
        stored = list(run.details.get("screenshots", []))
        stored.extend(link for link in dict.fromkeys(links) if link not in stored)
        if len(stored) > MAX_SCREENSHOTS:
            raise InvalidInput(f"a run keeps at most {MAX_SCREENSHOTS} screenshots")
        if stored != run.details.get("screenshots", []):
            await self._runs.apply(run, {"details": {**run.details, "screenshots": stored}})

    async def submit_gemini(self, run_id: UUID, results: GeminiResults) -> None:
        """Store the Gemini outcome; anything but ``PASSED`` fails the run."""
        run = await self.require_run(run_id)
        changes: dict[str, Any] = {"details": {**run.details, **msgspec.to_builtins(results),
                                               "subtest_name": "gemini"}}
        if results.gemini_status != "PASSED":
            changes["status"] = TestStatus.FAILED
        await self._runs.apply(run, changes)

    async def submit_performance(self, run_id: UUID, results: PerformanceResults) -> TestStatus:
        """Store the summary and set the run passed or failed by comparing it with earlier versions."""
        if isinstance(results.perf_total_errors, str):
            try:
                results.perf_total_errors = float(results.perf_total_errors)
            except ValueError:
                raise InvalidInput("perf_total_errors must be a number", results.perf_total_errors) from None
        run = await self.require_run(run_id)
        recent = await self._runs.latest_for_build(run.build_id, PERFORMANCE_HISTORY_RUNS)
        earlier = [r for r in recent if r.id != run.id and r.plugin_name is PluginName.SCT
                   and r.start_time < run.start_time and r.details.get("subtest_name") == "performance"
                   and r.details.get("test_name") == results.test_name and r.scylla_version != run.scylla_version]
        status = performance_status(results, earlier)
        await self._runs.apply(run, {"status": status, "details": {
            **run.details, **msgspec.to_builtins(results), "subtest_name": "performance"}})
        return status

    # -- resources ----------------------------------------------------------------------------

    async def create_resource(self, run_id: UUID, *, name: str, resource_type: str, state: ResourceState,
                              instance: InstanceInfo) -> None:
        """Store the resource unless the run has one of that name; its creation time is now."""
        run = await self.require_run(run_id)
        info = msgspec.structs.replace(instance, creation_time=self._now())
        await self._data.add_resource(Resource(run_id=run.id, name=check_resource_name(name), state=state,
                                               resource_type=resource_type, instance_info=info))

    async def resources(self, run_id: UUID) -> list[Resource]:
        """The run's resources."""
        return await self._data.resources((await self.require_run(run_id)).id)

    async def resource(self, run_id: UUID, name: str) -> Resource:
        """One resource, or ``ResourceNotFound``."""
        run = await self.require_run(run_id)
        found = await self._data.resource(run.id, name)
        if found is None:
            raise ResourceNotFound("Resource not found", name)
        return found

    async def terminate_resource(self, run_id: UUID, name: str, reason: str) -> None:
        """Mark the resource terminated now; any ``sct-runner`` name means the run's first runner.

        SCT names its runner differently in different places, so the runner is found by kind of name.
        A terminated resource keeps its first termination time and reason, so a re-sent call changes nothing.
        """
        if SCT_RUNNER in name:
            run = await self.require_run(run_id)
            found = next((r for r in await self._data.resources(run.id) if SCT_RUNNER in r.name), None)
            if found is None:
                raise ResourceNotFound("Resource not found", name)
        else:
            found = await self.resource(run_id, name)
        if found.state is ResourceState.TERMINATED and found.instance_info.termination_time:
            return
        found.state = ResourceState.TERMINATED
        found.instance_info.termination_reason = reason
        found.instance_info.termination_time = self._now()
        await self._data.save_resource(found)

    async def update_shards(self, run_id: UUID, name: str, shards: int) -> None:
        """Set the resource's shard count."""
        if shards < 0:
            raise InvalidInput("shards must not be negative", str(shards))
        found = await self.resource(run_id, name)
        found.instance_info.shards_amount = shards
        await self._data.save_resource(found)

    async def update_resource(self, run_id: UUID, name: str, state: str | None,
                              instance_info: dict[str, Any]) -> dict[str, Any]:
        """Apply a new state and the known instance fields; returns what was applied (unknown fields are ignored)."""
        found = await self.resource(run_id, name)
        applied: dict[str, Any] = {}
        if state is not None:
            found.state = parse_resource_state(state)
            applied["state"] = found.state.value
        known = {k: v for k, v in instance_info.items() if k in InstanceInfo.__struct_fields__}
        if known:
            try:
                found.instance_info = msgspec.convert({**msgspec.to_builtins(found.instance_info), **known},
                                                      InstanceInfo)
            except msgspec.ValidationError as error:
                raise InvalidInput(f"Invalid instance_info: {error}", name) from None
            applied["instance_info"] = known
        if applied:
            await self._data.save_resource(found)
        return applied

    # -- stress commands and reports ----------------------------------------------------------

    async def add_stress_command(self, run_id: UUID, *, cmd: str, ts: float, log_name: str | None,
                                 loader_name: str | None) -> None:
        """Store the command at its time (UTC); a command at the same time replaces it."""
        run = await self.require_run(run_id)
        try:
            moment = datetime.fromtimestamp(ts, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput("ts must be epoch seconds", str(ts)) from None
        await self._data.save_stress_command(StressCommand(run_id=run.id, ts=moment, cmd=cmd, log_name=log_name,
                                                           node_name=loader_name))

    async def stress_commands(self, run_id: UUID) -> list[StressCommand]:
        """The run's stress commands, newest first."""
        return await self._data.stress_commands((await self.require_run(run_id)).id)

    async def submit_junit(self, run_id: UUID, file_name: str, content: str) -> None:
        """Store a base64 JUnit report that parses as XML (DTDs and entities refused); a file name replaces."""
        run = await self.require_run(run_id)
        if not file_name.strip() or len(file_name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"file_name must be 1 to {MAX_NAME_LENGTH} characters", file_name[:80])
        report = _text(decode_base64(content, "content"), "content")
        try:
            defusedxml.ElementTree.fromstring(report, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except (DefusedXmlException, SyntaxError) as error:
            raise InvalidInput("Malformed JUnit report submitted", file_name, str(error)) from None
        await self._data.save_junit_report(JunitReport(run_id=run.id, file_name=file_name, report=report))

    async def run_fields(self, run_id: UUID) -> dict[str, Any]:
        """What the run page shows beside an SCT run: its JUnit reports and resources."""
        reports = await self._data.junit_reports(run_id)
        return {"junit_reports": [{"file_name": r.file_name, "report": r.report} for r in reports],
                "allocated_resources": await self._data.resources(run_id)}


class RunConfigService:
    """Configuration files uploaded for a run of any type."""

    def __init__(self, runs: RunService, configs: RunConfigRepository) -> None:
        self._runs = runs
        self._configs = configs

    async def submit(self, run_id: UUID, name: str, content: str) -> None:
        """Store the base64 file by name (a name re-sent replaces it) and index a JSON object's values."""
        run = await self._runs.find_any(run_id)
        if run is None:
            raise RunNotFound("Run not found", str(run_id))
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"name must be 1 to {MAX_NAME_LENGTH} characters", name[:80])
        text = _text(decode_base64(content, "content"), "content")
        await self._configs.save(RunConfiguration(run_id=run.id, name=name, content=text), flatten_config(name, text))

    async def for_run(self, run_id: UUID) -> list[RunConfiguration]:
        """The run's configuration files."""
        run = await self._runs.find_any(run_id)
        if run is None:
            raise RunNotFound("Run not found", str(run_id))
        return await self._configs.for_run(run.id)
