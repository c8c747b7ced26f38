"""Malformed CI-protocol requests: HTTP 200 error envelope with a useful ``arguments[0]``, and nothing stored.

``argus-alm`` only reads the reason of a failure from an HTTP 200 answer whose body is
``{"status": "error", "response": {"trace_id", "exception", "message", "arguments": [...]}}``; it shows
``arguments[0]`` to people. Every case below is one request a broken or hostile CI job could send.
Before and after each, the state a client can see (three runs of different types, their results and
collections, runs that must not come to exist, the catalogue, pytest statistics) is read back and must
be identical.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

GENERIC = str(uuid.uuid4())
MATRIX = str(uuid.uuid4())
SIRENADA = str(uuid.uuid4())
NEW = str(uuid.uuid4())  # a run id nothing ever creates
RUN_TYPES = ("generic", "scylla-cluster-tests", "driver-matrix-tests", "sirenada")
PYTEST_NAME = "tests/api/test_bad.py::TestBad::test_case"
JSON = {"Content-Type": "application/json"}

JUNIT = b"""<?xml version="1.0"?>
<testsuites><testsuite name="s" tests="2" failures="1" timestamp="2024-05-14T10:00:00">
<testcase classname="c" name="ok" time="1.0"/><testcase classname="c" name="bad" time="2.0"><failure message="m"/>
</testcase></testsuite></testsuites>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuites><testsuite name="&lol3;"/></testsuites>"""


def b64(data: bytes) -> str:
    """What the driver-matrix CLI sends: ``base64.encodebytes``, newlines included."""
    return base64.encodebytes(data).decode()


GENERIC_SUBMIT = {"schema_version": "v1", "build_id": "bad-input/never/generic", "run_id": NEW,
                  "started_by": "ci", "build_url": "https://jenkins.example/job/x/1/", "sub_type": None,
                  "scylla_version": None}
SCT_SUBMIT = {"schema_version": "v8", "run_id": NEW, "job_name": "bad-input/never/sct",
              "job_url": "https://jenkins.example/job/sct/1/", "started_by": "ci", "commit_id": "abc123",
              "origin_url": None, "branch_name": None, "sct_config": None}
MATRIX_SUBMIT = {"schema_version": "v2", "run_id": NEW, "job_name": "bad-input/never/matrix",
                 "job_url": "https://jenkins.example/job/matrix/1/"}
SIRENADA_CASE = {"class_name": "c.T", "file_name": "t.py", "test_name": "test_x", "browser_type": "chrome",
                 "cluster_type": "aws", "duration": 1.0, "sirenada_test_id": "t1", "sirenada_user": "u",
                 "sirenada_password": "p", "status": "passed"}
SIRENADA_SUBMIT = {"schema_version": "v1", "run_id": NEW, "build_id": "bad-input/never/sirenada",
                   "build_job_url": "https://jenkins.example/job/s/1/", "region": "us-east-1",
                   "results": [SIRENADA_CASE]}
DRIVER_RESULT = {"schema_version": "v2", "run_id": MATRIX, "driver_name": "pytest.scylla.v3.3.1.0",
                 "driver_type": "python", "raw_xml": b64(JUNIT)}
DRIVER_FAILURE = {"schema_version": "v2", "run_id": MATRIX, "driver_name": "TEST-scylla-2.1.0", "driver_type": "cpp",
                  "failure_reason": "build failed"}
DRIVER_ENV = {"schema_version": "v2", "run_id": MATRIX, "raw_env": "scylla-version: 9.9.9\nos: test\n"}
RESULTS = {"schema_version": "v1", "run_id": GENERIC, "sut_timestamp": 1717200000,
           "meta": {"name": "Throughput", "description": "d", "sut_package_name": "",
                    "columns_meta": [{"name": "ops", "unit": "op/s", "type": "FLOAT", "higher_is_better": True,
                                      "visible": True},
                                     {"name": "node", "unit": "", "type": "TEXT", "higher_is_better": None,
                                      "visible": True}],
                    "rows_meta": ["write"], "validation_rules": {"ops": {"best_pct": 10, "best_abs": None,
                                                                          "fixed_limit": None}}},
           "results": [{"column": "ops", "row": "write", "status": "UNSET", "value": 100.0},
                       {"column": "node", "row": "write", "status": "UNSET", "value_text": "n1"}]}
PYTEST_REPORT = {"name": PYTEST_NAME, "test_type": "dtest", "run_id": GENERIC, "message": None, "status": "passed",
                 "duration": 1.5, "timestamp": 1717236000, "session_timestamp": 1717236000,
                 "markers": {"dtest": 1}, "user_fields": {}}


def with_(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def with_meta(**changes: Any) -> dict[str, Any]:
    return with_(RESULTS, meta={**RESULTS["meta"], **changes})


NEW_DRIVER = with_(DRIVER_RESULT, driver_name="pytest.scylla.v3.9.9.9")  # a name the run has no collection of


# --- the runs every case must leave alone ----------------------------------------------------------------
async def _ok(client: AsyncTestClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok", response.text
    return response.json()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def runs(client: AsyncTestClient, token: str) -> dict[str, str]:
    """A generic run with a results table and pytest reports, a driver-matrix run, a sirenada run."""
    auth = {"Authorization": f"token {token}"}
    prefix = "/api/v1/client/testrun"
    await _ok(client, auth, f"{prefix}/generic/submit",
              with_(GENERIC_SUBMIT, run_id=GENERIC, build_id="bad-input/runs/generic"))
    await _ok(client, auth, f"{prefix}/generic/{GENERIC}/submit_results", RESULTS)
    await _ok(client, auth, f"{prefix}/pytest/result/submit", PYTEST_REPORT)
    await _ok(client, auth, f"{prefix}/driver-matrix-tests/submit",
              with_(MATRIX_SUBMIT, run_id=MATRIX, job_name="bad-input/runs/matrix"))
    await _ok(client, auth, "/api/v1/client/driver_matrix/env/submit", DRIVER_ENV)
    await _ok(client, auth, "/api/v1/client/driver_matrix/result/submit", DRIVER_RESULT)
    await _ok(client, auth, f"{prefix}/sirenada/submit",
              with_(SIRENADA_SUBMIT, run_id=SIRENADA, build_id="bad-input/runs/sirenada"))
    return {"generic": GENERIC, "driver-matrix-tests": MATRIX, "sirenada": SIRENADA}


async def _state(client: AsyncTestClient, auth: dict[str, str], runs: dict[str, str]) -> dict[str, Any]:
    """Everything a client can read that a bad request might have touched."""
    async def payload(path: str) -> Any:
        response = await client.get(path, headers=auth)
        assert response.status_code == 200, response.text
        return response.json()

    documents = {kind: await payload(f"/api/v1/run/{kind}/{run_id}") for kind, run_id in runs.items()}
    assert all(d["response"] for d in documents.values()), documents
    never_created = {kind: await payload(f"/api/v1/client/testrun/{kind}/{NEW}/get") for kind in RUN_TYPES}
    assert all(d == {"status": "ok", "response": None} for d in never_created.values()), never_created
    test_id = documents["generic"]["response"]["test_id"]
    return {
        "runs": documents,
        "results": await payload(f"/api/v1/run/{test_id}/{GENERIC}/fetch_results"),
        "releases": await payload("/api/v1/releases?all=1"),
        "pytest": await payload(f"/api/v1/client/testrun/pytest/{PYTEST_NAME}/stats/duration/count"),
        "report": await payload("/api/v1/client/driver_matrix/test_report?buildId=bad-input/runs/matrix"),
    }


def _assert_client_error(response: Any, fragment: str, exception: str | None) -> dict[str, Any]:
    """HTTP 200 with the full error envelope, as argus-alm reads it."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "error", body
    detail = body["response"]
    assert set(detail) == {"trace_id", "exception", "message", "arguments"}, detail
    assert detail["trace_id"] and detail["exception"] and detail["message"], detail
    assert isinstance(detail["arguments"], list) and detail["arguments"], detail
    assert isinstance(detail["arguments"][0], str), detail
    assert fragment.lower() in detail["arguments"][0].lower(), detail
    if exception is not None:
        assert detail["exception"] == exception, detail
    return detail


