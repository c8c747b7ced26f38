"""What account management needs from storage and from the password hashing scheme."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.users.entities import (
    ApiToken,
    AuditEntry,
    ExternalIdentity,
    IdentityLink,
    IdentityProvider,
    Picture,
    Session,
    User,
)


class UserRepository(Protocol):
    """Accounts, with usernames kept unique atomically by storage."""

    async def add(self, user: User) -> bool:
        """Store a new account; False when the username is taken (nothing is written)."""
        ...

    async def get(self, user_id: UUID) -> User | None:
        """The account with this id, if any."""
        ...

    async def by_username(self, username: str) -> User | None:
        """The account with this username, if any."""
        ...

    async def list_all(self, limit: int) -> list[User]:
        """Up to ``limit`` accounts, in no particular order."""
        ...

    async def count(self, limit: int) -> int:
        """How many accounts exist, counting at most ``limit``."""
        ...


class TokenRepository(Protocol):
    """API tokens, addressed by the hash of their secret."""

    async def add(self, token: ApiToken) -> None:
        """Store a new token."""
        ...

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        """The token whose secret hashes to ``token_hash``, if any."""
        ...

    async def for_user(self, user_id: UUID) -> list[ApiToken]:
        """Every token of an account, newest first."""
        ...

    async def mark_used(self, token: ApiToken, when: datetime) -> None:
        """Record that the token authenticated a request at ``when``."""
        ...

    async def revoke(self, token: ApiToken) -> None:
        """Make the token unusable from now on."""
        ...


class PasswordHasher(Protocol):
    """A slow, salted password hash; implementations keep the work off the event loop."""

    async def hash(self, password: str) -> str:
        """The encoded hash of ``password``."""
        ...

    async def verify(self, encoded: str, password: str) -> bool:
        """Whether ``password`` matches ``encoded``."""
        ...

    def needs_rehash(self, encoded: str) -> bool:
        """Whether ``encoded`` was made with other parameters than the current ones."""
        ...


class AccountRepository(Protocol):
    """Account changes that write only what changed, so two concurrent edits never undo each other."""

    async def update(self, user: User, changes: Mapping[str, object]) -> bool:
        """Set only the named fields (never ``username``); False when the account no longer exists."""
        ...

    async def rename(self, user: User, new_username: str) -> bool:
        """Claim ``new_username`` atomically, point the account at it, then release the old claim.

        False when the name is taken (nothing is written); of two concurrent renames to one name,
        exactly one succeeds.
        """
        ...

    async def remove(self, user: User) -> None:
        """Delete the account, its username claim and its API tokens, so the username can be reused."""
        ...


class PictureRepository(Protocol):
    """Profile pictures, immutable once stored and addressed by their own id."""

    async def add(self, picture: Picture) -> None:
        """Store a new picture."""
        ...

    async def get(self, picture_id: UUID) -> Picture | None:
        """The picture with this id, if any."""
        ...

    async def delete(self, picture_id: UUID) -> None:
        """Forget a picture that no account shows any more."""
        ...


class SessionRevoker(Protocol):
    """Ends browser sessions when an account's credentials or standing change."""

    async def revoke_all(self, user_id: UUID, *, keep: UUID | None = None) -> int:
        """End every session of the account except ``keep``; the number ended."""
        ...


class AuditTrail(Protocol):
    """Who changed which account and how; every administrative change leaves an entry."""

    async def record(self, actor_id: UUID, action: str, target: str, details: Mapping[str, str]) -> object:
        """Append one entry."""
        ...


class SessionStore(Protocol):
    """Server-side browser sessions shared by every worker; entries vanish by themselves at ``ttl``."""

    async def save(self, session: Session, ttl_seconds: int) -> None:
        """Store (or overwrite) the session, living ``ttl_seconds`` from now."""
        ...

    async def by_hash(self, secret_hash: str) -> Session | None:
        """The live session whose cookie secret hashes to ``secret_hash``, if any."""
        ...

    async def for_owner(self, owner_id: UUID) -> list[Session]:
        """Every live session an account owns (including its impersonations)."""
        ...

    async def remove(self, session: Session) -> None:
        """Delete the session so its cookie stops working at once."""
        ...


class AttemptCounter(Protocol):
    """Counts recent failed attempts per key across every worker, forgetting them after a window."""

    async def add(self, key: str, window_seconds: int) -> None:
        """Record one failure under ``key``, remembered for ``window_seconds``."""
        ...

    async def count(self, key: str, window_seconds: int, limit: int) -> int:
        """Failures under ``key`` within the window, counting at most ``limit``."""
        ...


class AuditRepository(Protocol):
    """An append-only log of privileged actions, read newest first."""

    async def add(self, entry: AuditEntry) -> None:
        """Append an entry."""
        ...

    async def newest(self, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """Up to ``limit`` entries, newest first, after ``cursor``; and the cursor of the next page."""
        ...


class IdentityLinkRepository(Protocol):
    """Links from an external identity (provider and subject) to the account it logs in to."""

    async def claim(self, link: IdentityLink) -> bool:
        """Store the link unless the identity is linked already; atomic, so of two racing claims one wins."""
        ...

    async def get(self, provider: IdentityProvider, subject: str) -> IdentityLink | None:
        """The link of this identity, if any."""
        ...

    async def release(self, link: IdentityLink) -> None:
        """Drop the link, but only while it still points at ``link.user_id``."""
        ...


class GitHubOAuth(Protocol):
    """GitHub's web application flow, seen from the service.

    ``identity`` raises ``NotAuthenticated`` for a code GitHub rejects, ``PermissionDenied`` for an
    account outside the required organisations, and ``IdentityProviderUnavailable`` when GitHub
    cannot be reached or answers nonsense.
    """

    def authorize_url(self, state: str) -> str:
        """Where to send the browser so the person can approve the login."""
        ...

    async def identity(self, code: str) -> ExternalIdentity:
        """Exchange the callback's code and describe the GitHub account behind it."""
        ...


class AccessTokenVerifier(Protocol):
    """Checks a JWT an identity-aware proxy (Cloudflare Access) attached to the request."""

    async def verify(self, token: str) -> ExternalIdentity:
        """The identity the token asserts; ``NotAuthenticated`` unless signature and claims check out."""
        ...
