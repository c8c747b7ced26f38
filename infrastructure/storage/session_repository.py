"""Browser sessions and failed-login counts on the table layer, expiring through row TTLs."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from domain.concurrency import bounded_gather
from domain.users.entities import Session
from infrastructure.storage import tables
from infrastructure.storage.store import TableStore
from infrastructure.storage.struct_rows import from_row, to_row


class StoreSessionStore:
    """One row per session keyed by the secret's hash, plus an index partition per owning account.

    Every save rewrites both rows with the session's remaining lifetime as TTL: a touched session
    lives on, an abandoned one disappears from both tables without a clean-up job.
    """

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    async def save(self, session: Session, ttl_seconds: int) -> None:
        """Rewrite the session and its index entry with a fresh TTL."""
        row: dict[str, Any] = {k: v for k, v in to_row(session, tables.sessions).items() if v is not None}
        await self._store.insert(tables.sessions, row, ttl=ttl_seconds)
        await self._store.insert(tables.owner_sessions, {"owner_id": session.owner_id, "id": session.id,
                                                          "secret_hash": session.secret_hash}, ttl=ttl_seconds)

    async def by_hash(self, secret_hash: str) -> Session | None:
        """One partition read."""
        row = await self._store.get(tables.sessions, {"secret_hash": secret_hash})
        return from_row(row, Session) if row else None

    async def for_owner(self, owner_id: UUID) -> list[Session]:
        """The owner's index partition, then each session concurrently; expired ones are gone already."""
        page = await self._store.select(tables.owner_sessions, {"owner_id": owner_id}, limit=1000)
        found = await bounded_gather((self.by_hash(r["secret_hash"]) for r in page.rows), self._concurrency)
        return [s for s in found if s is not None]

    async def remove(self, session: Session) -> None:
        """Delete the session first (that is what stops the cookie), then its index entry."""
        await self._store.delete(tables.sessions, {"secret_hash": session.secret_hash})
        await self._store.delete(tables.owner_sessions, {"owner_id": session.owner_id, "id": session.id})


class StoreAttemptCounter:
    """One TTL row per failure in the subject's partition: a sliding window that every worker sees."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add(self, key: str, window_seconds: int) -> None:
        """Insert a row that expires with the window."""
        await self._store.insert(tables.login_failures, {"subject": key, "id": uuid4()}, ttl=window_seconds)

    async def count(self, key: str, window_seconds: int, limit: int) -> int:
        """Live rows of the partition, reading at most ``limit``."""
        page = await self._store.select(tables.login_failures, {"subject": key}, limit=limit, columns=["id"])
        return len(page.rows)
