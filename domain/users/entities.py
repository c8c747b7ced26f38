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
