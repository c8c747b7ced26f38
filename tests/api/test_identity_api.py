"""Browser login, sessions, CSRF, throttling, tokens, impersonation and the audit log, in-process.

The client talks https so the Secure session cookie travels as it would in production; each
"browser" is a set of cookies swapped into the client. Every response body and log line of the
module is collected and checked at the end for secrets (tokens, session secrets, password hashes).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from app.auth.login import safe_redirect_target
from app.factory import create_app
from app.security import SESSION_COOKIE
from domain.users.entities import Role, User
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.settings import load_settings

ADMIN_PASSWORD = "bootstrap-admin-pw"
PASSWORD = "correct horse battery"
SETTINGS = {"ARGUS_LOG_FORMAT": "json", "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192",
            "ARGUS_AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, "ARGUS_AUTH_LOGIN_METHODS": "password,gh"}


class Collected(logging.Handler):
    """Every log line of the app, rendered by the app's own formatter."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class Recorder:
    """What the module saw: response bodies and set-cookie headers, log lines, secrets handed out."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.secrets: set[str] = set()
        self.session_secrets: set[str] = set()
        self.logs: Collected | None = None


RECORD = Recorder()


async def _record(response: httpx.Response) -> None:
    await response.aread()
    RECORD.bodies.append(response.text)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def app_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient]:
    data_dir: Path = tmp_path_factory.mktemp("argus-identity")
    app = create_app(load_settings({"ARGUS_STORAGE_DATA_DIR": str(data_dir), **SETTINGS}))
    root = logging.getLogger()
    RECORD.logs = Collected(root.handlers[0].formatter if root.handlers else None)
    root.addHandler(RECORD.logs)
    try:
        async with AsyncTestClient(app, base_url="https://argus.test") as client:
            client.event_hooks["response"].append(_record)
            yield client
    finally:
        root.removeHandler(RECORD.logs)


@pytest.fixture
def client(app_client: AsyncTestClient) -> Iterator[AsyncTestClient]:
    """The shared client with an empty cookie jar: every test starts as a new anonymous browser."""
    app_client.cookies.clear()
    yield app_client
    app_client.cookies.clear()


async def _user(client: AsyncTestClient, username: str, roles: list[Role] | None = None,
                password: str | None = PASSWORD) -> User:
    return await client.app.state.services.users.create_user(username, roles=roles, password=password)


async def _login_form(client: AsyncTestClient, next_path: str = "/") -> str:
    page = await client.get("/auth/login", params={"next": next_path})
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def login(client: AsyncTestClient, username: str, password: str = PASSWORD, next_path: str = "/"
                ) -> httpx.Response:
    """The browser flow: load the form (login-CSRF cookie), post it."""
    csrf = await _login_form(client, next_path)
    return await client.post("/auth/login", data={"username": username, "password": password, "csrf_token": csrf,
                                                  "next": next_path}, follow_redirects=False)


async def logged_in(client: AsyncTestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in and return the CSRF header for unsafe requests of this session."""
    response = await login(client, username, password)
    assert response.status_code == 303, response.text
    RECORD.session_secrets.add(client.cookies[SESSION_COOKIE])
    me = (await client.get("/api/v1/user/me")).json()["response"]
    return {"X-CSRF-Token": me["csrf_token"]}


# -- login page and password login ----------------------------------------------------------------

async def test_login_page_offers_only_enabled_methods(client: AsyncTestClient) -> None:
    page = await client.get("/auth/login")
    assert page.status_code == 200
    assert 'action="/auth/login"' in page.text and "/auth/login/github" in page.text
    assert "/auth/login/cf" not in page.text
    assert "HttpOnly" in page.headers["set-cookie"] and "argus_login_csrf" in page.headers["set-cookie"]


