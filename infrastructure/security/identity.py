"""Builds the identity services (sessions, password login, audit log) from the ``auth`` settings.

Kept out of the composition root so the choice between the database and Redis for sessions and
login throttling lives in one place next to the adapters it chooses between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis

from domain.clock import Clock
from domain.users.audit import AuditLog
from domain.users.login import LoginThrottle, PasswordLogin
from domain.users.ports import AccountRepository, AttemptCounter, PasswordHasher, SessionStore, UserRepository
from domain.users.sessions import SessionPolicy, SessionService
from infrastructure.security.redis_sessions import RedisAttemptCounter, RedisSessionStore
from infrastructure.settings import Settings
from infrastructure.storage.audit_repository import StoreAuditRepository
from infrastructure.storage.session_repository import StoreAttemptCounter, StoreSessionStore
from infrastructure.storage.store import TableStore


@dataclass(frozen=True)
class Identity:
    """The identity services and the Redis connection (if any) they hold open."""

    sessions: SessionService
    password_login: PasswordLogin
    audit: AuditLog
    redis: Redis | None

    async def close(self) -> None:
        """Release the Redis connection pool."""
        if self.redis is not None:
            await self.redis.aclose()


def build_identity(settings: Settings, store: TableStore, users: UserRepository, accounts: AccountRepository,
                   hasher: PasswordHasher, clock: Clock) -> Identity:
    """Sessions and throttling in the database or in Redis, as ``auth.session_store`` says."""
    auth = settings.auth
    redis: Redis | None = None
    session_store: SessionStore
    failures: AttemptCounter
    if auth.session_store == "redis":
        redis = Redis.from_url(auth.session_redis_url)
        session_store, failures = RedisSessionStore(redis), RedisAttemptCounter(redis)
    else:
        session_store = StoreSessionStore(store, settings.storage.max_concurrency)
        failures = StoreAttemptCounter(store)
    policy = SessionPolicy(idle_timeout=timedelta(seconds=auth.session_idle_timeout_seconds),
                           max_age=timedelta(seconds=auth.session_max_age_seconds))
    throttle = LoginThrottle(max_failures=auth.login_max_failures, window_seconds=auth.login_failure_window_seconds)
    return Identity(sessions=SessionService(session_store, clock, policy),
                    password_login=PasswordLogin(users, accounts, hasher, failures, throttle),
                    audit=AuditLog(StoreAuditRepository(store), clock), redis=redis)
