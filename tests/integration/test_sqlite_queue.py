"""The embedded SQLite job broker held to SAQ's queue contract, on real database files.

Two ``SQLiteQueue`` instances on one file have separate SQLite connections, so they contend for
the file's locks exactly as two processes would. The core scenario also runs on SAQ's Redis queue
against a real server (``ARGUS_TEST_REDIS_URL``), so both brokers are seen to behave alike.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import pytest_asyncio
from redis.exceptions import RedisError
from saq import CronJob, Job, Queue, Status, Worker
from saq.errors import InvalidUrlError
from saq.job import TERMINAL_STATUSES
from saq.queue.redis import RedisQueue
from saq.utils import now, uuid1

from infrastructure.queue.sqlite_queue import SQLiteQueue

REDIS_URL = os.environ.get("ARGUS_TEST_REDIS_URL", "redis://127.0.0.1:6390/0")
# Short enough that polling adds little to any test; the production default is 0.5 s.
POLL = 0.02


async def add(ctx: dict[str, Any], *, a: int, b: int) -> int:
    return a + b


def sqlite_queue(path: Path, **kwargs: Any) -> SQLiteQueue:
    return SQLiteQueue(path, poll_interval=POLL, **kwargs)


@asynccontextmanager
async def open_queue(kind: str, tmp_path: Path) -> AsyncIterator[Queue]:
    if kind == "sqlite":
        queue = sqlite_queue(tmp_path / "jobs.db")
        await queue.connect()
        try:
            yield queue
        finally:
            await queue.disconnect()
        return
    # A queue name of its own keeps this run apart from anything else on the server.
    redis_queue = RedisQueue.from_url(REDIS_URL, name=f"argus-test-{uuid1()}")
    try:
        await redis_queue.redis.ping()
    except (RedisError, OSError) as exc:
        # Not disconnect(): it unsubscribes, which needs the server.
        await redis_queue.redis.aclose()
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable ({exc}); start it with "
            "tools/redis/redis-test.sh start, or point ARGUS_TEST_REDIS_URL at one"
        )
    await redis_queue.connect()
    try:
        yield redis_queue
    finally:
        keys = [key async for key in redis_queue.redis.scan_iter(match=f"saq:*{redis_queue.name}*")]
        if keys:
            await redis_queue.redis.delete(*keys)
        await redis_queue.disconnect()


@pytest_asyncio.fixture
async def queue(tmp_path: Path) -> AsyncIterator[SQLiteQueue]:
    queue = sqlite_queue(tmp_path / "jobs.db")
    await queue.connect()
    yield queue
    await queue.disconnect()


@asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(worker.start()) for worker in workers]
    try:
        yield
    finally:
        for worker in workers:
            await worker.stop()
        await asyncio.gather(*tasks)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


async def finished(queue: Queue, key: str, within: float = 5.0) -> Job:
    async def is_finished() -> bool:
        job = await queue.job(key)
        return job is not None and job.status in TERMINAL_STATUSES

    await eventually(is_finished, f"job {key} finished", within)
    job = await queue.job(key)
    assert job is not None
    return job


async def claim(queue: Queue) -> Job:
    job = await queue.dequeue(timeout=2)
    assert job is not None, "no job to claim"
    return job


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_worker_runs_an_enqueued_job_and_stores_its_result(kind: str, tmp_path: Path) -> None:
    async with open_queue(kind, tmp_path) as queue:
        # SAQ's Redis sweep takes back a job dequeued a moment before its worker marks it active;
        # holding the sweep lock keeps the worker's start-up sweep from racing the first dequeue.
        await queue.sweep()
        async with running(Worker(queue, [add])):
            job = await queue.enqueue("add", a=2, b=3)
            assert job is not None
            done = await finished(queue, job.key)

        assert done.status is Status.COMPLETE
        assert done.result == 5
        assert done.attempts == 1
        assert await queue.count("incomplete") == 0


async def test_a_key_is_enqueued_once_until_its_job_finishes(queue: SQLiteQueue, tmp_path: Path) -> None:
    assert await queue.enqueue("add", key="nightly", a=1, b=1) is not None
    assert await queue.enqueue("add", key="nightly", a=9, b=9) is None
    assert await queue.count("incomplete") == 1

    claimed = await claim(queue)
    assert claimed.kwargs == {"a": 1, "b": 1}
    assert await queue.enqueue("add", key="nightly", a=9, b=9) is None, "enqueued while active"

    await claimed.finish(Status.COMPLETE, result=2)
    assert await queue.enqueue("add", key="nightly", a=4, b=4) is not None
    again = await queue.job("nightly")
    assert again is not None
    assert again.status is Status.QUEUED
    assert again.kwargs == {"a": 4, "b": 4}

    # Keys are per queue: another queue in the same file has its own "nightly".
    other = sqlite_queue(tmp_path / "jobs.db", name="other")
    try:
        assert await other.enqueue("add", key="nightly", a=0, b=0) is not None
        assert await queue.count("incomplete") == 1
    finally:
        await other.disconnect()


async def test_a_late_scheduler_cannot_rerun_a_finished_tick(queue: SQLiteQueue) -> None:
    # Workers schedule a unique cron job by enqueueing its next tick under one key. A worker that
    # computed tick T but enqueues only after T's run finished must not start T a second time.
    tick = int(time.time()) - 1
    assert await queue.enqueue("add", key="cron:add", a=1, b=1, scheduled=tick) is not None
    await (await claim(queue)).finish(Status.COMPLETE, result=2)

    assert await queue.enqueue("add", key="cron:add", a=1, b=1, scheduled=tick) is None
    assert await queue.enqueue("add", key="cron:add", a=1, b=1, scheduled=tick + 1) is not None


async def test_a_scheduled_job_is_not_dequeued_before_its_time(queue: SQLiteQueue) -> None:
    due = int(time.time()) + 2
    job = await queue.enqueue("add", a=1, b=1, scheduled=due)
    assert job is not None

    assert await queue.dequeue(timeout=0.3) is None
    info = await queue.info()
    assert (info["queued"], info["scheduled"]) == (0, 1)

    claimed = await queue.dequeue(timeout=3)
    assert claimed is not None
    assert claimed.key == job.key
    assert time.time() >= due


async def test_a_failing_job_is_retried_after_its_delay_then_failed(queue: SQLiteQueue) -> None:
    attempts_at: list[float] = []

    async def flaky(ctx: dict[str, Any]) -> None:
        attempts_at.append(time.monotonic())
        raise ValueError("boom")

    async with running(Worker(queue, [("flaky", flaky)])):
        job = await queue.enqueue("flaky", retries=3, retry_delay=0.2)
        assert job is not None
        done = await finished(queue, job.key)

    assert done.status is Status.FAILED
    assert done.attempts == 3
    assert done.error is not None
    assert "ValueError: boom" in done.error
    assert len(attempts_at) == 3
    assert all(later - earlier >= 0.15 for earlier, later in pairwise(attempts_at))
    assert (queue.retried, queue.failed) == (2, 1)


async def test_a_job_running_past_its_timeout_fails(queue: SQLiteQueue) -> None:
    async def hangs(ctx: dict[str, Any]) -> None:
        await asyncio.sleep(30)

    async with running(Worker(queue, [("hangs", hangs)])):
        job = await queue.enqueue("hangs", timeout=1, retries=1)
        assert job is not None
        done = await finished(queue, job.key)

    assert done.status is Status.FAILED
    assert done.error is not None
    assert "TimeoutError" in done.error


async def test_aborting_a_queued_job_finishes_it_unrun(queue: SQLiteQueue) -> None:
    job = await queue.enqueue("add", a=1, b=1)
    assert job is not None

    await queue.abort(job, "not needed")

    stored = await queue.job(job.key)
    assert stored is not None
    assert (stored.status, stored.error) == (Status.ABORTED, "not needed")
    assert await queue.dequeue(timeout=0.2) is None
    assert queue.aborted == 1


async def test_aborting_a_running_job_cancels_it(queue: SQLiteQueue) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow(ctx: dict[str, Any]) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    # The worker looks for abort requests only on jobs running for at least its abort timer.
    async with running(Worker(queue, [("slow", slow)], timers={"abort": 1})):
        job = await queue.enqueue("slow", timeout=60)
        assert job is not None
        await asyncio.wait_for(started.wait(), 5)
        await job.abort("operator said stop")
        stored = await queue.job(job.key)
        assert stored is not None
        assert stored.status is Status.ABORTING
        done = await finished(queue, job.key)

    assert (done.status, done.error) == (Status.ABORTED, "operator said stop")
    assert cancelled.is_set()


async def test_sweep_takes_back_a_job_whose_worker_died(queue: SQLiteQueue, tmp_path: Path) -> None:
    # The first sweep takes the sweep lock for this instance; another process's sweep backs off.
    assert await queue.sweep(abort=0.1) == []
    job = await queue.enqueue("add", a=1, b=1, timeout=1, retries=2)
    assert job is not None

    async def die_while_running(attempt: int) -> None:
        claimed = await claim(queue)
        # What a worker records when it starts the job, then it is gone for 5 s.
        await claimed.update(attempts=attempt, started=now() - 5_000)

    await die_while_running(1)
    other = sqlite_queue(tmp_path / "jobs.db")
    try:
        assert await other.sweep(abort=0.1) == []
    finally:
        await other.disconnect()
    assert await queue.count("active") == 1

    assert await queue.sweep(abort=0.1) == [job.key]
    retried = await queue.job(job.key)
    assert retried is not None
    assert (retried.status, retried.error) == (Status.QUEUED, queue.swept_error_message)

    await die_while_running(2)
    assert await queue.sweep(abort=0.1) == [job.key]
    aborted = await queue.job(job.key)
    assert aborted is not None
    assert (aborted.status, aborted.error, aborted.attempts) == (
        Status.ABORTED,
        queue.swept_error_message,
        2,
    )


async def test_finished_jobs_are_kept_for_their_ttl(queue: SQLiteQueue, tmp_path: Path) -> None:
    keys = {}
    for name, ttl in (("brief", 1), ("dropped", -1), ("forever", 0)):
        job = await queue.enqueue("add", key=name, a=1, b=1, ttl=ttl)
        assert job is not None
        keys[name] = job.key
    for _ in keys:
        await (await claim(queue)).finish(Status.COMPLETE, result=2)

    assert await queue.job("dropped") is None
    assert [job.key for job in await queue.jobs(["brief", "forever"]) if job] == ["brief", "forever"]

    await asyncio.sleep(1.1)
    assert await queue.job("brief") is None, "visible after its ttl"
    await queue.sweep()
    async with aiosqlite.connect(tmp_path / "jobs.db") as db:
        rows = await db.execute_fetchall("SELECT key FROM saq_jobs")
    assert [key for (key,) in rows] == ["forever"]


async def test_pending_jobs_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    before = sqlite_queue(path)
    ready = await before.enqueue("add", a=20, b=22)
    later = await before.enqueue("add", a=0, b=0, scheduled=int(time.time()) + 3600)
    assert ready is not None
    assert later is not None
    await before.disconnect()

    after = sqlite_queue(path)
    try:
        info = await after.info(jobs=True)
        assert (info["queued"], info["active"], info["scheduled"]) == (1, 0, 1)
        assert {job["key"] for job in info["jobs"]} == {ready.key, later.key}

        async with running(Worker(after, [add])):
            done = await finished(after, ready.key)
        assert (done.status, done.result) == (Status.COMPLETE, 42)

        waiting = await after.job(later.key)
        assert waiting is not None
        assert (waiting.status, waiting.scheduled) == (Status.QUEUED, later.scheduled)
    finally:
        await after.disconnect()


async def test_two_instances_on_one_file_run_each_job_exactly_once(tmp_path: Path) -> None:
    runs: Counter[int] = Counter()

    async def record(ctx: dict[str, Any], *, n: int) -> int:
        runs[n] += 1
        await asyncio.sleep(0)
        return n

    queues = [sqlite_queue(tmp_path / "jobs.db") for _ in range(2)]
    workers = [Worker(queue, [("record", record)], concurrency=8) for queue in queues]
    try:
        async with running(*workers):
            keys = []
            for n in range(200):
                job = await queues[n % 2].enqueue("record", n=n)
                assert job is not None
                keys.append(job.key)

            async def all_ran() -> bool:
                return runs.total() >= 200

            await eventually(all_ran, "200 jobs ran", within=30)
            # Room for a duplicate run to show up before the workers stop.
            await asyncio.sleep(0.2)

        assert runs == Counter(range(200))
        assert all(queue.complete > 0 for queue in queues), "one instance did all the work"
        stored = await queues[0].jobs(keys)
        assert [job.status if job else None for job in stored] == [Status.COMPLETE] * 200
    finally:
        for queue in queues:
            await queue.disconnect()


async def test_a_cron_job_runs_once_per_tick_across_workers(tmp_path: Path) -> None:
    ticks: list[int] = []

    async def tick(ctx: dict[str, Any]) -> None:
        ticks.append(ctx["job"].scheduled)

    cron = CronJob(tick, cron="* * * * * *")  # every second
    queues = [sqlite_queue(tmp_path / "jobs.db") for _ in range(2)]
    workers = [Worker(queue, [], cron_jobs=[cron], concurrency=2) for queue in queues]
    try:
        async with running(*workers):

            async def three_ticks() -> bool:
                return len(ticks) >= 3

            await eventually(three_ticks, "three cron ticks ran", within=8)
            await asyncio.sleep(0.3)
    finally:
        for queue in queues:
            await queue.disconnect()

    assert len(ticks) >= 3
    assert sorted(Counter(ticks).values()) == [1] * len(ticks), f"a tick ran twice: {ticks}"


async def test_info_and_count_report_jobs_by_state(queue: SQLiteQueue) -> None:
    for key in ("a", "b"):
        await queue.enqueue("add", key=key, a=1, b=1)
    await queue.enqueue("add", key="later", a=1, b=1, scheduled=int(time.time()) + 3600)
    claimed = await claim(queue)
    await queue.worker_info("worker-1", queue_key=queue.name, metadata={"host": "test"})

    info = await queue.info(jobs=True)
    assert (info["name"], info["queued"], info["active"], info["scheduled"]) == (queue.name, 1, 1, 1)
    assert await queue.count("incomplete") == 3
    assert info["workers"]["worker-1"]["metadata"] == {"host": "test"}
    assert [job["key"] for job in info["jobs"]] == [claimed.key, "b", "later"]

    await claimed.finish(Status.COMPLETE, result=2)
    assert (await queue.count("active"), await queue.count("incomplete")) == (0, 2)
    assert [job.key async for job in queue.iter_jobs([Status.COMPLETE])] == [claimed.key]
    assert sorted([job.key async for job in queue.iter_jobs(batch_size=1)]) == ["a", "b", "later"]


async def test_priority_orders_ready_jobs_and_a_group_runs_one_at_a_time(queue: SQLiteQueue) -> None:
    await queue.enqueue("add", key="low", a=1, b=1, priority=5)
    await queue.enqueue("add", key="high", a=1, b=1, priority=0)
    assert [(await claim(queue)).key for _ in range(2)] == ["high", "low"]

    await queue.enqueue("add", key="first", a=1, b=1, group_key="run-1")
    await queue.enqueue("add", key="second", a=1, b=1, group_key="run-1")
    first = await claim(queue)
    assert first.key == "first"
    assert await queue.dequeue(timeout=0.1) is None
    await first.finish(Status.COMPLETE, result=2)
    assert (await claim(queue)).key == "second"


async def test_a_new_file_can_be_opened_by_many_connections_at_once(tmp_path: Path) -> None:
    queues = [sqlite_queue(tmp_path / "new" / "jobs.db") for _ in range(6)]
    try:
        await asyncio.gather(*(queue.connect() for queue in queues))
        assert all([await queue.ping() for queue in queues])
    finally:
        for queue in queues:
            await queue.disconnect()


async def test_ping_is_false_when_the_file_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    queue = sqlite_queue(tmp_path / "not-a-dir" / "jobs.db")
    assert await queue.ping() is False


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/lib/argus/jobs.db", Path("/var/lib/argus/jobs.db")),
        ("sqlite:////var/lib/argus/jobs.db", Path("/var/lib/argus/jobs.db")),
        ("sqlite:jobs.db", Path("jobs.db")),
        ("sqlite:var/my%20jobs.db", Path("var/my jobs.db")),
    ],
)
def test_from_url_takes_the_file_from_the_url(url: str, path: Path) -> None:
    queue = SQLiteQueue.from_url(url, name="argus")
    assert (queue.path, queue.name) == (path, "argus")


@pytest.mark.parametrize("url", ["redis://localhost", "sqlite://host/jobs.db", "sqlite:", "sqlite:///"])
def test_from_url_refuses_urls_without_a_local_file(url: str) -> None:
    with pytest.raises(InvalidUrlError):
        SQLiteQueue.from_url(url)


def test_an_in_memory_database_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a file"):
        SQLiteQueue(":memory:")
