"""Logins vouched for by an identity provider (GitHub OAuth, Cloudflare Access) resolved to accounts.

An identity is matched, in order, to the account it was linked to before, to an existing account
with the same verified e-mail address (which it is then linked to), or to a new account. The link
is claimed with a conditional write *before* a new account is created, with the new account's id
in it: of two first logins racing for one identity exactly one claim wins, and only the winner
creates the account, so a double click never makes two accounts.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from uuid import UUID, uuid4

from domain.clock import Clock
from domain.errors import DomainError, NotFound, PermissionDenied
from domain.users.entities import ExternalIdentity, IdentityLink, IdentityProvider, Role, User
from domain.users.ports import AccessTokenVerifier, GitHubOAuth, IdentityLinkRepository, UserRepository

PROVIDER_NAMES = {IdentityProvider.GITHUB: "GitHub", IdentityProvider.CLOUDFLARE: "Cloudflare Access"}
MAX_USERNAME = 64
# Beyond base-99 a random suffix is used: such a crowd of namesakes is not worth probing one by one.
MAX_NUMBERED_USERNAMES = 100
# Accounts number in the hundreds; matching by e-mail scans them, but only on an identity's first login.
MAX_ACCOUNTS_MATCHED = 10_000
# How long a login that lost the link race waits for the winner to finish creating the account.
WINNER_WAIT_ATTEMPTS = 40
WINNER_WAIT_SECONDS = 0.05
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9._-]+")


class IdentityProviderUnavailable(DomainError):
    """The identity provider could not be reached or gave an answer that makes no sense."""


def username_base(identity: ExternalIdentity) -> str:
    """A valid username from the provider's login, else the e-mail local part, else ``user``."""
    raw = identity.login or identity.email.partition("@")[0]
    # Room is left for the longest suffix a taken name gets (``-`` and eight hex digits).
    cleaned = _NOT_USERNAME.sub("-", raw).lstrip("._-")[:MAX_USERNAME - 9]
    return cleaned or "user"


def name_from_email(email: str) -> str:
    """``john.doe@example.com`` → ``John Doe``: a readable name when the provider gives none."""
    local = email.partition("@")[0]
    return " ".join(part.capitalize() for part in local.split(".") if part)


def email_domain(email: str) -> str:
    """The lower-cased part after the last ``@`` (empty without one)."""
    _, at, domain = email.rpartition("@")
    return domain.lower() if at else ""


