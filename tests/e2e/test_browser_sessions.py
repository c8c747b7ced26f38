"""Browser sessions against real ``argus serve`` processes, driven by Debian's Chromium via Playwright.

Shows what only real processes can: the first start prints the administrator's one-time password,
a session survives a server restart, two uvicorn workers share sessions (database and Redis
stores), and a logout in one browser context ends the same session in another one at once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.e2e.conftest import ArgusServer, StartServer, base_env, run_argus

CHROMIUM = os.environ.get("ARGUS_TEST_CHROMIUM", "/usr/bin/chromium")
ADMIN_PASSWORD = "e2e-admin-password"
FAST_HASH = {"ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192", "ARGUS_LOG_FORMAT": "json"}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium (tools/chromium/chromium-test.sh installs it); missing fails, never skips."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run tools/chromium/chromium-test.sh install")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    yield browser
    browser.close()


def log_in(context: BrowserContext, server: ArgusServer, username: str, password: str) -> None:
    """Fill and submit the login form like a person; land on the landing page."""
    page = context.new_page()
    page.goto(f"{server.url}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/", page.content()[:500]
    page.close()


def whoami(context: BrowserContext, server: ArgusServer) -> int:
    """The status of ``GET /api/v1/user/me`` with the context's cookies."""
    return context.request.get(f"{server.url}/api/v1/user/me").status


def log_out(context: BrowserContext, server: ArgusServer) -> None:
    """What a page's logout button does: POST /auth/logout with the session's CSRF token."""
    page = context.new_page()
    page.goto(f"{server.url}/")
    status = page.evaluate("""async () => {
        const me = await (await fetch('/api/v1/user/me')).json();
        const answer = await fetch('/auth/logout', {method: 'POST', redirect: 'manual',
                                                    headers: {'X-CSRF-Token': me.response.csrf_token}});
        return answer.type === 'opaqueredirect' ? 303 : answer.status;
    }""")
    assert status == 303
    page.close()


def test_first_start_prints_a_one_time_admin_password(argus_server: StartServer, tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", **FAST_HASH)
    (tmp_path / "data").mkdir()
    server = argus_server(env)
    lines = [json.loads(line) for line in server.stderr().splitlines() if line.startswith("{")]
    created = [line for line in lines if "one_time_password" in line]
    assert len(created) == 1 and created[0]["level"] == "warning" and created[0]["username"] == "admin"
    password = created[0]["one_time_password"]
    with server.client(follow_redirects=False) as client:
        form = client.get("/auth/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        answer = client.post("/auth/login", data={"username": "admin", "password": password, "csrf_token": csrf})
        assert answer.status_code == 303
        assert client.get("/api/v1/user/me").json()["response"]["roles"] == ["admin"]
    server.stop()
    again = argus_server(env, port=server.port)
    assert "one_time_password" not in again.stderr()


def test_session_survives_a_restart(argus_server: StartServer, browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    env = base_env(tmp_path / "data", **FAST_HASH)
    made = run_argus("create-user", "carol", "--role", "manager", "--password-stdin", env=env,
                     stdin="carol's password\n")
    assert made.returncode == 0, made.stderr
    server = argus_server(env)
    context = browser.new_context()
    try:
        log_in(context, server, "carol", "carol's password")
        cookie = next(c for c in context.cookies() if c["name"] == "argus_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
        assert not cookie["secure"]  # plain HTTP on localhost: the one case "auto" leaves Secure off
        assert whoami(context, server) == 200
        server.stop()
        restarted = argus_server(env, port=server.port)
        me = context.request.get(f"{restarted.url}/api/v1/user/me").json()["response"]
        assert (me["username"], me["roles"]) == ("carol", ["manager"])
    finally:
        context.close()


@pytest.mark.parametrize("store", ["database", "redis"])
def test_two_workers_share_sessions_and_logout_ends_them_everywhere(
        argus_server: StartServer, browser: Browser, tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "data").mkdir()
    settings = {"ARGUS_AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD, **FAST_HASH}
    if store == "redis":
        settings |= {"ARGUS_AUTH_SESSION_STORE": "redis", "ARGUS_AUTH_SESSION_REDIS_URL":
                     request.getfixturevalue("redis_url")}
    server = argus_server(base_env(tmp_path / "data", **settings), "--workers", "2")
    first, thief, other = browser.new_context(), browser.new_context(), browser.new_context()
    try:
        log_in(first, server, "admin", ADMIN_PASSWORD)
        log_in(other, server, "admin", ADMIN_PASSWORD)
        thief.add_cookies(first.cookies())  # the same session in a second browser context
        # New connections each time, spread over both workers: every one knows the session.
        assert [whoami(context, server) for context in (first, thief) * 10] == [200] * 20
        log_out(first, server)
        assert whoami(thief, server) == 403
        assert whoami(first, server) == 403
        assert whoami(other, server) == 200  # another session of the same account is untouched
    finally:
        for context in (first, thief, other):
            context.close()

