"""The CI protocol end to end: real ``argus serve`` processes driven by the real ``argus-alm`` client.

Every scenario runs once per storage engine (SQLite and Cassandra/ScyllaDB, one server each for the
whole module). CI talks to the server only through the ``argus-alm`` classes and console scripts
installed in the virtualenv (and, for ``pytest-argus-reporter``, through the same raw calls that
plugin makes). After each scenario the stored state is read back three ways and checked field by
field: through the client (``get_run``/``get_status``), through the JSON API
(``GET /api/v1/run/{type}/{id}``) and through the catalogue the build id must have created.

Idempotency: the client writes every POST it sends to its replay log (JSONL in ``log_dir``). Each
scenario ends by re-sending every one of those requests with plain httpx, as a client retrying after
a timeout would, and by checking that nothing stored changed (``heartbeat`` aside). Re-sends that
overlap the first attempt, and parallel jobs auto-creating one release, are covered too.

The oldest ``argus-alm`` 0.16.x that installs is exercised from its own virtualenv, cached at
``.venv-argus-alm-old/`` in the repository, by ``old_client_scenario.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argus.client.base import ArgusClientError
from argus.client.driver_matrix_tests.client import ArgusDriverMatrixClient
from argus.client.generic.client import ArgusGenericClient
from argus.client.generic_result import (
    ColumnMetadata,
    GenericResultTable,
    ResultType,
    StaticGenericResultTable,
    Status,
    ValidationRule,
)
from argus.client.sct.types import LogLink
from argus.client.sirenada.client import ArgusSirenadaClient
from argus.client.types import CostItem
from argus.common.enums import TestStatus as RunStatus

from tests.conftest import CassandraNode
from tests.e2e.conftest import REPO, ArgusServer, ServerPool, base_env, create_token, run_argus

FIXTURES = REPO / "tests" / "fixtures" / "driver_matrix"
BIN = Path(sys.executable).parent
GENERIC_CLI = str(BIN / "argus-client-generic")
MATRIX_CLI = str(BIN / "argus-driver-matrix-client")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
EPOCH = "1970-01-01T00:00:00.000Z"
SUT_TIMESTAMP = 1717200000  # 2024-06-01T00:00:00Z: non-SCT results need an explicit SUT time

OLDEST_ARGUS_ALM = "0.16.0"  # 0.16.0 is the first 0.16 release on PyPI, and it installs and works
OLD_VENV = REPO / ".venv-argus-alm-old"
OLD_SCENARIO = Path(__file__).with_name("old_client_scenario.py")

RUN_FIELDS = {"id", "build_id", "start_time", "release_id", "group_id", "test_id", "assignee", "status",
              "investigation_status", "heartbeat", "end_time", "build_job_url", "build_number", "product_version",
              "scylla_version", "started_by", "logs"}


# --- one server per storage engine, shared by the module ---------------------------------------------
@dataclass
class Deployment:
    engine: str
    server: ArgusServer
    token: str
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def http(self) -> httpx.Client:
        """A JSON API client that authenticates as the CI account."""
        return httpx.Client(base_url=self.url, timeout=30.0, headers={"Authorization": f"token {self.token}"})


@pytest.fixture(scope="module", params=["sqlite", "scylla"])
def deployment(request: pytest.FixtureRequest, module_pool: ServerPool,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """``argus serve`` (embedded broker) on SQLite, or on a keyspace ``e2e_<hex>`` of its own."""
    engine = request.param
    data_dir = tmp_path_factory.mktemp(f"ci-{engine}")
    node: CassandraNode | None = None
    keyspace = ""
    settings: dict[str, str] = {}
    if engine == "scylla":
        node = request.getfixturevalue("cassandra_node")
        keyspace = f"e2e_{uuid.uuid4().hex[:12]}"
        settings = {"ARGUS_STORAGE_ENGINE": "scylla", "ARGUS_STORAGE_SCYLLA_HOSTS": ",".join(node.hosts),
                    "ARGUS_STORAGE_SCYLLA_PORT": str(node.port), "ARGUS_STORAGE_SCYLLA_KEYSPACE": keyspace}
    env = base_env(data_dir, **settings)
    server: ArgusServer | None = None
    try:
        migrated = run_argus("migrate", env=env, timeout=240)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        token = create_token(env)
        server = module_pool.start(env)
        yield Deployment(engine, server, token, data_dir)
    finally:
        if server is not None:
            server.stop()
        if node is not None:
            node.drop_keyspace_soon(keyspace)


# --- reading state back ---------------------------------------------------------------------------------
def ok(response: httpx.Response) -> Any:
    """The payload of an HTTP 200 success envelope."""
    assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text[:2000]}"
    body = response.json()
    assert body["status"] == "ok", body
    assert set(body) == {"status", "response"}, body
    return body["response"]


def api_run(dep: Deployment, run_type: str, run_id: str) -> dict[str, Any]:
    """The run as the UI reads it: ``GET /api/v1/run/{type}/{id}``."""
    with dep.http() as http:
        return ok(http.get(f"/api/v1/run/{run_type}/{run_id}"))


def fetch_results(dep: Deployment, test_id: str, run_id: str) -> dict[str, Any]:
    with dep.http() as http:
        response = http.get(f"/api/v1/run/{test_id}/{run_id}/fetch_results")
    assert response.status_code == 200, response.text
    return response.json()


def catalogue_of(dep: Deployment, build_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Release, group and test a ``release/folder/test`` build id was placed in, read through the API."""
    release_name, *folders, test_name = build_id.split("/")
    group_name = "-".join(folders)
    with dep.http() as http:
        releases = [r for r in ok(http.get("/api/v1/releases")) if r["name"] == release_name]
        assert len(releases) == 1, releases
        groups = [g for g in ok(http.get("/api/v1/groups", params={"releaseId": releases[0]["id"]}))
                  if g["name"] == group_name]
        assert len(groups) == 1, groups
        tests = [t for t in ok(http.get("/api/v1/tests", params={"groupId": groups[0]["id"]}))
                 if t["name"] == test_name]
        assert len(tests) == 1, tests
    return releases[0], groups[0], tests[0]


def assert_catalogued(dep: Deployment, run: dict[str, Any], plugin_name: str) -> dict[str, Any]:
    """The run's build id auto-created its release, group and test, and the test took the run's type."""
    release, group, test = catalogue_of(dep, run["build_id"])
    assert group["release_id"] == release["id"]
    assert (test["group_id"], test["release_id"]) == (group["id"], release["id"])
    assert test["build_system_id"] == run["build_id"]
    assert test["plugin_name"] == plugin_name
    assert (run["release_id"], run["group_id"], run["test_id"]) == (release["id"], group["id"], test["id"])
    return test


def assert_fresh_datetime(value: str) -> None:
    assert DATETIME.match(value), value
    assert value != EPOCH


def without_heartbeat(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "heartbeat"}


