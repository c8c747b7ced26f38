"""API token authentication as ``argus-alm`` sends it, and the existing service's answers."""

from __future__ import annotations

from litestar.testing import AsyncTestClient


async def test_no_credentials_is_403_authorization_required(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/releases")
    assert response.status_code == 403
    assert response.json() == {"status": "error", "message": "Authorization required"}


async def test_other_schemes_are_ignored(client: AsyncTestClient, token: str) -> None:
    response = await client.get("/api/v1/releases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["message"] == "Authorization required"


async def test_valid_token_is_accepted(client: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/v1/releases", headers=auth)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_unknown_token_gets_the_error_envelope(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/releases", headers={"Authorization": "token not-a-real-token"})
    assert response.status_code == 401
    detail = response.json()["response"]
    assert detail["exception"] == "NotAuthenticated"
    assert detail["arguments"] == ["User not found for supplied token"]


async def test_empty_token_is_malformed(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/releases", headers={"Authorization": "token   "})
    assert response.status_code == 401
    assert response.json()["response"]["arguments"] == ["Malformed authorization header"]


async def test_revoked_token_stops_working(client: AsyncTestClient) -> None:
    users = client.app.state.services.users
    user = await users.create_user("short-lived")
    issued, secret = await users.issue_token(user.id, "temp")
    headers = {"Authorization": f"token {secret}"}
    assert (await client.get("/api/v1/releases", headers=headers)).status_code == 200
    await users.revoke_token(user.id, issued.id)
    assert (await client.get("/api/v1/releases", headers=headers)).status_code == 401


async def test_public_routes_need_no_token(client: AsyncTestClient) -> None:
    for path in ("/api/v1/version", "/healthz", "/readyz", "/metrics", "/docs/openapi.json", "/"):
        assert (await client.get(path)).status_code == 200, path
