"""Replay ingest end to end: the real ``ArgusSCTClient`` in replay-only mode, its logs uploaded as an archive.

The same SCT scenario runs twice: live against one ``argus serve``, and with
``replay_log_only=True`` (no HTTP at all) into a temporary directory. The replay logs are packed as
tar.zst, tar.gz and zip and each archive is ingested into a fresh server with an empty database;
the run it ends up with must equal the live one. Only server-stamped clocks may differ: the run's
``start_time`` (when the server saw the submit), ``heartbeat``, ``end_time`` (live: when finalize
arrived; replay: the finalize record's ``ts``), resource creation and termination times and the
nemesis end time (stamped on arrival by the server).
"""

from __future__ import annotations

import io
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from argus.client.sct.client import ArgusSCTClient
from argus.client.sct.types import LogLink, Package
from argus.common.enums import TestStatus as RunStatus

from tests.conftest import CassandraNode
from tests.e2e.conftest import ServerPool, StartServer, base_env, create_token, run_argus
from tests.e2e.test_ci_protocol import Deployment, assert_catalogued, ok
from tests.e2e.test_sct_client import BUILD_ID, GEMINI, JOB_URL, JUNIT, PERFORMANCE, SCT, SCT_CONFIG
from tests.e2e.test_sct_events import T0, event

NEMESIS_START = T0 + 100


def drive_sct(client: ArgusSCTClient) -> None:
    """An SCT job's calls, without reading answers back (replay-only mode answers every GET with ``{}``)."""
    client.submit_sct_run(job_name=BUILD_ID, job_url=JOB_URL, started_by="jenkins-bot", commit_id="f00dcafe",
                          origin_url="https://github.com/scylladb/scylla-cluster-tests.git", branch_name="master",
                          sct_config=SCT_CONFIG)
    client.set_sct_run_status(RunStatus.RUNNING)
    client.sct_heartbeat()
    client.set_sct_runner(public_ip="3.3.3.3", private_ip="10.0.0.3", region="eu-west-1", backend="aws")
    client.submit_packages([Package("scylla-server", "2024.2.0", "20240601", "abcdef12", "build-1")])
    client.update_scylla_version("2024.2.0")
    client.create_resource("db-node-1", "db-node", "1.1.1.1", "10.0.0.1", "i4i.2xlarge", "eu-west-1", "aws",
                           "eu-west", "1a", 0)
    client.update_shards_for_resource("db-node-1", 8)
    client.add_stress_command("cassandra-stress write cl=QUORUM", 1717236000.5, "cs-write.log", "loader-1")
    client.submit_screenshots(["https://grafana.example/1.png"])
    client.sct_submit_junit_report("junit.xml", JUNIT)
    client.sct_submit_config("longevity-10gb-3h.yaml", "n_db_nodes: 3\n")
    client.submit_event(event("ERROR", T0 + 1, "replayed error", node="db-node-1"))
    client.submit_nemesis(name="disrupt_kill", class_name="SisyphusMonkey", start_time=NEMESIS_START,
                          target_name="db-node-1", target_ip="10.0.0.1", target_shards=8, description="e2e")
    client.finalize_nemesis(name="disrupt_kill", start_time=NEMESIS_START, status="succeeded", message="")
    client.submit_gemini_results(GEMINI)
    client.submit_performance_results(PERFORMANCE)
    client.sct_heartbeat()
    client.terminate_resource("db-node-1", "test finished")
    client.submit_sct_logs([LogLink("db-cluster.tar.zst", "https://logs.example/db-cluster.tar.zst")])
    client.set_sct_run_status(RunStatus.PASSED)
    client.finalize_sct_run()


def run_state(dep: Deployment, run_id: str) -> dict[str, Any]:
    """The run page, stress commands, configurations and nemeses, with server-stamped clocks removed.

    The release, group and test ids are new in every database, so they are checked to link the run
    to its catalogued test and then left out.
    """
    with dep.http() as http:
        run = ok(http.get(f"/api/v1/run/{SCT}/{run_id}"))
        state = {"stress": ok(http.get(f"/api/v1/client/sct/{run_id}/stress_cmd/get")),
                 "configs": ok(http.get(f"/api/v1/client/{run_id}/config/all")),
                 "nemeses": ok(http.get(f"/api/v1/client/sct/{run_id}/nemesis/get"))}
    assert_catalogued(dep, run, SCT)
    for key in ("heartbeat", "start_time", "end_time", "release_id", "group_id", "test_id"):
        run.pop(key)
    for resource in run["allocated_resources"]:
        resource["instance_info"].pop("creation_time")
        resource["instance_info"].pop("termination_time")
    for nemesis in [*run["nemesis_data"], *state["nemeses"]]:
        for key in ("end_time", "duration"):
            nemesis.pop(key, None)
    return {"run": run, **state}