# --- replaying what the client sent -----------------------------------------------------------------------
def recorded_posts(log_dir: Path) -> list[dict[str, Any]]:
    """Every POST the clients (classes and CLIs) wrote to their replay logs in ``log_dir``, oldest first."""
    records = [json.loads(line) for path in sorted(log_dir.glob("argus_replay_log_*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(records, key=lambda record: record["ts"])


def replay(dep: Deployment, records: list[dict[str, Any]]) -> None:
    """Re-send each recorded POST with httpx, byte-for-byte the same JSON body; each answers as it did."""
    with dep.http() as http:
        for record in records:
            endpoint = record["endpoint"]
            for name, value in (record["location_params"] or {}).items():
                endpoint = endpoint.replace(f"${name}", str(value))
            response = http.post(f"/api/v1/client{endpoint}", params=record["params"], json=record["body"])
            assert response.status_code == 200, (record["endpoint"], response.text)
            assert (response.json()["status"] == "ok") is record["success"], (record, response.text)


def assert_replay_changes_nothing(dep: Deployment, log_dir: Path, expected_posts: int,
                                  snapshot: Callable[[], Any]) -> None:
    """Scenario step (f): every POST sent again leaves the stored state as it was."""
    records = recorded_posts(log_dir)
    assert len(records) == expected_posts, [r["endpoint"] for r in records]
    before = snapshot()
    replay(dep, records)
    assert snapshot() == before


def run_snapshot(dep: Deployment, run_type: str, *run_ids: str) -> Callable[[], Any]:
    """Runs (read through the JSON API) and the whole catalogue, heartbeats aside."""
    def snapshot() -> Any:
        with dep.http() as http:
            releases = ok(http.get("/api/v1/releases", params={"all": 1}))
            groups = {r["id"]: ok(http.get("/api/v1/groups", params={"releaseId": r["id"], "all": 1}))
                      for r in releases}
            tests = {g["id"]: ok(http.get("/api/v1/tests", params={"groupId": g["id"], "all": 1}))
                     for gs in groups.values() for g in gs}
        runs = [without_heartbeat(api_run(dep, run_type, run_id)) for run_id in run_ids]
        return {"runs": runs, "releases": releases, "groups": groups, "tests": tests}
    return snapshot


# --- console scripts -------------------------------------------------------------------------------------
def cli_env(dep: Deployment) -> dict[str, str]:
    """A CI job's environment: the token in ARGUS_AUTH_TOKEN, no inherited Argus or Jenkins variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ARGUS_") and k not in {"JOB_NAME", "BUILD_NUMBER", "BUILD_URL"}}
    env["ARGUS_AUTH_TOKEN"] = dep.token
    return env


def run_cli(dep: Deployment, script: str, command: str, *args: str, log_dir: Path,
            jenkins: dict[str, str] | None = None) -> str:
    """Run a console script; ``jenkins`` adds JOB_NAME/BUILD_* (the client then sends X-Argus-Build-* headers)."""
    done = subprocess.run([script, command, "--base-url", dep.url, "--log-dir", str(log_dir), *args],
                          env={**cli_env(dep), **(jenkins or {})}, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, f"{Path(script).name} {command} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done.stdout


# ==========================================================================================================
# a. generic runs through ArgusGenericClient
# ==========================================================================================================
GENERIC_VERSION = "2024.2.0~rc1-0.20240601.abcdef1"


def test_generic_run_lifecycle(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    build_id = "e2e-generic/nightly/dtest-smoke"
    build_url = "https://jenkins.example/job/e2e-generic/job/nightly/job/dtest-smoke/57/"
    began = int(time.time())
    with ArgusGenericClient(auth_token=dep.token, base_url=dep.url, log_dir=log_dir, run_id=run_id) as client:
        client.submit_generic_run(build_id=build_id, run_id=run_id, started_by="jenkins-bot", build_url=build_url,
                                  sub_type="dtest", scylla_version=GENERIC_VERSION)
        submitted = client.get_run()
        assert client.get_status() is RunStatus.RUNNING
        test = assert_catalogued(dep, submitted, "generic")
        assert set(submitted) == RUN_FIELDS | {"sub_type"}
        assert submitted == {
            "id": run_id, "build_id": build_id, "start_time": submitted["start_time"],
            "release_id": test["release_id"], "group_id": test["group_id"], "test_id": test["id"],
            "assignee": None, "status": "running", "investigation_status": "not_investigated",
            "heartbeat": submitted["heartbeat"], "end_time": EPOCH, "build_job_url": build_url, "build_number": 57,
            "product_version": GENERIC_VERSION, "scylla_version": "2024.2.0~rc1", "started_by": "jenkins-bot",
            "logs": {}, "sub_type": "dtest"}
        assert_fresh_datetime(submitted["start_time"])
        assert began - 1 <= submitted["heartbeat"] <= time.time() + 1

        client.heartbeat("generic", run_id)
        assert client.get_run()["heartbeat"] >= submitted["heartbeat"]

        answer = client.update_product_version("generic", run_id, "2024.2.1-0.20240715.fedcba9")
        assert answer.json() == {"status": "ok", "response": "Submitted"}

        # The first terminal status stamps end_time (the existing service left it to finalize).
        assert client.set_status("generic", run_id, RunStatus.ERROR).json() == {"status": "ok", "response": "error"}
        errored = client.get_run()
        assert client.get_status() is RunStatus.ERROR
        assert_fresh_datetime(errored["end_time"])
        assert (errored["product_version"], errored["scylla_version"]) == ("2024.2.1-0.20240715.fedcba9",
                                                                           "2024.2.1")

        # Generic runs accept log links (the existing service refused them); a known name keeps its first link.
        first = client.submit_logs("generic", run_id, [LogLink("dtest.log", "https://logs.example/57/dtest.log"),
                                                       LogLink("node1.tar.gz", "https://logs.example/57/node1")])
        assert first.json() == {"status": "ok", "response": "Submitted"}
        client.submit_logs("generic", run_id, [LogLink("dtest.log", "https://elsewhere.example/dtest.log"),
                                               LogLink("node2.tar.gz", "https://logs.example/57/node2")])

        # Costs (argus-alm 0.16.5+): a repeated estimate replaces the value, a repeated item name the item.
        client.set_estimated_cost(run_id, 10.0)
        client.set_estimated_cost(run_id, 12.5)
        client.submit_cost_items(run_id, [CostItem("db-node-1", "compute", 3.25, "on-demand"),
                                          CostItem("s3-logs", "storage", 0.1)])
        client.submit_cost_items(run_id, [CostItem("db-node-1", "compute", 4.0, "spot", leaked=True)])

        client.finalize_generic_run(run_id=run_id, status="passed")
        final = client.get_run()
        assert client.get_status() is RunStatus.PASSED

    assert final == {**errored, "heartbeat": final["heartbeat"], "status": "passed", "logs": {
        "dtest.log": "https://logs.example/57/dtest.log", "node1.tar.gz": "https://logs.example/57/node1",
        "node2.tar.gz": "https://logs.example/57/node2"},
        "estimated_cost": 12.5, "actual_cost": 4.1, "cost_items": {
            "db-node-1": {"name": "db-node-1", "category": "compute", "cost": 4.0, "pricing_tier": "spot",
                          "leaked": True},
            "s3-logs": {"name": "s3-logs", "category": "storage", "cost": 0.1, "pricing_tier": None,
                        "leaked": False}}}
    assert final["end_time"] == errored["end_time"], "finalize keeps the end_time the terminal status stamped"
    assert api_run(dep, "generic", run_id) == final

    assert_replay_changes_nothing(dep, log_dir, 11, run_snapshot(dep, "generic", run_id))


class ThroughputTable(StaticGenericResultTable):
    class Meta:
        name = "Throughput"
        description = "cassandra-stress, 3 nodes"
        Columns = [ColumnMetadata(name="ops", unit="op/s", type=ResultType.FLOAT, higher_is_better=True),
                   ColumnMetadata(name="p99", unit="ms", type=ResultType.DURATION, higher_is_better=False),
                   ColumnMetadata(name="node", unit="", type=ResultType.TEXT),
                   ColumnMetadata(name="debug", unit="", type=ResultType.INTEGER, visible=False)]
        ValidationRules = {"ops": ValidationRule(best_pct=10), "p99": ValidationRule(fixed_limit=50)}


def _column(name: str, unit: str, kind: str, higher_is_better: bool | None) -> dict[str, Any]:
    return {"name": name, "unit": unit, "type": kind, "higher_is_better": higher_is_better, "visible": True}


def _cell(value: Any, status: str, kind: str) -> dict[str, Any]:
    return {"value": value, "status": status, "type": kind}


def test_generic_results_tables(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    build_id = "e2e-generic/nightly/perf-regression"
    with ArgusGenericClient(auth_token=dep.token, base_url=dep.url, log_dir=log_dir, run_id=run_id) as client:
        client.submit_generic_run(build_id=build_id, run_id=run_id, started_by="jenkins-bot",
                                  build_url="https://jenkins.example/job/perf-regression/3/", sub_type="perf")

        throughput = ThroughputTable(sut_timestamp=SUT_TIMESTAMP)
        throughput.add_result("ops", "write", 51234.5, Status.UNSET)
        throughput.add_result("p99", "write", 3.5, Status.UNSET)
        throughput.add_result("node", "write", "node-1", Status.UNSET)
        throughput.add_result("debug", "write", 7, Status.UNSET)
        throughput.add_result("ops", "read", 48000, Status.UNSET)
        throughput.add_result("p99", "read", 4.25, Status.UNSET)
        client.submit_results(throughput)

        compaction = GenericResultTable(
            name="Compaction", description="major compaction", sut_timestamp=SUT_TIMESTAMP,
            columns=[ColumnMetadata(name="duration", unit="HH:MM:SS", type=ResultType.DURATION),
                     ColumnMetadata(name="sstables", unit="", type=ResultType.INTEGER)])
        compaction.add_result("duration", "major", 125.0, Status.PASS)
        compaction.add_result("sstables", "major", 12, Status.WARNING)
        client.submit_results(compaction)

        latency = GenericResultTable(
            name="Latency", description="p99 under mixed load", sut_timestamp=SUT_TIMESTAMP,
            columns=[ColumnMetadata(name="p99", unit="ms", type=ResultType.FLOAT, higher_is_better=False)],
            validation_rules={"p99": ValidationRule(fixed_limit=10.0)})
        latency.add_result("p99", "mixed", 15.5, Status.UNSET)
        latency.add_result("p99", "read", 4.0, Status.UNSET)
        with pytest.raises(ArgusClientError) as failure:
            client.submit_results(latency)  # stored all the same: CI's "performance regression" signal
        assert "DataValidationError" in str(failure.value.args[1]), failure.value.args

        client.finalize_generic_run(run_id=run_id, status="failed")
        run = client.get_run()
    test = assert_catalogued(dep, run, "generic")
    assert run["status"] == "failed"

    fetched = fetch_results(dep, test["id"], run_id)
    assert set(fetched) == {"status", "tables"}
    assert fetched["status"] == "ok"
    assert [list(table) for table in fetched["tables"]] == [["Throughput"], ["Compaction"], ["Latency"]]
    tables = {name: table for entry in fetched["tables"] for name, table in entry.items()}

    tp = tables["Throughput"]
    assert tp["description"] == "cassandra-stress, 3 nodes"
    assert tp["columns"] == [_column("ops", "op/s", "FLOAT", True), _column("p99", "ms", "DURATION", False),
                             _column("node", "", "TEXT", None)], "the invisible column is not listed"
    assert tp["rows"] == ["write", "read"]
    for row in tp["table_data"].values():
        row.pop("debug", None)
    assert tp["table_data"] == {
        "write": {"ops": _cell(51234.5, "PASS", "FLOAT"), "p99": _cell(3.5, "PASS", "DURATION"),
                  "node": _cell("node-1", "UNSET", "TEXT")},
        "read": {"ops": _cell(48000, "PASS", "FLOAT"), "p99": _cell(4.25, "PASS", "DURATION")}}
    assert tp["table_status"] == "PASS"

    assert tables["Compaction"] == {
        "description": "major compaction",
        "columns": [_column("duration", "HH:MM:SS", "DURATION", None), _column("sstables", "", "INTEGER", None)],
        "rows": ["major"],
        "table_data": {"major": {"duration": _cell(125.0, "PASS", "DURATION"),
                                 "sstables": _cell(12, "WARNING", "INTEGER")}},
        "table_status": "WARNING"}
    assert tables["Latency"] == {
        "description": "p99 under mixed load", "columns": [_column("p99", "ms", "FLOAT", False)],
        "rows": ["mixed", "read"],
        "table_data": {"mixed": {"p99": _cell(15.5, "ERROR", "FLOAT")}, "read": {"p99": _cell(4.0, "PASS", "FLOAT")}},
        "table_status": "ERROR"}

    def snapshot() -> Any:
        return run_snapshot(dep, "generic", run_id)(), fetch_results(dep, test["id"], run_id)

    assert_replay_changes_nothing(dep, log_dir, 5, snapshot)


# ==========================================================================================================
# b. driver-matrix through the argus-driver-matrix-client CLI and ArgusDriverMatrixClient
# ==========================================================================================================
MATRIX_BUILD_ID = "e2e-matrix/drivers/scylla-master-driver-matrix"
BUILD_ENV = (FIXTURES / "Build-00.txt").read_text(encoding="utf-8")
ENV_VERSION = "2024.2.0~rc1-0.20240512.6b0b8bb3f7e2"
ENVIRONMENT_INFO = [
    {"key": "scylla-version", "value": ENV_VERSION},
    {"key": "scylla-package", "value": "https://downloads.scylladb.com/unstable/scylla/master/relocatable/"
                                       "2024-05-12T01:23:45Z/scylla-unified-2024.2.0~rc1-0.20240512.6b0b8bb3f7e2"
                                       ".x86_64.tar.gz"},
    {"key": "build-id", "value": "6b0b8bb3f7e2d1f46a2f19e4c1ea6b3f7a0c2e91"},
    {"key": "build-date", "value": "2024-05-12 01:23:45"},
    {"key": "os", "value": "Ubuntu 22.04.4 LTS"},
    {"key": "java-version", "value": 'openjdk version "1.8.0_402"'},
    {"key": "python-version", "value": "3.11.4"},
]
COLLECTION_FIELDS = ["name", "driver", "tests_total", "failures", "errors", "disabled", "skipped", "passed", "time",
                     "timestamp", "failure_message", "suites"]


def _metadata(directory: Path, driver_name: str, driver_type: str, xml: str | None = None,
              failure_reason: str | None = None) -> str:
    """A driver's metadata JSON as the matrix job writes it, next to its copy of the JUnit XML."""
    directory.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {"driver_name": driver_name, "driver_type": driver_type}
    if xml is not None:
        shutil.copy(FIXTURES / xml, directory / xml)
        metadata["junit_result"] = xml
    if failure_reason is not None:
        metadata["failure_reason"] = failure_reason
    path = directory / f"{driver_name}.json"
    path.write_text(json.dumps(metadata), encoding="utf-8")
    return str(path)


def _totals(collection: dict[str, Any]) -> tuple[int, ...]:
    return tuple(collection[k] for k in ("tests_total", "failures", "errors", "skipped", "disabled", "passed"))


def _cases(collection: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {case["name"]: (case["status"], case["message"]) for suite in collection["suites"]
            for case in suite["cases"]}


def _failed_collection(collection: dict[str, Any], name: str, driver: str | None, reason: str) -> None:
    assert list(collection) == COLLECTION_FIELDS
    assert_fresh_datetime(collection["timestamp"])
    assert {**collection, "timestamp": None} == {
        "name": name, "driver": driver, "tests_total": 1, "failures": 1, "errors": 0, "disabled": 0, "skipped": 0,
        "passed": 0, "time": 0.0, "timestamp": None, "failure_message": reason, "suites": []}


def test_driver_matrix_through_the_cli(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    drivers = tmp_path / "drivers"
    build_url = "https://jenkins.example/job/e2e-matrix/job/drivers/job/scylla-master-driver-matrix/812/"

    def cli(command: str, *args: str) -> None:
        run_cli(dep, MATRIX_CLI, command, "--id", run_id, *args, log_dir=log_dir)

    def status() -> RunStatus:
        with ArgusDriverMatrixClient(run_id=run_id, auth_token=dep.token, base_url=dep.url,
                                     log_dir=tmp_path / "reads") as reader:
            return reader.get_status()

    cli("submit-run", "--build-id", MATRIX_BUILD_ID, "--build-url", build_url,
        "--extra-headers", '{"CF-Access-Client-Id": "e2e.access"}')
    assert status() is RunStatus.CREATED
    cli("submit-env", "--env-path", str(FIXTURES / "Build-00.txt"))
    assert status() is RunStatus.CREATED
    cli("submit-driver", "--metadata-path", _metadata(drivers / "java", "java-datastax-4.17.0", "java",
                                                      "java-datastax-4.17.0.xml"))
    assert status() is RunStatus.RUNNING, "the first driver result starts the run"
    cli("submit-driver", "--metadata-path", _metadata(drivers / "python", "pytest.datastax.v4.3.29.1", "python",
                                                      "pytest.datastax.v4.3.29.1.xml"))
    pip_failure = "pip install failed: No matching distribution found for scylla-driver==3.26.3"
    cli("fail-driver", "--metadata-path", _metadata(drivers / "broken", "pytest.scylla.v4.3.26.3", "python",
                                                    failure_reason=pip_failure))
    cli("submit-or-fail-driver", "--metadata-path", _metadata(drivers / "gocql", "xunit.scylla.v4.1.13.7", "gocql",
                                                              "xunit.scylla.v4.1.13.7.xml", failure_reason=""))
    cmake_failure = "cmake: libuv not found"
    cli("submit-or-fail-driver", "--metadata-path", _metadata(drivers / "cpp", "TEST-datastax-2.16.2", "cpp",
                                                              failure_reason=cmake_failure))
    assert status() is RunStatus.RUNNING
    cli("finish-run", "--status", "failed")
    assert status() is RunStatus.FAILED

    with ArgusDriverMatrixClient(run_id=run_id, auth_token=dep.token, base_url=dep.url,
                                 log_dir=tmp_path / "reads") as reader:
        run = reader.get_run()
    test = assert_catalogued(dep, run, "driver-matrix-tests")
    assert set(run) == RUN_FIELDS | {"environment_info", "test_collection"}
    assert {k: v for k, v in run.items() if k not in ("start_time", "heartbeat", "end_time", "test_collection")} == {
        "id": run_id, "build_id": MATRIX_BUILD_ID, "release_id": test["release_id"], "group_id": test["group_id"],
        "test_id": test["id"], "assignee": None, "status": "failed", "investigation_status": "not_investigated",
        "build_job_url": build_url, "build_number": 812, "product_version": None, "scylla_version": ENV_VERSION,
        "started_by": None, "logs": [], "environment_info": ENVIRONMENT_INFO}
    assert_fresh_datetime(run["start_time"])
    assert_fresh_datetime(run["end_time"])
    assert run["end_time"] >= run["start_time"]

    collections = {c["name"]: c for c in run["test_collection"]}
    assert [c["name"] for c in run["test_collection"]] == sorted(collections)
    assert set(collections) == {"java-datastax-4.17.0", "pytest.datastax.v4.3.29.1", "pytest.scylla.v4.3.26.3",
                                "xunit.scylla.v4.1.13.7", "TEST-datastax-2.16.2"}
    for collection in collections.values():
        assert list(collection) == COLLECTION_FIELDS

    java = collections["java-datastax-4.17.0"]
    assert (java["driver"], java["failure_message"]) == (None, None)
    assert _totals(java) == (11, 1, 0, 2, 0, 8)
    assert java["time"] == pytest.approx(318.442)
    assert_fresh_datetime(java["timestamp"])  # java reports carry no timestamp: now minus the run time
    assert [(s["name"], _totals(s)) for s in java["suites"]] == [
        ("com.datastax.oss.driver.core.metadata.SchemaAgreementIT", (5, 1, 0, 1, 0, 3)),
        ("com.datastax.oss.driver.core.cql.BatchStatementIT", (6, 0, 0, 1, 0, 5))]
    java_cases = _cases(java)
    assert java_cases["should_fail_on_timeout"] == (
        "failure", "expected:<[false]> but was:<[true]> (org.junit.ComparisonFailure)")
    assert java_cases["should_report_virtual_keyspaces"] == ("skipped", "Requires Cassandra 4.0+ virtual tables")
    assert java_cases["should_agree_when_schema_changes_concurrently"] == ("passed", "")
    first = java["suites"][0]["cases"][0]
    assert first == {"name": "should_succeed_when_all_nodes_agree", "status": "passed", "time": 6.214,
                     "classname": "com.datastax.oss.driver.core.metadata.SchemaAgreementIT", "message": ""}

    python = collections["pytest.datastax.v4.3.29.1"]
    assert python["driver"] == "datastax"
    assert _totals(python) == (10, 1, 1, 2, 0, 6)
    assert python["timestamp"] == "2024-05-14T09:21:07.412Z"
    python_cases = _cases(python)
    assert python_cases["test_refresh_schema_timeout"][0] == "failure"
    assert python_cases["test_refresh_schema_timeout"][1].startswith("AssertionError: assert 3 == 2\n")
    assert python_cases["test_export_keyspace_schema_udts"][0] == "error"
    assert python_cases["test_client_ip_in_trace"] == ("skipped", "Test requires protocol v5+ (pytest.skip)")

    gocql = collections["xunit.scylla.v4.1.13.7"]
    assert (gocql["driver"], _totals(gocql), gocql["timestamp"]) == ("scylla", (9, 1, 0, 1, 0, 7),
                                                                     "2024-05-14T10:02:11.000Z")
    assert _cases(gocql)["TestBatch_WithTimestamp"] == ("failure", "Failed")
    assert _cases(gocql)["TestUDF"] == ("skipped", "cassandra_test.go:88: UDF not supported on this cluster")

    _failed_collection(collections["pytest.scylla.v4.3.26.3"], "pytest.scylla.v4.3.26.3", "scylla", pip_failure)
    _failed_collection(collections["TEST-datastax-2.16.2"], "TEST-datastax-2.16.2", "datastax", cmake_failure)

    assert api_run(dep, "driver-matrix-tests", run_id) == run
    assert_replay_changes_nothing(dep, log_dir, 8, run_snapshot(dep, "driver-matrix-tests", run_id))


def test_driver_matrix_through_the_client_class(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    build_id = "e2e-matrix/drivers/scylla-6.2-driver-matrix"
    build_url = "https://jenkins.example/job/e2e-matrix/job/drivers/job/scylla-6.2-driver-matrix/19/"
    cpp_xml = base64.encodebytes((FIXTURES / "TEST-scylla-2.16.2.xml").read_bytes())
    assert b"\n" in cpp_xml.rstrip(), "the client's base64 has a newline every 76 characters"
    with ArgusDriverMatrixClient(run_id=run_id, auth_token=dep.token, base_url=dep.url, log_dir=log_dir) as client:
        client.submit_driver_matrix_run(job_name=build_id, job_url=build_url)
        assert client.get_status() is RunStatus.CREATED
        client.submit_driver_result("TEST-scylla-2.16.2", "cpp", cpp_xml)
        assert client.get_status() is RunStatus.RUNNING
        client.submit_driver_result("rust_results_v0.13.0", "rust",
                                    base64.encodebytes((FIXTURES / "rust_results_v0.13.0.xml").read_bytes()))
        client.submit_driver_failure("java-scylla-4.18.0", "java", "maven: could not resolve dependencies")
        client.submit_driver_result("TEST-scylla-2.16.2", "cpp", cpp_xml)  # a re-sent name is kept as stored
        client.submit_env(BUILD_ENV)
        logs = client.submit_logs(ArgusDriverMatrixClient.test_type, run_id,
                                  [LogLink("matrix.log", "https://logs.example/19/matrix.log")])
        assert logs.json() == {"status": "ok", "response": "Submitted"}
        client.set_matrix_status(RunStatus.RUNNING)
        finished = client.finalize_run(ArgusDriverMatrixClient.test_type, run_id)  # no status: passed
        assert finished.json() == {"status": "ok", "response": "Finalized"}
        assert client.get_status() is RunStatus.PASSED
        run = client.get_run()

    assert_catalogued(dep, run, "driver-matrix-tests")
    assert (run["status"], run["scylla_version"], run["environment_info"]) == ("passed", ENV_VERSION,
                                                                               ENVIRONMENT_INFO)
    assert run["logs"] == [["matrix.log", "https://logs.example/19/matrix.log"]]  # [name, link] pairs
    collections = {c["name"]: c for c in run["test_collection"]}
    assert list(collections) == ["TEST-scylla-2.16.2", "java-scylla-4.18.0", "rust_results_v0.13.0"]
    cpp = collections["TEST-scylla-2.16.2"]
    assert (cpp["driver"], _totals(cpp), cpp["timestamp"]) == ("scylla", (7, 1, 0, 0, 2, 4),
                                                               "2024-05-14T11:40:03.517Z")
    assert cpp["time"] == pytest.approx(95.31)
    assert [(s["name"], _totals(s)) for s in cpp["suites"]] == [("BatchTests", (4, 1, 0, 0, 1, 2)),
                                                                ("PreparedTests", (3, 0, 0, 0, 1, 2))]
    cpp_cases = _cases(cpp)
    assert cpp_cases["DISABLED_Integration_Cassandra_ConditionalBatch"] == ("disabled", "")
    assert cpp_cases["Integration_Cassandra_Counter"][0] == "failure"
    assert cpp_cases["Integration_Cassandra_Counter"][1].endswith("CASS_ERROR_SERVER_INVALID_QUERY")
    rust = collections["rust_results_v0.13.0"]
    assert (rust["driver"], _totals(rust), rust["time"]) == (None, (9, 1, 0, 1, 0, 7), 0.0)
    assert _cases(rust)["test_token_calculation"] == ("failure", "test failed (assertion)")
    _failed_collection(collections["java-scylla-4.18.0"], "java-scylla-4.18.0", None,
                       "maven: could not resolve dependencies")

    assert api_run(dep, "driver-matrix-tests", run_id) == run
    assert_replay_changes_nothing(dep, log_dir, 9, run_snapshot(dep, "driver-matrix-tests", run_id))

    with dep.http() as http:
        report = ok(http.get("/api/v1/client/driver_matrix/test_report", params={"buildId": build_id}))
    assert report == {"build_id": build_id, "release": "e2e-matrix", "test": "scylla-6.2-driver-matrix",
                      "versions": {"scylla": ["TEST-scylla-2.16.2"],
                                   "Unknown": ["java-scylla-4.18.0", "rust_results_v0.13.0"]}}


def test_driver_matrix_report_covers_the_jobs_runs(deployment: Deployment, tmp_path: Path) -> None:
    """Two runs of one job: the versions report lists every driver version either run tested."""
    dep = deployment
    build_id = "e2e-matrix/drivers/report-job"
    drivers = [("pytest.datastax.v4.3.29.1", "python", "pytest.datastax.v4.3.29.1.xml"),
               ("xunit.scylla.v4.1.13.7", "gocql", "xunit.scylla.v4.1.13.7.xml")]
    for number, (name, kind, xml) in enumerate(drivers):
        run_id = str(uuid.uuid4())
        with ArgusDriverMatrixClient(run_id=run_id, auth_token=dep.token, base_url=dep.url, log_dir=tmp_path) as c:
            c.submit_driver_matrix_run(job_name=build_id, job_url=f"https://jenkins.example/job/report-job/{number}/")
            c.submit_driver_result(name, kind, base64.encodebytes((FIXTURES / xml).read_bytes()))
            c.submit_driver_failure("TEST-scylla-2.15.2-1", "cpp", "build failed")
    with dep.http() as http:
        report = ok(http.get("/api/v1/client/driver_matrix/test_report", params={"buildId": build_id}))
    assert report == {"build_id": build_id, "release": "e2e-matrix", "test": "report-job",
                      "versions": {"datastax": ["pytest.datastax.v4.3.29.1"],
                                   "scylla": ["TEST-scylla-2.15.2-1", "xunit.scylla.v4.1.13.7"]}}


# ==========================================================================================================
# c. sirenada through ArgusSirenadaClient
# ==========================================================================================================
SIRENADA_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="sirenada" tests="3" failures="1" skipped="1" time="313.75">
    <testcase classname="tests.cloud.test_login.LoginTests" name="test_login" file="tests/cloud/test_login.py"
              time="12.5"/>
    <testcase classname="tests.cloud.test_cluster.ClusterTests" name="test_create_cluster"
              file="tests/cloud/test_cluster.py" time="301.25"><failure message="Timed out waiting for the cluster"
    >Traceback (most recent call last):
  File "tests/cloud/test_cluster.py", line 88, in test_create_cluster
TimeoutError: cluster not ready after 300 s</failure></testcase>
    <testcase classname="tests.cloud.test_billing.BillingTests" name="test_invoice" file="tests/cloud/test_billing.py"
              time="0.0"><skipped message="billing is disabled in this region"/></testcase>
  </testsuite>
</testsuites>
"""
SIRENADA_PASSWORD = "s3cr3t-Pa55w0rd-" + uuid.uuid4().hex


def _sirenada_results(directory: Path, test_id: str) -> Path:
    """A results directory as sirenada leaves it: JUnit, credentials, and the failed test's S3 id and screenshot."""
    directory.mkdir(parents=True)
    (directory / "junit_results.xml").write_text(SIRENADA_JUNIT, encoding="utf-8")
    (directory / "test_credentials.json").write_text(json.dumps({
        "SIRENADA_TEST_ID": test_id, "SIRENADA_USER_NAME": "sirenada-bot@example.com",
        "SIRENADA_USER_PASS": SIRENADA_PASSWORD, "SIRENADA_OTP_SECRET": "JBSWY3DPEHPK3PXP", "ClusterID": "1234",
        "region": "us-east-1"}), encoding="utf-8")
    failed = directory / f"sirenada-{test_id}"
    failed.mkdir()
    (failed / "s3_id").write_text("s3-folder-7f3a\n", encoding="utf-8")
    (failed / "ClusterTests-test_create_cluster-1.png").write_bytes(b"\x89PNG\r\n")
    return directory


def test_sirenada_run(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    build_id = "e2e-sirenada/cloud/sirenada-chrome"
    build_url = "https://jenkins.example/job/e2e-sirenada/job/cloud/job/sirenada-chrome/31/"
    results = _sirenada_results(tmp_path / "results", "a1b2c3")
    env = {"SIRENADA_JOB_ID": run_id, "SIRENADA_BROWSER": "chrome", "SIRENADA_REGION": "us-east-1",
           "SIRENADA_CLUSTER": "aws", "WORKSPACE": str(tmp_path), "BUILD_NUMBER": "31", "BUILD_URL": build_url,
           "JOB_NAME": build_id}
    with ArgusSirenadaClient(auth_token=dep.token, base_url=dep.url, log_dir=log_dir) as client:
        client.submit_sirenada_run(env, results)
        first = client.get_run("sirenada", run_id)
        assert client.get_status("sirenada", run_id) is RunStatus.FAILED
        client.submit_sirenada_run(env, results)  # a retried submit adds nothing
        again = client.get_run("sirenada", run_id)
        text = json.dumps(again)
    assert again == first

    test = assert_catalogued(dep, first, "sirenada")
    assert set(first) == RUN_FIELDS | {"region", "results", "sirenada_test_ids", "browsers", "clusters",
                                       "s3_folder_ids"}
    assert {k: v for k, v in first.items() if k not in ("start_time", "heartbeat", "results")} == {
        "id": run_id, "build_id": build_id, "release_id": test["release_id"], "group_id": test["group_id"],
        "test_id": test["id"], "assignee": None, "status": "failed", "investigation_status": "not_investigated",
        "end_time": EPOCH, "build_job_url": build_url, "build_number": 31, "product_version": None,
        "scylla_version": None, "started_by": None, "logs": {}, "region": "us-east-1",
        "sirenada_test_ids": ["a1b2c3"], "browsers": ["chrome"], "clusters": ["aws"],
        "s3_folder_ids": [["s3-folder-7f3a", "a1b2c3"]]}
    cases = {case["test_name"]: case for case in first["results"]}
    assert len(first["results"]) == 3
    common = {"browser_type": "chrome", "cluster_type": "aws", "sirenada_test_id": "a1b2c3",
              "sirenada_user": "sirenada-bot@example.com", "start_time": None}
    bucket = "https://sirenada-results.s3.us-east-1.amazonaws.com/s3-folder-7f3a/sirenada-a1b2c3"
    expected = {
        "test_login": {"class_name": "tests.cloud.test_login.LoginTests", "file_name": "tests/cloud/test_login.py",
                       "status": "passed", "duration": 12.5, "message": None, "stack_trace": None,
                       "screenshot_file": None, "s3_folder_id": None, "requests_file": None},
        "test_create_cluster": {
            "class_name": "tests.cloud.test_cluster.ClusterTests", "file_name": "tests/cloud/test_cluster.py",
            "status": "failed", "duration": 301.25, "message": "Timed out waiting for the cluster",
            "stack_trace": cases["test_create_cluster"]["stack_trace"],
            "screenshot_file": f"{bucket}/ClusterTests-test_create_cluster-1.png", "s3_folder_id": "s3-folder-7f3a",
            "requests_file": f"{bucket}/ClusterTests-test_create_cluster.requests.json"},
        "test_invoice": {"class_name": "tests.cloud.test_billing.BillingTests",
                         "file_name": "tests/cloud/test_billing.py", "status": "skipped", "duration": 0.0,
                         "message": "billing is disabled in this region", "stack_trace": None,
                         "screenshot_file": None, "s3_folder_id": "s3-folder-7f3a",
                         "requests_file": f"{bucket}/BillingTests-test_invoice.requests.json"},
    }
    for name, fields in expected.items():
        case = dict(cases[name])
        assert case.pop("sirenada_password", None) is None, "the test account's password is never stored"
        assert case == {"test_name": name, **common, **fields}
    assert "TimeoutError: cluster not ready after 300 s" in cases["test_create_cluster"]["stack_trace"]

    api_document = api_run(dep, "sirenada", run_id)
    assert api_document == again
    for shown in (text, json.dumps(api_document), dep.server.stdout(), dep.server.stderr()):
        assert SIRENADA_PASSWORD not in shown
    if dep.engine == "sqlite":  # not even stored
        for database in dep.data_dir.glob("*.db*"):
            assert SIRENADA_PASSWORD.encode() not in database.read_bytes(), database
    assert SIRENADA_PASSWORD in (recorded_posts(log_dir)[0]["body"]["results"][0]["sirenada_password"])

    assert_replay_changes_nothing(dep, log_dir, 2, run_snapshot(dep, "sirenada", run_id))


# ==========================================================================================================
# d. pytest-argus-reporter's calls
# ==========================================================================================================
def test_pytest_reporter_results_and_stats(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    name = f"tests/e2e_{dep.engine}/test_{uuid.uuid4().hex[:8]}.py::TestTopology::test_add_node[rf3]"
    session = 1717236000
    reports = [("passed", 1.5, None, session + 10), ("passed", 2.5, None, session + 20),
               ("failure", 11.0, "AssertionError: 2 != 3", session + 30)]
    with ArgusGenericClient(auth_token=dep.token, base_url=dep.url, log_dir=log_dir, run_id=run_id) as client:
        client.submit_generic_run(build_id="e2e-pytest/dtest/dtest-release", run_id=run_id, started_by="jenkins-bot",
                                  build_url="https://jenkins.example/job/dtest-release/5/", sub_type="dtest")
        for status, duration, message, stamp in reports:
            # Exactly what the reporter posts: no schema_version, markers as pytest's keyword mapping.
            body = {"name": name, "test_type": "dtest", "run_id": run_id, "message": message, "status": status,
                    "duration": duration, "timestamp": stamp, "session_timestamp": session,
                    "markers": {"test_add_node[rf3]": 1, "TestTopology": 1, "dtest_full": 1, "slow": 1},
                    "user_fields": {"scylla_mode": "release", "shard": "3"}}
            answer = client.post(endpoint="/testrun/pytest/result/submit", location_params={}, body=body)
            answer.raise_for_status()
            assert answer.json() == {"status": "ok", "response": {
                "name": name, "id": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(stamp))}}

        def stats(field: str, aggregate: str, **params: str) -> Any:
            response = client.get(endpoint="/testrun/pytest/$name/stats/$field/$aggregate",
                                  location_params={"name": name, "field": field, "aggregate": aggregate},
                                  params=params or None)
            client.check_response(response)
            return response.json()["response"]

        def snapshot() -> Any:
            return (stats("duration", "avg"), stats("duration", "count"), stats("duration", "max"),
                    run_snapshot(dep, "generic", run_id)())

        assert stats("duration", "avg") == {name: {"duration": {"avg": pytest.approx(5.0)}}}
        assert stats("duration", "avg", status="passed") == {name: {"duration": {"avg": pytest.approx(2.0)}}}
        assert stats("duration", "count", status="passed") == {name: {"duration": {"count": 2}}}
        assert stats("duration", "count") == {name: {"duration": {"count": 3}}}
        assert stats("duration", "max") == {name: {"duration": {"max": 11.0}}}
        assert stats("duration", "count", since=str(session + 15)) == {name: {"duration": {"count": 2}}}
        assert_replay_changes_nothing(dep, log_dir, 4, snapshot)

    with dep.http() as http:  # the same route through plain HTTP, the slashes left as they are
        assert ok(http.get(f"/api/v1/client/testrun/pytest/{name}/stats/duration/count")) == {
            name: {"duration": {"count": 3}}}


# ==========================================================================================================
# e. the argus-client-generic console script
# ==========================================================================================================
def test_generic_cli_submit_and_finish(deployment: Deployment, tmp_path: Path) -> None:
    dep, run_id, log_dir = deployment, str(uuid.uuid4()), tmp_path / "replay"
    build_id = "e2e-generic/cli/unit-tests"
    build_url = "https://jenkins.example/job/e2e-generic/job/cli/job/unit-tests/104/"
    # Ids pass through the CLI as typed; any form Python's UUID() reads is accepted and stored canonical.
    run_cli(dep, GENERIC_CLI, "submit", "--id", run_id.upper(), "--build-id", build_id, "--build-url", build_url,
            "--started-by", "alice", "--sub-type", "pytest", "--scylla-version", GENERIC_VERSION, log_dir=log_dir,
            jenkins={"JOB_NAME": build_id, "BUILD_NUMBER": "104", "BUILD_URL": build_url})
    with ArgusGenericClient(auth_token=dep.token, base_url=dep.url, log_dir=tmp_path / "reads",
                            run_id=run_id) as client:
        submitted = client.get_run()
        test = assert_catalogued(dep, submitted, "generic")
        assert submitted == {
            "id": run_id, "build_id": build_id, "start_time": submitted["start_time"],
            "release_id": test["release_id"], "group_id": test["group_id"], "test_id": test["id"],
            "assignee": None, "status": "running", "investigation_status": "not_investigated",
            "heartbeat": submitted["heartbeat"], "end_time": EPOCH, "build_job_url": build_url, "build_number": 104,
            "product_version": GENERIC_VERSION, "scylla_version": "2024.2.0~rc1", "started_by": "alice",
            "logs": {}, "sub_type": "pytest"}

        # An unknown status is refused by the CLI itself, before any request.
        refused = subprocess.run([GENERIC_CLI, "finish", "--base-url", dep.url, "--log-dir", str(log_dir),
                                  "--id", run_id, "--status", "green"], env=cli_env(dep), capture_output=True,
                                 text=True, timeout=60, check=False)
        assert refused.returncode != 0
        assert "ValueError" in refused.stderr
        assert client.get_run() == submitted

        # A version without the -<date>.<commit> build part is kept (the existing service dropped it).
        run_cli(dep, GENERIC_CLI, "finish", "--id", run_id.replace("-", ""), "--status", "test_error",
                "--scylla-version", "6.1.0", log_dir=log_dir)
        finished = client.get_run()
        assert client.get_status() is RunStatus.TEST_ERROR
    assert finished == {**submitted, "heartbeat": finished["heartbeat"], "status": "test_error",
                        "end_time": finished["end_time"], "scylla_version": "6.1.0", "product_version": "6.1.0"}
    assert_fresh_datetime(finished["end_time"])
    assert api_run(dep, "generic", run_id) == finished
    assert_replay_changes_nothing(dep, log_dir, 2, run_snapshot(dep, "generic", run_id))


# ==========================================================================================================
# f'. re-sends that overlap: a client retrying while the first request is still being handled
# ==========================================================================================================
def test_concurrent_resends_and_parallel_jobs(deployment: Deployment, tmp_path: Path) -> None:
    """A POST re-sent after a read timeout can run while the first is in flight; parallel CI jobs of a new
    release all auto-create its catalogue at once. Either way one run, one collection, one release/group/test."""
    dep = deployment
    release = f"e2e-parallel-{dep.engine}"
    run_ids = [str(uuid.uuid4()) for _ in range(6)]
    matrix_id = run_ids[0]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        with dep.http() as http:
            return http.post(f"/api/v1/client{path}", json=body).json()

    def at_once(calls: list[tuple[str, dict[str, Any]]]) -> None:
        with ThreadPoolExecutor(len(calls)) as pool:
            answers = list(pool.map(lambda call: post(*call), calls))
        assert all(a["status"] == "ok" for a in answers), answers

    submit = {"schema_version": "v2", "run_id": matrix_id, "job_name": f"{release}/matrix/job-0",
              "job_url": "https://jenkins.example/job/job-0/1/"}
    at_once([("/testrun/driver-matrix-tests/submit", submit)] * 4
            + [("/testrun/driver-matrix-tests/submit",
                {**submit, "run_id": run_id, "job_name": f"{release}/matrix/job-{n % 2}"})
               for n, run_id in enumerate(run_ids[1:], start=1)])
    result = {"schema_version": "v2", "run_id": matrix_id, "driver_name": "xunit.scylla.v4.1.13.7",
              "driver_type": "gocql",
              "raw_xml": base64.encodebytes((FIXTURES / "xunit.scylla.v4.1.13.7.xml").read_bytes()).decode()}
    at_once([("/driver_matrix/result/submit", result)] * 4)

    releases = [r for r in catalogue_snapshot(dep)["releases"] if r["name"] == release]
    assert len(releases) == 1, releases
    with dep.http() as http:
        groups = ok(http.get("/api/v1/groups", params={"releaseId": releases[0]["id"]}))
        assert [g["name"] for g in groups] == ["matrix"]
        tests = ok(http.get("/api/v1/tests", params={"groupId": groups[0]["id"]}))
    assert sorted(t["name"] for t in tests) == ["job-0", "job-1"]
    by_name = {t["name"]: t["id"] for t in tests}
    for n, run_id in enumerate(run_ids):
        run = api_run(dep, "driver-matrix-tests", run_id)
        assert run["test_id"] == by_name[f"job-{n % 2}"]
    matrix = api_run(dep, "driver-matrix-tests", matrix_id)
    assert [c["name"] for c in matrix["test_collection"]] == ["xunit.scylla.v4.1.13.7"]
    assert _totals(matrix["test_collection"][0]) == (9, 1, 0, 1, 0, 7)
    assert matrix["status"] == "running"

    # A results table and a sirenada submission, each sent four times at once.
    generic_id = str(uuid.uuid4())
    post("/testrun/generic/submit", {"schema_version": "v1", "build_id": f"{release}/perf/tables", "run_id": generic_id,
                                     "started_by": "ci", "build_url": "", "sub_type": None, "scylla_version": None})
    table = ThroughputTable(sut_timestamp=SUT_TIMESTAMP)
    table.add_result("ops", "write", 1000.0, Status.UNSET)
    table.add_result("p99", "write", 2.0, Status.UNSET)
    at_once([(f"/testrun/generic/{generic_id}/submit_results",
              {"schema_version": "v1", "run_id": generic_id, **table.as_dict()})] * 4)
    test_id = api_run(dep, "generic", generic_id)["test_id"]
    (tables,) = fetch_results(dep, test_id, generic_id)["tables"]
    assert tables["Throughput"]["table_data"] == {"write": {"ops": _cell(1000.0, "PASS", "FLOAT"),
                                                            "p99": _cell(2.0, "PASS", "DURATION")}}

    sirenada_id = str(uuid.uuid4())
    case = {"class_name": "c.T", "file_name": "t.py", "test_name": "test_x", "browser_type": "chrome",
            "cluster_type": "aws", "duration": 1.0, "sirenada_test_id": "t1", "sirenada_user": "u",
            "sirenada_password": "p", "status": "failed", "message": "m", "stack_trace": "s"}
    at_once([("/testrun/sirenada/submit", {"schema_version": "v1", "run_id": sirenada_id,
                                           "build_id": f"{release}/sirenada/chrome", "build_job_url": "",
                                           "region": "eu", "results": [case]})] * 4)
    sirenada = api_run(dep, "sirenada", sirenada_id)
    assert (len(sirenada["results"]), sirenada["status"]) == (1, "failed")


def catalogue_snapshot(dep: Deployment) -> dict[str, Any]:
    with dep.http() as http:
        return {"releases": ok(http.get("/api/v1/releases", params={"all": 1}))}


# ==========================================================================================================
# 3. the oldest argus-alm 0.16.x, from a cached virtualenv of its own
# ==========================================================================================================
def _installed_old_client(python: Path) -> str | None:
    if not python.exists():
        return None
    done = subprocess.run([str(python), "-c", "from importlib.metadata import version; print(version('argus-alm'))"],
                          capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="session")
def old_client_python() -> Path:
    """``.venv-argus-alm-old/bin/python`` with argus-alm OLDEST_ARGUS_ALM; created once (from PyPI), then reused."""
    python = OLD_VENV / "bin" / "python"
    marker = OLD_VENV / f".argus-alm-{OLDEST_ARGUS_ALM}"
    if marker.exists() and _installed_old_client(python) == OLDEST_ARGUS_ALM:
        return python
    shutil.rmtree(OLD_VENV, ignore_errors=True)
    steps = [[sys.executable, "-m", "venv", str(OLD_VENV)],
             [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
              f"argus-alm=={OLDEST_ARGUS_ALM}"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=280, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(step)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    assert _installed_old_client(python) == OLDEST_ARGUS_ALM
    marker.touch()
    return python


def test_oldest_client_generic_and_driver_matrix(deployment: Deployment, old_client_python: Path,
                                                 tmp_path: Path) -> None:
    dep = deployment
    spec = {"base_url": dep.url, "token": dep.token, "log_dir": str(tmp_path / "replay"),
            "fixtures": str(FIXTURES), "generic_run_id": str(uuid.uuid4()), "matrix_run_id": str(uuid.uuid4()),
            "missing_run_id": str(uuid.uuid4()), "sut_timestamp": SUT_TIMESTAMP,
            "generic_build_id": "e2e-old/generic/old-client", "matrix_build_id": "e2e-old/matrix/old-client"}
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run([str(old_client_python), str(OLD_SCENARIO), str(spec_path)], env=cli_env(dep),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout)
    assert out["client_version"] == OLDEST_ARGUS_ALM

    generic = out["generic"]
    run = generic["run"]
    test = assert_catalogued(dep, run, "generic")
    assert generic["statuses"] == ["running", "failed"]
    assert {k: v for k, v in run.items() if k not in ("start_time", "heartbeat", "end_time")} == {
        "id": spec["generic_run_id"], "build_id": spec["generic_build_id"], "release_id": test["release_id"],
        "group_id": test["group_id"], "test_id": test["id"], "assignee": None, "status": "failed",
        "investigation_status": "not_investigated", "build_job_url": "https://jenkins.example/job/old-client/9/",
        "build_number": 9, "product_version": "2024.1.5-0.20240520.0123abc", "scylla_version": "2024.1.5",
        "started_by": "old-client", "logs": {}, "sub_type": "perf"}
    assert_fresh_datetime(run["end_time"])
    assert "DataValidationError" in generic["validation_error"][1], generic["validation_error"]
    assert generic["missing_run_error"][0].startswith("API Error encountered using endpoint")
    assert spec["missing_run_id"] in generic["missing_run_error"][1]
    assert without_heartbeat(api_run(dep, "generic", spec["generic_run_id"])) == without_heartbeat(run)
    tables = fetch_results(dep, test["id"], spec["generic_run_id"])["tables"]
    assert [(name, table["table_status"]) for entry in tables for name, table in entry.items()] == [
        ("Old throughput", "PASS"), ("Old latency", "ERROR")]

    matrix = out["driver_matrix"]
    matrix_run = matrix["run"]
    assert_catalogued(dep, matrix_run, "driver-matrix-tests")
    assert matrix["statuses"] == ["created", "running", "failed"]
    assert (matrix_run["scylla_version"], matrix_run["environment_info"]) == (ENV_VERSION, ENVIRONMENT_INFO)
    assert [(c["name"], _totals(c)) for c in matrix_run["test_collection"]] == [
        ("TEST-datastax-2.16.2", (1, 1, 0, 0, 0, 0)), ("pytest.datastax.v4.3.29.1", (10, 1, 1, 2, 0, 6))]
    assert api_run(dep, "driver-matrix-tests", spec["matrix_run_id"]) == matrix_run
