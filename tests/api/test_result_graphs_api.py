"""Results graphs and graph views, fed through the CI protocol as ``argus-alm`` sends results.

SCT runs report their packages, so each run's SUT time (the x axis) and release (``2024.1``,
``dev``) come from them, as in production.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from domain.runs.entities import InvestigationStatus

CLIENT = "/api/v1/client"
GRAPHS = "/api/v1/test-results"
COLUMNS = [{"name": "throughput", "unit": "op/s", "type": "FLOAT", "higher_is_better": True, "visible": True},
           {"name": "p99", "unit": "ms", "type": "DURATION", "higher_is_better": False, "visible": True},
           {"name": "hidden", "unit": "", "type": "INTEGER", "higher_is_better": None, "visible": False},
           {"name": "note", "unit": "", "type": "TEXT", "higher_is_better": None, "visible": True}]
RULES = {"throughput": {"best_pct": 10, "best_abs": None, "fixed_limit": 50}}
GREEN, RED = "#198754", "#dc3545"


async def _post(client: AsyncTestClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def _sct_run(client: AsyncTestClient, auth: dict[str, str], job: str, version: str, date: str,
                   driver: str) -> str:
    """An SCT run of ``job`` that tested scylla ``version`` built on ``date`` with java-driver ``driver``."""
    run_id = str(uuid.uuid4())
    await _post(client, auth, f"{CLIENT}/testrun/scylla-cluster-tests/submit", {
        "schema_version": "v8", "run_id": run_id, "job_name": job, "job_url": f"https://jenkins.example/job/{job}/1/",
        "started_by": "ci", "commit_id": "abc123", "origin_url": None, "branch_name": None, "sct_config": None})
    await _post(client, auth, f"{CLIENT}/sct/{run_id}/packages/submit", {"schema_version": "v8", "packages": [
        {"name": "scylla-server", "version": version, "date": date, "revision_id": "a1b2c3", "build_id": "b1"},
        {"name": "java-driver", "version": driver, "date": None, "revision_id": None, "build_id": None}]})
    return run_id


def _table(name: str, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``submit_results`` body as ``argus-alm`` sends it, with the SUT time left for the server to derive."""
    return {"schema_version": "v1", "sut_timestamp": 0, "results": cells, "meta": {
        "name": name, "description": f"{name} of the cluster", "columns_meta": COLUMNS,
        "rows_meta": list(dict.fromkeys(c["row"] for c in cells)), "validation_rules": RULES,
        "sut_package_name": "scylla-server"}}


def _cells(throughput: float, p99: float) -> list[dict[str, Any]]:
    return [{"column": "throughput", "row": "read", "status": "UNSET", "value": throughput},
            {"column": "p99", "row": "read", "status": "UNSET", "value": p99},
            {"column": "hidden", "row": "read", "status": "UNSET", "value": 1},
            {"column": "note", "row": "read", "status": "UNSET", "value_text": "warm"}]


async def _catalogue_test(client: AsyncTestClient, name: str) -> tuple[str, str]:
    """A test (id) and the CI job name that links runs to it."""
    catalogue = client.app.state.services.catalogue
    release = await catalogue.create_release(f"graphs-{name}")
    group = await catalogue.create_group(release.id, "perf")
    job = f"graphs-{name}/perf/{name}"
    return str((await catalogue.create_test(group.id, name, build_system_id=job)).id), job


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def perf(client: AsyncTestClient, token: str) -> dict[str, str]:
    """A test with four runs over ten days; the last is ignored after it set an outsized best."""
    auth = {"Authorization": f"token {token}"}
    test_id, job = await _catalogue_test(client, "perf")
    runs = {"first": await _sct_run(client, auth, job, "2024.1.0", "20250101", "4.18.0"),
            "second": await _sct_run(client, auth, job, "2024.1.1", "20250105", "4.18.0"),
            "dev": await _sct_run(client, auth, job, "2024.3.0~dev", "20250110", "4.19.0"),
            "ignored": await _sct_run(client, auth, job, "2024.1.2", "20250107", "4.18.0")}
    submit = f"{CLIENT}/testrun/scylla-cluster-tests/{{}}/submit_results"
    assert (await _post(client, auth, submit.format(runs["first"]), _table("perf", _cells(100, 5.0))))["status"] == "ok"
    await _post(client, auth, submit.format(runs["second"]), _table("perf", _cells(120, 4.0)))
    await _post(client, auth, submit.format(runs["second"]), _table("other", [
        {"column": "throughput", "row": "write", "status": "PASS", "value": 70}]))
    # 90 misses the limit max(50, 120 * 0.9): stored, and reported to CI as a regression.
    regression = await _post(client, auth, submit.format(runs["dev"]), _table("perf", _cells(90, 6.0)))
    assert regression["response"]["exception"] == "DataValidationError"
    await _post(client, auth, submit.format(runs["ignored"]), _table("perf", _cells(1000, 0.5)))
    run_service = client.app.state.services.runs
    ignored = await run_service.find_any(uuid.UUID(runs["ignored"]))
    await run_service.apply(ignored, {"investigation_status": InvestigationStatus.IGNORED})
    return {"test_id": test_id, **runs}


