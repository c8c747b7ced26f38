"""External identity links on the table layer (either engine)."""

from __future__ import annotations

from domain.users.entities import IdentityLink, IdentityProvider
from infrastructure.storage import tables
from infrastructure.storage.store import TableStore
from infrastructure.storage.struct_rows import from_row, to_row


class StoreIdentityLinkRepository:
    """One row per identity, written with ``IF NOT EXISTS`` so the first claim of an identity wins."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def claim(self, link: IdentityLink) -> bool:
        """A lightweight transaction on ScyllaDB, an atomic insert on SQLite."""
        return await self._store.insert(tables.identity_links, to_row(link, tables.identity_links),
                                        if_not_exists=True)

    async def get(self, provider: IdentityProvider, subject: str) -> IdentityLink | None:
        """One partition read."""
        row = await self._store.get(tables.identity_links, {"provider": provider.value, "subject": subject})
        return from_row(row, IdentityLink) if row else None

    async def release(self, link: IdentityLink) -> None:
        """Conditional on the account, so a link someone re-claimed meanwhile survives."""
        await self._store.delete(tables.identity_links, {"provider": link.provider.value, "subject": link.subject},
                                 if_equal={"user_id": link.user_id})
