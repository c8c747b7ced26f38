"""Run read routes: the run list of a test, run types, runs by id, artifact redirects, build links.

Runs are created through the client protocol, as CI jobs create them.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

CLIENT = "/api/v1/client"
SCT = "scylla-cluster-tests"
SHORT_FIELDS = {"id", "test_id", "group_id", "release_id", "status", "start_time", "build_number", "build_job_url",
                "build_id", "assignee", "end_time", "investigation_status", "heartbeat"}


def record_example(name: str, body: Any) -> None:
    """Keep a real answer for the API docs when ``ARGUS_RECORD_EXAMPLES`` names a directory."""
    target = os.environ.get("ARGUS_RECORD_EXAMPLES")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n")


async def _post(client: AsyncTestClient, auth: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok", response.text
    return response.json()


async def sct_run(client: AsyncTestClient, auth: dict[str, str], job: str, build_number: int) -> str:
    """Submit an SCT run of Jenkins job ``job`` as its build ``build_number``."""
    run_id = str(uuid.uuid4())
    await _post(client, auth, f"{CLIENT}/testrun/{SCT}/submit", {
        "schema_version": "v8", "run_id": run_id, "job_name": job,
        "job_url": f"https://jenkins.example/job/{job}/{build_number}/", "started_by": "ci", "commit_id": "abc123",
        "origin_url": None, "branch_name": None, "sct_config": None})
    await asyncio.sleep(0.002)  # distinct start times, so keyset bounds have something to separate
    return run_id


async def generic_run(client: AsyncTestClient, auth: dict[str, str], build_id: str, build_number: int) -> str:
    run_id = str(uuid.uuid4())
    await _post(client, auth, f"{CLIENT}/testrun/generic/submit", {
        "schema_version": "v1", "build_id": build_id, "run_id": run_id, "started_by": "ci",
        "build_url": f"https://jenkins.example/job/{build_id}/{build_number}/", "sub_type": "pytest",
        "scylla_version": None})
    return run_id


async def _test_id_of(client: AsyncTestClient, build_id: str) -> str:
    test = await client.app.state.services.catalogue.test_by_build_id(build_id)
    assert test is not None
    return str(test.id)


@pytest.fixture(scope="module")
def job() -> str:
    return f"browse-{uuid.uuid4().hex[:6]}/longevity/ten-gb"


@pytest.fixture(scope="module")
def run_ids() -> list[str]:
    """Ids of the module's SCT runs of ``job``, builds 1..12 in order (filled by the first test)."""
    return []


