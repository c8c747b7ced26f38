"""``argus`` as operators run it: real processes, real ports, real databases and brokers, HTTP only.

Servers that several tests can share are module-scoped; the rest are started by the test that
needs them and stopped as soon as it ends (see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.storage.migrations import MIGRATIONS
from tests.conftest import CassandraNode
from tests.e2e.conftest import (
    ARGUS,
    ArgusServer,
    PrivateRedis,
    ServerPool,
    StartServer,
    StopResult,
    base_env,
    create_token,
    free_port,
    group_members,
    run_argus,
)

ALL_VERSIONS = sorted(m.version for m in MIGRATIONS)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
REQUESTS_TOTAL = "argus_requests_total"
RELEASE_SPEC = {"rel-a": {"groups": {"grp": {"pretty_name": "G", "tests": ["t1", "t2"]}}}}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


def ok_payload(response: httpx.Response) -> Any:
    """The payload of a 200 success envelope."""
    assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
    body = response.json()
    assert body["status"] == "ok", body
    assert set(body) == {"status", "response"}, body
    return body["response"]


def request_count(metrics_text: str, path: str, method: str = "GET") -> float:
    """Sum of the request counter over status codes for one route label."""
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == REQUESTS_TOTAL and sample.labels.get("path") == path \
                    and sample.labels.get("method") == method:
                total += sample.value
    return total


def label_values(metrics_text: str, label: str) -> set[str]:
    return {s.labels[label] for f in text_string_to_metric_families(metrics_text) for s in f.samples
            if label in s.labels}


def applied_versions(stdout: str) -> list[int]:
    """The versions ``argus migrate`` reports: ``applied migrations: 1, 2`` or ``schema is up to date``."""
    text = stdout.strip()
    if text == "schema is up to date":
        return []
    match = re.fullmatch(r"applied migrations: (\d+(?:, \d+)*)", text)
    assert match, f"unexpected migrate output: {stdout!r}"
    return [int(v) for v in match.group(1).split(", ")]


def create_and_check_catalogue(client: httpx.Client, token: str) -> None:
    created = ok_payload(client.post("/api/v1/release/create", json=RELEASE_SPEC, headers=auth(token)))
    assert created == {"rel-a": {"groups": {"grp": {"status": "created",
                                                     "tests": {"t1": "created", "t2": "created"}}}}}


def read_back_catalogue(client: httpx.Client, token: str) -> None:
    """rel-a with group grp (pretty name G) and tests t1, t2 are all readable through the API."""
    releases = ok_payload(client.get("/api/v1/releases", headers=auth(token)))
    assert [r["name"] for r in releases] == ["rel-a"], releases
    release_id = releases[0]["id"]
    assert ok_payload(client.get(f"/api/v1/release/{release_id}/details", headers=auth(token)))["name"] == "rel-a"
    groups = ok_payload(client.get("/api/v1/groups", params={"releaseId": release_id}, headers=auth(token)))
    assert [(g["name"], g["pretty_name"], g["release_id"]) for g in groups] == [("grp", "G", release_id)], groups
    tests = ok_payload(client.get("/api/v1/tests", params={"groupId": groups[0]["id"]}, headers=auth(token)))
    assert sorted(t["name"] for t in tests) == ["t1", "t2"], tests
    assert {t["group_id"] for t in tests} == {groups[0]["id"]}
    assert {t["release_id"] for t in tests} == {release_id}


def wait_for(predicate: Any, timeout: float, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


# --- one server on the embedded defaults, shared by the tests that only read from it ------------
@dataclass
class Embedded:
    server: ArgusServer
    env: dict[str, str]
    data_dir: Path


@pytest.fixture(scope="module")
def embedded(module_pool: ServerPool, tmp_path_factory: pytest.TempPathFactory) -> Embedded:
    """``argus serve`` with nothing but a data dir and a port."""
    data_dir = tmp_path_factory.mktemp("embedded")
    env = base_env(data_dir)
    return Embedded(server=module_pool.start(env), env=env, data_dir=data_dir)


@pytest.fixture(scope="module")
def provisioned(embedded: Embedded) -> subprocess.CompletedProcess[str]:
    """``argus create-user ci-bot --role service --token`` run against the running server's data."""
    return run_argus("create-user", "ci-bot", "--role", "service", "--token", env=embedded.env)


@pytest.fixture(scope="module")
def token(provisioned: subprocess.CompletedProcess[str]) -> str:
    assert provisioned.returncode == 0, provisioned.stderr
    return provisioned.stdout.strip()


@pytest.fixture
def client(embedded: Embedded) -> Iterator[httpx.Client]:
    with embedded.server.client() as c:
        yield c