async def _graphs(client: AsyncTestClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(GRAPHS, params=params, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    return response.json()["response"]


def _datasets(answer: dict[str, Any], title: str) -> dict[str, dict[str, Any]]:
    [chart] = [g for g in answer["graphs"] if g["options"]["plugins"]["title"]["text"] == title]
    return {d["label"]: d for d in chart["data"]["datasets"]}


async def test_graphs_have_series_per_release_best_and_threshold_lines(
        client: AsyncTestClient, auth: dict[str, str], perf: dict[str, str]) -> None:
    answer = await _graphs(client, auth, testId=perf["test_id"])
    titles = [g["options"]["plugins"]["title"]["text"] for g in answer["graphs"]]
    assert titles == ["other - throughput", "perf - throughput", "perf - p99"]  # TEXT and invisible left out
    assert answer["ticks"] == {"min": "2025-01-01", "max": "2025-01-10"}
    assert answer["releases_filters"] == ["2024.1", "dev"]
    throughput = _datasets(answer, "perf - throughput")
    assert list(throughput) == ["2024.1 - read", "dev - read", "best - read", "error threshold - read"]
    stable = throughput["2024.1 - read"]
    assert [(p["x"], p["y"], p["id"], p["status"]) for p in stable["data"]] == [
        ("2025-01-01T00:00:00Z", 100.0, perf["first"], "PASS"), ("2025-01-05T00:00:00Z", 120.0, perf["second"], "PASS")]
    assert stable["pointBackgroundColor"] == [GREEN, GREEN]
    assert stable["data"][0]["changes"] == ["scylla-server: 2024.1.0"]
    [dev_point] = throughput["dev - read"]["data"]
    assert (dev_point["id"], dev_point["y"], dev_point["status"], dev_point["limit"]) == (
        perf["dev"], 90.0, "ERROR", 108.0)
    assert throughput["dev - read"]["pointBackgroundColor"] == [RED]
    assert dev_point["changes"] == ["scylla-server: 2024.3.0~dev", "java-driver: 4.18.0 -> 4.19.0"]
    assert dev_point["dep_change"] is True
    # The ignored run's 1000 is neither a point nor a best; the best line follows 100, then 120.
    assert [p["y"] for p in throughput["best - read"]["data"]] == [100.0, 120.0, 120.0]
    assert [p["y"] for p in throughput["error threshold - read"]["data"]] == [90.0, 108.0, 108.0]
    everywhere = [p for g in answer["graphs"] for d in g["data"]["datasets"] for p in d["data"]]
    assert perf["ignored"] not in {p.get("id") for p in everywhere}
    p99 = _datasets(answer, "perf - p99")
    assert "error threshold - read" not in p99 and "best - read" in p99  # tracked for bests, no rule
    options = next(g for g in answer["graphs"] if g["options"]["plugins"]["title"]["text"] == "perf - p99")["options"]
    assert options["scales"]["y"]["title"]["text"] == "[ms]"
    assert options["scales"]["x"]["type"] == "time"


async def test_y_axis_is_cut_to_the_middle_values(client: AsyncTestClient, auth: dict[str, str]) -> None:
    test_id, job = await _catalogue_test(client, "outlier")
    submit = f"{CLIENT}/testrun/scylla-cluster-tests/{{}}/submit_results"
    for day, value in (("20250101", 10), ("20250102", 11), ("20250103", 12), ("20250104", 500)):
        run_id = await _sct_run(client, auth, job, "2025.1.0", day, "4.18.0")
        await _post(client, auth, submit.format(run_id), {**_table("t", []), "results": [
            {"column": "p99", "row": "r", "status": "PASS", "value": value}]})
    [chart] = (await _graphs(client, auth, testId=test_id))["graphs"]
    assert (chart["options"]["scales"]["y"]["min"], chart["options"]["scales"]["y"]["max"]) == (5, 17)
    points = _datasets({"graphs": [chart]}, "t - p99")["2025.1 - r"]["data"]
    assert [(p["y"], p.get("ori")) for p in points] == [(10.0, None), (11.0, None), (12.0, None), (17, 500.0)]


async def test_date_range_and_table_filters(client: AsyncTestClient, auth: dict[str, str],
                                            perf: dict[str, str]) -> None:
    window = await _graphs(client, auth, testId=perf["test_id"], startDate="2025-01-04", endDate="2025-01-05")
    assert window["ticks"] == {"min": "2025-01-05", "max": "2025-01-05"}
    assert {p["id"] for g in window["graphs"] for d in g["data"]["datasets"] for p in d["data"] if "id" in p} == {
        perf["second"]}
    assert window["releases_filters"] == ["2024.1"]
    timed = await _graphs(client, auth, testId=perf["test_id"], startDate="2025-01-02T00:00:00+00:00",
                          endDate="2025-01-09T23:00:00Z")
    assert timed["ticks"] == {"min": "2025-01-05", "max": "2025-01-05"}
    only_other = await _graphs(client, auth, testId=perf["test_id"], **{"tableNames[]": ["other", "no-such"]})
    assert [g["options"]["plugins"]["title"]["text"] for g in only_other["graphs"]] == ["other - throughput"]
    widest = await _graphs(client, auth, testId=perf["test_id"], startDate="0001-01-01T00:00:00+14:00",
                           endDate="9999-12-31")
    assert widest["ticks"] == {"min": "2025-01-01", "max": "2025-01-10"}
    nothing = await _graphs(client, auth, testId=perf["test_id"], startDate="2030-01-01")
    assert (nothing["graphs"], nothing["ticks"], nothing["releases_filters"]) == ([], {}, [])


async def test_a_test_without_results(client: AsyncTestClient, auth: dict[str, str]) -> None:
    test_id, _ = await _catalogue_test(client, "empty")
    assert await _graphs(client, auth, testId=test_id) == {"graphs": [], "ticks": {}, "releases_filters": [],
                                                           "graph_views": []}
    probe = await client.head(GRAPHS, params={"testId": test_id}, headers=auth)
    assert (probe.status_code, probe.content) == (404, b"")


async def test_head_says_whether_results_exist(client: AsyncTestClient, auth: dict[str, str],
                                               perf: dict[str, str]) -> None:
    found = await client.head(GRAPHS, params={"testId": perf["test_id"]}, headers=auth)
    assert (found.status_code, found.content) == (200, b"")
    unknown = await client.head(GRAPHS, params={"testId": str(uuid.uuid4())}, headers=auth)
    assert (unknown.status_code, unknown.content) == (404, b"")
    malformed = await client.head(GRAPHS, params={"testId": "nope"}, headers=auth)
    assert malformed.status_code == 400


async def test_unknown_test_is_a_404_envelope(client: AsyncTestClient, auth: dict[str, str]) -> None:
    missing = str(uuid.uuid4())
    response = await client.get(GRAPHS, params={"testId": missing}, headers=auth)
    assert response.status_code == 404
    body = response.json()
    assert (body["status"], body["response"]["exception"]) == ("error", "NotFound")


@pytest.mark.parametrize("params", [
    {}, {"testId": "nope"}, {"testId": "TEST", "startDate": "yesterday"}, {"testId": "TEST", "endDate": "2025-13-01"},
    {"testId": "TEST", "startDate": "2025-02-01", "endDate": "2025-01-01"},
    {"testId": "TEST", "tableNames[]": ["x" * 201]},
], ids=["no-test-id", "bad-test-id", "bad-start", "bad-end", "reversed-range", "long-table-name"])
async def test_malformed_parameters_are_400(client: AsyncTestClient, auth: dict[str, str], perf: dict[str, str],
                                            params: dict[str, Any]) -> None:
    if params.get("testId") == "TEST":
        params = {**params, "testId": perf["test_id"]}
    response = await client.get(GRAPHS, params=params, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "error"


async def test_polling_gets_304_until_something_changes(client: AsyncTestClient, auth: dict[str, str]) -> None:
    test_id, job = await _catalogue_test(client, "polled")
    run_id = await _sct_run(client, auth, job, "2025.1.0", "20250301", "4.18.0")
    submit = f"{CLIENT}/testrun/scylla-cluster-tests/{run_id}/submit_results"
    await _post(client, auth, submit, _table("t", _cells(100, 1.0)))
    first = await client.get(GRAPHS, params={"testId": test_id}, headers=auth)
    tag = first.headers["etag"]
    again = await client.get(GRAPHS, params={"testId": test_id}, headers={**auth, "If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    later = await _sct_run(client, auth, job, "2025.1.0", "20250302", "4.18.0")
    await _post(client, auth, f"{CLIENT}/testrun/scylla-cluster-tests/{later}/submit_results",
                _table("t", _cells(110, 1.0)))
    changed = await client.get(GRAPHS, params={"testId": test_id}, headers={**auth, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert len(changed.json()["response"]["graphs"][0]["data"]["datasets"][0]["data"]) == 2


async def test_routes_need_a_login(client: AsyncTestClient) -> None:
    assert (await client.get(GRAPHS, params={"testId": str(uuid.uuid4())})).status_code == 403
    assert (await client.head(GRAPHS, params={"testId": str(uuid.uuid4())})).status_code == 403
    assert (await client.post("/api/v1/create-graph-view", json={})).status_code == 403
    assert (await client.post("/api/v1/update-graph-view", json={})).status_code == 403


async def test_graph_views_are_created_updated_and_listed(client: AsyncTestClient, auth: dict[str, str],
                                                          perf: dict[str, str]) -> None:
    test_id, _ = await _catalogue_test(client, "views")
    created = (await _post(client, auth, "/api/v1/create-graph-view",
                           {"testId": test_id, "name": "Latency", "description": "p99 only"}))["response"]
    assert created == {"test_id": test_id, "id": created["id"], "name": "Latency", "description": "p99 only",
                       "graphs": {}}
    second = (await _post(client, auth, "/api/v1/create-graph-view",
                          {"testId": test_id, "name": "Throughput", "description": ""}))["response"]
    graphs = {"perf - p99": "{}", "perf - throughput": '{"size": "large"}'}
    updated = (await _post(client, auth, "/api/v1/update-graph-view", {
        "testId": test_id, "id": created["id"], "name": "Latency view", "description": "", "graphs": graphs}))
    assert updated["response"] == {**created, "name": "Latency view", "description": "", "graphs": graphs}
    fewer = {"perf - p99": "{}"}
    await _post(client, auth, "/api/v1/update-graph-view", {
        "testId": test_id, "id": created["id"], "name": "Latency view", "description": "", "graphs": fewer})
    listed = (await _graphs(client, auth, testId=test_id))["graph_views"]
    assert listed == [{**created, "name": "Latency view", "description": "", "graphs": fewer}, second]
    assert (await _graphs(client, auth, testId=perf["test_id"]))["graph_views"] == []  # views belong to a test


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/v1/create-graph-view", {"testId": "UNKNOWN", "name": "x", "description": ""}, 404),
    ("/api/v1/create-graph-view", {"testId": "TEST", "name": " ", "description": ""}, 400),
    ("/api/v1/create-graph-view", {"testId": "TEST", "name": "x" * 201, "description": ""}, 400),
    ("/api/v1/create-graph-view", {"testId": "TEST", "description": ""}, 400),
    ("/api/v1/create-graph-view", {"testId": "not-a-uuid", "name": "x"}, 400),
    ("/api/v1/update-graph-view", {"testId": "TEST", "id": "UNKNOWN", "name": "x", "description": "",
                                   "graphs": {}}, 404),
    ("/api/v1/update-graph-view", {"testId": "UNKNOWN", "id": "VIEW", "name": "x", "description": "",
                                   "graphs": {}}, 404),
    ("/api/v1/update-graph-view", {"testId": "TEST", "id": "VIEW", "name": "x", "description": "",
                                   "graphs": {"perf - p99": {"size": 1}}}, 400),
    ("/api/v1/update-graph-view", {"testId": "TEST", "id": "VIEW", "name": "x", "description": "",
                                   "graphs": {"": "{}"}}, 400),
    ("/api/v1/update-graph-view", {"testId": "TEST", "id": "VIEW", "name": "x", "description": "d" * 2001,
                                   "graphs": {}}, 400),
    ("/api/v1/update-graph-view", {"testId": "TEST", "id": "VIEW", "name": "x", "description": ""}, 400),
], ids=["create-unknown-test", "create-blank-name", "create-long-name", "create-no-name", "create-bad-test-id",
        "update-unknown-view", "update-other-test", "update-graph-not-a-string", "update-blank-title",
        "update-long-description", "update-no-graphs"])
async def test_bad_graph_view_input_changes_nothing(client: AsyncTestClient, auth: dict[str, str], path: str,
                                                    body: dict[str, Any], status: int) -> None:
    test_id, _ = await _catalogue_test(client, f"bad-views-{uuid.uuid4().hex[:8]}")
    view = (await _post(client, auth, "/api/v1/create-graph-view",
                        {"testId": test_id, "name": "kept", "description": "as is"}))["response"]
    substitutes = {"TEST": test_id, "UNKNOWN": str(uuid.uuid4()), "VIEW": view["id"]}
    body = {k: substitutes.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = await client.post(path, json=body, headers=auth)
    assert response.status_code == status, response.text
    assert response.json()["status"] == "error"
    assert (await _graphs(client, auth, testId=test_id))["graph_views"] == [view]
