"""Cloudflare Access JWT verification with PyJWT against the team's published signing keys.

Only RS256 is accepted, checked before any key is chosen, so neither ``alg: none`` nor an HMAC
token "signed" with the public key can get through. The signing keys (JWKS) are fetched with httpx
and cached; a token naming a key id the cache lacks triggers one early refetch (Cloudflare rotates
keys), rate-limited so forged key ids cannot turn every request into a fetch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import msgspec
import structlog

from domain.errors import NotAuthenticated
from domain.users.entities import ExternalIdentity, IdentityProvider
from domain.users.external import IdentityProviderUnavailable

ALGORITHM = "RS256"
TIMEOUT_SECONDS = 10.0
# Tolerated clock difference between Cloudflare's edge and this server when checking ``exp``.
LEEWAY_SECONDS = 30
MIN_REFETCH_SECONDS = 30.0
log = structlog.get_logger("argus.identity")


class _Jwks(msgspec.Struct):
    keys: list[dict[str, Any]] = msgspec.field(default_factory=list)


def team_issuer(team_domain: str) -> str:
    """``https://<team domain>``, whatever form the domain was configured in."""
    host = team_domain.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    return f"https://{host}"


class CloudflareAccessVerifier:
    """Implements ``AccessTokenVerifier`` for one Access application (team domain and audience)."""

    def __init__(self, *, team_domain: str, audience: str, certs_url: str = "", cache_seconds: int = 3600,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._issuer = team_issuer(team_domain)
        self._audience = audience
        self._certs_url = certs_url or f"{self._issuer}/cdn-cgi/access/certs"
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> ExternalIdentity:
        """The identity in a valid token; ``NotAuthenticated`` saying what is wrong otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise NotAuthenticated("The Cloudflare Access token is malformed") from None
        if header.get("alg") != ALGORITHM:
            raise NotAuthenticated(f"The Cloudflare Access token must be signed with {ALGORITHM}")
        key = await self._key(str(header.get("kid") or ""))
        claims = self._checked_claims(token, key)
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise NotAuthenticated("The Cloudflare Access token carries no e-mail address")
        subject = claims.get("sub")
        return ExternalIdentity(provider=IdentityProvider.CLOUDFLARE,
                                subject=subject if isinstance(subject, str) and subject else email.lower(),
                                email=email, email_verified=True)

    def _checked_claims(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(token, key.key, algorithms=[ALGORITHM], audience=self._audience, issuer=self._issuer,
                              leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("The Cloudflare Access token has expired") from None
        except jwt.InvalidAudienceError:
            raise NotAuthenticated("The Cloudflare Access token was issued for another application") from None
        except jwt.InvalidIssuerError:
            raise NotAuthenticated("The Cloudflare Access token was issued by another team") from None
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"The Cloudflare Access token is not valid ({type(exc).__name__})") from None

    async def _key(self, kid: str) -> jwt.PyJWK:
        if self._needs_fetch(kid):
            async with self._lock:
                if self._needs_fetch(kid):  # another request may have fetched while this one waited
                    await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            raise NotAuthenticated("The Cloudflare Access token is signed by an unknown key")
        return key

    def _needs_fetch(self, kid: str) -> bool:
        age = self._monotonic() - self._fetched_at
        return age >= self._cache_seconds or (kid not in self._keys and age >= MIN_REFETCH_SECONDS)

    async def _fetch(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
                response = await http.get(self._certs_url)
            response.raise_for_status()
            jwks = msgspec.json.decode(response.content, type=_Jwks)
        except (httpx.HTTPError, msgspec.DecodeError) as exc:
            log.warning("access signing keys unavailable", url=self._certs_url, error=type(exc).__name__)
            raise IdentityProviderUnavailable("Cloudflare Access signing keys could not be fetched; try again"
                                              ) from None
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.keys:
            if entry.get("kty") != "RSA" or not entry.get("kid"):
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry, algorithm=ALGORITHM)
            except jwt.PyJWTError:
                continue  # a malformed key must not hide the good ones
        self._keys = keys
        self._fetched_at = self._monotonic()
