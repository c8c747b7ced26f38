"""People and machine accounts, and the API tokens CI jobs authenticate with."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec


class Role(enum.StrEnum):
    """What an account may do; ``service`` marks machine accounts used by CI."""

    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"
    SERVICE = "service"


class User(msgspec.Struct, kw_only=True):
    """An account. ``password_hash`` never leaves the service: response schemas omit it."""

    id: UUID
    username: str
    full_name: str = ""
    email: str = ""
    roles: list[Role] = msgspec.field(default_factory=lambda: [Role.USER])
    registration_date: datetime
    picture_id: UUID | None = None
    password_hash: str | None = None
    disabled: bool = False

    def has_role(self, role: Role) -> bool:
        """Whether the account holds ``role``."""
        return role in self.roles


class ApiToken(msgspec.Struct, kw_only=True):
    """A named API token; only the SHA-256 of the secret is kept, so a leaked table reveals nothing."""

    id: UUID
    user_id: UUID
    name: str
    token_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked: bool = False


class Picture(msgspec.Struct, kw_only=True):
    """A profile picture; ``content_type`` comes from the bytes themselves, never from the uploader."""

    id: UUID
    user_id: UUID
    content_type: str
    data: bytes
    created_at: datetime


class Session(msgspec.Struct, kw_only=True):
    """A browser session; storage keys it by the SHA-256 of the cookie secret, never the secret itself.

    ``user_id`` is who the requests act as; ``original_user_id`` is the administrator behind an
    impersonation, who owns the session (it is listed and revoked with their sessions).
    """

    id: UUID
    secret_hash: str
    user_id: UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str = ""
    address: str = ""
    original_user_id: UUID | None = None

    @property
    def owner_id(self) -> UUID:
        """The person whose browser holds the session."""
        return self.original_user_id or self.user_id


class AuditEntry(msgspec.Struct, kw_only=True):
    """One privileged action: who did what to whom, kept for administrators to review."""

    id: UUID
    at: datetime
    actor_id: UUID
    action: str
    target: str
    details: dict[str, str] = msgspec.field(default_factory=dict)


class IdentityProvider(enum.StrEnum):
    """Who vouched for an external login."""

    GITHUB = "github"
    CLOUDFLARE = "cloudflare"


class ExternalIdentity(msgspec.Struct, kw_only=True, frozen=True):
    """A person as an identity provider describes them after a successful login.

    ``subject`` is the provider's stable id (GitHub's numeric user id, Cloudflare Access's ``sub``):
    logins and e-mail addresses can change, the subject does not, so links are keyed by it.
    """

    provider: IdentityProvider
    subject: str
    login: str = ""
    email: str = ""
    # Only a verified address may attach the identity to an existing account with that address.
    email_verified: bool = False
    name: str = ""
    avatar_url: str = ""


class IdentityLink(msgspec.Struct, kw_only=True):
    """Which account an external identity logs in to, with what the provider said when it was linked."""

    provider: IdentityProvider
    subject: str
    user_id: UUID
    login: str = ""
    email: str = ""
    avatar_url: str = ""
    linked_at: datetime
