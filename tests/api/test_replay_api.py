"""``POST /api/v1/client/replay/ingest`` through the whole app: bad archives store nothing.

The app here has a small replay limit and a server body limit below it, so the route's own
limit (not the server-wide one) is what applies. Every bad upload must answer the HTTP 200
error envelope the client API uses, and the run its valid-looking member describes must not exist.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from app.factory import create_app
from app.replay.controller import read_body
from domain.users.entities import Role
from infrastructure.replay.archive import ArchiveRejected
from infrastructure.settings import load_settings

RUN = str(uuid.uuid4())
ARCHIVE_LIMIT = 64 * 1024
SUBMIT = {"method": "POST", "endpoint": "/testrun/$type/submit", "location_params": {"type": "generic"},
          "params": None, "test_type": "generic", "ts": 1_717_236_000_000, "success": False,
          "body": {"run_id": RUN, "build_id": "replay-api/group/test", "build_url": "https://ci/1/",
                   "started_by": "ci", "sub_type": "dtest", "scylla_version": None, "schema_version": "v1"}}
LOG = (json.dumps(SUBMIT) + "\n").encode()


def tar(*members: tuple[str, bytes], padding: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if padding:
            info = tarfile.TarInfo("padding.bin")
            info.size = padding
            archive.addfile(info, io.BytesIO(b"\0" * padding))
    return buffer.getvalue()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient]:
    data_dir: Path = tmp_path_factory.mktemp("argus-replay-api")
    settings = load_settings({"ARGUS_STORAGE_DATA_DIR": str(data_dir), "ARGUS_LOG_FORMAT": "json",
                              "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192",
                              "ARGUS_SERVER_MAX_BODY_BYTES": "8192",
                              "ARGUS_REPLAY_MAX_ARCHIVE_BYTES": str(ARCHIVE_LIMIT)})
    async with AsyncTestClient(create_app(settings)) as test_client:
        yield test_client


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def auth(client: AsyncTestClient) -> dict[str, str]:
    users = client.app.state.services.users
    user = await users.create_user("replay-tester", roles=[Role.USER])
    _, secret = await users.issue_token(user.id, "tests")
    return {"Authorization": f"token {secret}", "Content-Type": "application/octet-stream"}


async def run_exists(client: AsyncTestClient, auth: dict[str, str]) -> bool:
    answer = (await client.get(f"/api/v1/client/testrun/generic/{RUN}/get", headers=auth)).json()
    return answer["response"] is not None


@pytest.mark.parametrize(("body", "reason"), [
    (b"just some text", "Unknown archive format"),
    (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "Corrupt tar.gz"),
    (tar(("a.jsonl", LOG), ("../../etc/x.jsonl", LOG)), "Unsafe member path"),
    (tar(("a.jsonl", LOG), padding=ARCHIVE_LIMIT), f"Archive is larger than {ARCHIVE_LIMIT} bytes"),
])
async def test_bad_archive_is_an_error_envelope_and_stores_nothing(
        client: AsyncTestClient, auth: dict[str, str], body: bytes, reason: str) -> None:
    response = await client.post("/api/v1/client/replay/ingest?create_missing_tests=1", content=body, headers=auth)
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "error"
    assert answer["response"]["exception"] == "ArchiveRejected"
    assert reason in answer["response"]["arguments"][0]
    assert not await run_exists(client, auth)


@pytest.mark.parametrize(("query", "headers", "reason"), [
    ("?dry_run=maybe", {}, "Query parameter dry_run must be true or false (1/0, yes/no)"),
    ("", {"Content-Type": "application/json"}, "Content-Type application/json is not an archive type"),
])
async def test_bad_options(client: AsyncTestClient, auth: dict[str, str], query: str, headers: dict[str, str],
                           reason: str) -> None:
    answer = (await client.post(f"/api/v1/client/replay/ingest{query}", content=tar(("a.jsonl", LOG)),
                                headers={**auth, **headers})).json()
    assert (answer["status"], answer["response"]["arguments"][0]) == ("error", reason)


async def test_login_required(client: AsyncTestClient) -> None:
    response = await client.post("/api/v1/client/replay/ingest", content=tar(("a.jsonl", LOG)))
    assert response.status_code == 403


async def test_archive_above_the_server_body_limit_is_replayed(client: AsyncTestClient,
                                                              auth: dict[str, str]) -> None:
    body = tar(("logs/a.jsonl", LOG), padding=16 * 1024)
    assert 8192 < len(body) < ARCHIVE_LIMIT
    dry = (await client.post("/api/v1/client/replay/ingest?dry_run=yes&create_missing_tests=yes", content=body,
                             headers=auth)).json()
    assert dry == {"status": "ok", "response": {"total": 1, "processed": 1, "succeeded": 0, "failed": 0,
                                                "skipped_no_replay": 0, "backfilled_logs": 0, "errors": []}}
    assert not await run_exists(client, auth)
    done = (await client.post("/api/v1/client/replay/ingest?create_missing_tests=true", content=body,
                              headers=auth)).json()
    assert done["response"]["succeeded"] == 1, done
    assert await run_exists(client, auth)



class ChunkedRequest:
    """A request without Content-Length whose body arrives in 1 KiB chunks (the test client cannot stream)."""

    headers: dict[str, str] = {}

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.sent = 0

    async def stream(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.sent += 1
            yield b"\0" * 1024


async def test_chunked_upload_is_cut_at_the_limit() -> None:
    """Without Content-Length the limit is enforced while the body streams in, not after."""
    request = ChunkedRequest(ARCHIVE_LIMIT // 1024 + 100)
    with pytest.raises(ArchiveRejected, match="Archive is larger than 65536 bytes"):
        await read_body(request, ARCHIVE_LIMIT)  # type: ignore[arg-type]
    assert request.sent == ARCHIVE_LIMIT // 1024 + 1
    assert await read_body(ChunkedRequest(3), ARCHIVE_LIMIT) == b"\0" * 3072  # type: ignore[arg-type]
