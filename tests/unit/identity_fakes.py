"""Dict-backed fakes of the session, throttling and audit ports, expiring by a FakeClock."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.users.entities import AuditEntry, Session
from tests.unit.fakes import FakeClock, FakePasswordHasher


class FakeSessionStore:
    """Sessions by hash with a deadline each; counts writes so tests can see touch throttling."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.rows: dict[str, tuple[Session, datetime]] = {}
        self.writes = 0

    async def save(self, session: Session, ttl_seconds: int) -> None:
        self.writes += 1
        copy = Session(**{f: getattr(session, f) for f in session.__struct_fields__})
        self.rows[session.secret_hash] = (copy, self._clock.now() + timedelta(seconds=ttl_seconds))

    async def by_hash(self, secret_hash: str) -> Session | None:
        row = self.rows.get(secret_hash)
        if row is None or row[1] <= self._clock.now():
            return None
        return Session(**{f: getattr(row[0], f) for f in row[0].__struct_fields__})

    async def for_owner(self, owner_id: UUID) -> list[Session]:
        return [s for h, (s, _) in self.rows.items() if s.owner_id == owner_id and await self.by_hash(h)]

    async def remove(self, session: Session) -> None:
        self.rows.pop(session.secret_hash, None)


class FakeAttemptCounter:
    """Failure times per key, forgotten after the window."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.failures: dict[str, list[datetime]] = {}

    async def add(self, key: str, window_seconds: int) -> None:
        self.failures.setdefault(key, []).append(self._clock.now())

    async def count(self, key: str, window_seconds: int, limit: int) -> int:
        since = self._clock.now() - timedelta(seconds=window_seconds)
        return min(limit, sum(1 for t in self.failures.get(key, []) if t > since))


class FakeAuditRepository:
    """Entries in a list, paged newest first with the index as cursor."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def add(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def newest(self, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        ordered = sorted(self.entries, key=lambda e: e.at, reverse=True)
        start = int(cursor or 0)
        end = start + limit
        return ordered[start:end], str(end) if end < len(ordered) else None


class CountingHasher(FakePasswordHasher):
    """The fake hasher, counting calls (throttled logins must not reach it); also accepts hashes made
    with "old parameters" (``legacy$<password>``), which it wants rehashed."""

    def __init__(self) -> None:
        self.verifications = 0
        self.hashes = 0

    async def hash(self, password: str) -> str:
        self.hashes += 1
        return await super().hash(password)

    async def verify(self, encoded: str, password: str) -> bool:
        self.verifications += 1
        return encoded == f"legacy${password}" or await super().verify(encoded, password)