P = "/api/v1/client/testrun"
DM = "/api/v1/client/driver_matrix"
# (id, method, path, body: dict = JSON, bytes = raw, None = no body; fragment of arguments[0]; exception or None)
CASES: list[tuple[str, str, str, Any, str, str | None]] = [
    # --- bad UUIDs ---
    ("uuid-in-path-get", "GET", f"{P}/generic/not-a-uuid/get", None, "not-a-uuid", "InvalidInput"),
    ("uuid-in-path-heartbeat", "POST", f"{P}/generic/not-a-uuid/heartbeat", {"schema_version": "v1"}, "not-a-uuid",
     "InvalidInput"),
    ("uuid-in-path-set-status", "POST", f"{P}/generic/12345/set_status", {"new_status": "passed"}, "12345",
     "InvalidInput"),
    ("uuid-in-path-finalize", "POST", f"{P}/driver-matrix-tests/{MATRIX[:-1]}/finalize", {}, MATRIX[:-1],
     "InvalidInput"),
    ("uuid-in-path-cost", "POST", f"{P}/zzz/cost/estimated", {"value": 1.0}, "zzz", "InvalidInput"),
    ("uuid-in-body-generic", "POST", f"{P}/generic/submit", with_(GENERIC_SUBMIT, run_id="run-1"), "run-1",
     "InvalidInput"),
    ("uuid-in-body-matrix", "POST", f"{P}/driver-matrix-tests/submit", with_(MATRIX_SUBMIT, run_id="run-1"),
     "run-1", "InvalidInput"),
    ("uuid-in-body-sct", "POST", f"{P}/scylla-cluster-tests/submit", with_(SCT_SUBMIT, run_id=""), "run id",
     "InvalidInput"),
    ("uuid-in-body-sirenada", "POST", f"{P}/sirenada/submit", with_(SIRENADA_SUBMIT, run_id="job-42"), "job-42",
     "InvalidInput"),
    ("uuid-in-body-driver-result", "POST", f"{DM}/result/submit", with_(DRIVER_RESULT, run_id="x" * 36), "x" * 36,
     "InvalidInput"),
    ("uuid-in-body-pytest", "POST", f"{P}/pytest/result/submit", with_(PYTEST_REPORT, run_id="nope"), "nope",
     "InvalidInput"),
    # --- unknown run type ---
    ("run-type-submit", "POST", f"{P}/bogus-type/submit", GENERIC_SUBMIT, "Unsupported run type: bogus-type",
     "UnsupportedRunType"),
    ("run-type-get", "GET", f"{P}/bogus-type/{GENERIC}/get", None, "Unsupported run type: bogus-type",
     "UnsupportedRunType"),
    ("run-type-finalize", "POST", f"{P}/Generic/{GENERIC}/finalize", {"status": "passed"},
     "Unsupported run type: Generic", "UnsupportedRunType"),
    # --- unknown keys in strict bodies ---
    ("strict-sct-submit", "POST", f"{P}/scylla-cluster-tests/submit", with_(SCT_SUBMIT, foo=1), "foo",
     "MalformedBody"),
    ("strict-matrix-submit", "POST", f"{P}/driver-matrix-tests/submit",
     with_(MATRIX_SUBMIT, test_environment={}), "test_environment", "MalformedBody"),
    ("strict-driver-result", "POST", f"{DM}/result/submit", with_(DRIVER_RESULT, xml="<x/>"), "xml",
     "MalformedBody"),
    ("strict-driver-failure", "POST", f"{DM}/result/fail", with_(DRIVER_FAILURE, reason="r"), "reason",
     "MalformedBody"),
    ("strict-driver-env", "POST", f"{DM}/env/submit", with_(DRIVER_ENV, env={}), "env", "MalformedBody"),
    ("strict-result-cell", "POST", f"{P}/generic/{GENERIC}/submit_results",
     with_(RESULTS, results=[{"column": "ops", "row": "write", "status": "PASS", "value": 1.0, "unit": "x"}]),
     "unit", "MalformedBody"),
    # --- wrong types ---
    ("type-build-id", "POST", f"{P}/generic/submit", with_(GENERIC_SUBMIT, build_id=123), "build_id",
     "MalformedBody"),
    ("type-new-status", "POST", f"{P}/generic/{GENERIC}/set_status", {"new_status": 5}, "new_status",
     "MalformedBody"),
    ("type-heartbeat-body", "POST", f"{P}/generic/{GENERIC}/heartbeat", [1, 2], "object", "MalformedBody"),
    ("type-product-version", "POST", f"{P}/generic/{GENERIC}/update_product_version", {"product_version": ["6"]},
     "product_version", "MalformedBody"),
    ("type-logs", "POST", f"{P}/generic/{GENERIC}/logs/submit", {"logs": "http://x"}, "logs", "MalformedBody"),
    ("type-log-entry", "POST", f"{P}/generic/{GENERIC}/logs/submit", {"logs": [{"log_name": "a"}]}, "log_link",
     "MalformedBody"),
    ("type-raw-xml", "POST", f"{DM}/result/submit", with_(DRIVER_RESULT, raw_xml=42), "raw_xml", "MalformedBody"),
    ("type-pytest-duration", "POST", f"{P}/pytest/result/submit", with_(PYTEST_REPORT, duration="slow"),
     "duration", "MalformedBody"),
    ("type-pytest-markers", "POST", f"{P}/pytest/result/submit", with_(PYTEST_REPORT, markers="slow"), "markers",
     "MalformedBody"),
    ("type-sirenada-results", "POST", f"{P}/sirenada/submit", with_(SIRENADA_SUBMIT, results={"a": 1}),
     "results", "MalformedBody"),
    ("type-cost", "POST", f"{P}/{GENERIC}/cost/estimated", {"value": "cheap"}, "value", "MalformedBody"),
    ("type-cost-items", "POST", f"{P}/{GENERIC}/cost/items", {"items": [{"name": "n", "category": "c",
                                                                          "cost": "1"}]}, "cost", "MalformedBody"),
    ("type-sut-timestamp", "POST", f"{P}/generic/{GENERIC}/submit_results", with_(RESULTS, sut_timestamp="now"),
     "sut_timestamp", "MalformedBody"),
    ("type-column-type", "POST", f"{P}/generic/{GENERIC}/submit_results",
     with_meta(columns_meta=[{"name": "ops", "unit": "", "type": "DOUBLE", "higher_is_better": True,
                              "visible": True}]), "DOUBLE", "MalformedBody"),
    ("type-cell-status", "POST", f"{P}/generic/{GENERIC}/submit_results",
     with_(RESULTS, results=[{"column": "ops", "row": "write", "status": "FINE", "value": 1.0}]), "status",
     "MalformedBody"),
    # --- missing required fields ---
    ("missing-build-id", "POST", f"{P}/generic/submit", without(GENERIC_SUBMIT, "build_id"), "build_id",
     "MalformedBody"),
    ("missing-run-id", "POST", f"{P}/generic/submit", without(GENERIC_SUBMIT, "run_id"), "run_id", "MalformedBody"),
    ("missing-sct-job-url", "POST", f"{P}/scylla-cluster-tests/submit", without(SCT_SUBMIT, "job_url"), "job_url",
     "MalformedBody"),
    ("missing-matrix-job-url", "POST", f"{P}/driver-matrix-tests/submit", without(MATRIX_SUBMIT, "job_url"),
     "job_url", "MalformedBody"),
    ("missing-sirenada-build-id", "POST", f"{P}/sirenada/submit", without(SIRENADA_SUBMIT, "build_id"), "build_id",
     "MalformedBody"),
    ("missing-sirenada-case-status", "POST", f"{P}/sirenada/submit",
     with_(SIRENADA_SUBMIT, results=[without(SIRENADA_CASE, "status")]), "status", "MalformedBody"),
    ("missing-new-status", "POST", f"{P}/generic/{GENERIC}/set_status", {"schema_version": "v1"}, "new_status",
     "MalformedBody"),
    ("missing-product-version", "POST", f"{P}/generic/{GENERIC}/update_product_version", {"schema_version": "v1"},
     "product_version", "MalformedBody"),
    ("missing-logs", "POST", f"{P}/generic/{GENERIC}/logs/submit", {"schema_version": "v1"}, "logs",
     "MalformedBody"),
    ("missing-raw-xml", "POST", f"{DM}/result/submit", without(DRIVER_RESULT, "raw_xml"), "raw_xml",
     "MalformedBody"),
    ("missing-failure-reason", "POST", f"{DM}/result/fail", without(DRIVER_FAILURE, "failure_reason"),
     "failure_reason", "MalformedBody"),
    ("missing-raw-env", "POST", f"{DM}/env/submit", without(DRIVER_ENV, "raw_env"), "raw_env", "MalformedBody"),
    ("missing-pytest-timestamp", "POST", f"{P}/pytest/result/submit", without(PYTEST_REPORT, "timestamp"),
     "timestamp", "MalformedBody"),
    ("missing-results-meta", "POST", f"{P}/generic/{GENERIC}/submit_results", without(RESULTS, "meta"), "meta",
     "MalformedBody"),
    ("missing-cost-value", "POST", f"{P}/{GENERIC}/cost/estimated", {"schema_version": "v1"}, "value",
     "MalformedBody"),
    ("missing-test-report-build-id", "GET", f"{DM}/test_report", None, "buildId", None),
    # --- the run does not exist ---
    ("no-run-heartbeat", "POST", f"{P}/generic/{NEW}/heartbeat", {"schema_version": "v1"}, NEW, "RunNotFound"),
    ("no-run-get-status", "GET", f"{P}/generic/{NEW}/get_status", None, NEW, "RunNotFound"),
    ("no-run-set-status", "POST", f"{P}/generic/{NEW}/set_status", {"new_status": "passed"}, NEW, "RunNotFound"),
    ("no-run-product-version", "POST", f"{P}/generic/{NEW}/update_product_version", {"product_version": "6.0.0"},
     NEW, "RunNotFound"),
    ("no-run-logs", "POST", f"{P}/generic/{NEW}/logs/submit", {"logs": [{"log_name": "a", "log_link": "b"}]}, NEW,
     "RunNotFound"),
    ("no-run-finalize-generic", "POST", f"{P}/generic/{NEW}/finalize", {"status": "passed"}, NEW, "RunNotFound"),
    ("no-run-finalize-matrix", "POST", f"{P}/driver-matrix-tests/{NEW}/finalize", {}, NEW, "RunNotFound"),
    ("no-run-submit-results", "POST", f"{P}/generic/{NEW}/submit_results", with_(RESULTS, run_id=NEW), NEW, None),
    ("no-run-driver-result", "POST", f"{DM}/result/submit", with_(DRIVER_RESULT, run_id=NEW), NEW, "RunNotFound"),
    ("no-run-driver-failure", "POST", f"{DM}/result/fail", with_(DRIVER_FAILURE, run_id=NEW), NEW, "RunNotFound"),
    ("no-run-driver-env", "POST", f"{DM}/env/submit", with_(DRIVER_ENV, run_id=NEW), NEW, "RunNotFound"),
    ("no-run-cost-estimated", "POST", f"{P}/{NEW}/cost/estimated", {"value": 1.0}, NEW, "RunNotFound"),
    ("no-run-cost-items", "POST", f"{P}/{NEW}/cost/items", {"items": []}, NEW, "RunNotFound"),
    ("run-of-another-type", "POST", f"{P}/sirenada/{GENERIC}/heartbeat", {}, GENERIC, "RunNotFound"),
    ("run-of-another-type-driver", "POST", f"{DM}/env/submit", with_(DRIVER_ENV, run_id=GENERIC), GENERIC,
     "RunNotFound"),
    # --- driver-matrix payloads ---
    ("bad-base64", "POST", f"{DM}/result/submit", with_(NEW_DRIVER, raw_xml="%%% not base64 %%%"),
     "not valid base64", "InvalidInput"),
    ("raw-xml-not-base64", "POST", f"{DM}/result/submit", with_(NEW_DRIVER, raw_xml=JUNIT.decode()),
     "not valid base64", "InvalidInput"),
    ("malformed-xml", "POST", f"{DM}/result/submit",
     with_(NEW_DRIVER, raw_xml=b64(b"<testsuites><testsuite name='x'>")), "malformed", "InvalidInput"),
    ("billion-laughs", "POST", f"{DM}/result/submit", with_(NEW_DRIVER, raw_xml=b64(BILLION_LAUGHS)), "DTD",
     "InvalidInput"),
    ("not-junit", "POST", f"{DM}/result/submit", with_(NEW_DRIVER, raw_xml=b64(b"<html><body/></html>")),
     "root must be", "InvalidInput"),
    ("empty-xml", "POST", f"{DM}/result/submit", with_(NEW_DRIVER, raw_xml=""), "empty", "InvalidInput"),
    ("empty-driver-name", "POST", f"{DM}/result/fail", with_(DRIVER_FAILURE, driver_name=" "), "driver_name",
     "InvalidInput"),
    ("bad-env-line", "POST", f"{DM}/env/submit", with_(DRIVER_ENV, raw_env="scylla-version: 6.0\nno separator\n"),
     "line 2", "InvalidInput"),
    # --- status values ---
    ("invalid-set-status", "POST", f"{P}/generic/{GENERIC}/set_status", {"new_status": "green"}, "green",
     "InvalidInput"),
    ("invalid-set-status-case", "POST", f"{P}/driver-matrix-tests/{MATRIX}/set_status", {"new_status": "PASSED"},
     "PASSED", "InvalidInput"),
    ("invalid-finalize-generic", "POST", f"{P}/generic/{GENERIC}/finalize", {"status": "green"}, "green",
     "InvalidInput"),
    ("invalid-finalize-matrix", "POST", f"{P}/driver-matrix-tests/{MATRIX}/finalize", {"status": "done"}, "done",
     "InvalidInput"),
    ("invalid-sirenada-case-status", "POST", f"{P}/sirenada/submit",
     with_(SIRENADA_SUBMIT, results=[with_(SIRENADA_CASE, status="flaky")]), "flaky", "InvalidInput"),
    # --- what sirenada runs do not support ---
    ("sirenada-finalize", "POST", f"{P}/sirenada/{SIRENADA}/finalize", {"schema_version": "v1"},
     "do not need finalization", "UnsupportedOperation"),
    ("sirenada-logs", "POST", f"{P}/sirenada/{SIRENADA}/logs/submit",
     {"schema_version": "v1", "logs": [{"log_name": "a", "log_link": "b"}]}, "not supported", "UnsupportedOperation"),
    # --- results tables ---
    ("results-sut-timestamp-zero", "POST", f"{P}/generic/{GENERIC}/submit_results", with_(RESULTS, sut_timestamp=0),
     "sut_timestamp", None),
    ("results-unknown-column", "POST", f"{P}/generic/{GENERIC}/submit_results",
     with_(RESULTS, results=[{"column": "nope", "row": "write", "status": "PASS", "value": 1.0}]), "nope",
     "InvalidInput"),
    ("results-text-in-numeric-column", "POST", f"{P}/generic/{GENERIC}/submit_results",
     with_(RESULTS, results=[{"column": "ops", "row": "write", "status": "PASS", "value_text": "fast"}]), "ops",
     "InvalidInput"),
    ("results-rule-on-text-column", "POST", f"{P}/generic/{GENERIC}/submit_results",
     with_meta(validation_rules={"node": {"best_pct": 5, "best_abs": None, "fixed_limit": None}}), "node",
     "InvalidInput"),
    ("results-empty-table-name", "POST", f"{P}/generic/{GENERIC}/submit_results", with_meta(name=""), "name",
     "InvalidInput"),
    # --- costs ---
    ("negative-cost", "POST", f"{P}/{GENERIC}/cost/estimated", {"value": -1.0}, "value", "InvalidInput"),
    ("duplicate-cost-items", "POST", f"{P}/{GENERIC}/cost/items",
     {"items": [{"name": "n", "category": "c", "cost": 1.0}, {"name": "n", "category": "c", "cost": 2.0}]},
     "unique", "InvalidInput"),
    # --- pytest statistics ---
    ("pytest-stats-aggregate", "GET", f"{P}/pytest/{PYTEST_NAME}/stats/duration/median", None, "aggregate",
     "InvalidInput"),
    ("pytest-stats-field", "GET", f"{P}/pytest/{PYTEST_NAME}/stats/password/avg", None, "password",
     "InvalidInput"),
    ("pytest-stats-path", "GET", f"{P}/pytest/{PYTEST_NAME}/duration/avg", None, "stats", "InvalidInput"),
    # --- not JSON at all, or nothing ---
    ("malformed-json-submit", "POST", f"{P}/generic/submit", b'{"run_id": ', "JSON", "MalformedBody"),
    ("malformed-json-set-status", "POST", f"{P}/generic/{GENERIC}/set_status", b"{new_status: passed}", "JSON",
     "MalformedBody"),
    ("malformed-json-driver", "POST", f"{DM}/result/submit", b'{"run_id": "x",', "JSON", "MalformedBody"),
    ("malformed-json-results", "POST", f"{P}/generic/{GENERIC}/submit_results", b"\xff\xfe", "JSON",
     "MalformedBody"),
    ("empty-body-submit", "POST", f"{P}/generic/submit", b"", "empty", "MalformedBody"),
    ("empty-body-sirenada", "POST", f"{P}/sirenada/submit", b"", "empty", "MalformedBody"),
    ("empty-body-set-status", "POST", f"{P}/generic/{GENERIC}/set_status", b"", "empty", "MalformedBody"),
    ("empty-body-driver-env", "POST", f"{DM}/env/submit", b"", "empty", "MalformedBody"),
    ("empty-body-pytest", "POST", f"{P}/pytest/result/submit", b"", "empty", "MalformedBody"),
    ("json-null-results", "POST", f"{P}/generic/{GENERIC}/submit_results", b"null", "null", "MalformedBody"),
    # --- routes that do not exist ---
    ("unknown-route", "POST", "/api/v1/client/testrun/generic/submit/now", GENERIC_SUBMIT, "", None),
    ("wrong-method", "GET", f"{P}/generic/submit", None, "", None),
]


