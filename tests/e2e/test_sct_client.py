"""SCT runs end to end: a real ``argus serve`` (SQLite, then Cassandra) driven by the real ``ArgusSCTClient``.

The scenario follows an SCT longevity job: submit with its configuration, runner, packages,
resources through their whole life, stress commands, screenshots, a JUnit report, a configuration
file, Gemini and performance results and the legacy events call. Every stored field is read back
through the client's getters and through ``GET /api/v1/run/scylla-cluster-tests/{id}``; then every
POST the client recorded is re-sent, as a retrying client would, and nothing may change.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argus.client.sct.client import ArgusSCTClient
from argus.client.sct.types import EventsInfo, Package
from argus.common.enums import ResourceState
from argus.common.enums import TestStatus as RunStatus

from tests.conftest import CassandraNode
from tests.e2e.conftest import ArgusServer, ServerPool, base_env, create_token, run_argus
from tests.e2e.test_ci_protocol import Deployment, api_run, assert_catalogued, ok, recorded_posts, replay

SCT = "scylla-cluster-tests"
BUILD_ID = "e2e-sct/longevity/longevity-10gb-3h"
JOB_URL = "https://jenkins.example/job/e2e-sct/job/longevity/job/longevity-10gb-3h/42/"
SCT_CONFIG: dict[str, Any] = {
    "cluster_backend": "aws", "region_name": "eu-west-1 us-east-1", "n_db_nodes": "3 3", "n_loaders": 2,
    "n_monitor_nodes": 1, "ami_id_db_scylla": "ami-0db", "instance_type_db": "i4i.2xlarge",
    "ami_id_loader": "ami-0loader", "instance_type_loader": "c6i.2xlarge", "ami_id_monitor": "ami-0monitor",
    "instance_type_monitor": "t3.large", "post_behavior_db_nodes": "destroy", "post_behavior_loader_nodes": "destroy",
    "post_behavior_monitor_nodes": "keep-on-failure", "stress_duration": 180,
    "config_files": ["test-cases/longevity/longevity-10gb-3h.yaml", "configurations/network_config/ipv6.yaml"],
    "test_method": "longevity_test.LongevityTest.test_custom_time", "gce_datacenter": "us-east1",
    "stress_cmd": ["cassandra-stress write cl=QUORUM duration=180m"], "user_prefix": "longevity-10gb-3h",
}
JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="longevity" tests="1" failures="0">
<testcase classname="longevity_test.LongevityTest" name="test_custom_time" time="10800.0"/>
</testsuite></testsuites>
"""
GEMINI = {"oracle_nodes_count": 1, "oracle_node_ami_id": "ami-0oracle", "oracle_node_instance_type": "i4i.large",
          "oracle_node_scylla_version": "2024.1.5", "gemini_command": "gemini --duration 3h",
          "gemini_version": "1.8.6", "gemini_status": "FAILED", "gemini_seed": "1234",
          "gemini_write_ops": 1000, "gemini_write_errors": 2, "gemini_read_ops": 900, "gemini_read_errors": 0}
HISTOGRAM = {"start_time": 1717236000, "end_time": 1717239600.0, "percentile_50": 1.1, "percentile_90": 2.2,
             "percentile_95": 3.3, "percentile_99": 4.4, "percentile_99_9": 5.5, "percentile_99_99": 6.6,
             "percentile_99_999": 7.7, "stddev": 0.5}
PERFORMANCE = {"test_name": "longevity_test.LongevityTest.test_custom_time",
               "stress_cmd": "cassandra-stress write cl=QUORUM duration=180m", "perf_op_rate_average": 50000.5,
               "perf_op_rate_total": 150000.0, "perf_avg_latency_99th": 4.5, "perf_avg_latency_mean": 1.2,
               "perf_total_errors": "0", "histograms": [{"WRITE": HISTOGRAM}]}


