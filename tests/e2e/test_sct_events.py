"""SCT events and nemeses end to end: a real ``argus serve`` driven by the real ``ArgusSCTClient``.

Runs once per storage engine. Everything sent is read back through the client (``get_nemeses``,
``get_run``) and through the event read routes; then every recorded POST is re-sent, as a client
retrying after a timeout would, and nothing read back may change (no event counted twice).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argus.client.base import ArgusClientError
from argus.client.sct.client import ArgusSCTClient

from tests.conftest import CassandraNode
from tests.e2e.conftest import ServerPool, base_env, create_token, run_argus

SEVERITIES = ("CRITICAL", "ERROR", "WARNING", "NORMAL", "DEBUG")
T0 = 1_746_000_000  # 2025-04-30T08:00:00Z
CORE_URL = "https://upload.example/core.scylla.1000.0f3a.zst"


@pytest.fixture(scope="module", params=["sqlite", "scylla"])
def server(request: pytest.FixtureRequest, module_pool: ServerPool,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(url, token) of ``argus serve`` on SQLite or on a keyspace of its own."""
    settings: dict[str, str] = {}
    node: CassandraNode | None = None
    keyspace = f"e2e_{uuid.uuid4().hex[:12]}"
    if request.param == "scylla":
        node = request.getfixturevalue("cassandra_node")
        settings = {"ARGUS_STORAGE_ENGINE": "scylla", "ARGUS_STORAGE_SCYLLA_HOSTS": ",".join(node.hosts),
                    "ARGUS_STORAGE_SCYLLA_PORT": str(node.port), "ARGUS_STORAGE_SCYLLA_KEYSPACE": keyspace}
    env = base_env(tmp_path_factory.mktemp(f"sct-events-{request.param}"), **settings)
    try:
        migrated = run_argus("migrate", env=env, timeout=240)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        token = create_token(env)
        started = module_pool.start(env)
        yield started.url, token
        started.stop()
    finally:
        if node is not None:
            node.drop_keyspace_soon(keyspace)


def event(severity: str, ts: float, message: str, event_type: str = "DatabaseLogEvent",
          **extra: Any) -> dict[str, Any]:
    """A ``RawEventPayload`` with every key, as SCT's event collector sends it."""
    fields = {"received_timestamp": None, "nemesis_name": None, "duration": None, "node": None, "target_node": None,
              "known_issue": None, "nemesis_status": None, **extra}
    return {"run_id": "ignored: the URL names the run", "severity": severity, "ts": ts, "message": message,
            "event_type": event_type, **fields}