async def test_password_login_sets_a_strict_session_cookie(client: AsyncTestClient) -> None:
    user = await _user(client, "lina")
    response = await login(client, "lina", next_path="/runs?page=2")
    assert response.status_code == 303 and response.headers["location"] == "/runs?page=2"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower() and "Path=/;" in cookie
    me = await client.get("/api/v1/user/me")
    assert me.status_code == 200
    body = me.json()["response"]
    assert body["id"] == str(user.id) and body["username"] == "lina" and body["roles"] == ["user"]
    assert body["impersonating"] is False and body["service_user"] is False and body["csrf_token"]
    assert "password" not in me.text and "hash" not in me.text


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:x"])
async def test_login_never_redirects_off_site(client: AsyncTestClient, target: str) -> None:
    await _user(client, f"redir{abs(hash(target)) % 10_000}")
    response = await login(client, f"redir{abs(hash(target)) % 10_000}", next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize(("raw", "expected"), [
    ("/runs?x=1#top", "/runs?x=1#top"), ("/a//b", "/a//b"), (None, "/"), ("", "/"), ("runs", "/"),
    ("//evil", "/"), ("/\\evil", "/"), ("/ok\\x", "/"), ("/a\nb", "/"), ("/a\x7fb", "/"), ("http://x/", "/"),
    ("/" + "a" * 2000, "/"),
])
def test_redirect_targets_are_local_paths_only(raw: str | None, expected: str) -> None:
    assert safe_redirect_target(raw) == expected


async def test_wrong_password_and_unknown_user_look_the_same(client: AsyncTestClient) -> None:
    await _user(client, "mira")
    wrong = await login(client, "mira", "not the password")
    unknown = await login(client, "nobody-here", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Invalid username or password" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert (await client.get("/api/v1/user/me")).status_code == 403


async def test_service_accounts_cannot_log_in_with_a_password(client: AsyncTestClient) -> None:
    await _user(client, "ci-robot", roles=[Role.SERVICE])
    assert (await login(client, "ci-robot")).status_code == 401


async def test_login_without_the_form_token_is_refused(client: AsyncTestClient) -> None:
    await _user(client, "nora")
    await _login_form(client)
    forged = await client.post("/auth/login", data={"username": "nora", "password": PASSWORD, "csrf_token": "x"},
                               follow_redirects=False)
    assert forged.status_code == 400 and SESSION_COOKIE not in client.cookies
    client.cookies.clear()
    no_cookie = await client.post("/auth/login", data={"username": "nora", "password": PASSWORD, "csrf_token": "x"},
                                  follow_redirects=False)
    assert no_cookie.status_code == 400 and SESSION_COOKIE not in client.cookies


# -- CSRF on cookie-authenticated requests -----------------------------------------------------------

async def test_cookie_requests_need_the_csrf_token_and_token_requests_do_not(client: AsyncTestClient) -> None:
    user = await _user(client, "olga")
    csrf = await logged_in(client, "olga")
    users = client.app.state.services.users
    refused = await client.post("/api/v1/user/tokens", json={"name": "no-csrf"})
    assert refused.status_code == 403 and refused.json()["message"] == "CSRF token missing or invalid"
    wrong = await client.post("/api/v1/user/tokens", json={"name": "bad-csrf"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    assert await users.list_tokens(user.id) == []
    made = await client.post("/api/v1/user/tokens", json={"name": "with-csrf"}, headers=csrf)
    assert made.status_code == 200
    secret = made.json()["response"]["token"]
    RECORD.secrets.add(secret)
    client.cookies.clear()
    by_token = await client.post("/api/v1/user/tokens", json={"name": "by-token"},
                                 headers={"Authorization": f"token {secret}"})
    assert by_token.status_code == 200
    RECORD.secrets.add(by_token.json()["response"]["token"])
    assert sorted(t.name for t in await users.list_tokens(user.id)) == ["by-token", "with-csrf"]


async def test_logout_needs_csrf_and_revokes_the_session_everywhere(client: AsyncTestClient) -> None:
    await _user(client, "pia")
    csrf = await logged_in(client, "pia")
    stolen = client.cookies[SESSION_COOKIE]
    forced = await client.post("/auth/logout", follow_redirects=False)
    assert forced.status_code == 403
    assert (await client.get("/api/v1/user/me")).status_code == 200
    out = await client.post("/auth/logout", data={"csrf_token": csrf["X-CSRF-Token"]}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/auth/login"
    assert 'argus_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    client.cookies.set(SESSION_COOKIE, stolen)  # a copy of the cookie taken before logout
    assert (await client.get("/api/v1/user/me")).status_code == 403


async def test_a_new_login_ends_the_previous_session_of_that_browser(client: AsyncTestClient) -> None:
    await _user(client, "quinn")
    await logged_in(client, "quinn")
    old = client.cookies[SESSION_COOKIE]
    await logged_in(client, "quinn")
    assert client.cookies[SESSION_COOKIE] != old
    client.cookies.set(SESSION_COOKIE, old)
    assert (await client.get("/api/v1/user/me")).status_code == 403


# -- throttling --------------------------------------------------------------------------------------

@pytest_asyncio.fixture(loop_scope="session")
async def fresh_client(tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    """An app of its own: throttling counts per client address, which every test here shares."""
    app = create_app(load_settings({"ARGUS_STORAGE_DATA_DIR": str(tmp_path), **SETTINGS}))
    async with AsyncTestClient(app, base_url="https://argus.test") as client:
        client.event_hooks["response"].append(_record)
        yield client


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification, counted by wrapping the real hasher."""
    calls: list[str] = []
    real = Argon2PasswordHasher.verify

    async def counting(self: Argon2PasswordHasher, encoded: str, password: str) -> bool:
        calls.append(password)
        return await real(self, encoded, password)

    monkeypatch.setattr(Argon2PasswordHasher, "verify", counting)
    return calls


async def test_eleventh_wrong_password_is_refused_without_hashing(fresh_client: AsyncTestClient,
                                                                  verifications: list[str]) -> None:
    await _user(fresh_client, "rosa")
    for attempt in range(10):
        assert (await login(fresh_client, "rosa", f"wrong-{attempt}")).status_code == 401
    assert len(verifications) == 10
    refused = await login(fresh_client, "rosa", PASSWORD)
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    assert refused.headers["retry-after"] == "60"
    assert len(verifications) == 10
    assert SESSION_COOKIE not in fresh_client.cookies


async def test_one_address_is_throttled_across_usernames(fresh_client: AsyncTestClient,
                                                         verifications: list[str]) -> None:
    await _user(fresh_client, "sara")
    for attempt in range(10):
        assert (await login(fresh_client, f"guess-{attempt}", "whatever-pw")).status_code == 401
    assert len(verifications) == 10  # unknown users cost a verification too
    assert (await login(fresh_client, "sara", PASSWORD)).status_code == 429
    assert len(verifications) == 10


# -- tokens, the CLI token, the user directory ------------------------------------------------------------

async def test_tokens_are_shown_once_listed_without_secrets_and_revocable(client: AsyncTestClient) -> None:
    await _user(client, "tara")
    csrf = await logged_in(client, "tara")
    made = (await client.post("/api/v1/user/tokens", json={"name": "laptop"}, headers=csrf)).json()["response"]
    RECORD.secrets.add(made["token"])
    listing = await client.get("/api/v1/user/tokens")
    assert [t["name"] for t in listing.json()["response"]] == ["laptop"]
    assert made["token"] not in listing.text and "hash" not in listing.text
    bearer = {"Authorization": f"token {made['token']}"}
    assert (await client.get("/api/v1/user/me", headers=bearer)).json()["response"]["csrf_token"] is None
    revoked = await client.post(f"/api/v1/user/tokens/{made['id']}/revoke", headers=csrf)
    assert revoked.status_code == 200 and revoked.json() == {"status": "ok", "response": {"revoked": True}}
    assert (await client.get("/api/v1/user/me", headers=bearer)).status_code == 401
    assert (await client.get("/api/v1/user/tokens")).json()["response"][0]["revoked"] is True


async def test_cli_token_route_issues_a_working_token(client: AsyncTestClient) -> None:
    await _user(client, "uma")
    await logged_in(client, "uma")
    answer = await client.get("/api/v1/user/token")
    assert answer.status_code == 200
    token = answer.json()["response"]["token"]
    RECORD.secrets.add(token)
    client.cookies.clear()
    me = await client.get("/api/v1/user/me", headers={"Authorization": f"token {token}"})
    assert me.json()["response"]["username"] == "uma"


async def test_user_directory_has_public_fields_and_an_etag(client: AsyncTestClient, ) -> None:
    user = await _user(client, "vera")
    await logged_in(client, "vera")
    listing = await client.get("/api/v1/users")
    entry = listing.json()["response"][str(user.id)]
    assert entry == {"id": str(user.id), "username": "vera", "full_name": "vera", "email": "", "picture_id": None}
    assert "password" not in listing.text and "roles" not in listing.text
    again = await client.get("/api/v1/users", headers={"If-None-Match": listing.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


# -- sessions ---------------------------------------------------------------------------------------

async def test_sessions_are_listed_and_another_browser_can_be_logged_out(client: AsyncTestClient) -> None:
    await _user(client, "wendy")
    await logged_in(client, "wendy")
    other_browser = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    csrf = await logged_in(client, "wendy")
    listing = (await client.get("/api/v1/user/sessions")).json()["response"]
    assert len(listing) == 2 and sum(s["current"] for s in listing) == 1
    assert all("secret" not in key and "hash" not in key for s in listing for key in s)
    other = next(s for s in listing if not s["current"])
    assert (await client.post(f"/api/v1/user/sessions/{other['id']}/revoke", headers=csrf)).status_code == 200
    assert [s["current"] for s in (await client.get("/api/v1/user/sessions")).json()["response"]] == [True]
    mine = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, other_browser)
    assert (await client.get("/api/v1/user/me")).status_code == 403
    client.cookies.set(SESSION_COOKIE, mine)
    again = await client.post(f"/api/v1/user/sessions/{other['id']}/revoke", headers=csrf)
    assert again.status_code == 404


# -- impersonation and the audit log -----------------------------------------------------------------

async def test_admin_impersonates_a_service_account_and_the_audit_log_says_so(client: AsyncTestClient) -> None:
    services = client.app.state.services
    admin = await services.users.user_by_username("admin")
    robot = await _user(client, "jenkins-bot", roles=[Role.SERVICE], password=None)
    person = await _user(client, "xena")
    csrf = await logged_in(client, "admin", ADMIN_PASSWORD)
    refused = await client.post("/auth/admin/impersonate", json={"user_id": str(person.id)}, headers=csrf,
                                follow_redirects=False)
    assert refused.status_code == 403
    started = await client.post("/auth/admin/impersonate", data={"user_id": str(robot.id),
                                                                 "csrf_token": csrf["X-CSRF-Token"]},
                                follow_redirects=False)
    assert started.status_code == 303
    me = (await client.get("/api/v1/user/me")).json()["response"]
    assert (me["username"], me["impersonating"], me["original_user_id"]) == ("jenkins-bot", True, str(admin.id))
    acting = {"X-CSRF-Token": me["csrf_token"]}
    assert (await client.get("/admin/api/v1/audit")).status_code == 403  # acting as the service account
    nested = await client.post("/auth/admin/impersonate", json={"user_id": str(robot.id)}, headers=acting,
                               follow_redirects=False)
    assert nested.status_code == 403
    stopped = await client.post("/auth/admin/impersonate/stop", headers=acting, follow_redirects=False)
    assert stopped.status_code == 303
    me = (await client.get("/api/v1/user/me")).json()["response"]
    assert (me["username"], me["impersonating"]) == ("admin", False)
    audit = (await client.get("/admin/api/v1/audit", params={"limit": 10})).json()["response"]
    mine = [(e["action"], e["target"]) for e in audit["entries"] if e["actor_id"] == str(admin.id)]
    assert mine[:2] == [("impersonation.stop", str(robot.id)), ("impersonation.start", str(robot.id))]


async def test_stop_without_impersonation_and_non_admin_impersonation_are_refused(client: AsyncTestClient
                                                                                   ) -> None:
    robot = await _user(client, "build-bot", roles=[Role.SERVICE], password=None)
    await _user(client, "yara")
    csrf = await logged_in(client, "yara")
    assert (await client.post("/auth/admin/impersonate/stop", headers=csrf)).status_code == 400
    denied = await client.post("/auth/admin/impersonate", json={"user_id": str(robot.id)}, headers=csrf)
    assert denied.status_code == 403 and denied.json()["message"] == "Forbidden"
    assert (await client.get("/api/v1/user/me")).json()["response"]["username"] == "yara"


async def test_audit_log_is_admin_only_and_checks_its_parameters(client: AsyncTestClient) -> None:
    anonymous = await client.get("/admin/api/v1/audit")
    assert anonymous.status_code == 403 and anonymous.json() == {"status": "error", "message": "Forbidden"}
    await logged_in(client, "admin", ADMIN_PASSWORD)
    for params in ({"limit": 0}, {"limit": 501}, {"cursor": "garbage!"}, {"limit": "x"}):
        assert (await client.get("/admin/api/v1/audit", params=params)).status_code == 400, params


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/user/tokens", {}),
    ("post", "/api/v1/user/tokens", {"name": ""}),
    ("post", "/api/v1/user/tokens", {"name": "x" * 101}),
    ("post", "/api/v1/user/tokens", {"name": "ok", "extra": 1}),
    ("post", "/api/v1/user/tokens/not-a-uuid/revoke", None),
    ("post", "/api/v1/user/tokens/00000000-0000-0000-0000-000000000000/revoke", None),
    ("post", "/api/v1/user/sessions/00000000-0000-0000-0000-000000000000/revoke", None),
    ("post", "/auth/admin/impersonate", {"user_id": "nope"}),
    ("post", "/auth/admin/impersonate", {"user_id": "00000000-0000-0000-0000-000000000000"}),
])
async def test_bad_input_is_a_4xx_and_changes_nothing(client: AsyncTestClient, method: str, path: str,
                                                      body: dict[str, Any] | None) -> None:
    csrf = await logged_in(client, "admin", ADMIN_PASSWORD)
    admin = await client.app.state.services.users.user_by_username("admin")
    before = await client.app.state.services.users.list_tokens(admin.id)
    response = await client.request(method.upper(), path, json=body, headers=csrf)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["status"] == "error"
    assert await client.app.state.services.users.list_tokens(admin.id) == before


# -- pages know the viewer ---------------------------------------------------------------------------

def _embedded_viewer(html: str) -> Any:
    match = re.search(r'<script id="argus-current-user" type="application/json">(.*?)</script>', html, re.S)
    assert match, html
    return json.loads(match.group(1))


async def test_pages_show_the_viewer_without_secrets_and_log_out_with_the_form(client: AsyncTestClient) -> None:
    anonymous = await client.get("/")
    assert anonymous.status_code == 200 and 'href="/auth/login"' in anonymous.text
    assert _embedded_viewer(anonymous.text) is None
    await _user(client, "pagey")
    csrf = await logged_in(client, "pagey")
    page = await client.get("/")
    viewer = _embedded_viewer(page.text)
    me = (await client.get("/api/v1/user/me")).json()["response"]
    assert viewer == me and viewer["username"] == "pagey"
    assert f'name="csrf_token" value="{csrf["X-CSRF-Token"]}"' in page.text  # the log-out form
    assert client.cookies[SESSION_COOKIE] not in page.text
    out = await client.post("/auth/logout", data={"csrf_token": csrf["X-CSRF-Token"]}, follow_redirects=False)
    assert out.status_code == 303
    assert _embedded_viewer((await client.get("/")).text) is None


async def test_a_bad_token_on_a_page_renders_it_for_nobody(client: AsyncTestClient) -> None:
    page = await client.get("/", headers={"Authorization": "token not-a-token"})
    assert page.status_code == 200 and _embedded_viewer(page.text) is None


# -- secrets never leave -----------------------------------------------------------------------------

async def test_no_secret_appears_in_any_response_or_log_line(client: AsyncTestClient) -> None:
    """Runs last in the module: scans everything the tests above received and logged."""
    users = client.app.state.services.users
    hashes = [u.password_hash for u in await users.list_users() if u.password_hash]
    assert len(hashes) > 5 and len(RECORD.secrets) >= 4 and len(RECORD.session_secrets) > 5
    assert RECORD.logs is not None and RECORD.logs.lines
    responses = "\n".join(RECORD.bodies)
    logs = "\n".join(RECORD.logs.lines)
    for secret in RECORD.secrets | RECORD.session_secrets:
        assert secret not in logs
    for secret in RECORD.session_secrets:  # they travel in Set-Cookie headers only
        assert secret not in responses
    for encoded in hashes:
        assert encoded not in responses and encoded not in logs
    assert ADMIN_PASSWORD not in logs and PASSWORD not in logs
