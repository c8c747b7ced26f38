"""``POST /api/v1/client/replay/ingest``: replay the calls CI clients recorded during an outage.

The archive is read in memory with bounds (``infrastructure/replay/archive.py``); each record is
then sent through this same application in-process, with the caller's token, so it is validated,
authorized and de-duplicated exactly like the live call would have been.
"""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from app.client.base import ClientApiController
from app.envelope import Ok, ok
from domain.errors import InvalidInput
from domain.replay.service import ReplayOptions, ReplayService, ReplaySummary
from infrastructure.replay.archive import ArchiveLimits, ArchiveRejected, read_logs
from infrastructure.settings import ReplaySettings

CLIENT_PREFIX = "/api/v1/client"
_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})
ACCEPTED_CONTENT_TYPES = frozenset({
    "application/octet-stream", "application/x-tar-zstd", "application/zstd", "application/x-zstd",
    "application/gzip", "application/x-gzip", "application/x-tar", "application/x-gtar",
    "application/x-compressed-tar", "application/zip", "application/x-zip-compressed"})


def _flag(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(f"Query parameter {name} must be true or false (1/0, yes/no)", raw)


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The upload, refused as soon as it grows past ``limit`` (the route has no framework limit)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ArchiveRejected(f"Archive is larger than {limit} bytes (setting replay.max_archive_bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ArchiveRejected(f"Archive is larger than {limit} bytes (setting replay.max_archive_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


class InProcessDispatcher:
    """``ClientDispatcher`` that calls this app over an in-memory ASGI transport."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def post(self, path: str, params: dict[str, Any] | None, body: Any) -> str | None:
        """None when the route answered 2xx with ``status: ok``; else the error it reported."""
        response = await self._http.post(f"{CLIENT_PREFIX}{path}", params=params, json=body)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not response.is_success:
            return f"HTTP {response.status_code}: {response.text[:500]}"
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            detail = answer.get("response") if isinstance(answer, dict) else response.text[:500]
            if isinstance(detail, dict):
                arguments = detail.get("arguments") or []
                detail = arguments[0] if arguments else detail.get("message", detail.get("exception"))
            return f"HTTP {response.status_code} status=error: {detail}"
        return None

    async def recorded_logs(self, run_type: str, run_id: str) -> set[str] | None:
        """Names and links in the run's ``logs`` (pairs for SCT/driver-matrix, a map otherwise)."""
        response = await self._http.get(f"{CLIENT_PREFIX}/testrun/{run_type}/{run_id}/get")
        answer = response.json() if response.is_success else None
        run = answer.get("response") if isinstance(answer, dict) and answer.get("status") == "ok" else None
        if not isinstance(run, dict):
            return None
        logs = run.get("logs") or []
        pairs = logs.items() if isinstance(logs, dict) else [tuple(pair) for pair in logs]
        return {str(value) for pair in pairs for value in pair}


class ReplayController(ClientApiController):
    """Replay ingest for the Go CLI (``argus run replay``) and operators recovering an outage."""

    path = "/api/v1/client/replay"

    # No framework body limit: the handler streams the body against replay.max_archive_bytes instead.
    @post("/ingest", operation_id="clientReplayIngest", status_code=200, request_max_body_size=None)
    async def ingest(
        self,
        request: Request[Any, Any, Any],
        replay: NamedDependency[ReplayService],
        dry_run: FromQuery[str | None] = None,
        create_missing_tests: FromQuery[str | None] = None,
        backfill_logs: FromQuery[str | None] = None,
    ) -> Ok[ReplaySummary]:
        """Replay the ``*.jsonl`` replay logs of a tar.zst, tar.gz, tar or zip upload."""
        options = ReplayOptions(dry_run=_flag("dry_run", dry_run, False),
                                create_missing_tests=_flag("create_missing_tests", create_missing_tests, False),
                                backfill_logs=_flag("backfill_logs", backfill_logs, True))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in ACCEPTED_CONTENT_TYPES:
            raise InvalidInput(f"Content-Type {content_type} is not an archive type", content_type)
        limits: ReplaySettings = request.app.state.settings.replay
        data = await read_body(request, limits.max_archive_bytes)
        members = read_logs(data, ArchiveLimits(max_archive_bytes=limits.max_archive_bytes,
                                                max_members=limits.max_members,
                                                max_member_bytes=limits.max_member_bytes,
                                                max_unpacked_bytes=limits.max_unpacked_bytes))
        del data  # only the logs are needed from here on; let the archive go before the replay runs
        headers = {"Authorization": request.headers.get("authorization", "")}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url="http://replay",
                                     headers=headers, timeout=None) as http:
            summary = await replay.ingest([(m.name, m.data) for m in members], options, InProcessDispatcher(http))
        return ok(summary)
