"""Session, failed-login and audit storage on both engines, and the Redis session store.

The session tests run the real ``SessionService`` over each store, so expiry by TTL, revocation
and the owner index are checked end to end on the database (SQLite file and Cassandra) and Redis.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.clock import SystemClock
from domain.users.audit import AuditLog
from domain.users.entities import Role
from domain.users.login import BOOTSTRAP_ADMIN, bootstrap_admin
from domain.users.ports import AttemptCounter, SessionStore
from domain.users.service import UserService
from domain.users.sessions import SessionPolicy, SessionService, hash_secret
from infrastructure.security.redis_sessions import PREFIX, RedisAttemptCounter, RedisSessionStore
from infrastructure.storage.audit_repository import StoreAuditRepository
from infrastructure.storage.migrations import MIGRATIONS
from infrastructure.storage.session_repository import StoreAttemptCounter, StoreSessionStore
from infrastructure.storage.store import InvalidCursor, TableStore
from infrastructure.storage.user_repository import StoreTokenRepository, StoreUserRepository
from tests.conftest import BlankDatabase
from tests.unit.fakes import FakePasswordHasher

REDIS_URL = os.environ.get("ARGUS_TEST_REDIS_URL", "redis://127.0.0.1:6390/0")
POLICY = SessionPolicy(idle_timeout=timedelta(hours=1), max_age=timedelta(days=1))


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}); start it with tools/redis/redis-test.sh start")
    yield client
    await client.aclose()


async def check_sessions(session_store: SessionStore) -> None:
    """Resolve, list, revoke one, revoke the rest but one; an impersonation is listed with its owner."""
    sessions = SessionService(session_store, SystemClock(), POLICY)
    owner, service = uuid4(), uuid4()
    first, first_secret = await sessions.start(owner, user_agent="Firefox", address="10.1.2.3")
    second, second_secret = await sessions.start(owner)
    acting, acting_secret = await sessions.start(service, original_user_id=owner)
    resolved = await sessions.resolve(first_secret)
    assert resolved is not None and (resolved.id, resolved.user_agent, resolved.address) == (
        first.id, "Firefox", "10.1.2.3")
    assert (await sessions.resolve(acting_secret)).original_user_id == owner  # type: ignore[union-attr]
    assert {s.id for s in await sessions.list_for_user(owner)} == {first.id, second.id, acting.id}
    assert await session_store.by_hash(first_secret) is None  # stored under the hash, never the secret
    await sessions.revoke(owner, first.id)
    assert await sessions.resolve(first_secret) is None
    assert await sessions.revoke_all(owner, keep=second.id) == 1
    assert await sessions.resolve(acting_secret) is None
    assert await sessions.resolve(second_secret) is not None
    assert [s.id for s in await sessions.list_for_user(owner)] == [second.id]


async def check_session_ttl(session_store: SessionStore) -> None:
    """A session saved with a one-second TTL disappears from the store and the owner's index."""
    sessions = SessionService(session_store, SystemClock(), POLICY)
    owner = uuid4()
    session, secret = await sessions.start(owner)
    await session_store.save(session, 1)  # what the service writes when a session is one second from expiry
    assert await session_store.by_hash(hash_secret(secret)) is not None
    for _ in range(40):
        if await session_store.by_hash(hash_secret(secret)) is None and not await session_store.for_owner(owner):
            break
        await asyncio.sleep(0.1)
    assert await session_store.by_hash(hash_secret(secret)) is None
    assert await session_store.for_owner(owner) == []


async def check_attempts(attempts: AttemptCounter) -> None:
    """Failures count per key, up to the limit asked, and leave with their window."""
    key, other = f"user:{uuid4()}", f"addr:{uuid4()}"
    for _ in range(4):
        await attempts.add(key, 1)
    await attempts.add(other, 60)
    assert await attempts.count(key, 1, 10) == 4
    assert await attempts.count(key, 1, 3) == 3
    assert await attempts.count(other, 60, 10) == 1
    for _ in range(40):
        if await attempts.count(key, 1, 10) == 0:
            break
        await asyncio.sleep(0.1)
    assert await attempts.count(key, 1, 10) == 0
    assert await attempts.count(other, 60, 10) == 1


async def test_database_sessions(engine: TableStore) -> None:
    await check_sessions(StoreSessionStore(engine, 8))


async def test_redis_sessions(redis: Redis) -> None:
    await check_sessions(RedisSessionStore(redis))


async def test_database_sessions_expire_by_ttl(engine: TableStore) -> None:
    await check_session_ttl(StoreSessionStore(engine, 8))


async def test_redis_sessions_expire_by_ttl(redis: Redis) -> None:
    await check_session_ttl(RedisSessionStore(redis))


async def test_database_failed_logins(engine: TableStore) -> None:
    await check_attempts(StoreAttemptCounter(engine))


async def test_redis_failed_logins(redis: Redis) -> None:
    await check_attempts(RedisAttemptCounter(redis))


async def test_redis_keeps_no_secret(redis: Redis) -> None:
    sessions = SessionService(RedisSessionStore(redis), SystemClock(), POLICY)
    _, secret = await sessions.start(uuid4())
    keys = [k.decode() async for k in redis.scan_iter(match=f"{PREFIX}*")]
    values = b"".join([v for v in await redis.mget([k for k in keys if ":session:" in k]) if v])
    assert f"{PREFIX}session:{hash_secret(secret)}" in keys
    assert secret.encode() not in values and not any(secret in k for k in keys)


async def test_audit_log_pages_newest_first_across_months(engine: TableStore) -> None:
    repository = StoreAuditRepository(engine)
    actor = uuid4()
    # The shared Cassandra keyspace may hold other tests' entries: stamp ours far in the future.
    base = datetime(2090 + (actor.int % 9), 1, 31, 23, 0, tzinfo=UTC)

    class Clock:
        moment = base

        def now(self) -> datetime:
            return self.moment

    clock = Clock()
    audit = AuditLog(repository, clock)
    for n in range(5):
        await audit.record(actor, "impersonation.start", f"t{n}", {"n": str(n)})
        clock.moment += timedelta(minutes=30)  # the third entry falls in February
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page, cursor = await audit.newest(2, cursor)
        seen += [e.target for e in page if e.actor_id == actor]
        if cursor is None or len(seen) == 5:
            break
    assert seen == ["t4", "t3", "t2", "t1", "t0"]
    with pytest.raises(InvalidCursor):
        await audit.newest(2, "not-a-cursor")


async def test_concurrent_first_starts_create_one_admin(blank_database: BlankDatabase) -> None:
    stores = [await blank_database.open() for _ in range(3)]
    await stores[0].migrate(MIGRATIONS)
    services = [UserService(StoreUserRepository(s), StoreTokenRepository(s, 4), FakePasswordHasher(), SystemClock())
                for s in stores]
    results = await asyncio.gather(*(bootstrap_admin(users, None) for users in services))
    assert sum(r is not None for r in results) == 1
    listed = await services[0].list_users()
    assert [(u.username, u.roles) for u in listed] == [(BOOTSTRAP_ADMIN, [Role.ADMIN])]