@pytest.fixture(scope="module", params=["sqlite", "scylla"])
def deployment(request: pytest.FixtureRequest, module_pool: ServerPool,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """``argus serve`` (embedded broker) on SQLite, or on a Cassandra keyspace of its own."""
    data_dir = tmp_path_factory.mktemp(f"sct-{request.param}")
    settings: dict[str, str] = {}
    node: CassandraNode | None = None
    keyspace = f"e2e_sct_{uuid.uuid4().hex[:12]}"
    if request.param == "scylla":
        node = request.getfixturevalue("cassandra_node")
        settings = {"ARGUS_STORAGE_ENGINE": "scylla", "ARGUS_STORAGE_SCYLLA_HOSTS": ",".join(node.hosts),
                    "ARGUS_STORAGE_SCYLLA_PORT": str(node.port), "ARGUS_STORAGE_SCYLLA_KEYSPACE": keyspace}
    env = base_env(data_dir, **settings)
    server: ArgusServer | None = None
    try:
        migrated = run_argus("migrate", env=env, timeout=240)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        server = module_pool.start(env)
        yield Deployment(request.param, server, create_token(env), data_dir)
    finally:
        if server is not None:
            server.stop()
        if node is not None:
            node.drop_keyspace_soon(keyspace)


def sct_state(dep: Deployment, run_id: str) -> dict[str, Any]:
    """What a retry could change: the run page, stress commands and configurations (heartbeat aside)."""
    run = api_run(dep, SCT, run_id)
    run.pop("heartbeat")
    with dep.http() as http:
        stress = ok(http.get(f"/api/v1/client/sct/{run_id}/stress_cmd/get"))
        configs = ok(http.get(f"/api/v1/client/{run_id}/config/all"))
    return {"run": run, "stress": stress, "configs": configs}


def test_sct_run_through_the_client(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    began = int(time.time())
    with ArgusSCTClient(run_id, auth_token=dep.token, base_url=dep.url, log_dir=log_dir) as client:
        client.submit_sct_run(job_name=BUILD_ID, job_url=JOB_URL, started_by="jenkins-bot", commit_id="f00dcafe",
                              origin_url="https://github.com/scylladb/scylla-cluster-tests.git",
                              branch_name="master", sct_config=SCT_CONFIG)
        submitted = client.get_run()
        assert client.get_status() is RunStatus.CREATED
        test = assert_catalogued(dep, submitted, SCT)
        assert (submitted["build_number"], submitted["build_job_url"]) == (42, JOB_URL)
        assert {key: submitted[key] for key in ("commit_id", "scm_revision_id", "origin_url", "branch_name",
                                                "stress_duration", "region_name", "config_files", "test_method")} == {
            "commit_id": "f00dcafe", "scm_revision_id": "f00dcafe",
            "origin_url": "https://github.com/scylladb/scylla-cluster-tests.git", "branch_name": "master",
            "stress_duration": 180.0, "region_name": ["eu-west-1", "us-east-1"],
            "config_files": SCT_CONFIG["config_files"], "test_method": SCT_CONFIG["test_method"]}
        assert submitted["cloud_setup"] == {
            "backend": "aws",
            "db_node": {"image_id": "ami-0db", "instance_type": "i4i.2xlarge", "node_amount": 6,
                        "post_behaviour": "destroy"},
            "loader_node": {"image_id": "ami-0loader", "instance_type": "c6i.2xlarge", "node_amount": 2,
                            "post_behaviour": "destroy"},
            "monitor_node": {"image_id": "ami-0monitor", "instance_type": "t3.large", "node_amount": 1,
                             "post_behaviour": "keep-on-failure"}}
        client.set_sct_run_status(RunStatus.RUNNING)

        # Runner and packages: the target package sets the version, which a later product version keeps.
        client.set_sct_runner(public_ip="3.3.3.3", private_ip="10.0.0.3", region="eu-west-1", backend="aws")
        server = Package("scylla-server", "2024.2.0", "20240601", "abcdef12", "build-1")
        target = Package("scylla-server-target", "2024.2.1", "20240701", "12345678", "build-2")
        client.submit_packages([server, Package("kernel", "6.8.0", "", "", "")])
        client.submit_packages([server, target])
        client.update_scylla_version("2099.1.0")

        # Resources through their life.
        client.create_resource("db-node-1", "db-node", "1.1.1.1", "10.0.0.1", "i4i.2xlarge", "eu-west-1", "aws",
                               "eu-west", "1a", 0)
        client.create_resource("loader-1", "loader-node", "2.2.2.2", "10.0.0.2", "c6i.2xlarge", "eu-west-1", "aws",
                               "eu-west", "1b", 0, state=ResourceState.STOPPED)
        client.update_shards_for_resource("db-node-1", 8)
        client.update_resource("loader-1", {"state": "running", "instance_info": {"public_ip": "2.2.2.9"}})
        with dep.http() as http:
            answer = ok(http.post(f"/api/v1/client/sct/{run_id}/resource/db-node-1/update",
                                  json={"update_data": {"instance_info": {"rack_name": "1c", "bogus": 1}}}))
        assert answer == {"state": "updated", "fields": {"instance_info": {"rack_name": "1c"}}}
        client.terminate_resource("db-node-1", "test finished")
        client.terminate_resource("sct-runner", "runner released")

        client.add_stress_command("cassandra-stress write cl=QUORUM", 1717236000.1234, "cs-write.log", "loader-1")
        client.add_stress_command("cassandra-stress read cl=QUORUM", 1717236060.5, "cs-read.log", "loader-1")
        client.submit_screenshots(["https://grafana.example/1.png", "https://grafana.example/2.png"])
        client.submit_screenshots(["https://grafana.example/2.png"])
        client.sct_submit_junit_report("junit.xml", JUNIT)
        client.sct_submit_config("test_config.json", json.dumps({"cluster_backend": "aws", "n_db_nodes": "3 3"}))
        client.sct_submit_config("longevity-10gb-3h.yaml", "n_db_nodes: 3\n")

        client.submit_gemini_results(GEMINI)
        assert client.get_status() is RunStatus.FAILED  # Gemini did not pass
        client.submit_performance_results(PERFORMANCE)
        assert client.get_status() is RunStatus.PASSED  # no earlier version to regress against
        client.submit_events([EventsInfo("ERROR", 1, ["legacy summary"])])

        resources = {r["name"]: r for r in client.get_resources()}
        assert client.get_resource("loader-1") == resources["loader-1"]
        final = client.get_run()

    now = int(time.time())
    assert set(resources) == {"db-node-1", "loader-1", "sct-runner"}
    db = resources["db-node-1"]
    assert (db["run_id"], db["state"], db["resource_type"]) == (run_id, "terminated", "db-node")
    info = db["instance_info"]
    assert began <= info["creation_time"] <= info["termination_time"] <= now
    assert {k: v for k, v in info.items() if k not in ("creation_time", "termination_time")} == {
        "provider": "aws", "instance_type": "i4i.2xlarge", "region": "eu-west-1", "public_ip": "1.1.1.1",
        "private_ip": "10.0.0.1", "dc_name": "eu-west", "rack_name": "1c", "termination_reason": "test finished",
        "shards_amount": 8}
    loader = resources["loader-1"]
    assert (loader["state"], loader["instance_info"]["public_ip"], loader["instance_info"]["termination_time"]) == (
        "running", "2.2.2.9", 0)
    runner = resources["sct-runner"]
    assert (runner["state"], runner["resource_type"], runner["instance_info"]["termination_reason"]) == (
        "terminated", "sct-runner", "runner released")
    assert (runner["instance_info"]["public_ip"], runner["instance_info"]["provider"]) == ("3.3.3.3", "aws")

    assert final["sct_runner_host"] == {"public_ip": "3.3.3.3", "private_ip": "10.0.0.3", "provider": "aws",
                                        "region": "eu-west-1"}
    assert final["packages"] == [
        {"name": "scylla-server", "version": "2024.2.0", "date": "20240601", "revision_id": "abcdef12",
         "build_id": "build-1"},
        {"name": "kernel", "version": "6.8.0", "date": "", "revision_id": "", "build_id": ""},
        {"name": "scylla-server-target", "version": "2024.2.1", "date": "20240701", "revision_id": "12345678",
         "build_id": "build-2"}]
    assert (final["scylla_version"], final["version_source"]) == ("2024.2.1", "scylla-server-target")
    assert final["screenshots"] == ["https://grafana.example/1.png", "https://grafana.example/2.png"]
    assert {key: final[key] for key in GEMINI} == GEMINI
    assert {key: final[key] for key in PERFORMANCE} == {**PERFORMANCE, "perf_total_errors": 0.0}
    assert (final["subtest_name"], final["status"], final["test_id"]) == ("performance", "passed", test["id"])
    assert final["junit_reports"] == [{"file_name": "junit.xml", "report": JUNIT}]
    assert final["allocated_resources"] == sorted(resources.values(), key=lambda r: r["name"])

    document = api_run(dep, SCT, run_id)
    assert {k: v for k, v in document.items() if k != "heartbeat"} == {
        k: v for k, v in final.items() if k != "heartbeat"}
    with dep.http() as http:
        stress = ok(http.get(f"/api/v1/client/sct/{run_id}/stress_cmd/get"))
        configs = ok(http.get(f"/api/v1/client/{run_id}/config/all"))
    assert stress == [
        {"run_id": run_id, "ts": "2024-06-01T10:01:00.500Z", "cmd": "cassandra-stress read cl=QUORUM",
         "log_name": "cs-read.log", "node_name": "loader-1"},
        {"run_id": run_id, "ts": "2024-06-01T10:00:00.123Z", "cmd": "cassandra-stress write cl=QUORUM",
         "log_name": "cs-write.log", "node_name": "loader-1"}]
    assert configs == [
        {"run_id": run_id, "name": "longevity-10gb-3h.yaml", "content": "n_db_nodes: 3\n"},
        {"run_id": run_id, "name": "test_config.json", "content": '{"cluster_backend": "aws", "n_db_nodes": "3 3"}'}]
    assert base64.b64decode(base64.encodebytes(JUNIT.encode())).decode() == final["junit_reports"][0]["report"]

    # Every POST re-sent, as a client retrying after a timeout would: nothing changes.
    records = recorded_posts(log_dir)
    assert len(records) == 22, [r["endpoint"] for r in records]
    before = sct_state(dep, run_id)
    replay(dep, records)
    assert sct_state(dep, run_id) == before
