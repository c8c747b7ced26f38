"""Response and request shapes of the current user's identity routes: no hash or stored secret, ever."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection

from app.security import csrf_token, current_session
from domain.users.entities import ApiToken, AuditEntry, Role, Session, User


class CurrentUser(msgspec.Struct):
    """``GET /api/v1/user/me``: who the request acts as, and who is behind it when impersonating.

    ``csrf_token`` is the value a JSON frontend sends back in ``X-CSRF-Token``; it is null for
    API-token callers, which need none, and useless without the HttpOnly session cookie.
    """

    id: UUID
    username: str
    full_name: str
    email: str
    picture_id: UUID | None
    roles: list[Role]
    service_user: bool
    impersonating: bool
    original_user_id: UUID | None
    csrf_token: str | None

    @classmethod
    def of(cls, connection: ASGIConnection[Any, Any, Any, Any], user: User) -> CurrentUser:
        """``user`` as the request authenticated it, with the session's impersonation and CSRF token."""
        session = current_session(connection)
        original = session.original_user_id if session else None
        return cls(id=user.id, username=user.username, full_name=user.full_name, email=user.email,
                   picture_id=user.picture_id, roles=list(user.roles), service_user=user.has_role(Role.SERVICE),
                   impersonating=original is not None, original_user_id=original,
                   csrf_token=csrf_token(connection))


class UserBrief(msgspec.Struct):
    """One entry of ``GET /api/v1/users``, the fields the existing service lists."""

    id: UUID
    username: str
    full_name: str
    email: str
    picture_id: UUID | None

    @classmethod
    def of(cls, user: User) -> UserBrief:
        """The public fields of ``user``."""
        return cls(id=user.id, username=user.username, full_name=user.full_name, email=user.email,
                   picture_id=user.picture_id)


class CliToken(msgspec.Struct):
    """``GET /api/v1/user/token``: a new token for the CLI, as ``{"token": ...}`` like the existing service."""

    token: str


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /api/v1/user/tokens``."""

    name: str


class TokenInfo(msgspec.Struct):
    """A token as its owner sees it later: name and times, never the secret or its hash."""

    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        """Everything but the hash."""
        return cls(id=token.id, name=token.name, created_at=token.created_at, last_used_at=token.last_used_at,
                   revoked=token.revoked)


class IssuedToken(msgspec.Struct):
    """The answer to creating a token: the only time its secret is shown."""

    id: UUID
    name: str
    created_at: datetime
    token: str


class SessionInfo(msgspec.Struct):
    """A browser session in the owner's session list; ``current`` marks the one asking."""

    id: UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    address: str
    current: bool
    impersonated_user_id: UUID | None

    @classmethod
    def of(cls, session: Session, current: Session | None) -> SessionInfo:
        """Everything but the secret's hash."""
        return cls(id=session.id, created_at=session.created_at, last_seen_at=session.last_seen_at,
                   expires_at=session.expires_at, user_agent=session.user_agent, address=session.address,
                   current=current is not None and current.id == session.id,
                   impersonated_user_id=session.user_id if session.original_user_id else None)


class Revoked(msgspec.Struct):
    """The answer to a revocation."""

    revoked: bool = True


class AuditPage(msgspec.Struct):
    """A page of the audit log and the cursor of the next one (null at the end)."""

    entries: list[AuditEntry]
    cursor: str | None
