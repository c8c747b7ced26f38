"""GitHub and Cloudflare Access logins against a real ``argus serve`` (two workers) and a local provider stand-in.

Browsers are httpx clients with their own cookie jars; the Go CLI's flow is replayed as it runs:
``POST /auth/login/cf`` with the ``CF_Authorization`` cookie, then ``GET /api/v1/user/token``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.conftest import ArgusServer, ServerPool, base_env
from tests.identity_providers import AccessKey, IdentityProviders, running_identity_providers

CLIENT_ID = "Iv1.5d0c1e2f3a4b5c6d"
CLIENT_SECRET = secrets.token_hex(20)
TEAM = "argus-e2e.cloudflareaccess.com"
AUD = secrets.token_hex(32)


@pytest.fixture(scope="module")
def providers() -> Iterator[IdentityProviders]:
    with running_identity_providers(CLIENT_ID, CLIENT_SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def access_key(providers: IdentityProviders) -> AccessKey:
    key = AccessKey.generate()
    providers.jwks = {"keys": [key.jwk()]}
    return key


@pytest.fixture(scope="module")
def server(module_pool: ServerPool, tmp_path_factory: pytest.TempPathFactory, providers: IdentityProviders,
           access_key: AccessKey) -> ArgusServer:
    env = base_env(tmp_path_factory.mktemp("external-e2e"), ARGUS_LOG_FORMAT="json",
                   ARGUS_AUTH_LOGIN_METHODS="password,gh,cf",
                   ARGUS_AUTH_GITHUB_CLIENT_ID=CLIENT_ID, ARGUS_AUTH_GITHUB_CLIENT_SECRET=CLIENT_SECRET,
                   ARGUS_AUTH_GITHUB_REQUIRED_ORGANIZATIONS="scylladb,another-org",
                   ARGUS_AUTH_GITHUB_OAUTH_URL=providers.url, ARGUS_AUTH_GITHUB_API_URL=f"{providers.url}/api",
                   ARGUS_AUTH_CF_ACCESS_TEAM_DOMAIN=TEAM, ARGUS_AUTH_CF_ACCESS_AUD=AUD,
                   ARGUS_AUTH_CF_ACCESS_ALLOWED_EMAIL_DOMAINS="scylladb.com",
                   ARGUS_AUTH_CF_ACCESS_CERTS_URL=f"{providers.url}/cdn-cgi/access/certs")
    return module_pool.start(env, "--workers", "2")


def github_login(server: ArgusServer, providers: IdentityProviders, account: str) -> httpx.Client:
    """A browser that went through GitHub's consent for ``account``; the session is in its jar."""
    browser = server.client()
    start = browser.get("/auth/login/github", params={"next": "/workspace"})
    assert start.status_code == 302, start.text
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    callback = browser.get("/profile/oauth/github", params={"code": providers.new_code(account), "state": state})
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == "/workspace"
    return browser


def me(browser: httpx.Client) -> dict[str, object]:
    answer = browser.get("/api/v1/user/me")
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]


def test_github_login_and_concurrent_first_logins(server: ArgusServer, providers: IdentityProviders) -> None:
    browser = github_login(server, providers, "mona")
    try:
        profile = me(browser)
    finally:
        browser.close()
    assert (profile["username"], profile["email"], profile["roles"]) == (
        "mona-tester", "mona.tester@scylladb.com", ["user"])

    # Two browsers finish the first GitHub login of one person at the same moment (two workers).
    with ThreadPoolExecutor(4) as pool:
        browsers = list(pool.map(lambda _: github_login(server, providers, "linker"), range(4)))
    try:
        ids = {me(b)["id"] for b in browsers}
        users = browsers[0].get("/api/v1/users").json()["response"]
    finally:
        for b in browsers:
            b.close()
    assert len(ids) == 1
    assert sorted(u["username"] for u in users.values() if u["username"].startswith("linker-qa")) == ["linker-qa"]


def test_go_cli_flow_with_the_access_cookie(server: ArgusServer, access_key: AccessKey) -> None:
    now = int(time.time())
    token = access_key.sign({"aud": [AUD], "email": "jane.roe@scylladb.com", "exp": now + 600, "iat": now,
                             "iss": f"https://{TEAM}", "sub": "7d0f5a51-1111-4b9e-8c77-0a1b2c3d4e5f",
                             "type": "app"})
    with server.client(cookies={"CF_Authorization": token}) as cli:
        login = cli.post("/auth/login/cf")
        assert login.status_code == 303, login.text
        issued = cli.get("/api/v1/user/token")
        assert issued.status_code == 200, issued.text
        api_token = issued.json()["response"]["token"]
    with server.client(headers={"Authorization": f"token {api_token}"}) as ci:
        assert (profile := me(ci))["username"] == "jane.roe"
        assert profile["full_name"] == "Jane Roe"


def test_refusals_and_no_secret_in_the_logs(server: ArgusServer, providers: IdentityProviders,
                                            access_key: AccessKey) -> None:
    with server.client() as browser:
        start = browser.get("/auth/login/github")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        outsider = browser.get("/profile/oauth/github", params={"code": providers.new_code("outsider"),
                                                                "state": state})
        assert outsider.status_code == 403
        assert "not a member" in outsider.text
        jwt = AccessKey.generate().sign({"aud": [AUD], "email": "x@scylladb.com", "exp": int(time.time()) + 60,
                                         "iss": f"https://{TEAM}"})
        forged = browser.post("/auth/login/cf", headers={"Cf-Access-Jwt-Assertion": jwt})
        assert forged.status_code == 401
    logs = server.stderr()
    assert "external login refused" in logs
    assert providers.tokens  # GitHub access tokens were issued during this module
    for secret in [CLIENT_SECRET, jwt, *providers.tokens]:
        assert secret not in logs
        assert secret not in server.stdout()

