"""What account management needs from storage and from the password hashing scheme."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.users.entities import ApiToken, User


class UserRepository(Protocol):
    """Accounts, with usernames kept unique atomically by storage."""

    async def add(self, user: User) -> bool:
        """Store a new account; False when the username is taken (nothing is written)."""
        ...

    async def save(self, user: User) -> None:
        """Overwrite an existing account's fields except its username."""
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
