"""Accounts and API tokens on the table layer (either engine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.concurrency import bounded_gather
from domain.users.entities import ApiToken, User
from infrastructure.storage import tables
from infrastructure.storage.store import TableStore
from infrastructure.storage.struct_rows import from_row, to_row


def _user(row: dict[str, Any]) -> User:
    user = from_row(row, User)
    user.roles.sort()  # stored as a set, which has no order
    return user


class StoreUserRepository:
    """Writes the account row first, then claims the username; a lost claim removes the row."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add(self, user: User) -> bool:
        """Insert, then claim the username."""
        await self._store.insert(tables.users, to_row(user, tables.users))
        if await self._store.insert(tables.usernames, {"username": user.username, "user_id": user.id},
                                    if_not_exists=True):
            return True
        await self._store.delete(tables.users, {"id": user.id})
        return False

    async def get(self, user_id: UUID) -> User | None:
        """By id."""
        row = await self._store.get(tables.users, {"id": user_id})
        return _user(row) if row else None

    async def by_username(self, username: str) -> User | None:
        """Through the username claim."""
        claim = await self._store.get(tables.usernames, {"username": username})
        return await self.get(claim["user_id"]) if claim else None

    async def list_all(self, limit: int) -> list[User]:
        """A bounded scan; accounts number in the hundreds."""
        page = await self._store.scan(tables.users, limit=limit)
        return [_user(r) for r in page.rows]

    async def count(self, limit: int) -> int:
        """A bounded scan of ids only."""
        page = await self._store.scan(tables.users, limit=limit, columns=["id"])
        return len(page.rows)


class StoreTokenRepository:
    """Tokens keyed by the hash of their secret, with a per-user index partition."""

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    async def add(self, token: ApiToken) -> None:
        """Insert the token and its entry in the user's index."""
        await self._store.insert(tables.api_tokens, to_row(token, tables.api_tokens))
        await self._store.insert(tables.user_tokens,
                                 {"user_id": token.user_id, "id": token.id, "token_hash": token.token_hash})

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        """One partition read, whatever the number of tokens."""
        row = await self._store.get(tables.api_tokens, {"token_hash": token_hash})
        return from_row(row, ApiToken) if row else None

    async def for_user(self, user_id: UUID) -> list[ApiToken]:
        """The user's index partition, then each token concurrently."""
        page = await self._store.select(tables.user_tokens, {"user_id": user_id}, limit=1000)
        found = await bounded_gather((self.by_hash(r["token_hash"]) for r in page.rows), self._concurrency)
        return sorted((t for t in found if t is not None), key=lambda t: t.created_at, reverse=True)

    async def mark_used(self, token: ApiToken, when: datetime) -> None:
        """Only touches ``last_used_at``; tokens are never deleted, so no row is resurrected."""
        await self._store.update(tables.api_tokens, {"token_hash": token.token_hash}, {"last_used_at": when})

    async def revoke(self, token: ApiToken) -> None:
        """Sets the revoked flag; the row stays so the token list shows it."""
        await self._store.update(tables.api_tokens, {"token_hash": token.token_hash}, {"revoked": True})
