"""GitHub's OAuth web application flow over httpx: code exchange, then who the person is.

GitHub answers a rejected code with HTTP 200 and an ``error`` field, so the body decides, not the
status. The access token is used for the three reads of one login and then dropped: nothing here
stores or logs it.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar
from urllib.parse import urlencode

import httpx
import msgspec

from domain.errors import NotAuthenticated, PermissionDenied
from domain.users.entities import ExternalIdentity, IdentityProvider
from domain.users.external import IdentityProviderUnavailable

T = TypeVar("T")
TIMEOUT_SECONDS = 10.0
API_VERSION = "2022-11-28"
PER_PAGE = 100


class _TokenAnswer(msgspec.Struct):
    access_token: str = ""
    error: str = ""
    error_description: str = ""


class _GitHubUser(msgspec.Struct):
    login: str
    id: int
    name: str | None = None
    avatar_url: str = ""


class _GitHubEmail(msgspec.Struct):
    email: str
    primary: bool = False
    verified: bool = False


class _GitHubOrg(msgspec.Struct):
    login: str


def chosen_email(emails: list[_GitHubEmail]) -> str:
    """The primary address if verified, else the first verified one; unverified addresses never count."""
    verified = [e for e in emails if e.verified]
    primary = [e for e in verified if e.primary]
    return (primary or verified)[0].email if verified else ""


class GitHubOAuthClient:
    """Implements ``GitHubOAuth`` against github.com, GitHub Enterprise or a test stand-in."""

    def __init__(self, *, client_id: str, client_secret: str, scopes: str, oauth_url: str, api_url: str,
                 required_organizations: list[str]) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._oauth_url = oauth_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._required = {org.lower(): org for org in required_organizations}

    def authorize_url(self, state: str) -> str:
        """GitHub's consent page; the callback URL is the one registered with the OAuth app."""
        query = urlencode({"client_id": self._client_id, "scope": self._scopes, "state": state})
        return f"{self._oauth_url}/login/oauth/authorize?{query}"

    async def identity(self, code: str) -> ExternalIdentity:
        """Exchange ``code``, then read the account, its addresses and (when required) its organisations."""
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
                token = await self._exchange(http, code)
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                           "X-GitHub-Api-Version": API_VERSION}
                reads = [self._read(http, "/user", headers, _GitHubUser),
                         self._read(http, "/user/emails", headers, list[_GitHubEmail])]
                if self._required:
                    reads.append(self._read(http, "/user/orgs", headers, list[_GitHubOrg]))
                user, emails, *orgs = await asyncio.gather(*reads)
        except httpx.HTTPError as exc:
            raise IdentityProviderUnavailable(f"GitHub could not be reached ({type(exc).__name__}); try again"
                                              ) from None
        if self._required:
            self._check_membership(user, orgs[0])
        email = chosen_email(emails)
        return ExternalIdentity(provider=IdentityProvider.GITHUB, subject=str(user.id), login=user.login,
                                email=email, email_verified=bool(email), name=user.name or "",
                                avatar_url=user.avatar_url)

    async def _exchange(self, http: httpx.AsyncClient, code: str) -> str:
        response = await http.post(f"{self._oauth_url}/login/oauth/access_token",
                                   data={"client_id": self._client_id, "client_secret": self._client_secret,
                                         "code": code},
                                   headers={"Accept": "application/json"})
        answer = self._decode(response, _TokenAnswer, "/login/oauth/access_token")
        if answer.error or not answer.access_token:
            # bad_verification_code, redirect_uri_mismatch...: the code is spent or forged.
            reason = answer.error_description or answer.error or "no access token"
            raise NotAuthenticated(f"GitHub refused the login: {reason}")
        return answer.access_token

    async def _read(self, http: httpx.AsyncClient, path: str, headers: dict[str, str], kind: type[T]) -> T:
        params = {"per_page": str(PER_PAGE)} if path != "/user" else None
        response = await http.get(f"{self._api_url}{path}", headers=headers, params=params)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise NotAuthenticated("GitHub did not accept the access token it issued; log in again")
        return self._decode(response, kind, path)

    @staticmethod
    def _decode(response: httpx.Response, kind: type[T], path: str) -> T:
        if response.status_code != httpx.codes.OK:
            raise IdentityProviderUnavailable(f"GitHub answered {response.status_code} to {path}; try again")
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError:
            raise IdentityProviderUnavailable(f"GitHub sent an unexpected answer to {path}; try again") from None

    def _check_membership(self, user: _GitHubUser, orgs: list[_GitHubOrg]) -> None:
        if not any(org.login.lower() in self._required for org in orgs):
            names = ", ".join(sorted(self._required.values()))
            raise PermissionDenied(f"GitHub account {user.login} is not a member of {names}", user.login)
