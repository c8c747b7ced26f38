"""The SAQ job broker chosen by URL, and the worker that runs the service's jobs.

``redis://`` selects SAQ's Redis queue for several workers on several machines; ``sqlite://``
selects the embedded broker that keeps pending jobs in a file across restarts.
"""

from __future__ import annotations

import time
from typing import Any, cast

import saq
from saq.queue.redis import RedisQueue
from saq.types import Context

from infrastructure.observability import metrics
from infrastructure.queue.email_job import send_report_email
from infrastructure.queue.sqlite_queue import SQLiteQueue


class BrokerUnavailable(Exception):
    """The job broker does not answer."""


def open_queue(url: str, name: str) -> saq.Queue:
    """The queue for ``url``; unknown schemes fail with the setting to fix."""
    if url.startswith("sqlite:"):
        return SQLiteQueue.from_url(url, name=name)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return saq.Queue.from_url(url, name=name)
    raise ValueError(f"queue.url (env ARGUS_QUEUE_URL) must start with sqlite: or redis://, got {url!r}")


async def ping_queue(queue: saq.Queue) -> None:
    """Raise ``BrokerUnavailable`` unless the broker answers."""
    if isinstance(queue, SQLiteQueue):
        if not await queue.ping():
            raise BrokerUnavailable(f"job database {queue.path} does not answer")
        return
    try:
        await cast(RedisQueue, queue).redis.ping()
    except Exception as exc:  # redis raises connection, timeout and protocol errors of several kinds
        raise BrokerUnavailable(f"job broker does not answer: {exc}") from exc


async def worker_heartbeat(_: Context) -> float:
    """Periodic proof of life: operators alert when ``argus_worker_heartbeat_timestamp`` goes stale."""
    now = time.time()
    metrics.worker_heartbeat.set(now)
    return now


class EmbeddedWorker(saq.Worker):
    """A worker living inside the web process: uvicorn owns SIGINT/SIGTERM there, not SAQ."""

    SIGNALS: list[Any] = []


def build_worker(queue: saq.Queue, *, concurrency: int, context: dict[str, Any], embedded: bool) -> saq.Worker:
    """A worker with every job the service defines; later features register theirs here.

    A standalone worker lets SAQ handle SIGINT/SIGTERM to drain and stop; an embedded one is
    stopped by the app's lifespan instead.
    """

    async def startup(ctx: Context) -> None:
        ctx.update(context)

    async def count_job(ctx: Context) -> None:
        job = ctx.get("job")
        if job is not None:
            metrics.jobs_total.labels(job.function, job.status.value).inc()

    return (EmbeddedWorker if embedded else saq.Worker)(
        queue,
        functions=[send_report_email],
        cron_jobs=[saq.CronJob(worker_heartbeat, cron="* * * * *", unique=True, timeout=30)],
        concurrency=concurrency,
        startup=startup,
        after_process=count_job,
    )