async def _runs(client: AsyncTestClient, auth: dict[str, str], test_id: str, **params: Any) -> Any:
    response = await client.get(f"/api/v1/test/{test_id}/runs", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["response"]


async def test_run_list_short_form_newest_build_first(client: AsyncTestClient, auth: dict[str, str], job: str,
                                                      run_ids: list[str]) -> None:
    run_ids.extend([await sct_run(client, auth, job, n) for n in range(1, 13)])
    test_id = await _test_id_of(client, job)

    runs = await _runs(client, auth, test_id)
    assert [r["build_number"] for r in runs] == list(range(12, 2, -1))  # default limit 10
    assert all(set(r) == SHORT_FIELDS for r in runs)
    assert runs[0]["id"] == run_ids[-1] and runs[0]["test_id"] == test_id and runs[0]["build_id"] == job
    assert runs[0]["end_time"] == "1970-01-01T00:00:00.000Z" and runs[0]["start_time"].endswith("Z")
    record_example("test-runs-short", {"status": "ok", "response": runs[:2]})

    assert [r["build_number"] for r in await _runs(client, auth, test_id, limit=3)] == [12, 11, 10]
    full = await _runs(client, auth, test_id, limit=1, full="1")
    assert {"logs", "started_by", "scylla_version", "product_version"} <= set(full[0])
    assert full[0]["id"] == run_ids[-1]
    # ``full`` with no value reads as "not asked", like ``all`` on catalogue listings.
    assert set((await _runs(client, auth, test_id, limit=1, full=""))[0]) == SHORT_FIELDS


async def test_before_and_after_page_by_start_time(client: AsyncTestClient, auth: dict[str, str], job: str,
                                                   run_ids: list[str]) -> None:
    test_id = await _test_id_of(client, job)
    everything = await _runs(client, auth, test_id, limit=100)
    start = {r["build_number"]: datetime.fromisoformat(r["start_time"]).timestamp() for r in everything}

    older = await _runs(client, auth, test_id, limit=3, before=start[8])
    assert [r["build_number"] for r in older] == [7, 6, 5]
    window = await _runs(client, auth, test_id, before=start[8], after=start[4])
    assert [r["build_number"] for r in window] == [7, 6, 5]
    newer = await _runs(client, auth, test_id, after=start[10])
    assert [r["build_number"] for r in newer] == [12, 11]
    assert await _runs(client, auth, test_id, before=start[1]) == []


async def test_additional_runs_are_pinned_only_for_their_test(client: AsyncTestClient, auth: dict[str, str],
                                                              job: str, run_ids: list[str]) -> None:
    test_id = await _test_id_of(client, job)
    stranger = await sct_run(client, auth, f"{job}-other", 1)
    params = {"limit": 2, "additionalRuns[]": [run_ids[0], run_ids[2], stranger, str(uuid.uuid4()), run_ids[-1]]}
    runs = await _runs(client, auth, test_id, **params)
    assert [r["build_number"] for r in runs] == [12, 11, 3, 1]


async def test_the_run_list_answers_304_until_a_run_changes(client: AsyncTestClient, auth: dict[str, str],
                                                             job: str, run_ids: list[str]) -> None:
    test_id = await _test_id_of(client, job)
    path = f"/api/v1/test/{test_id}/runs"
    first = await client.get(path, headers=auth)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = await client.get(path, headers={**auth, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert (await client.get(path, headers={**auth, "If-None-Match": '"other"'})).status_code == 200
    listed = await client.get(path, headers={**auth, "If-None-Match": f'"other", {tag.removeprefix("W/")}'})
    assert listed.status_code == 304

    await _post(client, auth, f"{CLIENT}/testrun/{SCT}/{run_ids[-1]}/set_status",
                {"schema_version": "v8", "new_status": "running"})
    changed = await client.get(path, headers={**auth, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


async def test_the_run_page_answers_304_and_carries_the_sct_extras(client: AsyncTestClient,
                                                                    auth: dict[str, str], run_ids: list[str]) -> None:
    path = f"/api/v1/run/{SCT}/{run_ids[0]}"
    first = await client.get(path, headers=auth)
    assert first.status_code == 200
    run = first.json()["response"]
    assert {"junit_reports", "nemesis_data", "allocated_resources", "event_counts"} <= set(run)
    again = await client.get(path, headers={**auth, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    missing = await client.get(f"/api/v1/run/{SCT}/{uuid.uuid4()}", headers=auth)
    assert missing.json() == {"status": "ok", "response": None}


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"before": "yesterday"}, {"after": "nan"},
    {"before": "1e20"}, {"additionalRuns[]": "not-a-uuid"},
    {"additionalRuns[]": [str(uuid.uuid4()) for _ in range(101)]},
])
async def test_malformed_run_list_parameters_are_400(client: AsyncTestClient, auth: dict[str, str], job: str,
                                                     run_ids: list[str], params: dict[str, Any]) -> None:
    test_id = await _test_id_of(client, job)
    response = await client.get(f"/api/v1/test/{test_id}/runs", params=params, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "error"


async def test_unknown_or_malformed_test_ids(client: AsyncTestClient, auth: dict[str, str]) -> None:
    unknown = await client.get(f"/api/v1/test/{uuid.uuid4()}/runs", headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["response"]["exception"] == "NotFound"
    malformed = await client.get("/api/v1/test/not-a-test/runs", headers=auth)
    assert malformed.status_code == 400
    assert malformed.json()["response"]["exception"] == "InvalidInput"
    assert (await client.get(f"/api/v1/test/{uuid.uuid4()}/runs")).status_code == 403


async def test_run_type(client: AsyncTestClient, auth: dict[str, str], run_ids: list[str]) -> None:
    generic = await generic_run(client, auth, f"browse-{uuid.uuid4().hex[:6]}/pytest/unit", 4)
    for run_id, expected in ((run_ids[0], SCT), (generic, "generic"), (str(uuid.uuid4()), "unknown-does-not-exist")):
        response = await client.get(f"/api/v1/run/{run_id}/type", headers=auth)
        assert response.json() == {"status": "ok", "response": {"run_type": expected}}
    assert (await client.get("/api/v1/run/xyz/type", headers=auth)).status_code == 400


async def test_runs_by_test_and_run_id(client: AsyncTestClient, auth: dict[str, str], job: str,
                                       run_ids: list[str]) -> None:
    test_id = await _test_id_of(client, job)
    body = [[test_id, run_ids[0]], [test_id, run_ids[1]], [str(uuid.uuid4()), run_ids[2]],
            [test_id, str(uuid.uuid4())]]
    answer = await _post(client, auth, "/api/v1/get_runs_by_test_id_run_id", body)
    runs = answer["response"]["runs"]
    assert set(runs) == {run_ids[0], run_ids[1]}
    assert runs[run_ids[0]]["build_number"] == 1 and runs[run_ids[0]]["build_id"] == job
    record_example("runs-by-id", {"status": "ok", "response": {"runs": {run_ids[0]: runs[run_ids[0]]}}})
    assert (await _post(client, auth, "/api/v1/get_runs_by_test_id_run_id", []))["response"] == {"runs": {}}


@pytest.mark.parametrize("body", [b"", b"{}", b'[["a"]]', b'[[1, 2]]', b'[["not-a-uuid", "x"]]', b"[[",
                                  json.dumps([[str(uuid.uuid4()), str(uuid.uuid4())]] * 501).encode()])
async def test_runs_by_id_rejects_malformed_bodies(client: AsyncTestClient, auth: dict[str, str],
                                                   body: bytes) -> None:
    response = await client.post("/api/v1/get_runs_by_test_id_run_id", content=body,
                                 headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text


async def test_log_downloads_redirect_to_web_links_only(client: AsyncTestClient, auth: dict[str, str],
                                                        run_ids: list[str]) -> None:
    run_id = run_ids[3]
    await _post(client, auth, f"{CLIENT}/testrun/{SCT}/{run_id}/logs/submit", {"schema_version": "v8", "logs": [
        {"log_name": "db-cluster.tar.zst", "log_link": "https://logs.example/db-cluster.tar.zst"},
        {"log_name": "raw", "log_link": "s3://bucket/raw.tar.zst"},
        {"log_name": "script", "log_link": "javascript:alert(1)"}]})
    base = f"/api/v1/tests/{SCT}/{run_id}/log"
    found = await client.get(f"{base}/db-cluster.tar.zst/download", headers=auth, follow_redirects=False)
    assert found.status_code == 302
    assert found.headers["location"] == "https://logs.example/db-cluster.tar.zst"
    for name in ("raw", "script", "missing"):
        response = await client.get(f"{base}/{name}/download", headers=auth, follow_redirects=False)
        assert response.status_code == 404, name
    wrong_type = await client.get(f"/api/v1/tests/generic/{run_id}/log/db-cluster.tar.zst/download", headers=auth)
    assert wrong_type.status_code == 404
    assert (await client.get(f"/api/v1/tests/bogus/{run_id}/log/raw/download", headers=auth)).status_code == 400
    assert (await client.get(f"/api/v1/tests/{SCT}/nope/log/raw/download", headers=auth)).status_code == 400


async def test_screenshots_redirect_by_file_name(client: AsyncTestClient, auth: dict[str, str],
                                                 run_ids: list[str]) -> None:
    run_id = run_ids[4]
    await _post(client, auth, f"{CLIENT}/sct/{run_id}/screenshots/submit", {
        "schema_version": "v8",
        "screenshot_links": ["https://grafana.example/shots/overview-1.png", "s3://bucket/shots/raw.png"]})
    base = f"/api/v1/tests/{SCT}/{run_id}/screenshot"
    found = await client.get(f"{base}/overview-1.png", headers=auth, follow_redirects=False)
    assert found.status_code == 302 and found.headers["location"] == "https://grafana.example/shots/overview-1.png"
    assert (await client.get(f"{base}/raw.png", headers=auth, follow_redirects=False)).status_code == 404
    assert (await client.get(f"{base}/other.png", headers=auth, follow_redirects=False)).status_code == 404
    assert (await client.get(f"/api/v1/tests/{SCT}/{uuid.uuid4()}/screenshot/x.png", headers=auth)).status_code == 404


async def test_pytest_results_of_a_run(client: AsyncTestClient, auth: dict[str, str]) -> None:
    run_id = await generic_run(client, auth, f"browse-{uuid.uuid4().hex[:6]}/pytest/suite", 7)
    for index, status in enumerate(("passed", "failed")):
        await _post(client, auth, f"{CLIENT}/testrun/pytest/result/submit", {
            "name": f"tests/test_api.py::test_{index}", "test_type": "pytest", "run_id": run_id, "status": status,
            "timestamp": 1_767_225_600 + index, "session_timestamp": 1_767_225_000, "markers": {"slow": 1},
            "duration": 1.5 + index, "message": None, "user_fields": {"shard": "1"}})
    path = f"/api/v1/run/{run_id}/pytest/results"
    response = await client.get(path, headers=auth)
    results = response.json()["response"]
    assert [(r["name"], r["status"]) for r in results] == [("tests/test_api.py::test_1", "failed"),
                                                           ("tests/test_api.py::test_0", "passed")]
    assert results[0]["id"] == "2026-01-01T00:00:01.000Z" and results[0]["user_fields"] == {"shard": "1"}
    record_example("run-pytest-results", {"status": "ok", "response": results[:1]})
    assert (await client.get(path, headers={**auth, "If-None-Match": response.headers["etag"]})).status_code == 304
    empty = await client.get(f"/api/v1/run/{uuid.uuid4()}/pytest/results", headers=auth)
    assert empty.json()["response"] == []
    assert (await client.get("/api/v1/run/bad/pytest/results", headers=auth)).status_code == 400


async def test_set_plugin(client: AsyncTestClient, auth: dict[str, str], job: str, run_ids: list[str]) -> None:
    test_id = await _test_id_of(client, job)
    path = f"/api/v1/test/{test_id}/set_plugin"
    answer = await _post(client, auth, path, {"plugin_name": "driver-matrix-tests"})
    assert answer["response"]["plugin_name"] == "driver-matrix-tests" and answer["response"]["id"] == test_id
    record_example("set-plugin", answer)
    for body in ({"plugin_name": "bogus"}, {"plugin": "generic"}, {}, ["generic"]):
        response = await client.post(path, json=body, headers=auth)
        assert response.status_code == 400, body
    unknown = await client.post(f"/api/v1/test/{uuid.uuid4()}/set_plugin", json={"plugin_name": "generic"},
                                headers=auth)
    assert unknown.status_code == 404
    details = (await client.get(f"/api/v1/test/{test_id}/details", headers=auth)).json()["response"]
    assert details["plugin_name"] == "driver-matrix-tests"  # the bad calls changed nothing
    await _post(client, auth, path, {"plugin_name": SCT})


async def test_build_links_resolve_runs_without_shadowing_test_routes(client: AsyncTestClient,
                                                                      auth: dict[str, str], job: str,
                                                                      run_ids: list[str]) -> None:
    response = await client.get(f"/api/v1/test/{job}/5", headers=auth)
    assert response.status_code == 200, response.text
    link = response.json()["response"]
    assert link == {"run_id": run_ids[4], "plugin_name": SCT,
                    "url": f"http://testserver.local/tests/{SCT}/{run_ids[4]}"}
    record_example("build-link", response.json())
    assert (await client.get(f"/api/v1/test/{job}/5/", headers=auth)).json()["response"] == link

    missing = await client.get(f"/api/v1/test/{job}/99", headers=auth)
    assert missing.status_code == 404 and missing.json()["response"]["exception"] == "NotFound"
    assert (await client.get(f"/api/v1/test/no-such/job/{5}", headers=auth)).status_code == 404
    assert (await client.get(f"/api/v1/test/{job}/5")).status_code == 403
    # The /test/<id>/... routes beside it still answer.
    test_id = await _test_id_of(client, job)
    assert (await client.get(f"/api/v1/test/{test_id}/details", headers=auth)).status_code == 200
    assert (await client.get(f"/api/v1/test/{test_id}/runs", headers=auth)).status_code == 200
