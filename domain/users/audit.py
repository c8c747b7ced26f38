"""The audit log of privileged actions (impersonation, account administration)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID, uuid4

from domain.clock import Clock
from domain.errors import InvalidInput
from domain.users.entities import AuditEntry
from domain.users.ports import AuditRepository

MAX_PAGE = 500


class AuditLog:
    """Records who did what to whom; other features call ``record`` for every privileged change."""

    def __init__(self, entries: AuditRepository, clock: Clock) -> None:
        self._entries = entries
        self._clock = clock

    async def record(self, actor_id: UUID, action: str, target: str,
                     details: Mapping[str, str] | None = None) -> None:
        """Append an entry stamped with the current time."""
        entry = AuditEntry(id=uuid4(), at=self._clock.now(), actor_id=actor_id, action=action, target=target,
                           details={str(k): str(v) for k, v in (details or {}).items()})
        await self._entries.add(entry)

    async def newest(self, limit: int, cursor: str | None = None) -> tuple[list[AuditEntry], str | None]:
        """A page of entries, newest first, and the cursor of the next page (None at the end)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", limit)
        return await self._entries.newest(limit, cursor)
