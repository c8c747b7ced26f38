"""Who may call what: every route of the app's own route table, called by every kind of caller.

The routes come from ``app.routes``, so a route added later is checked without editing this file,
and a route that declares no access rule fails here. Role callers authenticate with API tokens (no
CSRF applies to them), and one more caller is a browser logged in with a password (session cookie
plus CSRF token); a route is "allowed" for a caller when the answer is not an authentication or
authorization refusal — the request itself may still fail on its made-up ids or empty body.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.factory import create_app
from domain.users.entities import Role
from infrastructure.settings import load_settings

CLIENT_PREFIX = "/api/v1/client"
REFUSALS = {"NotAuthenticated", "PermissionDenied", "NotAuthorizedException", "PermissionDeniedException"}
PLACEHOLDER = re.compile(r"\{(\w+):(\w+)\}")
SAMPLE = {"uuid": lambda: str(uuid4()), "str": lambda: "x", "int": lambda: "1", "float": lambda: "1.5",
          "path": lambda: "some/build"}
# "browser" is a user logged in with a password: session cookie plus the session's CSRF token.
CALLERS = ("anonymous", "bad-token", "user", "manager", "service", "admin", "browser")
# The roles each access rule admits; anonymous and bad tokens are admitted by ``public`` only.
ADMITTED = {"public": set(CALLERS), "login": {"user", "manager", "service", "admin", "browser"}, "admin": {"admin"}}
# Calling these as the browser would end its session for the rest of the matrix.
SESSION_ENDING = {"/auth/logout"}
PASSWORD = "matrix-password-1"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    access: str

    def url(self) -> str:
        return PLACEHOLDER.sub(lambda m: SAMPLE[m.group(2)](), self.path)


def endpoints(app: Litestar) -> list[Endpoint]:
    """Every (method, path) pair the app routes, with its declared access rule ('' when missing)."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler" and handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's automatic answer to OPTIONS
            for method in sorted(handler.http_methods):
                found.append(Endpoint(method, route.path, handler.opt.get("access", "")))
    return found


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def matrix_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient]:
    data_dir: Path = tmp_path_factory.mktemp("argus-matrix")
    settings = load_settings({"ARGUS_STORAGE_DATA_DIR": str(data_dir),
                              "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192"})
    async with AsyncTestClient(create_app(settings)) as test_client:
        yield test_client


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def caller_headers(matrix_client: AsyncTestClient) -> dict[str, dict[str, str]]:
    users = matrix_client.app.state.services.users
    headers = {"anonymous": {}, "bad-token": {"Authorization": "token not-a-token-of-anyone"}}
    for name, role in (("user", Role.USER), ("manager", Role.MANAGER), ("service", Role.SERVICE),
                       ("admin", Role.ADMIN)):
        account = await users.create_user(f"matrix-{name}", roles=[role])
        _, secret = await users.issue_token(account.id, "matrix")
        headers[name] = {"Authorization": f"token {secret}"}
    headers["browser"] = await _browser_session(matrix_client)
    return headers


async def _browser_session(client: AsyncTestClient) -> dict[str, str]:
    """Log in through the login form; the cookie travels in explicit headers so other callers stay anonymous."""
    await client.app.state.services.users.create_user("matrix-browser", password=PASSWORD)
    form = await client.get("/auth/login")
    login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert login_csrf, form.text
    answer = await client.post("/auth/login", data={"username": "matrix-browser", "password": PASSWORD,
                                                    "csrf_token": login_csrf.group(1)}, follow_redirects=False)
    session = re.search(r"argus_session=([^;]+)", answer.headers.get("set-cookie", ""))
    assert answer.status_code == 303 and session, answer.text
    client.cookies.clear()
    cookie = {"Cookie": f"argus_session={session.group(1)}"}
    me = (await client.get("/api/v1/user/me", headers=cookie)).json()["response"]
    assert me["username"] == "matrix-browser"
    return {**cookie, "X-CSRF-Token": me["csrf_token"]}


def refused(endpoint: Endpoint, status: int, body: object) -> bool:
    """An authentication/authorization refusal, in either of the service's two error shapes."""
    if status in (401, 403):
        return True
    # The CI protocol answers every failure with HTTP 200 and the envelope, refusals included.
    if endpoint.path.startswith(CLIENT_PREFIX) and isinstance(body, dict) and body.get("status") == "error":
        detail = body.get("response")
        return isinstance(detail, dict) and detail.get("exception") in REFUSALS
    return False


def test_every_route_declares_a_known_rule(tmp_path: Path) -> None:
    app = create_app(load_settings({"ARGUS_STORAGE_DATA_DIR": str(tmp_path)}))
    listed = endpoints(app)
    undeclared = sorted(f"{e.method} {e.path}" for e in listed if e.access not in ADMITTED)
    assert undeclared == []
    assert {e.access for e in listed} == set(ADMITTED)  # each rule is in use, so each is exercised below
    assert len(listed) > 100


async def test_each_caller_gets_the_intended_answer_on_every_route(
        matrix_client: AsyncTestClient, caller_headers: dict[str, dict[str, str]]) -> None:
    wrong = []
    listed = endpoints(matrix_client.app)
    for endpoint in listed:
        for caller in CALLERS:
            if caller == "browser" and endpoint.path in SESSION_ENDING:
                continue
            response = await matrix_client.request(
                endpoint.method, endpoint.url(), headers=caller_headers[caller],
                json={} if endpoint.method in ("POST", "PUT", "PATCH") else None, follow_redirects=False)
            body = response.json() if response.content and \
                response.headers.get("content-type", "").startswith("application/json") else None  # HEAD: none
            was_refused = refused(endpoint, response.status_code, body)
            if was_refused == (caller in ADMITTED[endpoint.access]) or response.status_code >= 500:
                wrong.append(f"{caller:9} {endpoint.method:6} {endpoint.path} [{endpoint.access}] -> "
                             f"{response.status_code}")
    assert wrong == []


async def test_refusals_say_why(matrix_client: AsyncTestClient, caller_headers: dict[str, dict[str, str]]) -> None:
    admin_only = next(e for e in endpoints(matrix_client.app) if e.access == "admin" and e.method == "GET")
    anonymous = await matrix_client.get(admin_only.url())
    assert anonymous.status_code == 403
    user = await matrix_client.get(admin_only.url(), headers=caller_headers["user"])
    assert (user.status_code, user.json()) == (403, {"status": "error", "message": "Forbidden"})
    bad = await matrix_client.get(admin_only.url(), headers=caller_headers["bad-token"])
    assert bad.status_code == 401
    assert bad.json()["response"]["arguments"] == ["User not found for supplied token"]
