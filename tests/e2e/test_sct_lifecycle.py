"""One whole SCT run, in the order SCT makes its calls, through the real ``ArgusSCTClient``.

The other SCT tests look at each area in depth; this one checks the areas fit together in one run:
submit, running, a heartbeat loop, packages (which later give the results table its SUT time), the
runner, resources through create/update/terminate, nemeses with mixed outcomes, events single and
batched across every severity with a coredump, stress commands, screenshots, a JUnit report, a
configuration file, a results table with ``sut_timestamp`` 0, failed status and finalize. It runs on
SQLite and on Cassandra.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from argus.client.generic_result import ColumnMetadata, ResultType, StaticGenericResultTable, Status, ValidationRule
from argus.client.sct.client import ArgusSCTClient
from argus.client.sct.types import Package
from argus.common.enums import ResourceState
from argus.common.enums import TestStatus as RunStatus

from tests.e2e.test_ci_protocol import Deployment, api_run
from tests.e2e.test_sct_client import JUNIT, SCT, SCT_CONFIG, deployment
from tests.e2e.test_sct_events import SEVERITIES, event

BUILD_ID = "e2e-sct/lifecycle/longevity-50gb-12h"
PACKAGE_DATE = "20250601"
PACKAGE_REVISION = "a1b2c3d4e5"


class Throughput(StaticGenericResultTable):
    """A results table as SCT's performance tests declare them."""

    class Meta:
        name = "Cassandra-stress throughput"
        description = "ops/s per workload"
        Columns = [ColumnMetadata(name="ops", unit="op/s", type=ResultType.FLOAT, higher_is_better=True),
                   ColumnMetadata(name="p99", unit="ms", type=ResultType.FLOAT, higher_is_better=False)]
        ValidationRules = {"ops": ValidationRule(fixed_limit=20_000)}


# ``deployment`` is the per-engine server fixture of the SCT tests; pytest uses fixtures imported here.
__all__ = ["deployment"]


