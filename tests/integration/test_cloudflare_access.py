"""The Cloudflare Access verifier against a real local key endpoint: key caching, rotation, outages.

Time is the verifier's injected monotonic clock, moved by hand, so nothing here waits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from domain.errors import NotAuthenticated
from domain.users.entities import IdentityProvider
from domain.users.external import IdentityProviderUnavailable
from infrastructure.identity.cloudflare import MIN_REFETCH_SECONDS, CloudflareAccessVerifier, team_issuer
from tests.identity_providers import AccessKey, IdentityProviders, running_identity_providers

TEAM = "argus-test.cloudflareaccess.com"
AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def providers() -> Iterator[IdentityProviders]:
    with running_identity_providers("unused", "unused") as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verifier(providers: IdentityProviders, clock: Clock, certs_path: str = "/cdn-cgi/access/certs"
             ) -> CloudflareAccessVerifier:
    return CloudflareAccessVerifier(team_domain=f"https://{TEAM}/", audience=AUD, certs_url=providers.url + certs_path,
                                    cache_seconds=3600, monotonic=clock)


def claims(email: str = "john.doe@scylladb.com", **override: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"aud": [AUD], "email": email, "exp": now + 600, "iat": now, "iss": f"https://{TEAM}",
            "sub": "0f3b6a2c-4c1d-5f3e-9a6b-2d7e8f901234", **override}


def test_team_issuer_accepts_any_spelling_of_the_domain() -> None:
    assert team_issuer("https://team.cloudflareaccess.com/") == "https://team.cloudflareaccess.com"
    assert team_issuer(" team.cloudflareaccess.com ") == "https://team.cloudflareaccess.com"


async def test_valid_token_gives_the_identity_and_keys_are_cached(providers: IdentityProviders,
                                                                 clock: Clock) -> None:
    key = AccessKey.generate()
    providers.jwks = {"keys": [key.jwk()]}
    check = verifier(providers, clock)
    fetched = providers.certs_fetches()
    identity = await check.verify(key.sign(claims()))
    assert (identity.provider, identity.subject, identity.email, identity.email_verified) == (
        IdentityProvider.CLOUDFLARE, "0f3b6a2c-4c1d-5f3e-9a6b-2d7e8f901234", "john.doe@scylladb.com", True)
    for _ in range(3):
        await check.verify(key.sign(claims()))
    assert providers.certs_fetches() == fetched + 1

    clock.now += 3600  # the cache lifetime is over: the next token fetches again
    await check.verify(key.sign(claims()))
    assert providers.certs_fetches() == fetched + 2


async def test_rotated_key_is_picked_up_with_a_rate_limited_refetch(providers: IdentityProviders,
                                                                    clock: Clock) -> None:
    old, new = AccessKey.generate(), AccessKey.generate()
    providers.jwks = {"keys": [old.jwk()]}
    check = verifier(providers, clock)
    await check.verify(old.sign(claims()))
    fetched = providers.certs_fetches()

    providers.jwks = {"keys": [old.jwk(), new.jwk()]}  # Cloudflare rotates
    with pytest.raises(NotAuthenticated, match="unknown key"):
        await check.verify(new.sign(claims()))  # too soon after the last fetch: no refetch
    assert providers.certs_fetches() == fetched

    clock.now += MIN_REFETCH_SECONDS
    assert (await check.verify(new.sign(claims()))).email == "john.doe@scylladb.com"
    assert providers.certs_fetches() == fetched + 1


async def test_subject_falls_back_to_the_address(providers: IdentityProviders, clock: Clock) -> None:
    key = AccessKey.generate()
    providers.jwks = {"keys": [key.jwk()]}
    identity = await verifier(providers, clock).verify(key.sign(claims("Mixed.Case@ScyllaDB.com", sub="")))
    assert identity.subject == "mixed.case@scylladb.com"


async def test_unreachable_key_endpoint_is_a_provider_outage(providers: IdentityProviders, clock: Clock) -> None:
    key = AccessKey.generate()
    with pytest.raises(IdentityProviderUnavailable, match="signing keys could not be fetched"):
        await verifier(providers, clock, "/no-such-path").verify(key.sign(claims()))


async def test_malformed_keys_are_skipped(providers: IdentityProviders, clock: Clock) -> None:
    key = AccessKey.generate()
    providers.jwks = {"keys": [{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, {"kty": "RSA"}, key.jwk()]}
    assert (await verifier(providers, clock).verify(key.sign(claims()))).email == "john.doe@scylladb.com"