@pytest.mark.parametrize(("method", "path", "body", "fragment", "exception"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
async def test_malformed_client_request(client: AsyncTestClient, auth: dict[str, str], runs: dict[str, str],
                                        method: str, path: str, body: Any, fragment: str,
                                        exception: str | None) -> None:
    before = await _state(client, auth, runs)
    if body is None:
        response = await client.request(method, path, headers={**auth, **JSON})
    elif isinstance(body, bytes):
        response = await client.request(method, path, content=body, headers={**auth, **JSON})
    else:
        response = await client.request(method, path, content=json.dumps(body).encode(), headers={**auth, **JSON})
    _assert_client_error(response, fragment, exception)
    assert await _state(client, auth, runs) == before


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


async def test_results_for_a_missing_run_name_it(client: AsyncTestClient, auth: dict[str, str],
                                                 runs: dict[str, str]) -> None:
    before = await _state(client, auth, runs)
    response = await client.post(f"{P}/generic/{NEW}/submit_results", json=with_(RESULTS, run_id=NEW), headers=auth)
    detail = _assert_client_error(response, NEW, None)
    assert detail["exception"] in {"RunNotFound", "DoesNotExist"}, detail
    assert await _state(client, auth, runs) == before


async def test_oversized_body(client: AsyncTestClient, auth: dict[str, str], runs: dict[str, str]) -> None:
    limit = client.app.state.settings.server.max_body_bytes
    before = await _state(client, auth, runs)
    huge = json.dumps(with_(DRIVER_ENV, raw_env="k: " + "v" * (limit + 1))).encode()
    response = await client.post(f"{DM}/env/submit", content=huge, headers={**auth, **JSON})
    detail = _assert_client_error(response, "", None)
    assert detail["message"] == f"Request body is larger than {limit} bytes (setting server.max_body_bytes)"
    assert await _state(client, auth, runs) == before


async def test_missing_authorization_is_403(client: AsyncTestClient, auth: dict[str, str],
                                            runs: dict[str, str]) -> None:
    before = await _state(client, auth, runs)
    for method, path, body in (("POST", f"{P}/generic/submit", GENERIC_SUBMIT),
                               ("POST", f"{P}/generic/{GENERIC}/set_status", {"new_status": "failed"}),
                               ("GET", f"{P}/generic/{GENERIC}/get", None),
                               ("POST", f"{DM}/result/submit", DRIVER_RESULT)):
        for headers in ({}, {"Authorization": f"Bearer {auth['Authorization'].split()[1]}"}):
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, response.text
            assert response.json() == {"status": "error", "message": "Authorization required"}
    assert await _state(client, auth, runs) == before


@pytest.mark.parametrize(("header", "fragment"), [("token not-a-real-token", "User not found for supplied token"),
                                                  ("token ", "Malformed authorization header")])
async def test_bad_token_is_an_envelope_under_the_client_api(client: AsyncTestClient, auth: dict[str, str],
                                                             runs: dict[str, str], header: str,
                                                             fragment: str) -> None:
    before = await _state(client, auth, runs)
    response = await client.post(f"{P}/generic/{GENERIC}/set_status", json={"new_status": "failed"},
                                 headers={"Authorization": header})
    detail = _assert_client_error(response, fragment, "NotAuthenticated")
    assert detail["arguments"] == [fragment]
    assert await _state(client, auth, runs) == before