def test_whole_sct_run(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id = deployment, str(uuid.uuid4())
    t0 = int(time.time())
    with ArgusSCTClient(run_id, auth_token=dep.token, base_url=dep.url, log_dir=tmp_path) as client:
        client.submit_sct_run(job_name=BUILD_ID, job_url="https://jenkins.example/job/lifecycle/7/",
                              started_by="jenkins-bot", commit_id="c0ffee", origin_url="https://git.example/sct.git",
                              branch_name="master", sct_config=SCT_CONFIG)
        client.set_sct_run_status(RunStatus.RUNNING)
        beats = []
        for _ in range(3):
            client.sct_heartbeat()
            beats.append(client.get_run()["heartbeat"])
        client.submit_packages([Package(name="scylla-server", version="2025.2.0", date=PACKAGE_DATE,
                                        revision_id=PACKAGE_REVISION, build_id="b-1")])
        client.set_sct_runner(public_ip="1.2.3.4", private_ip="10.0.0.4", region="eu-west-1", backend="aws")
        client.create_resource(name="db-node-1", resource_type="db-cluster", public_ip="1.2.3.5",
                               private_ip="10.0.0.5", instance_type="i4i.2xlarge", region="eu-west-1",
                               provider="aws", dc_name="eu-west", rack_name="1a", shards_amount=8)
        client.update_resource("db-node-1", {"instance_info": {"public_ip": "1.2.3.6"}})
        client.update_shards_for_resource("db-node-1", 16)
        client.submit_nemesis(name="disrupt_kill", class_name="SisyphusMonkey", start_time=t0,
                              target_name="db-node-1", target_ip="10.0.0.5", target_shards=16)
        client.submit_nemesis(name="disrupt_stop", class_name="SisyphusMonkey", start_time=t0 + 1,
                              target_name="db-node-1", target_ip="10.0.0.5", target_shards=16)
        client.finalize_nemesis(name="disrupt_kill", start_time=t0, status="succeeded", message="")
        client.finalize_nemesis(name="disrupt_stop", start_time=t0 + 1, status="failed", message="Traceback: boom")
        client.submit_event(event("NORMAL", t0 + 0.5, "single normal event"))
        client.submit_event([event(severity, t0 + 10 + i, f"{severity} in batch") for i, severity in
                             enumerate(SEVERITIES)])
        client.submit_event(event("ERROR", t0 + 30, "CoredumpEvent node=db-node-1 "
                                  "corefile_url=https://upload.example/core.scylla.1.zst", "CoredumpEvent"))
        client.add_stress_command(command="cassandra-stress write n=1000", ts=t0 + 2.5, log_name="cs-1.log",
                                  loader_name="loader-1")
        client.submit_screenshots(["https://grafana.example/shot-1.png"])
        client.sct_submit_junit_report("junit.xml", JUNIT)
        client.sct_submit_config("test.yaml", "n_db_nodes: 3\n")
        table = Throughput()  # sut_timestamp 0: derived from the scylla-server package
        table.add_result(column="ops", row="write", value=50_000.0, status=Status.UNSET)
        table.add_result(column="p99", row="write", value=3.5, status=Status.UNSET)
        client.submit_results(table)
        client.terminate_resource("db-node-1", "test finished")
        client.set_sct_run_status(RunStatus.FAILED)
        client.finalize_sct_run()

        assert client.get_status() is RunStatus.FAILED
        run = client.get_run()
        resource = client.get_resource("db-node-1")
        nemeses = client.get_nemeses()

    assert beats == sorted(beats)
    assert beats[0] >= t0
    assert run["end_time"] != "1970-01-01T00:00:00.000Z"
    assert run["sct_runner_host"]["public_ip"] == "1.2.3.4"
    assert run["screenshots"] == ["https://grafana.example/shot-1.png"]
    assert ["core.scylla-db-node-1-" + datetime.fromtimestamp(t0 + 30, UTC).strftime("%Y-%m-%d_%H-%M-%S") + ".zst",
            "https://upload.example/core.scylla.1.zst"] in run["logs"]
    assert (resource["state"], resource["instance_info"]["shards_amount"],
            resource["instance_info"]["public_ip"]) == (ResourceState.TERMINATED.value, 16, "1.2.3.6")
    assert resource["instance_info"]["termination_reason"] == "test finished"
    assert [(n["name"], n["status"]) for n in nemeses] == [("disrupt_kill", "succeeded"), ("disrupt_stop", "failed")]

    page = api_run(dep, SCT, run_id)
    assert page["status"] == "failed"
    assert page["nemesis_stats"] == {"total": 2, "succeeded": 1, "failed": 1}
    assert page["event_counts"] == {"CRITICAL": 1, "ERROR": 2, "WARNING": 1, "NORMAL": 2, "DEBUG": 1}
    assert [r["file_name"] for r in page["junit_reports"]] == ["junit.xml"]
    assert {r["name"] for r in page["allocated_resources"]} >= {"db-node-1", "sct-runner"}

    expected_sut = datetime.strptime(PACKAGE_DATE, "%Y%m%d").replace(tzinfo=UTC).timestamp() + (
        int(PACKAGE_REVISION, 16) % 1_000_000) / 1_000_000
    with httpx.Client(base_url=dep.url, headers={"Authorization": f"token {dep.token}"}) as http:
        tables = http.get(f"/api/v1/run/{page['test_id']}/{run_id}/fetch_results").json()["tables"]
        [fetched] = tables
        assert fetched["Cassandra-stress throughput"]["table_status"] == "PASS"
        history = http.get(f"/api/v1/test/{page['test_id']}/results/history").json()["response"]
    [point] = history[0]["series"]["ops"]
    stored_sut = datetime.fromisoformat(point["sut_timestamp"].replace("Z", "+00:00")).timestamp()
    assert stored_sut == pytest.approx(expected_sut, abs=0.001)
