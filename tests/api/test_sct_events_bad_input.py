"""Malformed SCT event and nemesis requests: HTTP 200 error envelope, a useful ``arguments[0]``, nothing stored.

A module-wide SCT run holds one event of each severity and two nemeses; what a client can read of it
(events, counts, nemeses, the run document) must be identical before and after each bad request.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

RUN = str(uuid.uuid4())
NEW = str(uuid.uuid4())  # a run id nothing ever creates
S = "/api/v1/client/sct"
JSON = {"Content-Type": "application/json"}
SEVERITIES = ("CRITICAL", "ERROR", "WARNING", "NORMAL", "DEBUG")
EVENT = {"run_id": RUN, "severity": "ERROR", "ts": 1_746_000_500.25, "message": "bad", "event_type": "X",
         "received_timestamp": None, "nemesis_name": None, "duration": None, "node": None, "target_node": None,
         "known_issue": None, "nemesis_status": None}
NEMESIS = {"name": "disrupt_x", "class_name": "XMonkey", "start_time": 1_746_000_900, "node_name": "db-1",
           "node_ip": "10.0.0.1", "node_shards": 4, "description": None}
OUTCOME = {"name": "disrupt_kill", "start_time": 1_746_000_000, "status": "succeeded", "message": ""}


def events(*items: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": "v8", "data": list(items)}


def with_(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


async def _ok(client: AsyncTestClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok", response.text
    return response.json()["response"]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def run(client: AsyncTestClient, token: str) -> str:
    auth = {"Authorization": f"token {token}"}
    await _ok(client, auth, "/api/v1/client/testrun/scylla-cluster-tests/submit",
              {"schema_version": "v8", "run_id": RUN, "job_name": "bad-input/sct-events/longevity",
               "job_url": "https://jenkins.example/job/sct/1/", "started_by": "ci", "commit_id": "abc",
               "origin_url": None, "branch_name": None, "sct_config": None})
    assert await _ok(client, auth, f"{S}/{RUN}/event/submit", events(
        *(with_(EVENT, severity=s, ts=1_746_000_000 + i, message=f"{s} event") for i, s in enumerate(SEVERITIES))))
    await _ok(client, auth, f"{S}/{RUN}/nemesis/submit", {"schema_version": "v8", "nemesis": with_(
        NEMESIS, name="disrupt_kill", start_time=1_746_000_000)})
    await _ok(client, auth, f"{S}/{RUN}/nemesis/submit", {"schema_version": "v8", "nemesis": NEMESIS})
    return RUN


async def _state(client: AsyncTestClient, auth: dict[str, str]) -> dict[str, Any]:
    async def payload(path: str) -> Any:
        response = await client.get(path, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok", response.text
        return response.json()["response"]

    state = {"events": await payload(f"{S}/{RUN}/events/get"), "counts": await payload(f"{S}/{RUN}/events/counts"),
             "nemeses": await payload(f"{S}/{RUN}/nemesis/get"),
             "run": await payload(f"/api/v1/client/testrun/scylla-cluster-tests/{RUN}/get"),
             "missing": await payload(f"/api/v1/client/testrun/scylla-cluster-tests/{NEW}/get")}
    assert len(state["events"]) == 5 and state["missing"] is None, state
    return state


def _assert_client_error(response: Any, fragment: str, exception: str | None) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "error", body
    detail = body["response"]
    assert set(detail) == {"trace_id", "exception", "message", "arguments"}, detail
    assert isinstance(detail["arguments"][0], str), detail
    assert fragment.lower() in detail["arguments"][0].lower(), detail
    if exception is not None:
        assert detail["exception"] == exception, detail


GOOD = with_(EVENT, severity="WARNING", ts=1_746_000_777.0)  # valid, and new: a partial write would show
# (id, method, path, body: dict = JSON, bytes = raw, None = none; fragment of arguments[0]; exception or None)
CASES: list[tuple[str, str, str, Any, str, str | None]] = [
    ("event-unknown-key", "POST", f"{S}/{RUN}/event/submit", events(GOOD, with_(EVENT, colour="red")), "colour",
     "MalformedBody"),
    ("event-missing-key", "POST", f"{S}/{RUN}/event/submit",
     events(GOOD, {k: v for k, v in EVENT.items() if k != "event_type"}), "event_type", "MalformedBody"),
    ("event-bad-severity", "POST", f"{S}/{RUN}/event/submit", events(GOOD, with_(EVENT, severity="FATAL")),
     "severity", "InvalidInput"),
    ("event-ts-string", "POST", f"{S}/{RUN}/event/submit", events(GOOD, with_(EVENT, ts="yesterday")), "ts",
     "MalformedBody"),
    ("event-ts-huge", "POST", f"{S}/{RUN}/event/submit", events(GOOD, with_(EVENT, ts=1e300)), "ts",
     "InvalidInput"),
    ("event-bad-received", "POST", f"{S}/{RUN}/event/submit",
     events(GOOD, with_(EVENT, received_timestamp="soon")), "received_timestamp", "InvalidInput"),
    ("event-single-bad", "POST", f"{S}/{RUN}/event/submit", {"schema_version": "v8", "data": with_(
        EVENT, severity="")}, "severity", "InvalidInput"),
    ("event-no-data", "POST", f"{S}/{RUN}/event/submit", {"schema_version": "v8"}, "data", "MalformedBody"),
    ("event-missing-run", "POST", f"{S}/{NEW}/event/submit", events(GOOD), NEW, "RunNotFound"),
    ("event-bad-run-id", "POST", f"{S}/not-a-uuid/event/submit", events(GOOD), "run id", "InvalidInput"),
    ("event-empty-body", "POST", f"{S}/{RUN}/event/submit", b"", "empty", "MalformedBody"),
    ("event-bad-json", "POST", f"{S}/{RUN}/event/submit", b'{"data": [', "JSON", "MalformedBody"),
    ("nemesis-missing-run", "POST", f"{S}/{NEW}/nemesis/submit", {"nemesis": with_(NEMESIS, start_time=5)}, NEW,
     "RunNotFound"),
    ("nemesis-shards-string", "POST", f"{S}/{RUN}/nemesis/submit",
     {"nemesis": with_(NEMESIS, start_time=6, node_shards="many")}, "node_shards", "MalformedBody"),
    ("nemesis-shards-negative", "POST", f"{S}/{RUN}/nemesis/submit",
     {"nemesis": with_(NEMESIS, start_time=7, node_shards=-1)}, "node_shards", "MalformedBody"),
    ("nemesis-start-huge", "POST", f"{S}/{RUN}/nemesis/submit",
     {"nemesis": with_(NEMESIS, start_time=2**64)}, "start_time", "MalformedBody"),
    ("nemesis-start-float", "POST", f"{S}/{RUN}/nemesis/submit",
     {"nemesis": with_(NEMESIS, start_time=6.5)}, "start_time", "MalformedBody"),
    ("finalize-bad-status", "POST", f"{S}/{RUN}/nemesis/finalize",
     {"nemesis": with_(OUTCOME, status="exploded")}, "NemesisStatus", "InvalidInput"),
    ("finalize-missing-nemesis", "POST", f"{S}/{RUN}/nemesis/finalize",
     {"nemesis": with_(OUTCOME, start_time=1)}, "Nemesis not found", "NemesisNotFound"),
    ("finalize-missing-run", "POST", f"{S}/{NEW}/nemesis/finalize", {"nemesis": OUTCOME}, NEW, "RunNotFound"),
    ("finalize-no-status", "POST", f"{S}/{RUN}/nemesis/finalize",
     {"nemesis": {k: v for k, v in OUTCOME.items() if k != "status"}}, "status", "MalformedBody"),
    ("read-bad-severity", "GET", f"{S}/{RUN}/events/get?severity=ERROR&severity=LOUD", None, "severity",
     "InvalidInput"),
    ("read-limit-zero", "GET", f"{S}/{RUN}/events/get?limit=0", None, "limit", "InvalidInput"),
    ("read-limit-huge", "GET", f"{S}/{RUN}/events/ERROR/get?limit=100000", None, "limit", "InvalidInput"),
    ("read-before-float", "GET", f"{S}/{RUN}/events/get?before=1.5", None, "before", None),
    ("count-bad-severity", "GET", f"{S}/{RUN}/events/LOUD/count", None, "severity", "InvalidInput"),
    ("count-missing-run", "GET", f"{S}/{NEW}/events/ERROR/count", None, NEW, "RunNotFound"),
    ("nemeses-missing-run", "GET", f"{S}/{NEW}/nemesis/get", None, NEW, "RunNotFound"),
]


@pytest.mark.parametrize(("method", "path", "body", "fragment", "exception"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
async def test_malformed_sct_event_request(client: AsyncTestClient, auth: dict[str, str], run: str, method: str,
                                           path: str, body: Any, fragment: str, exception: str | None) -> None:
    before = await _state(client, auth)
    if body is None:
        response = await client.request(method, path, headers=auth)
    else:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = await client.request(method, path, content=content, headers={**auth, **JSON})
    _assert_client_error(response, fragment, exception)
    assert await _state(client, auth) == before


def test_case_ids_are_unique() -> None:
    assert len({case[0] for case in CASES}) == len(CASES)


async def test_the_state_is_what_the_fixture_stored(client: AsyncTestClient, auth: dict[str, str], run: str) -> None:
    state = await _state(client, auth)
    assert state["counts"] == dict.fromkeys(SEVERITIES, 1)
    assert [e["severity"] for e in state["events"]] == list(reversed(SEVERITIES))
    assert state["run"]["nemesis_stats"] == {"total": 2}
    assert state["run"]["event_counts"] == dict.fromkeys(SEVERITIES, 1)
    assert [n["name"] for n in state["nemeses"]] == ["disrupt_kill", "disrupt_x"]
