"""Malformed ``send_email`` requests: the HTTP 200 error envelope naming the problem, and no job queued.

The embedded worker is off in this module, so every job the route queues stays ``queued`` and the
queue's count shows exactly what the route did.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from app.factory import create_app
from infrastructure.queue.email_job import SEND_REPORT_EMAIL
from infrastructure.settings import load_settings

RUN = str(uuid.uuid4())
GENERIC = str(uuid.uuid4())
EMAIL = "/api/v1/client/testrun/report/email"
GOOD = {"schema_version": "v8", "run_id": RUN, "title": "#auto", "recipients": ["qa@example.com"],
        "sections": ["header", {"type": "events", "options": {"severity_filter": ["ERROR"]}}],
        "attachments": [{"filename": "sct.log", "data": base64.encodebytes(b"log line\n" * 20).decode()}]}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient]:
    data_dir: Path = tmp_path_factory.mktemp("argus-email")
    settings = load_settings({"ARGUS_STORAGE_DATA_DIR": str(data_dir), "ARGUS_LOG_FORMAT": "json",
                              "ARGUS_QUEUE_EMBEDDED_WORKER": "false",
                              "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192"})
    async with AsyncTestClient(create_app(settings)) as test_client:
        yield test_client


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def runs(client: AsyncTestClient, token: str) -> None:
    """One SCT run and one generic run."""
    auth = {"Authorization": f"token {token}"}
    for path, body in (
            ("/api/v1/client/testrun/scylla-cluster-tests/submit",
             {"schema_version": "v8", "run_id": RUN, "job_name": "email-bad-input/longevity/sct-run",
              "job_url": "https://jenkins.example/job/sct/3/", "started_by": "ci", "commit_id": "abc123",
              "origin_url": None, "branch_name": None, "sct_config": {"cluster_backend": "aws"}}),
            ("/api/v1/client/testrun/generic/submit",
             {"schema_version": "v1", "build_id": "email-bad-input/runs/generic", "run_id": GENERIC,
              "started_by": "ci", "build_url": "https://jenkins.example/job/x/1/", "sub_type": None,
              "scylla_version": None})):
        response = await client.post(path, json=body, headers=auth)
        assert response.json()["status"] == "ok", (path, response.text)


async def queued(client: AsyncTestClient) -> int:
    return await client.app.state.services.queue.count("queued")


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown-key", with_(cc=["boss@example.com"]), "cc", "MalformedBody"),
    ("non-sct-run", with_(run_id=GENERIC), "only available for scylla-cluster-tests", "InvalidInput"),
    ("bad-base64", with_(attachments=[{"filename": "a.log", "data": "not base64!"}]), "base64", "InvalidInput"),
    ("bad-recipient", with_(recipients=["qa@example.com", "nobody"]), "nobody", "InvalidInput"),
    ("header-injection", with_(recipients=["qa@example.com\r\nBcc: x@example.com"]), "valid email",
     "InvalidInput"),
    ("missing-run", with_(run_id=str(uuid.uuid4())), "Run not found", "RunNotFound"),
    ("bad-run-id", with_(run_id="run-1"), "run-1", "InvalidInput"),
    ("bad-severity", with_(sections=[{"type": "events", "options": {"severity_filter": ["LOUD"]}}]), "LOUD",
     "InvalidInput"),
    ("unknown-section-key", with_(sections=[{"type": "header", "options": {}, "extra": 1}]), "extra",
     "MalformedBody"),
]


@pytest.mark.parametrize(("body", "fragment", "exception"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_bad_request_is_refused_and_nothing_is_queued(client: AsyncTestClient, auth: dict[str, str],
                                                            runs: None, body: dict[str, Any], fragment: str,
                                                            exception: str) -> None:
    before = await queued(client)
    response = await client.post(EMAIL, json=body, headers=auth)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "error", answer
    assert answer["response"]["exception"] == exception, answer
    assert fragment in str(answer["response"]["arguments"]), answer
    assert await queued(client) == before


async def test_anonymous_requests_are_refused(client: AsyncTestClient, runs: None) -> None:
    before = await queued(client)
    response = await client.post(EMAIL, json=GOOD)
    assert response.json()["status"] == "error"
    assert await queued(client) == before


async def test_a_good_request_queues_one_job_with_the_rendered_message(client: AsyncTestClient,
                                                                       auth: dict[str, str], runs: None) -> None:
    before = await queued(client)
    response = await client.post(EMAIL, json=GOOD, headers=auth)
    assert response.json() == {"status": "ok", "response": True}
    assert await queued(client) == before + 1
    info = await client.app.state.services.queue.info(jobs=True)
    [job] = [j for j in info["jobs"] if j["function"] == SEND_REPORT_EMAIL]
    message = job["kwargs"]["message"]
    assert message["to"] == ["qa@example.com"]
    assert message["subject"].startswith("[CREATED] email-bad-input/longevity/sct-run#")
    assert "email-bad-input/longevity/sct-run" in message["html"]
    assert base64.b64decode(message["attachments"][0]["content"]) == b"log line\n" * 20
