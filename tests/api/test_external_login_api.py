"""GitHub OAuth and Cloudflare Access logins through the whole app, against a local provider stand-in.

The stand-in (``tests/identity_providers.py``) is a real HTTP server serving GitHub-shaped bodies and
a JWKS endpoint with a key generated here, so the adapters' httpx and PyJWT code runs for real.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from app.auth.external_controller import CF_TOKEN_COOKIE, GITHUB_CALLBACK, STATE_COOKIE
from app.factory import create_app
from app.security import SESSION_COOKIE
from domain.users.entities import IdentityLink, IdentityProvider, Role
from infrastructure.settings import load_settings
from infrastructure.storage.identity_link_repository import StoreIdentityLinkRepository
from tests.identity_providers import DROPPED, AccessKey, IdentityProviders, forged_token, running_identity_providers

CLIENT_ID = "Iv1.8a61f9b3a7aba766"
CLIENT_SECRET = secrets.token_hex(20)
TEAM = "argus-test.cloudflareaccess.com"
AUD = secrets.token_hex(32)
MONA_ID = "58213764"
LINKER_ID = "77123409"


@pytest.fixture(scope="module")
def providers() -> Iterator[IdentityProviders]:
    with running_identity_providers(CLIENT_ID, CLIENT_SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def access_key(providers: IdentityProviders) -> AccessKey:
    key = AccessKey.generate()
    providers.jwks = {"keys": [key.jwk(), {"kty": "EC", "kid": "ec-key", "crv": "P-256", "x": "AA", "y": "AA"}]}
    return key


def _settings(data_dir: Path, providers: IdentityProviders, methods: str) -> dict[str, str]:
    return {"ARGUS_STORAGE_DATA_DIR": str(data_dir), "ARGUS_LOG_FORMAT": "json",
            "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192",
            "ARGUS_AUTH_COOKIE_SECURE": "off", "ARGUS_AUTH_LOGIN_METHODS": methods,
            "ARGUS_AUTH_GITHUB_CLIENT_ID": CLIENT_ID, "ARGUS_AUTH_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "ARGUS_AUTH_GITHUB_REQUIRED_ORGANIZATIONS": "ScyllaDB,another-org",
            "ARGUS_AUTH_GITHUB_OAUTH_URL": providers.url, "ARGUS_AUTH_GITHUB_API_URL": f"{providers.url}/api",
            "ARGUS_AUTH_CF_ACCESS_TEAM_DOMAIN": TEAM, "ARGUS_AUTH_CF_ACCESS_AUD": AUD,
            "ARGUS_AUTH_CF_ACCESS_ALLOWED_EMAIL_DOMAINS": "scylladb.com",
            "ARGUS_AUTH_CF_ACCESS_CERTS_URL": f"{providers.url}/cdn-cgi/access/certs"}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def app_client(tmp_path_factory: pytest.TempPathFactory, providers: IdentityProviders,
                     access_key: AccessKey) -> AsyncIterator[AsyncTestClient]:
    settings = load_settings(_settings(tmp_path_factory.mktemp("external"), providers, "password,gh,cf"))
    async with AsyncTestClient(create_app(settings)) as test_client:
        test_client.follow_redirects = False  # the redirects lead to GitHub, not to this app
        yield test_client


@pytest.fixture
def client(app_client: AsyncTestClient) -> AsyncTestClient:
    """The shared app with an empty cookie jar: every test is a fresh browser."""
    app_client.cookies.clear()
    return app_client


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the service logs during the test, rendered exactly as the real handler renders it."""
    root = logging.getLogger()
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        yield sink
    finally:
        root.removeHandler(handler)


def services(client: AsyncTestClient) -> Any:
    return client.app.state.services


async def usernames(client: AsyncTestClient) -> set[str]:
    return {u.username for u in await services(client).users.list_users()}


async def link_of(client: AsyncTestClient, subject: str) -> IdentityLink:
    link = await StoreIdentityLinkRepository(services(client).store).get(IdentityProvider.GITHUB, subject)
    assert link is not None
    return link


