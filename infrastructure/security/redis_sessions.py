"""Browser sessions and failed-login counts in Redis, for deployments that already run one.

Keys expire by themselves (``PX``), like the table layer's TTL rows; per-owner session indexes and
failure windows are sorted sets scored by time, trimmed on read.
"""

from __future__ import annotations

import time
from uuid import UUID, uuid4

import msgspec
from redis.asyncio import Redis

from domain.users.entities import Session

PREFIX = "argus:auth:"


def _now_ms() -> int:
    return int(time.time() * 1000)


class RedisSessionStore:
    """``session:<hash>`` holds the session as JSON; ``owner:<id>`` scores each hash by its expiry."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, session: Session, ttl_seconds: int) -> None:
        """Write the session with a TTL and (re)score it in its owner's index."""
        owner = f"{PREFIX}owner:{session.owner_id}"
        expires = _now_ms() + ttl_seconds * 1000
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(f"{PREFIX}session:{session.secret_hash}", msgspec.json.encode(session), px=ttl_seconds * 1000)
            pipe.zadd(owner, {session.secret_hash: expires})
            pipe.pexpireat(owner, max(expires, await self._owner_expiry(owner)))
            await pipe.execute()

    async def _owner_expiry(self, owner: str) -> int:
        latest = await self._redis.zrange(owner, -1, -1, withscores=True)
        return int(latest[0][1]) if latest else 0

    async def by_hash(self, secret_hash: str) -> Session | None:
        """One GET."""
        raw = await self._redis.get(f"{PREFIX}session:{secret_hash}")
        return msgspec.json.decode(raw, type=Session) if raw else None

    async def for_owner(self, owner_id: UUID) -> list[Session]:
        """Drop expired index entries, then fetch the rest in one MGET."""
        owner = f"{PREFIX}owner:{owner_id}"
        await self._redis.zremrangebyscore(owner, "-inf", _now_ms())
        hashes = [h.decode() if isinstance(h, bytes) else h for h in await self._redis.zrange(owner, 0, -1)]
        if not hashes:
            return []
        raws = await self._redis.mget([f"{PREFIX}session:{h}" for h in hashes])
        return [msgspec.json.decode(raw, type=Session) for raw in raws if raw]

    async def remove(self, session: Session) -> None:
        """Delete the session, then its index entry."""
        await self._redis.delete(f"{PREFIX}session:{session.secret_hash}")
        await self._redis.zrem(f"{PREFIX}owner:{session.owner_id}", session.secret_hash)


class RedisAttemptCounter:
    """A sorted set of failure times per key: a sliding window shared by every worker."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, key: str, window_seconds: int) -> None:
        """Add one failure now; the whole key expires a window after the last failure."""
        name = f"{PREFIX}failures:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {uuid4().hex: _now_ms()})
            pipe.pexpire(name, window_seconds * 1000)
            await pipe.execute()

    async def count(self, key: str, window_seconds: int, limit: int) -> int:
        """Failures inside the window, at most ``limit``."""
        name = f"{PREFIX}failures:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", _now_ms() - window_seconds * 1000)
            pipe.zcard(name)
            _, total = await pipe.execute()
        return min(int(total), limit)
