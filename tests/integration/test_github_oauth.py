"""The GitHub OAuth adapter against the local GitHub stand-in: what it sends and how it reads answers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.errors import NotAuthenticated, PermissionDenied
from domain.users.entities import IdentityProvider
from domain.users.external import IdentityProviderUnavailable
from infrastructure.identity.github import GitHubOAuthClient
from tests.identity_providers import IdentityProviders, running_identity_providers

CLIENT_ID = "Iv1.0123456789abcdef"
CLIENT_SECRET = "3f1e0c7b9a8d6e5f4c3b2a190817263544536271"


@pytest.fixture(scope="module")
def providers() -> Iterator[IdentityProviders]:
    with running_identity_providers(CLIENT_ID, CLIENT_SECRET) as running:
        yield running


def client(providers: IdentityProviders, *, secret: str = CLIENT_SECRET, orgs: list[str] | None = None,
           oauth_url: str | None = None) -> GitHubOAuthClient:
    return GitHubOAuthClient(client_id=CLIENT_ID, client_secret=secret, scopes="user:email read:user read:org",
                             oauth_url=oauth_url or providers.url + "/", api_url=f"{providers.url}/api/",
                             required_organizations=orgs or [])


def test_authorize_url(providers: IdentityProviders) -> None:
    url = urlsplit(client(providers).authorize_url("s t/ä"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{providers.url}/login/oauth/authorize"
    assert parse_qs(url.query) == {"client_id": [CLIENT_ID], "scope": ["user:email read:user read:org"],
                                   "state": ["s t/ä"]}


async def test_identity_reads_user_and_primary_verified_email(providers: IdentityProviders) -> None:
    seen = len(providers.seen)
    identity = await client(providers).identity(providers.new_code("mona"))
    assert identity.provider is IdentityProvider.GITHUB
    assert (identity.subject, identity.login, identity.name) == ("58213764", "mona-tester", "Mona Tester")
    assert (identity.email, identity.email_verified) == ("mona.tester@scylladb.com", True)
    assert identity.avatar_url == "https://avatars.githubusercontent.com/u/58213764?v=4"

    requests = providers.seen[seen:]
    exchange = requests[0]
    assert (exchange.method, exchange.path, exchange.headers["accept"]) == (
        "POST", "/login/oauth/access_token", "application/json")
    assert parse_qs(exchange.body)["client_secret"] == [CLIENT_SECRET]
    reads = sorted(r.path for r in requests[1:])
    assert reads == ["/api/user", "/api/user/emails?per_page=100"]  # no organisations asked for: none read
    token = next(t for t, account in providers.tokens.items() if account == "mona")
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in requests[1:])
    assert all(r.headers["x-github-api-version"] == "2022-11-28" for r in requests[1:])


async def test_required_organisation_membership(providers: IdentityProviders) -> None:
    member = await client(providers, orgs=["SCYLLADB"]).identity(providers.new_code("mona"))
    assert member.login == "mona-tester"
    with pytest.raises(PermissionDenied, match="outsider-dev is not a member of scylladb"):
        await client(providers, orgs=["scylladb"]).identity(providers.new_code("outsider"))


async def test_wrong_client_secret_is_refused(providers: IdentityProviders) -> None:
    with pytest.raises(NotAuthenticated, match="client_secret passed are incorrect"):
        await client(providers, secret="wrong").identity(providers.new_code("mona"))


async def test_spent_code_is_refused(providers: IdentityProviders) -> None:
    code = providers.new_code("mona")
    await client(providers).identity(code)
    with pytest.raises(NotAuthenticated, match="incorrect or expired"):
        await client(providers).identity(code)


async def test_unreachable_github_is_an_outage(providers: IdentityProviders) -> None:
    with pytest.raises(IdentityProviderUnavailable, match=r"could not be reached \(ConnectError\)"):
        await client(providers, oauth_url="http://127.0.0.1:1").identity("any")  # port 1: nobody listens