def test_version_is_wrapped_in_the_envelope(client: httpx.Client) -> None:
    version = ok_payload(client.get("/api/v1/version"))
    assert set(version) == {"commit_id", "version", "storage_engine"}
    assert version["storage_engine"] == "sqlite"
    assert version["version"]


def test_healthz_answers(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_with_embedded_database_and_broker(client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True
    assert body["database"]["ok"] is True
    assert body["job_broker"]["ok"] is True


@pytest.mark.parametrize(("path", "renderer"), [("/docs", "swagger"), ("/docs/swagger", "swagger"),
                                                ("/docs/redoc", "redoc")])
def test_api_reference_pages_render(client: httpx.Client, path: str, renderer: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<html" in page.lower()
    assert "<title>Argus</title>" in page
    assert renderer in page.lower()
    # The page embeds (or links) the OpenAPI document it renders.
    assert "/api/v1/version" in page or "/docs/openapi.json" in page


def test_openapi_document_lists_the_routes(client: httpx.Client) -> None:
    response = client.get("/docs/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.text)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Argus"
    assert {"/api/v1/version", "/api/v1/releases", "/api/v1/release/create"} <= set(document["paths"])


def test_metrics_count_requests_per_route(client: httpx.Client) -> None:
    before = request_count(client.get("/metrics").text, "/api/v1/version")
    for _ in range(3):
        assert client.get("/api/v1/version").status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert request_count(response.text, "/api/v1/version") == before + 3


def test_metrics_label_routes_by_template_never_by_raw_path(client: httpx.Client, token: str) -> None:
    ids = [uuid.uuid4() for _ in range(4)]
    for release_id in ids:
        response = client.get(f"/api/v1/release/{release_id}/details", headers=auth(token))
        assert response.status_code == 404, response.text
    # Paths that match no route, with ids in the path and in the query, must not become labels either.
    assert client.get(f"/api/v1/nothing/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/v1/releases", params={"x": str(uuid.uuid4())}, headers=auth(token)).status_code == 200
    text = client.get("/metrics").text
    details = {p for p in label_values(text, "path") if p.startswith("/api/v1/release/") and p.endswith("/details")}
    assert len(details) == 1, details
    (template,) = details
    assert "{release_id" in template
    assert request_count(text, template) >= len(ids)
    assert not UUID_RE.search(text), UUID_RE.findall(text)[:5]


# --- provisioning -------------------------------------------------------------------------------
def test_create_user_token_prints_only_the_token(provisioned: subprocess.CompletedProcess[str]) -> None:
    assert provisioned.returncode == 0, provisioned.stderr
    lines = provisioned.stdout.splitlines()
    assert len(lines) == 1, provisioned.stdout
    assert re.fullmatch(r"[A-Za-z0-9_\-]{20,}", lines[0]), lines[0]
    assert lines[0] not in provisioned.stderr


def test_token_opens_the_api(client: httpx.Client, token: str) -> None:
    releases = ok_payload(client.get("/api/v1/releases", headers=auth(token)))
    assert isinstance(releases, list)


def test_wrong_token_gets_the_error_envelope(client: httpx.Client, token: str) -> None:
    response = client.get("/api/v1/releases", headers=auth(token[::-1]))
    assert response.status_code in (401, 403), response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["response"]["exception"] == "NotAuthenticated", body
    assert body["response"]["message"]
    assert body["response"]["trace_id"]


def test_no_authorization_is_refused(client: httpx.Client) -> None:
    response = client.get("/api/v1/releases")
    assert response.status_code == 403
    assert response.json() == {"status": "error", "message": "Authorization required"}


def test_create_user_twice_fails_clearly(embedded: Embedded, token: str) -> None:
    again = run_argus("create-user", "ci-bot", "--role", "service", "--token", env=embedded.env)
    assert again.returncode != 0
    assert again.stdout == "", "no token may be printed for an existing account"
    assert "ci-bot already exists" in again.stderr, again.stderr


def test_create_user_reads_the_password_from_stdin(embedded: Embedded) -> None:
    password = "correct horse battery staple"
    done = run_argus("create-user", "alice", "--password-stdin", "--full-name", "Alice A", env=embedded.env,
                     stdin=password + "\n")
    assert done.returncode == 0, done.stderr
    assert "created user alice" in done.stderr
    assert password not in done.stdout + done.stderr
    with sqlite3.connect(embedded.data_dir / "argus.db") as db:
        (stored,) = db.execute("SELECT password_hash FROM users WHERE username = 'alice'").fetchone()
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, password)

    short = run_argus("create-user", "bob", "--password-stdin", env=embedded.env, stdin="short\n")
    assert short.returncode != 0
    assert "Password must be" in short.stderr, short.stderr


# --- restart on the same data ----------------------------------------------------------------------
def test_data_survives_a_restart(argus_server: StartServer, tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    (tmp_path / "data").mkdir()
    token = create_token(env)
    first = argus_server(env)
    with first.client() as c:
        create_and_check_catalogue(c, token)
    stopped = first.stop()
    assert stopped.returncode is not None
    second = argus_server(env)
    with second.client() as c:
        read_back_catalogue(c, token)


def _stop_all(servers: list[ArgusServer]) -> list[StopResult]:
    """SIGTERM every server at once and wait for each (so the grace periods overlap)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        return list(pool.map(lambda server: server.stop(), servers))


def test_sigterm_stops_the_server_gracefully(argus_server: StartServer, tmp_path: Path) -> None:
    """What every process manager does: SIGTERM, then expect a clean exit within the grace period."""
    servers = []
    for workers in ("1", "2"):
        data = tmp_path / f"w{workers}"
        data.mkdir()
        servers.append(argus_server(base_env(data), "--workers", workers))
    for server in servers:
        with server.client() as c:
            assert c.get("/api/v1/version").status_code == 200
    results = _stop_all(servers)
    # uvicorn re-raises the signal it caught once it has shut down, so a single-process server
    # ends "killed by SIGTERM" after a clean shutdown; the supervisor of several workers exits 0.
    problems = [f"--workers {w}: {r}" for w, r in zip(("1", "2"), results, strict=True)
                if r.killed or r.returncode not in (0, -signal.SIGTERM) or r.leftover_processes]
    assert not problems, "\n".join(problems) + "\n" + servers[0].stderr()[-3000:]
    for server, workers in zip(servers, (1, 2), strict=True):
        assert server.stderr().count("Application shutdown complete") == workers, server.stderr()[-3000:]


# --- migrations -------------------------------------------------------------------------------------
def test_migrate_applies_everything_once_then_nothing(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    first = run_argus("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert applied_versions(first.stdout) == ALL_VERSIONS
    second = run_argus("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "schema is up to date"


def _run_concurrently(env: dict[str, str], *args: str, count: int = 2) -> list[subprocess.CompletedProcess[str]]:
    """Start ``count`` identical ``argus`` commands at once and collect their results."""
    processes = [subprocess.Popen([ARGUS, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=env["ARGUS_STORAGE_DATA_DIR"]) for _ in range(count)]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def _assert_one_account_created(results: list[subprocess.CompletedProcess[str]]) -> str:
    """Exactly one of several racing ``create-user`` commands wins; the others say the name is taken."""
    winners = [r for r in results if r.returncode == 0]
    assert len(winners) == 1, [(r.returncode, r.stdout, r.stderr[-300:]) for r in results]
    for loser in results:
        if loser is not winners[0]:
            assert "already exists" in loser.stderr, loser.stderr[-2000:]
            assert loser.stdout == ""
    return winners[0].stdout.strip()


def test_concurrent_migrate_applies_each_version_exactly_once(tmp_path: Path) -> None:
    results = _run_concurrently(base_env(tmp_path), "migrate")
    for done in results:
        assert done.returncode == 0, done.stderr
    reported = sorted(v for done in results for v in applied_versions(done.stdout))
    assert reported == ALL_VERSIONS, [d.stdout for d in results]


def test_concurrent_create_user_creates_one_account(argus_server: StartServer, tmp_path: Path) -> None:
    env = base_env(tmp_path)
    token = _assert_one_account_created(_run_concurrently(env, "create-user", "racer", "--token", count=3))
    with argus_server(env).client() as c:
        assert ok_payload(c.get("/api/v1/releases", headers=auth(token))) == []


# --- settings ------------------------------------------------------------------------------------
def test_bad_setting_stops_start_up(tmp_path: Path) -> None:
    done = run_argus("serve", env=base_env(tmp_path, ARGUS_SERVER_PORT="notanumber"), timeout=30)
    assert done.returncode != 0
    assert "server.port" in done.stderr, done.stderr
    assert "ARGUS_SERVER_PORT" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [("serve",), ("migrate",), ("create-user", "someone")])
def test_settings_error_exit_status_is_2_as_documented(tmp_path: Path, command: tuple[str, ...]) -> None:
    """``app/cli.py``: "Settings errors end the command with exit status 2 and a message naming the setting"."""
    done = run_argus(*command, env=base_env(tmp_path, ARGUS_SERVER_PORT="notanumber"), timeout=30)
    assert "ARGUS_SERVER_PORT" in done.stderr
    assert done.returncode == 2, f"exit status {done.returncode}: {done.stderr}"


def test_unknown_argus_variable_is_warned_about(tmp_path: Path) -> None:
    done = run_argus("migrate", env=base_env(tmp_path, ARGUS_SERVER_PROT="8080"))
    assert done.returncode == 0, done.stderr
    assert "ARGUS_SERVER_PROT" in done.stderr, done.stderr


def test_unreachable_database_stops_start_up(tmp_path: Path) -> None:
    env = base_env(tmp_path, ARGUS_STORAGE_ENGINE="scylla", ARGUS_STORAGE_SCYLLA_HOSTS="127.0.0.1",
                   ARGUS_STORAGE_SCYLLA_PORT="1", ARGUS_STORAGE_SCYLLA_KEYSPACE="e2e_never_created",
                   ARGUS_STORAGE_SCYLLA_CONNECT_TIMEOUT="3")
    migrate = run_argus("migrate", env=env, timeout=60)
    assert migrate.returncode != 0
    assert "cannot reach ScyllaDB" in migrate.stderr.splitlines()[-1], migrate.stderr[-2000:]
    serve = run_argus("serve", "--port", str(free_port()), env=env, timeout=60)
    assert serve.returncode != 0
    assert "cannot reach ScyllaDB" in serve.stderr, serve.stderr[-2000:]


# --- the job broker -------------------------------------------------------------------------------
def test_unreachable_broker_does_not_stop_start_up_but_fails_readiness(argus_server: StartServer,
                                                                       tmp_path: Path) -> None:
    server = argus_server(base_env(tmp_path, ARGUS_QUEUE_URL="redis://127.0.0.1:1/0"))
    with server.client() as c:
        assert c.get("/healthz").status_code == 200
        response = c.get("/readyz")
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["ready"] is False
        assert body["database"]["ok"] is True
        assert body["job_broker"]["ok"] is False
        assert body["job_broker"]["detail"]
        # The rest of the API does not depend on the broker.
        assert ok_payload(c.get("/api/v1/version"))["storage_engine"] == "sqlite"


def test_readiness_follows_the_broker(argus_server: StartServer, private_redis: PrivateRedis, tmp_path: Path) -> None:
    server = argus_server(base_env(tmp_path, ARGUS_QUEUE_URL=private_redis.url,
                                   ARGUS_QUEUE_NAME=f"e2e_{uuid.uuid4().hex[:8]}"))
    with server.client() as c:
        response = c.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["job_broker"]["ok"] is True

        private_redis.kill()
        response = wait_for(lambda: (r := c.get("/readyz")).status_code == 503 and r, timeout=8)
        assert response, "readyz still 200 after the broker died"
        body = response.json()
        assert body["ready"] is False
        assert body["job_broker"]["ok"] is False
        assert body["database"]["ok"] is True
        assert c.get("/healthz").status_code == 200

        private_redis.start()
        assert wait_for(lambda: c.get("/readyz").status_code == 200, timeout=10), "readyz did not recover"


# --- the Cassandra / ScyllaDB engine ------------------------------------------------------------------
@pytest.fixture
def keyspace(cassandra_node: CassandraNode) -> Iterator[str]:
    """A keyspace name no other run uses; dropped (protocol v4 driver session) at the end."""
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    yield name
    cassandra_node.drop_keyspace_soon(name)


def test_scylla_engine_end_to_end(argus_server: StartServer, keyspace: str, cassandra_node: CassandraNode,
                                  redis_url: str, tmp_path: Path) -> None:
    env = base_env(tmp_path, ARGUS_STORAGE_ENGINE="scylla", ARGUS_STORAGE_SCYLLA_HOSTS=",".join(cassandra_node.hosts),
                   ARGUS_STORAGE_SCYLLA_PORT=str(cassandra_node.port),
                   ARGUS_STORAGE_SCYLLA_KEYSPACE=keyspace, ARGUS_QUEUE_URL=redis_url,
                   ARGUS_QUEUE_NAME=f"e2e_{uuid.uuid4().hex[:8]}")
    # Two deploy pipelines migrating the same fresh keyspace at once.
    results = _run_concurrently(env, "migrate")
    for done in results:
        assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(v for d in results for v in applied_versions(d.stdout)) == ALL_VERSIONS, [d.stdout for d in results]

    # Two CI set-ups provisioning the same account at once: the username claim is a lightweight transaction.
    token = _assert_one_account_created(_run_concurrently(env, "create-user", "ci-bot", "--token", count=2))
    server = argus_server(env)
    with server.client() as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ok_payload(c.get("/api/v1/version"))["storage_engine"] == "scylla"
        create_and_check_catalogue(c, token)
        read_back_catalogue(c, token)


# --- logs -------------------------------------------------------------------------------------------
def test_json_request_logs_carry_context_and_no_secrets(argus_server: StartServer, tmp_path: Path) -> None:
    env = base_env(tmp_path, ARGUS_LOG_FORMAT="json")
    token = create_token(env)
    wrong = "wrong" + uuid.uuid4().hex
    server = argus_server(env)
    cookie = {"Cookie": "session=supersecret"}
    calls = {
        "authed": ("/api/v1/releases", {**auth(token), **cookie}, 200, "ci-bot", "/api/v1/releases"),
        "anonymous": ("/api/v1/version", cookie, 200, None, "/api/v1/version"),
        "wrong-token": ("/api/v1/releases", {**auth(wrong), **cookie}, None, None, "/api/v1/releases"),
        "unmatched": (f"/api/v1/nothing?token={token}", {**auth(token), **cookie}, 404, None, None),
    }
    with server.client() as c:
        for request_id, (path, headers, status, _, _) in calls.items():
            response = c.get(path, headers={**headers, "X-Request-ID": request_id})
            if status is not None:
                assert response.status_code == status, response.text
            assert response.headers["x-request-id"] == request_id
        # A caller-supplied id that could forge log content is replaced, not echoed.
        forged = c.get("/api/v1/version", headers={"X-Request-ID": 'x", "user": "admin'}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", forged), forged
    lines = wait_for(lambda: [ln for ln in server.stderr().splitlines() if '"request"' in ln
                              and any(f'"{rid}"' in ln for rid in calls)], timeout=5)
    assert lines, server.output()

    records = []
    for line in server.stderr().splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"log line is not JSON: {line!r}")
    requests = {r["request_id"]: r for r in records if r.get("event") == "request" and r.get("request_id") in calls}
    assert set(requests) == set(calls), requests
    for request_id, (_, _, status, user, route) in calls.items():
        record = requests[request_id]
        assert {"request_id", "method", "route", "status", "duration_ms", "user"} <= set(record), record
        assert record["method"] == "GET"
        assert record["user"] == user, record
        assert isinstance(record["duration_ms"], int | float)
        if status is not None:
            assert record["status"] == status, record
        if route is not None:
            assert record["route"] == route, record
    assert requests["wrong-token"]["status"] >= 400

    output = server.stdout() + server.stderr()
    for secret in (token, wrong, "supersecret"):
        assert secret not in output, f"{secret[:6]}… leaked into the logs"


# --- several uvicorn workers --------------------------------------------------------------------------
def _multiprocess_dir(server: ArgusServer) -> Path:
    """The PROMETHEUS_MULTIPROC_DIR ``argus serve`` created and handed to its worker processes."""
    assert server.process is not None
    for pid in group_members(server.process.pid):
        with contextlib.suppress(OSError):
            for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                    return Path(entry.split(b"=", 1)[1].decode())
    pytest.fail("no worker process has PROMETHEUS_MULTIPROC_DIR in its environment")


def _per_worker_counts(directory: Path, path: str, scratch: Path) -> dict[str, float]:
    """The request counter of each worker alone, read through prometheus_client's public collector."""
    counts = {}
    for db in sorted(directory.glob("counter_*.db")):
        alone = scratch / db.stem
        alone.mkdir(exist_ok=True)
        shutil.copy(db, alone / db.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[db.stem] = request_count(generate_latest(registry).decode(), path)
    return counts


def test_metrics_aggregate_across_workers(argus_server: StartServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server = argus_server(base_env(data), "--workers", "2")
    directory = _multiprocess_dir(server)
    route = "/api/v1/version"

    def call(_: int) -> int:
        # A new connection per request, several at once, so both workers get a share.
        with server.client() as c:
            return c.get(route).status_code

    sent = 0
    per_worker: dict[str, float] = {}
    with ThreadPoolExecutor(8) as pool:
        while sent < 200:
            assert set(pool.map(call, range(40))) == {200}
            sent += 40
            per_worker = _per_worker_counts(directory, route, tmp_path)
            if len(per_worker) == 2 and all(per_worker.values()):
                break
    assert len(per_worker) == 2 and all(per_worker.values()), f"one worker served everything: {per_worker}"
    assert sum(per_worker.values()) == sent, per_worker

    scrapes = []
    for _ in range(8):
        with server.client() as c:  # a fresh connection may land on either worker
            scrapes.append(request_count(c.get("/metrics").text, route))
    assert scrapes == [sent] * len(scrapes), f"per worker {per_worker}, scrapes {scrapes}"
