"""Concurrency helpers shared by the domain services and the storage adapters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def bounded_gather(awaitables: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await many calls concurrently with at most ``limit`` in flight, keeping input order.

    Fetching partitions one by one would be N round trips; firing thousands at once would swamp
    the driver's queues. A semaphore keeps the middle ground.
    """
    semaphore = asyncio.Semaphore(limit)

    async def run(awaitable: Awaitable[T]) -> T:
        async with semaphore:
            return await awaitable

    return list(await asyncio.gather(*(run(a) for a in awaitables)))