def read(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok", response.text
    return response.json()["response"]


def test_sct_events_and_nemeses_through_the_client(server: tuple[str, str], tmp_path: Path) -> None:
    url, token = server
    run_id = uuid.uuid4()
    core = event("ERROR", T0 + 50, f"CoredumpEvent node=db-node-1 corefile_url={CORE_URL} backtrace=...",
                 "CoredumpEvent", node="db-node-1")
    batch = [event(severity.lower() if i % 2 else severity, T0 + 10 * i + j + 0.5, f"{severity} #{j}",
                   received_timestamp="2025-04-30T08:00:01.123000", node=f"db-node-{j}", duration=1.5)
             for i, severity in enumerate(SEVERITIES) for j in range(3)]
    with ArgusSCTClient(run_id=run_id, auth_token=token, base_url=url, log_dir=tmp_path) as client:
        client.submit_sct_run(job_name="e2e-sct/events/longevity", job_url="https://jenkins.example/job/l/1/",
                              started_by="jenkins", commit_id="abc", origin_url="https://git.example/sct.git",
                              branch_name="master", sct_config=None)
        client.submit_event(event("WARNING", T0 + 1, "single", nemesis_name="disrupt_kill",
                                  nemesis_status="running", target_node="db-node-2", known_issue="#123"))
        client.submit_event(batch)
        client.submit_event([core])

        start = int(time.time()) - 100
        outcomes = [("disrupt_kill", "succeeded", ""), ("disrupt_stop", "failed", "Traceback: boom"),
                    ("disrupt_skip", "skipped", "not supported"), ("disrupt_open", None, None)]
        for i, (name, _, _) in enumerate(outcomes):
            client.submit_nemesis(name=name, class_name="SisyphusMonkey", start_time=start + i,
                                  target_name=f"db-node-{i}", target_ip=f"10.0.0.{i}", target_shards=8,
                                  description="e2e")
        for i, (name, status, message) in enumerate(outcomes):
            if status:
                client.finalize_nemesis(name=name, start_time=start + i, status=status, message=message)
        client.finalize_nemesis(name="disrupt_kill", start_time=start, status="failed", message="ignored")
        with pytest.raises(ArgusClientError):
            client.finalize_nemesis(name="ghost", start_time=1, status="failed", message="")

        def snapshot() -> dict[str, Any]:
            with httpx.Client(base_url=f"{url}/api/v1/client/sct/{run_id}",
                              headers={"Authorization": f"token {token}"}) as http:
                return {"nemeses": client.get_nemeses(), "run": {k: v for k, v in client.get_run().items()
                                                                 if k != "heartbeat"},
                        "events": read(http, "/events/get", limit=1000),
                        "counts": read(http, "/events/counts"),
                        "per_severity": {s: read(http, f"/events/{s}/count") for s in SEVERITIES}}

        state = snapshot()

    nemeses = state["nemeses"]
    assert [(n["name"], n["status"]) for n in nemeses] == [
        ("disrupt_kill", "succeeded"), ("disrupt_stop", "failed"), ("disrupt_skip", "skipped"),
        ("disrupt_open", "running")]
    assert nemeses[1] == {"run_id": str(run_id), "start_time": start + 1, "name": "disrupt_stop",
                          "class_name": "SisyphusMonkey", "target_node": {"name": "db-node-1", "ip": "10.0.0.1",
                                                                          "shards": 8},
                          "status": "failed", "end_time": nemeses[1]["end_time"],
                          "duration": nemeses[1]["end_time"] - start - 1, "stack_trace": "Traceback: boom"}
    assert nemeses[1]["end_time"] >= start + 100
    assert (nemeses[3]["end_time"], nemeses[3]["duration"], nemeses[3]["stack_trace"]) == (0, 0, "")
    run = state["run"]
    assert run["nemesis_stats"] == {"total": 4, "succeeded": 1, "failed": 1, "skipped": 1}
    assert [n["name"] for n in run["nemesis_data"]] == [n["name"] for n in nemeses]
    assert ["core.scylla-db-node-1-2025-04-30_08-00-50.zst", CORE_URL] in run["logs"]

    expected_counts = {"CRITICAL": 3, "ERROR": 4, "WARNING": 4, "NORMAL": 3, "DEBUG": 3}
    assert state["counts"] == state["per_severity"] == run["event_counts"] == expected_counts
    events = state["events"]
    assert len(events) == 17
    assert [e["ts"] for e in events] == sorted((e["ts"] for e in events), reverse=True)
    single = next(e for e in events if e["message"] == "single")
    assert {k: single[k] for k in ("run_id", "severity", "event_type", "nemesis_name", "nemesis_status",
                                   "target_node", "known_issue", "node", "duration")} == {
        "run_id": str(run_id), "severity": "WARNING", "event_type": "DatabaseLogEvent",
        "nemesis_name": "disrupt_kill", "nemesis_status": "running", "target_node": "db-node-2",
        "known_issue": "#123", "node": None, "duration": None}
    assert single["ts"] == "2025-04-30T08:00:01.000Z" and single["event_id"]
    lowered = next(e for e in events if e["message"] == "ERROR #2")
    assert (lowered["severity"], lowered["ts"], lowered["received_timestamp"], lowered["duration"]) == (
        "ERROR", "2025-04-30T08:00:12.500Z", "2025-04-30T08:00:01.123Z", 1.5)

    with httpx.Client(base_url=f"{url}/api/v1/client/sct/{run_id}",
                      headers={"Authorization": f"token {token}"}) as http:
        page = read(http, "/events/get", limit=2, severity=["ERROR", "debug"], before=T0 + 50)
        assert [(e["severity"], e["message"]) for e in page] == [
            ("DEBUG", "DEBUG #2"), ("DEBUG", "DEBUG #1"), ("ERROR", "ERROR #2"), ("ERROR", "ERROR #1")]
        window = read(http, "/events/NORMAL/get", after=T0 + 30, before=T0 + 32)
        assert [e["message"] for e in window] == ["NORMAL #1", "NORMAL #0"]

        # Every POST again, as retries after timeouts: nothing changes, nothing is counted twice.
        posts = [json.loads(line) for path in sorted(tmp_path.glob("argus_replay_log_*.jsonl"))
                 for line in path.read_text().splitlines() if line.strip()]
        assert len(posts) == 13
        for post in posts:
            endpoint = post["endpoint"]
            for name, value in (post["location_params"] or {}).items():
                endpoint = endpoint.replace(f"${name}", str(value))
            response = http.post(f"{url}/api/v1/client{endpoint}", params=post["params"], json=post["body"])
            assert response.status_code == 200, response.text
            assert (response.json()["status"] == "ok") is post["success"], (post, response.text)
    with ArgusSCTClient(run_id=run_id, auth_token=token, base_url=url, log_dir=tmp_path / "reads") as client:
        assert snapshot() == state
