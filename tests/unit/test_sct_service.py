"""SCT run calls against fakes: packages, resources, reports, legacy results and configurations."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from uuid import UUID

import pytest

from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput
from domain.runs.entities import Run, TestStatus
from domain.runs.errors import RunNotFound
from domain.runs.plugins import PluginName
from domain.runs.reading import combined
from domain.runs.service import AutoCreate, RunService
from domain.runs.submission import RunSubmission
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
from domain.sct.service import (
    ResourceNotFound,
    RunConfigService,
    SCTService,
    flatten_config,
    merge_packages,
    performance_status,
)
from tests.unit.fakes import FakeCatalogueRepository, FakeClock, FakeRunRepository, FakeSummaryRepository

BUILD = "scylla-master/longevity/longevity-100gb-4h"


class FakeSCTData:
    def __init__(self) -> None:
        self.resources_by_run: dict[UUID, dict[str, Resource]] = {}
        self.commands: dict[tuple[UUID, object], StressCommand] = {}
        self.reports: dict[tuple[UUID, str], JunitReport] = {}

    async def add_resource(self, resource: Resource) -> bool:
        stored = self.resources_by_run.setdefault(resource.run_id, {})
        if resource.name in stored:
            return False
        stored[resource.name] = resource
        return True

    async def save_resource(self, resource: Resource) -> None:
        self.resources_by_run.setdefault(resource.run_id, {})[resource.name] = resource

    async def resource(self, run_id: UUID, name: str) -> Resource | None:
        return self.resources_by_run.get(run_id, {}).get(name)

    async def resources(self, run_id: UUID) -> list[Resource]:
        return sorted(self.resources_by_run.get(run_id, {}).values(), key=lambda r: r.name)

    async def save_stress_command(self, command: StressCommand) -> None:
        self.commands[command.run_id, command.ts] = command

    async def stress_commands(self, run_id: UUID) -> list[StressCommand]:
        return sorted((c for c in self.commands.values() if c.run_id == run_id), key=lambda c: c.ts, reverse=True)

    async def save_junit_report(self, report: JunitReport) -> None:
        self.reports[report.run_id, report.file_name] = report

    async def junit_reports(self, run_id: UUID) -> list[JunitReport]:
        return [r for (run, _), r in sorted(self.reports.items()) if run == run_id]


class FakeConfigs:
    def __init__(self) -> None:
        self.files: dict[tuple[UUID, str], RunConfiguration] = {}
        self.params: dict[tuple[str, str], set[UUID]] = {}

    async def save(self, configuration: RunConfiguration, params: dict[str, str]) -> None:
        self.files[configuration.run_id, configuration.name] = configuration
        for name, value in params.items():
            self.params.setdefault((name, value), set()).add(configuration.run_id)

    async def for_run(self, run_id: UUID) -> list[RunConfiguration]:
        return [c for (run, _), c in sorted(self.files.items()) if run == run_id]

    async def runs_with(self, param: str, value: str, limit: int) -> list[UUID]:
        return sorted(self.params.get((param, value), set()))[:limit]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runs(clock: FakeClock) -> RunService:
    return RunService(FakeRunRepository(), FakeSummaryRepository(), CatalogueService(FakeCatalogueRepository()),
                      clock, AutoCreate.ALL)


@pytest.fixture
def data() -> FakeSCTData:
    return FakeSCTData()


@pytest.fixture
def sct(runs: RunService, data: FakeSCTData, clock: FakeClock) -> SCTService:
    return SCTService(runs, data, clock)


async def new_run(runs: RunService, build_id: str = BUILD, kind: PluginName = PluginName.SCT) -> Run:
    run, _ = await runs.submit(kind, RunSubmission(run_id=uuid.uuid4(), build_id=build_id))
    return run


def b64(text: str) -> str:
    return base64.encodebytes(text.encode()).decode()


# -- submit -------------------------------------------------------------------------------------

async def test_resubmitting_an_sct_run_reapplies_the_derived_fields(runs: RunService) -> None:
    first = RunSubmission(run_id=uuid.uuid4(), build_id=BUILD, details={"commit_id": "a", "test_method": "t1"},
                          refreshed_details=("test_method",))
    run, created = await runs.submit(PluginName.SCT, first)
    again = RunSubmission(run_id=run.id, build_id=BUILD, details={"commit_id": "b", "test_method": "t2"},
                          refreshed_details=("test_method",))
    _, created_again = await runs.submit(PluginName.SCT, again)
    assert (created, created_again) == (True, False)
    assert (await runs.require(PluginName.SCT, run.id)).details == {"commit_id": "a", "test_method": "t2"}


# -- runner, packages, screenshots --------------------------------------------------------------

async def test_set_runner_records_the_host_and_creates_its_resource_once(sct: SCTService, runs: RunService,
                                                                         data: FakeSCTData, clock: FakeClock) -> None:
    run = await new_run(runs)
    await sct.set_runner(run.id, public_ip="1.1.1.1", private_ip="10.0.0.1", region="eu-west-1", backend="aws",
                         name=None)
    clock.advance(minutes=5)
    await sct.set_runner(run.id, public_ip="2.2.2.2", private_ip="10.0.0.2", region="eu-west-1", backend="aws",
                         name=None)
    stored = await runs.require(PluginName.SCT, run.id)
    assert stored.details["sct_runner_host"] == {"public_ip": "2.2.2.2", "private_ip": "10.0.0.2", "provider": "aws",
                                                 "region": "eu-west-1"}
    [runner] = await data.resources(run.id)
    assert (runner.name, runner.resource_type, runner.state) == ("sct-runner", "sct-runner", ResourceState.RUNNING)
    assert runner.instance_info.public_ip == "1.1.1.1"  # created once, when first set
    assert runner.instance_info.creation_time == int(clock.moment.timestamp()) - 300


async def test_packages_are_appended_once_and_a_target_sets_the_version(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    server = Package(name="scylla-server", version="6.1.0", date="20240601", revision_id="abc", build_id="1")
    await sct.submit_packages(run.id, [server, server])
    await sct.submit_packages(run.id, [server, Package(name="scylla-server-target", version="6.2.0")])
    stored = await runs.require(PluginName.SCT, run.id)
    assert [p["name"] for p in stored.details["packages"]] == ["scylla-server", "scylla-server-target"]
    assert (stored.scylla_version, stored.details["version_source"]) == ("6.2.0", "scylla-server-target")
    await runs.update_product_version(PluginName.SCT, run.id, "9.9.9")  # a package-derived version stays
    assert (await runs.require(PluginName.SCT, run.id)).scylla_version == "6.2.0"


def test_upgrade_target_is_not_overridden_by_the_plain_target() -> None:
    run = Run(id=uuid.uuid4(), build_id=BUILD, start_time=FakeClock().now(), plugin_name=PluginName.SCT)
    changes = merge_packages(run, [Package(name="scylla-server-upgrade-target", version="2025.1.0"),
                                   Package(name="scylla-server-target", version="2024.2.0")])
    assert changes["scylla_version"] == "2025.1.0"
    assert changes["details"]["version_source"] == "scylla-server-upgrade-target"
    plain = merge_packages(run, [Package(name="scylla-server-target", version="2024.2.0")])
    assert (plain["scylla_version"], plain["details"]["version_source"]) == ("2024.2.0", "scylla-server-target")
    assert merge_packages(run, [Package(name="kernel", version="6.8")])["details"]["packages"][0]["name"] == "kernel"
    assert "scylla_version" not in merge_packages(run, [Package(name="kernel", version="6.8")])


async def test_screenshots_are_appended_once(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    await sct.submit_screenshots(run.id, ["https://g/1.png", "https://g/1.png", "https://g/2.png"])
    await sct.submit_screenshots(run.id, ["https://g/2.png", "https://g/3.png"])
    stored = await runs.require(PluginName.SCT, run.id)
    assert stored.details["screenshots"] == ["https://g/1.png", "https://g/2.png", "https://g/3.png"]


async def test_a_bad_runner_name_changes_nothing(sct: SCTService, runs: RunService, data: FakeSCTData) -> None:
    run = await new_run(runs)
    with pytest.raises(InvalidInput, match="resource name"):
        await sct.set_runner(run.id, public_ip="1.1.1.1", private_ip=None, region=None, backend="aws", name="a/b")
    assert "sct_runner_host" not in (await runs.require(PluginName.SCT, run.id)).details
    assert await data.resources(run.id) == []


async def test_run_fields_of_several_features_are_combined(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)

    async def other(run_id: UUID) -> dict[str, object]:
        return {"nemesis_data": [str(run_id)]}

    fields = await combined(sct.run_fields, other)(run.id)
    assert fields == {"junit_reports": [], "allocated_resources": [], "nemesis_data": [str(run.id)]}


async def test_calls_on_a_missing_or_non_sct_run_are_run_not_found(sct: SCTService, runs: RunService) -> None:
    generic = await new_run(runs, kind=PluginName.GENERIC)
    for run_id in (uuid.uuid4(), generic.id):
        with pytest.raises(RunNotFound):
            await sct.submit_screenshots(run_id, ["x"])
        with pytest.raises(RunNotFound):
            await sct.resources(run_id)


# -- resources ----------------------------------------------------------------------------------

async def test_resource_lifecycle(sct: SCTService, runs: RunService, clock: FakeClock) -> None:
    run = await new_run(runs)
    created_at = int(clock.moment.timestamp())
    info = InstanceInfo(provider="aws", instance_type="i4i.large", region="eu-west-1", public_ip="1.2.3.4",
                        private_ip="10.0.0.4", dc_name="eu-west", rack_name="1a", shards_amount=0,
                        creation_time=5, termination_time=7)
    await sct.create_resource(run.id, name="db-node-1", resource_type="db-node", state=ResourceState.RUNNING,
                              instance=info)
    clock.advance(minutes=1)
    await sct.create_resource(run.id, name="db-node-1", resource_type="loader-node", state=ResourceState.STOPPED,
                              instance=InstanceInfo())  # a re-sent create changes nothing
    created = await sct.resource(run.id, "db-node-1")
    assert (created.resource_type, created.state) == ("db-node", ResourceState.RUNNING)
    assert (created.instance_info.creation_time, created.instance_info.termination_time) == (created_at, 7)

    await sct.update_shards(run.id, "db-node-1", 8)
    applied = await sct.update_resource(run.id, "db-node-1", "stopped",
                                        {"public_ip": "5.6.7.8", "unknown": 1, "shards_amount": 4})
    assert applied == {"state": "stopped", "instance_info": {"public_ip": "5.6.7.8", "shards_amount": 4}}
    assert await sct.update_resource(run.id, "db-node-1", None, {"unknown": 1}) == {}
    clock.advance(minutes=1)
    await sct.terminate_resource(run.id, "db-node-1", "test finished")
    clock.advance(minutes=1)
    await sct.terminate_resource(run.id, "db-node-1", "re-sent")  # a retry keeps the first termination
    clock.advance(minutes=-1)
    final = await sct.resource(run.id, "db-node-1")
    assert final.state is ResourceState.TERMINATED
    assert (final.instance_info.public_ip, final.instance_info.shards_amount) == ("5.6.7.8", 4)
    assert (final.instance_info.termination_reason, final.instance_info.termination_time) == (
        "test finished", int(clock.moment.timestamp()))


async def test_resource_errors(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    for call in (sct.resource(run.id, "nope"), sct.terminate_resource(run.id, "nope", "r"),
                 sct.update_shards(run.id, "nope", 1), sct.update_resource(run.id, "nope", "running", {})):
        with pytest.raises(ResourceNotFound):
            await call
    await sct.create_resource(run.id, name="n", resource_type="db-node", state=ResourceState.RUNNING,
                              instance=InstanceInfo())
    with pytest.raises(InvalidInput, match="ResourceState"):
        await sct.update_resource(run.id, "n", "exploded", {})
    with pytest.raises(InvalidInput, match="instance_info"):
        await sct.update_resource(run.id, "n", None, {"shards_amount": "many"})
    with pytest.raises(InvalidInput, match="negative"):
        await sct.update_shards(run.id, "n", -1)
    for bad in ("", "a/b", "x" * 300):
        with pytest.raises(InvalidInput, match="resource name"):
            await sct.create_resource(run.id, name=bad, resource_type="db-node", state=ResourceState.RUNNING,
                                      instance=InstanceInfo())


async def test_terminating_any_sct_runner_name_terminates_the_runs_runner(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    await sct.set_runner(run.id, public_ip="1.1.1.1", private_ip=None, region="r", backend="aws",
                         name="longevity-sct-runner-abc")
    await sct.terminate_resource(run.id, "sct-runner", "done")
    runner = await sct.resource(run.id, "longevity-sct-runner-abc")
    assert (runner.state, runner.instance_info.termination_reason) == (ResourceState.TERMINATED, "done")
    other = await new_run(runs)
    with pytest.raises(ResourceNotFound):
        await sct.terminate_resource(other.id, "sct-runner", "done")


# -- stress commands and JUnit ------------------------------------------------------------------

async def test_stress_commands_are_keyed_by_utc_time(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    await sct.add_stress_command(run.id, cmd="cassandra-stress write", ts=1717236000.123, log_name="l1",
                                 loader_name="loader-1")
    await sct.add_stress_command(run.id, cmd="cassandra-stress read", ts=1717236000.123, log_name="l2",
                                 loader_name="loader-2")
    await sct.add_stress_command(run.id, cmd="scylla-bench", ts=1717236100, log_name=None, loader_name=None)
    commands = await sct.stress_commands(run.id)
    assert [c.cmd for c in commands] == ["scylla-bench", "cassandra-stress read"]
    assert commands[1].ts.isoformat() == "2024-06-01T10:00:00.123000+00:00"
    with pytest.raises(InvalidInput, match="ts"):
        await sct.add_stress_command(run.id, cmd="x", ts=1e20, log_name=None, loader_name=None)


async def test_junit_reports_are_checked_and_upserted_by_file_name(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    await sct.submit_junit(run.id, "junit.xml", b64('<?xml version="1.0"?><testsuite name="a"/>'))
    await sct.submit_junit(run.id, "junit.xml", b64('<testsuite name="b"/>'))
    fields = await sct.run_fields(run.id)
    assert fields["junit_reports"] == [{"file_name": "junit.xml", "report": '<testsuite name="b"/>'}]
    for content, match in ((b64("<testsuite>"), "Malformed"), ("not base64!", "base64"),
                           (b64('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'), "Malformed"),
                           (base64.b64encode(b"\xff\xfe").decode(), "UTF-8")):
        with pytest.raises(InvalidInput, match=match):
            await sct.submit_junit(run.id, "bad.xml", content)
    assert len((await sct.run_fields(run.id))["junit_reports"]) == 1


# -- gemini and performance ---------------------------------------------------------------------

@pytest.mark.parametrize(("gemini_status", "run_status"), [("PASSED", TestStatus.RUNNING),
                                                           ("FAILED", TestStatus.FAILED),
                                                           (None, TestStatus.FAILED)])
async def test_gemini_fails_the_run_unless_passed(sct: SCTService, runs: RunService, gemini_status: str | None,
                                                  run_status: TestStatus) -> None:
    run = await new_run(runs)
    await runs.set_status(PluginName.SCT, run.id, TestStatus.RUNNING)
    await sct.submit_gemini(run.id, GeminiResults(gemini_status=gemini_status, gemini_seed="42",
                                                  gemini_write_ops=10))
    stored = await runs.require(PluginName.SCT, run.id)
    assert stored.status is run_status
    assert (stored.details["subtest_name"], stored.details["gemini_seed"]) == ("gemini", "42")


def perf(ops: float, p99: float = 10.0, mean: float = 5.0) -> PerformanceResults:
    return PerformanceResults(test_name="perf-test", perf_op_rate_total=ops, perf_avg_latency_99th=p99,
                              perf_avg_latency_mean=mean, histograms=None)


async def perf_run(sct: SCTService, runs: RunService, clock: FakeClock, version: str,
                   results: PerformanceResults) -> TestStatus:
    clock.advance(hours=1)
    run = await new_run(runs)
    await runs.update_product_version(PluginName.SCT, run.id, version)
    return await sct.submit_performance(run.id, results)


async def test_performance_regression_rule(sct: SCTService, runs: RunService, clock: FakeClock) -> None:
    assert await perf_run(sct, runs, clock, "6.0", perf(1000)) is TestStatus.PASSED  # nothing to compare with
    assert await perf_run(sct, runs, clock, "6.0", perf(800)) is TestStatus.PASSED  # same version: a peer
    assert await perf_run(sct, runs, clock, "6.1", perf(950)) is TestStatus.PASSED  # 5% below the best
    assert await perf_run(sct, runs, clock, "6.2", perf(880)) is TestStatus.FAILED  # 12% below 6.0's best
    assert await perf_run(sct, runs, clock, "6.3", perf(1000, p99=11.5)) is TestStatus.FAILED  # latency +15%
    assert await perf_run(sct, runs, clock, "6.4", perf(1000, p99=10.5, mean=5.2)) is TestStatus.PASSED


def test_performance_rule_compares_with_last_and_best_per_version() -> None:
    start = FakeClock().now()

    def earlier(version: str, ops: float, hours: int) -> Run:
        return Run(id=uuid.uuid4(), build_id=BUILD, start_time=start - timedelta(hours=hours),
                   plugin_name=PluginName.SCT, scylla_version=version, details={"perf_op_rate_total": ops})

    history = [earlier("6.0", 500, 1), earlier("6.0", 1000, 2)]  # newest first: last 500, best 1000
    assert performance_status(perf(600), history) is TestStatus.FAILED  # fine against the last, not the best
    assert performance_status(perf(1000), history) is TestStatus.PASSED
    assert performance_status(perf(1000), [earlier("", 5000, 1)]) is TestStatus.PASSED  # no version: no baseline


async def test_performance_accepts_errors_as_text(sct: SCTService, runs: RunService) -> None:
    run = await new_run(runs)
    results = PerformanceResults(test_name="t", perf_total_errors="3", histograms=[{"read": {"percentile_99": 1.5}}])
    assert await sct.submit_performance(run.id, results) is TestStatus.PASSED
    stored = await runs.require(PluginName.SCT, run.id)
    assert (stored.details["perf_total_errors"], stored.details["subtest_name"]) == (3.0, "performance")
    assert stored.details["histograms"] == [{"read": {"percentile_99": 1.5}}]
    with pytest.raises(InvalidInput, match="perf_total_errors"):
        await sct.submit_performance(run.id, PerformanceResults(test_name="t", perf_total_errors="x",
                                                                histograms=None))


# -- configurations -----------------------------------------------------------------------------

def test_flatten_config() -> None:
    content = json.dumps({"cluster": {"nodes": 3, "name": "c1", "tags": ["a"]}, "debug": True, "none": None,
                          "huge": "x" * 2000})
    assert flatten_config("test config.json", content) == {
        "test_config_json.cluster.nodes": "3", "test_config_json.cluster.name": "c1",
        "test_config_json.cluster.tags": '["a"]', "test_config_json.debug": "true", "test_config_json.none": "null"}
    assert flatten_config("a.yaml", "key: value") == {}
    assert flatten_config("list.json", "[1, 2]") == {}


async def test_configs_are_upserted_and_indexed(runs: RunService) -> None:
    configs = FakeConfigs()
    service = RunConfigService(runs, configs)
    run = await new_run(runs, kind=PluginName.GENERIC)  # any run type may upload configurations
    await service.submit(run.id, "sct.json", b64('{"n_db_nodes": 3}'))
    await service.submit(run.id, "sct.json", b64('{"n_db_nodes": 4}'))
    await service.submit(run.id, "test.yaml", b64("n_db_nodes: 4\n"))
    assert [(c.name, c.content) for c in await service.for_run(run.id)] == [
        ("sct.json", '{"n_db_nodes": 4}'), ("test.yaml", "n_db_nodes: 4\n")]
    assert await configs.runs_with("sct_json.n_db_nodes", "4", 10) == [run.id]
    with pytest.raises(RunNotFound):
        await service.submit(uuid.uuid4(), "a", b64("x"))
    with pytest.raises(RunNotFound):
        await service.for_run(uuid.uuid4())
    with pytest.raises(InvalidInput, match="base64"):
        await service.submit(run.id, "a", "%%%")
    with pytest.raises(InvalidInput, match="name"):
        await service.submit(run.id, " ", b64("x"))