def start_fresh(start: StartServer, data_dir: Path, **settings: str) -> Deployment:
    """A migrated, empty server (SQLite unless ``settings`` say otherwise) and a CI token for it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(data_dir, **settings)
    migrated = run_argus("migrate", env=env, timeout=240)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return Deployment(settings.get("ARGUS_STORAGE_ENGINE", "sqlite"), start(env), create_token(env), data_dir)


@pytest.fixture(scope="module")
def live(module_pool: ServerPool, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """The scenario sent live, and the run it produced."""
    dep = start_fresh(module_pool.start, tmp_path_factory.mktemp("replay-live"))
    run_id = str(uuid.uuid4())
    with ArgusSCTClient(run_id, auth_token=dep.token, base_url=dep.url,
                        log_dir=tmp_path_factory.mktemp("live-log")) as client:
        drive_sct(client)
    return run_id, run_state(dep, run_id)


def pack(log_dir: Path, kind: str) -> bytes:
    """The replay logs of ``log_dir`` as one archive of the given kind."""
    files = sorted(log_dir.glob("*.jsonl"))
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, f"logs/{path.name}")
        return buffer.getvalue()
    with tarfile.open(fileobj=buffer, mode="w:gz" if kind == "tar.gz" else "w") as archive:
        for path in files:
            archive.add(path, f"logs/{path.name}")
    data = buffer.getvalue()
    return zstandard.ZstdCompressor().compress(data) if kind == "tar.zst" else data


def recorded_offline(run_id: str, log_dir: Path) -> None:
    """The same scenario in the client's replay-only mode: no HTTP, only the JSONL log."""
    with ArgusSCTClient(run_id, auth_token="unused", base_url="http://127.0.0.1:9", log_dir=log_dir,
                        replay_log_only=True) as client:
        drive_sct(client)


@pytest.mark.parametrize("kind", ["tar.zst", "tar.gz", "zip"])
def test_replayed_run_equals_the_live_run(kind: str, live: tuple[str, dict[str, Any]], argus_server: StartServer,
                                          tmp_path: Path) -> None:
    run_id, expected = live
    log_dir = tmp_path / "replay-log"
    recorded_offline(run_id, log_dir)
    dep = start_fresh(argus_server, tmp_path / "data")

    with dep.http() as http:
        summary = ok(http.post("/api/v1/client/replay/ingest", params={"create_missing_tests": "true"},
                               content=pack(log_dir, kind), headers={"Content-Type": "application/x-tar-zstd"}))
    # 22 calls recorded; the first of two heartbeats is superseded by the second.
    assert summary == {"total": 22, "processed": 21, "succeeded": 21, "failed": 0, "skipped_no_replay": 1,
                       "backfilled_logs": 0, "errors": []}
    assert run_state(dep, run_id) == expected


def test_replay_into_cassandra_equals_the_live_run(live: tuple[str, dict[str, Any]], argus_server: StartServer,
                                                   cassandra_node: CassandraNode, tmp_path: Path) -> None:
    """The archive ingested into an empty Cassandra keyspace gives the run the live SQLite server holds."""
    run_id, expected = live
    recorded_offline(run_id, tmp_path / "replay-log")
    keyspace = f"e2e_replay_{uuid.uuid4().hex[:10]}"
    try:
        dep = start_fresh(argus_server, tmp_path / "data", ARGUS_STORAGE_ENGINE="scylla",
                          ARGUS_STORAGE_SCYLLA_HOSTS=",".join(cassandra_node.hosts),
                          ARGUS_STORAGE_SCYLLA_PORT=str(cassandra_node.port), ARGUS_STORAGE_SCYLLA_KEYSPACE=keyspace)
        with dep.http() as http:
            summary = ok(http.post("/api/v1/client/replay/ingest", params={"create_missing_tests": "true"},
                                   content=pack(tmp_path / "replay-log", "tar.zst"),
                                   headers={"Content-Type": "application/x-tar-zstd"}))
        assert (summary["succeeded"], summary["failed"]) == (21, 0)
        assert run_state(dep, run_id) == expected
    finally:
        cassandra_node.drop_keyspace_soon(keyspace)
