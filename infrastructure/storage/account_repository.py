"""Account changes and profile pictures on the table layer (either engine).

Account rows are changed column by column with ``IF EXISTS``: a stale copy of an account can then
never undo a concurrent change of another field, and a change racing a deletion cannot bring the
deleted row back as a husk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.concurrency import bounded_gather
from domain.users.entities import Picture, User
from infrastructure.storage import tables
from infrastructure.storage.store import TableStore
from infrastructure.storage.struct_rows import from_row, to_row

# Tokens of one account; the per-user index partition is read in one page of this size.
MAX_TOKENS_PER_USER = 1000


def _stored(value: Any) -> Any:
    """Roles and other enums are kept as their string values."""
    if isinstance(value, list | set | tuple):
        return {getattr(v, "value", v) for v in value}
    return getattr(value, "value", value)


class StoreAccountRepository:
    """Partial updates, renames through the username claim table, and removal of everything an account owns."""

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    async def update(self, user: User, changes: Mapping[str, object]) -> bool:
        """One conditional write of the changed columns."""
        if "username" in changes:
            raise ValueError("usernames change through rename(), which keeps the claim table in step")
        values = {name: _stored(value) for name, value in changes.items()}
        return await self._store.update(tables.users, {"id": user.id}, values, if_exists=True)

    async def rename(self, user: User, new_username: str) -> bool:
        """Claim first (the atomic step), then the account row, then release the old claim.

        A crash between the steps leaves the old name claimed by this account as well, which only
        keeps that name unavailable; it never hands an account to someone else.
        """
        if not await self._store.insert(tables.usernames, {"username": new_username, "user_id": user.id},
                                        if_not_exists=True):
            return False
        if not await self._store.update(tables.users, {"id": user.id}, {"username": new_username}, if_exists=True):
            await self._release(new_username, user.id)
            return False
        await self._release(user.username, user.id)
        return True

    async def remove(self, user: User) -> None:
        """Tokens and picture first, the username claim next, the account row last.

        In that order a crash leaves at most an account without its tokens, which an administrator
        can delete again, rather than tokens authenticating as an account that no longer exists.
        """
        index = await self._store.select(tables.user_tokens, {"user_id": user.id}, limit=MAX_TOKENS_PER_USER)
        await bounded_gather((self._store.delete(tables.api_tokens, {"token_hash": row["token_hash"]})
                              for row in index.rows), self._concurrency)
        await self._store.delete(tables.user_tokens, {"user_id": user.id})
        if user.picture_id is not None:
            await self._store.delete(tables.user_pictures, {"id": user.picture_id})
        await self._release(user.username, user.id)
        await self._store.delete(tables.users, {"id": user.id})

    async def _release(self, username: str, user_id: UUID) -> None:
        """Drop a claim only while it is still ours, so another account's fresh claim survives."""
        await self._store.delete(tables.usernames, {"username": username}, if_equal={"user_id": user_id})


class StorePictureRepository:
    """One row per picture, keyed by the picture id the account row points at."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add(self, picture: Picture) -> None:
        """Insert the picture."""
        await self._store.insert(tables.user_pictures, to_row(picture, tables.user_pictures))

    async def get(self, picture_id: UUID) -> Picture | None:
        """By id."""
        row = await self._store.get(tables.user_pictures, {"id": picture_id})
        return from_row(row, Picture) if row else None

    async def delete(self, picture_id: UUID) -> None:
        """Remove the picture."""
        await self._store.delete(tables.user_pictures, {"id": picture_id})
