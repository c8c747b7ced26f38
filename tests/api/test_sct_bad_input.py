"""Malformed SCT-client requests: HTTP 200 error envelope naming the problem, and nothing stored.

Each case is one request a broken CI job could send to the SCT routes or the configuration upload;
the SCT run, its resources, stress commands and configurations are read back before and after and
must be identical.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

RUN = str(uuid.uuid4())
NEW = str(uuid.uuid4())  # a run id nothing ever creates
JSON = {"Content-Type": "application/json"}
S = f"/api/v1/client/sct/{RUN}"
MISSING = f"/api/v1/client/sct/{NEW}"
SUBMIT = {"schema_version": "v8", "run_id": RUN, "job_name": "sct-bad-input/longevity/sct-run",
          "job_url": "https://jenkins.example/job/sct/3/", "started_by": "ci", "commit_id": "abc123",
          "origin_url": None, "branch_name": None,
          "sct_config": {"cluster_backend": "aws", "region_name": "eu-west-1", "n_db_nodes": 3}}
RESOURCE = {"schema_version": "v8", "resource": {
    "name": "db-node-1", "state": "running", "resource_type": "db-node",
    "instance_details": {"instance_type": "i4i.large", "provider": "aws", "region": "eu-west-1", "dc_name": "eu",
                         "rack_name": "1a", "public_ip": "1.2.3.4", "private_ip": "10.0.0.1", "shards_amount": 2}}}
GEMINI = {"schema_version": "v8", "gemini_data": {"gemini_status": "PASSED", "gemini_seed": "1"}}
PERFORMANCE = {"schema_version": "v8", "performance_results": {"test_name": "t", "histograms": None}}


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


def with_(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def sct_run(client: AsyncTestClient, token: str) -> str:
    """An SCT run with a resource, a stress command and a configuration."""
    auth = {"Authorization": f"token {token}"}
    for path, body in (("/api/v1/client/testrun/scylla-cluster-tests/submit", SUBMIT),
                       (f"{S}/resource/create", RESOURCE),
                       (f"{S}/stress_cmd/submit", {"cmd": "c-s write", "ts": 1717236000.5, "log_name": "l",
                                                   "loader_name": "loader-1"}),
                       (f"/api/v1/client/{RUN}/config/submit", {"name": "sct.json", "content": b64(b'{"a": 1}')})):
        response = await client.post(path, json=body, headers=auth)
        assert response.json()["status"] == "ok", (path, response.text)
    return RUN


async def _state(client: AsyncTestClient, auth: dict[str, str]) -> dict[str, Any]:
    async def payload(path: str) -> Any:
        response = await client.get(path, headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok", body
        return body["response"]

    return {"run": await payload(f"/api/v1/run/scylla-cluster-tests/{RUN}"),
            "missing": await payload(f"/api/v1/client/testrun/scylla-cluster-tests/{NEW}/get"),
            "resources": await payload(f"{S}/resource/all"),
            "stress": await payload(f"{S}/stress_cmd/get"),
            "configs": await payload(f"/api/v1/client/{RUN}/config/all")}


# (id, method, path, body: dict = JSON, bytes = raw, None = no body; fragment of arguments[0]; exception)
CASES: list[tuple[str, str, str, Any, str, str]] = [
    # --- submit ---
    ("submit-unknown-key", "POST", "/api/v1/client/testrun/scylla-cluster-tests/submit",
     with_(SUBMIT, run_id=NEW, runner_ip="1.1.1.1"), "runner_ip", "MalformedBody"),
    ("submit-bad-node-count", "POST", "/api/v1/client/testrun/scylla-cluster-tests/submit",
     with_(SUBMIT, run_id=NEW, sct_config={"n_db_nodes": "three"}), "n_db_nodes", "InvalidInput"),
    ("submit-bad-stress-duration", "POST", "/api/v1/client/testrun/scylla-cluster-tests/submit",
     with_(SUBMIT, run_id=NEW, sct_config={"stress_duration": "long"}), "stress_duration", "InvalidInput"),
    # --- missing run ---
    ("runner-missing-run", "POST", f"{MISSING}/sct_runner/set", {"public_ip": "1.1.1.1"}, "Run not found",
     "RunNotFound"),
    ("packages-missing-run", "POST", f"{MISSING}/packages/submit", {"packages": [{"name": "scylla-server-target",
                                                                                  "version": "9.9"}]},
     "Run not found", "RunNotFound"),
    ("resource-missing-run", "POST", f"{MISSING}/resource/create", RESOURCE, "Run not found", "RunNotFound"),
    ("resources-missing-run", "GET", f"{MISSING}/resource/all", None, "Run not found", "RunNotFound"),
    ("stress-get-missing-run", "GET", f"{MISSING}/stress_cmd/get", None, "Run not found", "RunNotFound"),
    ("gemini-missing-run", "POST", f"{MISSING}/gemini/submit", GEMINI, "Run not found", "RunNotFound"),
    ("events-missing-run", "POST", f"{MISSING}/events/submit", {"events": []}, "Run not found", "RunNotFound"),
    ("config-missing-run", "POST", f"/api/v1/client/{NEW}/config/submit", {"name": "a", "content": b64(b"x")},
     "Run not found", "RunNotFound"),
    ("config-all-missing-run", "GET", f"/api/v1/client/{NEW}/config/all", None, "Run not found", "RunNotFound"),
    ("bad-run-id", "POST", "/api/v1/client/sct/not-a-uuid/screenshots/submit", {"screenshot_links": []},
     "not-a-uuid", "InvalidInput"),
    # --- resources ---
    ("missing-resource-get", "GET", f"{S}/resource/nope/get", None, "Resource not found", "ResourceNotFound"),
    ("missing-resource-terminate", "POST", f"{S}/resource/nope/terminate", {"reason": "r"}, "Resource not found",
     "ResourceNotFound"),
    ("missing-resource-shards", "POST", f"{S}/resource/nope/shards", {"shards": 4}, "Resource not found",
     "ResourceNotFound"),
    ("bad-state-update", "POST", f"{S}/resource/db-node-1/update", {"update_data": {"state": "exploded"}},
     "ResourceState", "InvalidInput"),
    ("bad-instance-field-type", "POST", f"{S}/resource/db-node-1/update",
     {"update_data": {"instance_info": {"shards_amount": "many"}}}, "instance_info", "InvalidInput"),
    ("bad-state-create", "POST", f"{S}/resource/create",
     {"resource": {**RESOURCE["resource"], "name": "n2", "state": "exploded"}}, "state", "MalformedBody"),
    ("slash-in-resource-name", "POST", f"{S}/resource/create",
     {"resource": {**RESOURCE["resource"], "name": "a/b"}}, "without '/'", "InvalidInput"),
    ("runner-slash-in-name", "POST", f"{S}/sct_runner/set", {"public_ip": "9.9.9.9", "name": "sct/runner"},
     "without '/'", "InvalidInput"),
    ("negative-shards", "POST", f"{S}/resource/db-node-1/shards", {"shards": -1}, "negative", "InvalidInput"),
    ("shards-not-int", "POST", f"{S}/resource/db-node-1/shards", {"shards": "4"}, "shards", "MalformedBody"),
    # --- stress commands, packages, screenshots ---
    ("stress-missing-ts", "POST", f"{S}/stress_cmd/submit", {"cmd": "x"}, "ts", "MalformedBody"),
    ("stress-absurd-ts", "POST", f"{S}/stress_cmd/submit", {"cmd": "x", "ts": 1e20}, "ts", "InvalidInput"),
    ("package-without-name", "POST", f"{S}/packages/submit", {"packages": [{"version": "1"}]}, "name",
     "MalformedBody"),
    ("screenshots-not-list", "POST", f"{S}/screenshots/submit", {"screenshot_links": "x"}, "screenshot_links",
     "MalformedBody"),
    # --- reports and results ---
    ("junit-bad-base64", "POST", f"{S}/junit/submit", {"file_name": "j.xml", "content": "<testsuite/>"}, "base64",
     "InvalidInput"),
    ("junit-malformed-xml", "POST", f"{S}/junit/submit", {"file_name": "j.xml", "content": b64(b"<testsuite>")},
     "Malformed JUnit report", "InvalidInput"),
    ("junit-entities", "POST", f"{S}/junit/submit",
     {"file_name": "j.xml", "content": b64(b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')}, "Malformed JUnit report",
     "InvalidInput"),
    ("gemini-bad-type", "POST", f"{S}/gemini/submit", {"gemini_data": {"gemini_write_ops": "many"}},
     "gemini_write_ops", "MalformedBody"),
    ("performance-without-histograms", "POST", f"{S}/performance/submit",
     {"performance_results": {"test_name": "t"}}, "histograms", "MalformedBody"),
    ("performance-bad-errors", "POST", f"{S}/performance/submit",
     {"performance_results": {"test_name": "t", "histograms": None, "perf_total_errors": "x"}}, "perf_total_errors",
     "InvalidInput"),
    ("config-bad-base64", "POST", f"/api/v1/client/{RUN}/config/submit", {"name": "a", "content": "%%%"}, "base64",
     "InvalidInput"),
    ("config-empty-body", "POST", f"/api/v1/client/{RUN}/config/submit", b"", "empty", "MalformedBody"),
]


@pytest.mark.parametrize(("method", "path", "body", "fragment", "exception"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
async def test_malformed_sct_request(client: AsyncTestClient, auth: dict[str, str], sct_run: str, method: str,
                                     path: str, body: Any, fragment: str, exception: str) -> None:
    before = await _state(client, auth)
    content = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    response = await client.request(method, path, content=content, headers={**auth, **JSON})
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["status"] == "error", envelope
    detail = envelope["response"]
    assert detail["exception"] == exception, detail
    assert fragment.lower() in detail["arguments"][0].lower(), detail
    assert await _state(client, auth) == before


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


async def test_resource_names_with_spaces_and_symbols_are_addressable(client: AsyncTestClient, auth: dict[str, str],
                                                                     sct_run: str) -> None:
    name = "db node #1 (eu-west-1a)"
    body = {"resource": {**RESOURCE["resource"], "name": name}}
    assert (await client.post(f"{S}/resource/create", json=body, headers=auth)).json()["response"] == "created"
    encoded = quote(name, safe="")
    answer = await client.post(f"{S}/resource/{encoded}/shards", json={"shards": 12}, headers=auth)
    assert answer.json() == {"status": "ok", "response": "updated"}
    stored = (await client.get(f"{S}/resource/{encoded}/get", headers=auth)).json()["response"]
    assert (stored["name"], stored["instance_info"]["shards_amount"]) == (name, 12)