async def signed_in(client: AsyncTestClient) -> bool:
    """Whether the jar's session cookie opens a login-only route."""
    return (await client.get("/api/v1/releases")).status_code == 200


async def start_github(client: AsyncTestClient, target: str | None = None) -> str:
    """The state GitHub would echo back; the state cookie stays in the jar."""
    response = await client.get("/auth/login/github", params={"next": target} if target else None)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["user:email read:user read:org"]
    return query["state"][0]


async def github_callback(client: AsyncTestClient, code: str, state: str) -> httpx.Response:
    return await client.get(GITHUB_CALLBACK, params={"code": code, "state": state})


# -- GitHub -------------------------------------------------------------------------------------


async def test_start_redirects_to_github_with_a_state_bound_to_the_browser(client: AsyncTestClient,
                                                                          providers: IdentityProviders) -> None:
    response = await client.get("/auth/login/github")
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{providers.url}/login/oauth/authorize?")
    state = parse_qs(urlsplit(response.headers["location"]).query)["state"][0]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{STATE_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and f"Path={GITHUB_CALLBACK}" in cookie
    assert "Max-Age=600" in cookie
    assert state not in cookie  # only its hash is kept in the browser
    assert CLIENT_SECRET not in response.text


async def test_first_github_login_creates_account_link_and_session(client: AsyncTestClient,
                                                                    providers: IdentityProviders,
                                                                    log_lines: io.StringIO) -> None:
    state = await start_github(client, "/runs?page=2")
    response = await github_callback(client, providers.new_code("mona"), state)
    assert response.status_code == 303
    assert response.headers["location"] == "/runs?page=2"
    assert SESSION_COOKIE in response.cookies
    assert STATE_COOKIE not in client.cookies  # spent: the callback deleted it
    assert await signed_in(client)

    user = await services(client).users.user_by_username("mona-tester")
    assert (user.full_name, user.email, [r.value for r in user.roles]) == (
        "Mona Tester", "mona.tester@scylladb.com", ["user"])  # the primary verified address
    assert (await link_of(client, MONA_ID)).user_id == user.id

    exchange = next(r for r in providers.seen if r.path == "/login/oauth/access_token")
    assert exchange.headers["accept"] == "application/json"
    issued = [t for t, account in providers.tokens.items() if account == "mona"]
    logged = log_lines.getvalue()
    assert logged  # the service did log this login's requests
    for secret in [CLIENT_SECRET, *issued]:
        assert secret not in logged
        assert secret not in response.text
        assert secret not in str(response.headers)


async def test_second_github_login_reuses_the_account(client: AsyncTestClient, providers: IdentityProviders) -> None:
    state = await start_github(client)
    assert (await github_callback(client, providers.new_code("mona"), state)).status_code == 303
    before = await usernames(client)
    client.cookies.clear()
    state = await start_github(client)
    response = await github_callback(client, providers.new_code("mona"), state)
    assert response.status_code == 303
    assert await usernames(client) == before
    assert "mona-tester-2" not in before


async def test_non_member_is_refused_and_nothing_is_created(client: AsyncTestClient,
                                                            providers: IdentityProviders) -> None:
    before = await usernames(client)
    state = await start_github(client)
    response = await github_callback(client, providers.new_code("outsider"), state)
    assert response.status_code == 403
    assert "outsider-dev is not a member of ScyllaDB, another-org" in response.text
    assert "text/html" in response.headers["content-type"]
    assert await usernames(client) == before
    assert not await signed_in(client)


@pytest.mark.parametrize("state", ["wrong-state", ""])
async def test_state_mismatch_or_missing_is_refused_before_github_is_asked(
        client: AsyncTestClient, providers: IdentityProviders, state: str) -> None:
    await start_github(client)
    code = providers.new_code("mona")
    response = await client.get(GITHUB_CALLBACK, params={"code": code, **({"state": state} if state else {})})
    assert response.status_code == 403
    assert "did not start in this browser" in response.text
    assert code in providers.codes  # never exchanged
    assert not await signed_in(client)


async def test_callback_without_the_state_cookie_is_refused(client: AsyncTestClient,
                                                            providers: IdentityProviders) -> None:
    """A victim lured to an attacker's callback URL has no state cookie: no login-CSRF."""
    state = await start_github(client)
    client.cookies.clear()
    response = await github_callback(client, providers.new_code("mona"), state)
    assert response.status_code == 403


async def test_rejected_code_is_a_clear_401(client: AsyncTestClient) -> None:
    state = await start_github(client)
    response = await github_callback(client, "spent-or-forged", state)
    assert response.status_code == 401
    assert "GitHub refused the login: The code passed is incorrect or expired." in response.text
    assert not await signed_in(client)


async def test_github_network_failure_is_a_clear_4xx(client: AsyncTestClient, providers: IdentityProviders) -> None:
    before = await usernames(client)
    state = await start_github(client)
    response = await github_callback(client, providers.new_code(DROPPED), state)
    assert response.status_code == 400
    assert "GitHub could not be reached" in response.text
    assert await usernames(client) == before


async def test_user_cancelled_on_github(client: AsyncTestClient) -> None:
    state = await start_github(client)
    response = await client.get(GITHUB_CALLBACK, params={"error": "access_denied", "state": state,
                                                         "error_description": "The user has denied your app."})
    assert response.status_code == 401
    assert "The user has denied your app." in response.text


async def test_callback_without_code_is_400(client: AsyncTestClient) -> None:
    state = await start_github(client)
    response = await client.get(GITHUB_CALLBACK, params={"state": state})
    assert response.status_code == 400
    assert "GitHub sent no authorization code" in response.text


async def test_disabled_account_cannot_log_in_with_github(client: AsyncTestClient,
                                                          providers: IdentityProviders) -> None:
    state = await start_github(client)
    assert (await github_callback(client, providers.new_code("mona"), state)).status_code == 303
    mona = await services(client).users.user_by_username("mona-tester")
    admin = await services(client).users.user_by_username("admin")  # the bootstrap administrator
    accounts = services(client).accounts
    await accounts.set_disabled(admin, mona.id, True)
    try:
        client.cookies.clear()
        state = await start_github(client)
        response = await github_callback(client, providers.new_code("mona"), state)
        assert response.status_code == 403
        assert "The account mona-tester is disabled" in response.text
        assert not await signed_in(client)
    finally:
        await accounts.set_disabled(admin, mona.id, False)


async def test_open_redirect_target_is_replaced_by_root(client: AsyncTestClient, providers: IdentityProviders) -> None:
    state = await start_github(client, "//evil.example/phish")
    response = await github_callback(client, providers.new_code("mona"), state)
    assert response.headers["location"] == "/"


async def sign_in_with_access(client: AsyncTestClient, key: AccessKey) -> Any:
    """A fresh account signed in through Cloudflare Access; the session cookie stays in the jar."""
    local = f"linker.{secrets.token_hex(3)}"
    response = await client.post("/auth/login/cf", headers={"Cf-Access-Jwt-Assertion": key.sign(
        claims(f"{local}@scylladb.com"))})
    assert response.status_code == 303
    return await services(client).users.user_by_username(local)


async def test_signed_in_user_links_github_instead_of_logging_in(client: AsyncTestClient,
                                                                 providers: IdentityProviders,
                                                                 access_key: AccessKey) -> None:
    me = await sign_in_with_access(client, access_key)
    before = await usernames(client)
    state = await start_github(client, "/profile")
    response = await github_callback(client, providers.new_code("linker"), state)
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    assert (await link_of(client, LINKER_ID)).user_id == me.id
    assert await usernames(client) == before  # no account was made for the GitHub identity
    assert await signed_in(client)  # the session was kept

    client.cookies.clear()  # later GitHub logins of that identity land in the same account
    state = await start_github(client)
    assert (await github_callback(client, providers.new_code("linker"), state)).status_code == 303
    assert await usernames(client) == before

    client.cookies.clear()  # and nobody else can take the identity over
    someone_else = await sign_in_with_access(client, access_key)
    state = await start_github(client)
    response = await github_callback(client, providers.new_code("linker"), state)
    assert response.status_code == 403
    assert "linked to another Argus account" in response.text
    assert (await link_of(client, LINKER_ID)).user_id == me.id != someone_else.id


async def test_no_linking_while_impersonating(client: AsyncTestClient, providers: IdentityProviders) -> None:
    users = services(client).users
    admin = await users.user_by_username("admin")
    robot = await users.create_user(f"robot-{secrets.token_hex(3)}", roles=[Role.SERVICE])
    _, secret = await services(client).sessions.start(robot.id, user_agent="test", address="127.0.0.1",
                                                      original_user_id=admin.id)
    client.cookies.set(SESSION_COOKIE, secret)
    state = await start_github(client)
    response = await github_callback(client, providers.new_code("linker"), state)
    assert response.status_code == 403
    assert "Stop impersonating before linking a GitHub account" in response.text
    link = await StoreIdentityLinkRepository(services(client).store).get(IdentityProvider.GITHUB, LINKER_ID)
    assert link is None or link.user_id != robot.id


# -- Cloudflare Access --------------------------------------------------------------------------


def claims(email: str | None, **override: Any) -> dict[str, Any]:
    """Claims shaped like a real Access application token."""
    now = int(time.time())
    body: dict[str, Any] = {"aud": [AUD], "email": email, "exp": now + 3600, "iat": now, "nbf": now,
                            "iss": f"https://{TEAM}", "type": "app", "identity_nonce": secrets.token_urlsafe(12),
                            "sub": f"{secrets.token_hex(4)}-4c1d-5f3e-9a6b-{secrets.token_hex(6)}", "country": "IL"}
    if email is None:
        del body["email"]
    body.update(override)
    return body


async def test_access_jwt_in_header_registers_an_allowed_domain(client: AsyncTestClient,
                                                                access_key: AccessKey) -> None:
    suffix = secrets.token_hex(2)
    local = f"john.doe.{suffix}"
    response = await client.post("/auth/login/cf?next=/workspace",
                                  headers={"Cf-Access-Jwt-Assertion": access_key.sign(claims(f"{local}@scylladb.com"))})
    assert response.status_code == 303
    assert response.headers["location"] == "/workspace"
    assert await signed_in(client)
    user = await services(client).users.user_by_username(local)
    assert user.full_name == f"John Doe {suffix.capitalize()}"
    assert user.email == f"{local}@scylladb.com"


async def test_access_jwt_in_cookie_as_the_go_cli_sends_it(client: AsyncTestClient, access_key: AccessKey) -> None:
    email = f"cli.user{secrets.token_hex(2)}@scylladb.com"
    client.cookies.set(CF_TOKEN_COOKIE, access_key.sign(claims(email)))
    response = await client.post("/auth/login/cf")
    assert response.status_code == 303
    assert SESSION_COOKIE in response.cookies


async def test_access_get_logs_in_a_known_address_from_any_domain(client: AsyncTestClient,
                                                                  access_key: AccessKey) -> None:
    partner = await services(client).users.create_user(f"partner-{secrets.token_hex(3)}",
                                                       email="partner@vendor.example")
    response = await client.get("/auth/login/cf",
                                headers={"Cf-Access-Jwt-Assertion": access_key.sign(claims("Partner@vendor.example"))})
    assert response.status_code == 303
    assert await signed_in(client)
    assert partner.username in await usernames(client)


async def test_access_unknown_address_outside_the_domains_is_403(client: AsyncTestClient,
                                                                 access_key: AccessKey) -> None:
    before = await usernames(client)
    response = await client.post("/auth/login/cf",
                                 headers={"Cf-Access-Jwt-Assertion": access_key.sign(claims("eve@evil.example"))})
    assert response.status_code == 403
    assert "No Argus account uses eve@evil.example" in response.text
    assert await usernames(client) == before
    assert SESSION_COOKIE not in response.cookies


def _bad_tokens(key: AccessKey) -> dict[str, tuple[str, str]]:
    other = AccessKey(key.kid, AccessKey.generate().private)  # same key id, another private key
    email = "forger@scylladb.com"
    return {
        "expired": (key.sign(claims(email, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)),
                    "has expired"),
        "wrong audience": (key.sign(claims(email, aud=["another-application"])), "another application"),
        "wrong issuer": (key.sign(claims(email, iss="https://evil.cloudflareaccess.com")), "another team"),
        "other key": (other.sign(claims(email)), "not valid (InvalidSignatureError)"),
        "alg none": (forged_token(claims(email), key.kid, "none"), "must be signed with RS256"),
        "hs256 with the public key": (forged_token(claims(email), key.kid, "HS256", key.public_pem()),
                                      "must be signed with RS256"),
        "unknown key id": (AccessKey.generate().sign(claims(email)), "unknown key"),
        "missing email": (key.sign(claims(None)), "carries no e-mail"),
        "not a jwt": ("not-a-jwt", "malformed"),
        "no exp": (key.sign({k: v for k, v in claims(email).items() if k != "exp"}),
                   "not valid (MissingRequiredClaimError)"),
    }


@pytest.mark.parametrize("case", ["expired", "wrong audience", "wrong issuer", "other key", "alg none",
                                  "hs256 with the public key", "unknown key id", "missing email", "not a jwt",
                                  "no exp"])
async def test_bad_access_tokens_are_refused(client: AsyncTestClient, access_key: AccessKey, case: str) -> None:
    token, reason = _bad_tokens(access_key)[case]
    before = await usernames(client)
    response = await client.post("/auth/login/cf", headers={"Cf-Access-Jwt-Assertion": token})
    assert response.status_code == 401, response.text
    assert reason in response.text
    assert SESSION_COOKIE not in response.cookies
    assert await usernames(client) == before
    assert not await signed_in(client)


async def test_missing_access_token_is_401(client: AsyncTestClient) -> None:
    response = await client.post("/auth/login/cf")
    assert response.status_code == 401
    assert "Cf-Access-Jwt-Assertion" in response.text


async def test_signing_keys_are_cached(client: AsyncTestClient, providers: IdentityProviders,
                                       access_key: AccessKey) -> None:
    email = f"cache.check{secrets.token_hex(2)}@scylladb.com"
    await client.post("/auth/login/cf", headers={"Cf-Access-Jwt-Assertion": access_key.sign(claims(email))})
    fetched = providers.certs_fetches()
    for _ in range(3):
        client.cookies.clear()
        response = await client.post("/auth/login/cf", headers={"Cf-Access-Jwt-Assertion": access_key.sign(
            claims(email))})
        assert response.status_code == 303
    assert providers.certs_fetches() == fetched


# -- methods switched off -----------------------------------------------------------------------


async def test_methods_not_enabled_are_404(tmp_path: Path, providers: IdentityProviders,
                                           access_key: AccessKey) -> None:
    settings = load_settings(_settings(tmp_path, providers, "password"))
    async with AsyncTestClient(create_app(settings)) as only_password:
        for method, path in (("GET", "/auth/login/github"), ("GET", GITHUB_CALLBACK), ("GET", "/auth/login/cf"),
                             ("POST", "/auth/login/cf")):
            response = await only_password.request(
                method, path, headers={"Cf-Access-Jwt-Assertion": access_key.sign(claims("x.y@scylladb.com"))})
            assert response.status_code == 404, path
            assert "login is not enabled" in response.text
        assert "x.y" not in await usernames(only_password)