class ExternalLoginService:
    """Turns a provider's word about a person into an account: linked, matched by e-mail, or new.

    ``registration_domains`` restricts self-registration per provider to e-mail domains; a provider
    absent from it may register anyone it vouches for (GitHub, whose gate is organisation
    membership), one mapped to an empty list registers nobody.
    """

    def __init__(self, users: UserRepository, links: IdentityLinkRepository, clock: Clock, *,
                 github: GitHubOAuth | None = None, access_verifier: AccessTokenVerifier | None = None,
                 registration_domains: Mapping[IdentityProvider, Sequence[str]] | None = None) -> None:
        self._users = users
        self._links = links
        self._clock = clock
        self._github = github
        self._access_verifier = access_verifier
        self._registration_domains = {provider: {d.lower().lstrip("@") for d in domains}
                                      for provider, domains in (registration_domains or {}).items()}

    @property
    def github_configured(self) -> bool:
        """Whether GitHub login has a client to talk to."""
        return self._github is not None

    @property
    def access_configured(self) -> bool:
        """Whether Cloudflare Access tokens can be verified."""
        return self._access_verifier is not None

    def github_authorize_url(self, state: str) -> str:
        """Where the browser goes to approve a GitHub login carrying ``state``."""
        return self._github_client().authorize_url(state)

    async def github_identity(self, code: str) -> ExternalIdentity:
        """The GitHub account behind a callback's code (organisation membership already checked)."""
        return await self._github_client().identity(code)

    async def access_identity(self, token: str) -> ExternalIdentity:
        """The person a Cloudflare Access JWT asserts, once signature and claims check out."""
        if self._access_verifier is None:
            raise NotFound("Cloudflare Access login is not configured")
        return await self._access_verifier.verify(token)

    async def login(self, identity: ExternalIdentity) -> User:
        """The enabled account this identity logs in to, linking or creating one on first use."""
        link = await self._links.get(identity.provider, identity.subject)
        if link is not None:
            user = await self._linked_user(link)
            if user is not None:
                return self._enabled(user)
            # The link names an account that never appeared (its creator died half-way): start over.
            await self._links.release(link)
        matched = await self._account_with_email(identity)
        if matched is not None:
            self._enabled(matched)
        elif not self._may_register(identity):
            raise PermissionDenied(f"No Argus account uses {identity.email or 'this identity'}, and "
                                   f"{PROVIDER_NAMES[identity.provider]} sign-up is not open to its e-mail domain")
        new_link = self._link_for(identity, matched.id if matched else uuid4())
        if not await self._links.claim(new_link):
            winner = await self._links.get(identity.provider, identity.subject)
            user = await self._linked_user(winner) if winner else None
            if user is None:
                raise IdentityProviderUnavailable("Another login of this identity is in progress; try again")
            return self._enabled(user)
        if matched is not None:
            return matched
        return await self._create_account(new_link.user_id, identity)

    async def link(self, user: User, identity: ExternalIdentity) -> IdentityLink:
        """Attach ``identity`` to the signed-in ``user``; refused when it already logs in to someone else."""
        link = self._link_for(identity, user.id)
        if await self._links.claim(link):
            return link
        existing = await self._links.get(identity.provider, identity.subject)
        if existing is not None and existing.user_id == user.id:
            return existing
        raise PermissionDenied(f"This {PROVIDER_NAMES[identity.provider]} account is linked to another Argus "
                               "account", identity.login)

    def _github_client(self) -> GitHubOAuth:
        if self._github is None:
            raise NotFound("GitHub login is not configured")
        return self._github

    def _link_for(self, identity: ExternalIdentity, user_id: UUID) -> IdentityLink:
        return IdentityLink(provider=identity.provider, subject=identity.subject, user_id=user_id,
                            login=identity.login, email=identity.email, avatar_url=identity.avatar_url,
                            linked_at=self._clock.now())

    async def _linked_user(self, link: IdentityLink) -> User | None:
        """The linked account, waiting briefly for a racing first login that is still creating it."""
        for _ in range(WINNER_WAIT_ATTEMPTS):
            user = await self._users.get(link.user_id)
            if user is not None:
                return user
            await asyncio.sleep(WINNER_WAIT_SECONDS)
        return None

    async def _account_with_email(self, identity: ExternalIdentity) -> User | None:
        """The oldest account using the identity's address, if the provider verified that address."""
        if not identity.email_verified or not identity.email:
            return None
        wanted = identity.email.lower()
        owners = [u for u in await self._users.list_all(MAX_ACCOUNTS_MATCHED) if u.email.lower() == wanted]
        return min(owners, key=lambda u: u.registration_date, default=None)

    def _may_register(self, identity: ExternalIdentity) -> bool:
        allowed = self._registration_domains.get(identity.provider)
        if allowed is None:
            return True
        return identity.email_verified and email_domain(identity.email) in allowed

    async def _create_account(self, user_id: UUID, identity: ExternalIdentity) -> User:
        """A plain user with the first free username among ``base``, ``base-2``, ``base-3``..."""
        base = username_base(identity)
        full_name = identity.name or name_from_email(identity.email) or base
        email = identity.email if identity.email_verified else ""
        candidates = [base, *(f"{base}-{n}" for n in range(2, MAX_NUMBERED_USERNAMES)), f"{base}-{uuid4().hex[:8]}"]
        for username in candidates:
            # A read first: the claim is a conditional write, far dearer than a read on ScyllaDB.
            if await self._users.by_username(username) is not None:
                continue
            user = User(id=user_id, username=username, full_name=full_name, email=email, roles=[Role.USER],
                        registration_date=self._clock.now())
            if await self._users.add(user):
                return user
        raise IdentityProviderUnavailable("Could not find a free username; try again")

    @staticmethod
    def _enabled(user: User) -> User:
        if user.disabled:
            raise PermissionDenied(f"The account {user.username} is disabled")
        return user
