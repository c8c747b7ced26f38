"""Bad input gets the error envelope with a 4xx status and changes nothing; never a 500."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import AsyncTestClient


async def _release_names(client: AsyncTestClient, auth: dict[str, str]) -> list[str]:
    return sorted(r["name"] for r in (await client.get("/api/v1/releases?all=1", headers=auth)).json()["response"])


def _assert_envelope(response, status: int, exception: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    detail = body["response"]
    assert set(detail) == {"trace_id", "exception", "message", "arguments"}
    assert detail["trace_id"] and isinstance(detail["arguments"], list) and detail["arguments"]
    if exception:
        assert detail["exception"] == exception
    return detail


@pytest.mark.parametrize(("body", "content_type", "fragment"), [
    (b"{not json", "application/json", ""),
    (b'{"rel": {"groups": {"g": {"tests": "not-a-list"}}}}', "application/json", "tests"),
    (b'{"rel": {"groups": {"g": {"tests": [1, 2]}}}}', "application/json", ""),
    (b'{"rel": {"groupz": {}}}', "application/json", "groupz"),
    (b'["a", "list"]', "application/json", ""),
    (b'{"": {"groups": {}}}', "application/json", ""),
    (b'{"a/b": {"groups": {}}}', "application/json", ""),
])
async def test_malformed_bodies(client: AsyncTestClient, auth: dict[str, str], body: bytes, content_type: str,
                                fragment: str) -> None:
    before = await _release_names(client, auth)
    response = await client.post("/api/v1/release/create", content=body,
                                 headers={**auth, "Content-Type": content_type})
    detail = _assert_envelope(response, 400)
    assert fragment in detail["message"]
    assert await _release_names(client, auth) == before


@pytest.mark.parametrize("path", [
    "/api/v1/release/{id}/details", "/api/v1/group/{id}/details", "/api/v1/test/{id}/details",
    "/api/v1/groups?releaseId={id}", "/api/v1/tests?groupId={id}", "/api/v1/test-info?testId={id}",
])
async def test_unknown_ids_are_404(client: AsyncTestClient, auth: dict[str, str], path: str) -> None:
    response = await client.get(path.format(id=uuid.uuid4()), headers=auth)
    _assert_envelope(response, 404, "NotFound")


@pytest.mark.parametrize("path", [
    "/api/v1/groups?releaseId=not-a-uuid", "/api/v1/tests?groupId=42", "/api/v1/test-info?testId=",
    "/api/v1/groups", "/api/v1/tests", "/api/v1/test-info",
])
async def test_malformed_or_missing_parameters_are_400(client: AsyncTestClient, auth: dict[str, str],
                                                       path: str) -> None:
    _assert_envelope(await client.get(path, headers=auth), 400)


async def test_malformed_uuid_in_path_is_a_client_error(client: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/v1/release/zzz/details", headers=auth)
    assert 400 <= response.status_code < 500
    _assert_envelope(response, response.status_code)


async def test_unknown_route_and_wrong_method(client: AsyncTestClient, auth: dict[str, str]) -> None:
    _assert_envelope(await client.get("/api/v1/no/such/route", headers=auth), 404)
    _assert_envelope(await client.delete("/api/v1/releases", headers=auth), 405)


async def test_oversized_body_is_refused(client: AsyncTestClient, auth: dict[str, str]) -> None:
    limit = client.app.state.settings.server.max_body_bytes
    before = await _release_names(client, auth)
    huge = b'{"x": {"groups": {}, "pretty_name": "' + b"a" * (limit + 1) + b'"}}'
    response = await client.post("/api/v1/release/create", content=huge,
                                 headers={**auth, "Content-Type": "application/json"})
    _assert_envelope(response, 413)
    assert await _release_names(client, auth) == before
