"""Server-side browser sessions: started at login, resolved per request, revocable at any time.

The cookie carries a random secret; storage keeps only its SHA-256, so a copy of the session table
cannot be replayed as cookies. A session ends at the first of: its absolute expiry, an idle period
without requests, or a revocation (logout, password change, an administrator's action).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from domain.clock import Clock
from domain.errors import NotFound
from domain.users.entities import Session
from domain.users.ports import SessionStore

# Refreshing last-seen on every request would make each page view a write; a minute is precise
# enough for the idle timeout and the session list.
TOUCH_RESOLUTION = timedelta(minutes=1)
MAX_USER_AGENT = 300


def hash_secret(secret: str) -> str:
    """SHA-256 of a cookie secret; the secret has 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token_for(secret: str) -> str:
    """The CSRF token bound to a session: derived from its secret, so it needs no storage.

    Pages embed it, the cookie carries the secret; a cross-site attacker has neither, and the token
    cannot be turned back into the secret.
    """
    return hmac.new(secret.encode(), b"argus-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions live."""

    idle_timeout: timedelta
    max_age: timedelta


class SessionService:
    """Starts, resolves, lists and revokes sessions in whichever store the settings chose."""

    def __init__(self, store: SessionStore, clock: Clock, policy: SessionPolicy) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy

    async def start(self, user_id: UUID, *, user_agent: str = "", address: str = "",
                    original_user_id: UUID | None = None) -> tuple[Session, str]:
        """A new session and its cookie secret; the secret is returned once and never stored."""
        secret = secrets.token_urlsafe(32)
        now = self._clock.now()
        session = Session(id=uuid4(), secret_hash=hash_secret(secret), user_id=user_id, created_at=now,
                          last_seen_at=now, expires_at=now + self._policy.max_age,
                          user_agent=user_agent[:MAX_USER_AGENT], address=address[:64],
                          original_user_id=original_user_id)
        await self._store.save(session, self._ttl(session))
        return session, secret

    async def resolve(self, secret: str) -> Session | None:
        """The live session behind a cookie secret; None when unknown, expired or revoked."""
        if not secret or len(secret) > 128:
            return None
        session = await self._store.by_hash(hash_secret(secret))
        if session is None:
            return None
        now = self._clock.now()
        if now >= session.expires_at or now - session.last_seen_at >= self._policy.idle_timeout:
            await self._store.remove(session)
            return None
        if now - session.last_seen_at >= TOUCH_RESOLUTION:
            session.last_seen_at = now
            await self._store.save(session, self._ttl(session))
        return session

    async def list_for_user(self, user_id: UUID) -> list[Session]:
        """The account's live sessions, most recently used first."""
        now = self._clock.now()
        live = [s for s in await self._store.for_owner(user_id)
                if now < s.expires_at and now - s.last_seen_at < self._policy.idle_timeout]
        return sorted(live, key=lambda s: s.last_seen_at, reverse=True)

    async def revoke(self, user_id: UUID, session_id: UUID) -> None:
        """End one of the account's sessions; ``NotFound`` for someone else's or an ended one."""
        for session in await self._store.for_owner(user_id):
            if session.id == session_id:
                await self._store.remove(session)
                return
        raise NotFound(f"Session {session_id} not found", str(session_id))

    async def revoke_all(self, user_id: UUID, *, keep: UUID | None = None) -> int:
        """End every session the account owns except ``keep``; the number ended."""
        ended = 0
        for session in await self._store.for_owner(user_id):
            if session.id != keep:
                await self._store.remove(session)
                ended += 1
        return ended

    async def end(self, session: Session) -> None:
        """End a session the caller already holds (logout)."""
        await self._store.remove(session)

    def _ttl(self, session: Session) -> int:
        """Seconds until the session would expire without further use: the store drops it then."""
        deadline = min(session.expires_at, session.last_seen_at + self._policy.idle_timeout)
        return max(1, int((deadline - self._clock.now()).total_seconds()) + 1)
