"""A SAQ job broker kept in one SQLite file, so a single machine needs no Redis.

Jobs live in the file, so pending and scheduled jobs outlive a restart of the process. Several
processes may share the file (web process plus ``argus worker`` processes): every claim of a job
runs in a ``BEGIN IMMEDIATE`` transaction, so SQLite's write lock makes each claim exclusive.
There is no cross-process notification; waiting workers poll, and jobs enqueued through the
same ``SQLiteQueue`` instance wake its waiters at once.

Semantics follow SAQ's Redis and Postgres queues:

* A key is unique per queue while its job is unfinished. A finished job may be enqueued again
  under its key, but only with a later ``scheduled`` time, as in SAQ's Postgres queue. This is
  what makes unique cron jobs fire once per tick when several workers schedule the same tick.
* ``scheduled`` in the future keeps a job out of ``dequeue`` until then; a retry with a delay
  does the same. ``schedule()`` therefore has nothing to move and keeps SAQ's no-op default.
* ``sweep`` runs in one process at a time, guarded by a lock row that its holder renews, and
  deletes finished jobs whose ``ttl`` ran out. Expired jobs are invisible even before that.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import aiosqlite
from saq import Job, Queue, Status
from saq.errors import InvalidUrlError
from saq.job import TERMINAL_STATUSES
from saq.utils import now, now_seconds, uuid1

if TYPE_CHECKING:
    from saq.types import CountKind, DumpType, LoadType, QueueInfo, WorkerInfo

logger = logging.getLogger(__name__)

_ALL_STATUSES: tuple[Status, ...] = tuple(Status)
_TERMINAL_SQL = ", ".join(f"'{status.value}'" for status in sorted(TERMINAL_STATUSES))
# SQLite's default limit on bound parameters is far above this; it keeps IN lists modest.
_KEYS_PER_QUERY = 500

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS saq_jobs (
    queue TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    group_key TEXT,
    scheduled REAL NOT NULL,
    expires REAL,
    job BLOB NOT NULL,
    PRIMARY KEY (queue, key)
);
CREATE INDEX IF NOT EXISTS saq_jobs_ready ON saq_jobs (queue, status, priority, scheduled);
CREATE INDEX IF NOT EXISTS saq_jobs_expires ON saq_jobs (queue, expires)
    WHERE status IN ({_TERMINAL_SQL});
CREATE TABLE IF NOT EXISTS saq_workers (
    worker_id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    info TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS saq_locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
);
"""

# A job is visible until its ttl runs out, whether or not a sweep has deleted it yet.
_VISIBLE = "(expires IS NULL OR expires > :now)"

# Jobs of a group run one at a time, as with SAQ's Postgres queue; an aborting job still runs.
_NEXT_READY = """
SELECT key, job FROM saq_jobs
WHERE queue = :queue AND status = 'queued' AND scheduled <= :now
  AND (group_key IS NULL OR group_key NOT IN (
    SELECT group_key FROM saq_jobs
    WHERE queue = :queue AND status IN ('active', 'aborting') AND group_key IS NOT NULL))
ORDER BY priority, scheduled
LIMIT 1
"""

_ENQUEUE = f"""
INSERT INTO saq_jobs (queue, key, status, priority, group_key, scheduled, expires, job)
VALUES (:queue, :key, 'queued', :priority, :group_key, :scheduled, NULL, :job)
ON CONFLICT (queue, key) DO UPDATE SET
    status = 'queued', priority = excluded.priority, group_key = excluded.group_key,
    scheduled = excluded.scheduled, expires = NULL, job = excluded.job
WHERE saq_jobs.status IN ({_TERMINAL_SQL}) AND excluded.scheduled > saq_jobs.scheduled
"""

_TAKE_LOCK = """
INSERT INTO saq_locks (name, owner, expires) VALUES (:name, :owner, :expires)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
WHERE saq_locks.owner = excluded.owner OR saq_locks.expires <= :now
"""


@dataclass(frozen=True)
class _Connections:
    """Writes share one connection behind a lock; reads get their own so WAL lets them run
    while another coroutine holds a write transaction open."""

    writer: aiosqlite.Connection
    reader: aiosqlite.Connection


class SQLiteQueue(Queue):
    """SAQ queue stored in a SQLite file; see the module docstring for the semantics.

    Args:
        path: the database file; its directory is created on connect. ``:memory:`` is refused
            because every connection would see a different database.
        name: the queue name; several queues may share one file.
        dump: serializer of a job's dict (default ``json.dumps``).
        load: deserializer matching ``dump`` (default ``json.loads``).
        poll_interval: seconds between looks for ready jobs while ``dequeue`` waits, used when
            the worker passes none.
        busy_timeout: seconds a statement waits for another process's write lock before failing.
        swept_error_message: error recorded on jobs taken back by ``sweep``.
    """

    def __init__(
        self,
        path: str | Path,
        name: str = "default",
        dump: DumpType | None = None,
        load: LoadType | None = None,
        poll_interval: float = 0.5,
        busy_timeout: float = 30.0,
        swept_error_message: str | None = None,
    ) -> None:
        super().__init__(name=name, dump=dump, load=load, swept_error_message=swept_error_message)
        if str(path) == ":memory:":
            raise ValueError("SQLiteQueue needs a file: an in-memory database is private to a connection")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.path = Path(path)
        self.poll_interval = poll_interval
        self._busy_timeout = busy_timeout
        # Identifies this instance as the holder of lock rows across processes.
        self._owner = uuid1()
        self._conns: _Connections | None = None
        self._connect_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        # One waiting dequeue polls at a time; the others queue behind it instead of all polling.
        self._dequeue_lock = asyncio.Lock()
        self._ready = asyncio.Event()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SQLiteQueue:
        """Build a queue from ``sqlite:///abs/path.db``, ``sqlite:////abs/path.db`` or
        ``sqlite:relative.db``, the forms configuration files and SQLAlchemy users write."""
        parsed = urlparse(url)
        if parsed.scheme != "sqlite":
            raise InvalidUrlError(f"not a sqlite URL: {url}")
        if parsed.netloc or parsed.query or parsed.params or parsed.fragment:
            raise InvalidUrlError(f"a sqlite URL names only a file, as sqlite:///path/to.db: {url}")
        path = unquote(parsed.path)
        if path.startswith("//"):
            path = path[1:]
        if not path or path == "/":
            raise InvalidUrlError(f"sqlite URL without a file: {url}")
        return cls(path, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}<path={str(self.path)!r}, name={self.name!r}>"

    async def connect(self) -> None:
        """Open the file eagerly, so a bad path fails at start-up rather than at the first job."""
        await self._connections()

    async def disconnect(self) -> None:
        """Close the file; a later call on the queue opens it again."""
        async with self._connect_lock:
            conns, self._conns = self._conns, None
            if conns is not None:
                await conns.reader.close()
                await conns.writer.close()

    async def ping(self) -> bool:
        """Whether the database answers, for readiness checks: reads a table, not just the handle."""
        try:
            await self._read("SELECT 1 FROM saq_locks LIMIT 1", {})
        except (sqlite3.Error, OSError):
            logger.warning("job database %s does not answer", self.path, exc_info=True)
            return False
        return True

    async def _connections(self) -> _Connections:
        if self._conns is not None:
            return self._conns
        async with self._connect_lock:
            if self._conns is None:
                await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
                writer = await self._open()
                try:
                    # IMMEDIATE serialises processes creating the schema of a new file together.
                    await writer.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")
                    reader = await self._open()
                except BaseException:
                    await writer.close()
                    raise
                self._conns = _Connections(writer=writer, reader=reader)
                await super().connect()
            return self._conns

    async def _open(self) -> aiosqlite.Connection:
        # isolation_level=None leaves transactions to us, so a claim can be BEGIN IMMEDIATE.
        db = await aiosqlite.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            await self._use_wal(db)
            # In WAL mode NORMAL survives a crash of the process, which is what jobs need to outlive.
            await db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await db.close()
            raise
        return db

    async def _use_wal(self, db: aiosqlite.Connection) -> None:
        """Switch the file to WAL, so readers never wait for a writer.

        SQLite answers "locked" at once, without its busy timeout, while another connection is
        switching a new file too; so several processes starting together retry here.
        """
        deadline = asyncio.get_running_loop().time() + self._busy_timeout
        while True:
            try:
                rows = list(await db.execute_fetchall("PRAGMA journal_mode=WAL"))
                break
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.02)
        if rows[0][0].lower() != "wal":
            logger.warning("job database %s runs in %s mode, not WAL: readers wait for writers", self.path, rows[0][0])

    async def _read(self, sql: str, params: dict[str, Any]) -> list[Any]:
        conns = await self._connections()
        return list(await conns.reader.execute_fetchall(sql, params))

    async def _write(self, sql: str, params: dict[str, Any]) -> int:
        """Run one statement on its own (autocommit) and return how many rows it changed."""
        conns = await self._connections()
        async with self._write_lock, conns.writer.execute(sql, params) as cursor:
            return cursor.rowcount

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction that holds SQLite's write lock from its first statement, so what
        it reads cannot change before it writes, in this process or another."""
        conns = await self._connections()
        async with self._write_lock:
            try:
                # Inside the try: a cancelled BEGIN still runs, and must not leave the shared
                # connection in a transaction that nobody ends.
                await conns.writer.execute("BEGIN IMMEDIATE")
                yield conns.writer
            except BaseException:
                await conns.writer.rollback()
                raise
            await conns.writer.commit()

    def _job_from_row(self, payload: bytes | str, status: str) -> Job:
        job = self.deserialize(payload, status)
        if job is None:
            raise ValueError(f"empty job payload in queue {self.name!r} of {self.path}")
        return job

    async def _enqueue(self, job: Job) -> Job | None:
        scheduled = job.scheduled or now_seconds()
        changed = await self._write(
            _ENQUEUE,
            {
                "queue": self.name,
                "key": job.key,
                "priority": job.priority,
                "group_key": job.group_key,
                "scheduled": scheduled,
                "job": self.serialize(job),
            },
        )
        if not changed:
            return None
        if scheduled <= now_seconds():
            self._ready.set()
        logger.info("Enqueuing %s", job.info(logger.isEnabledFor(logging.DEBUG)))
        return job

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109
        """Wait for a ready job and mark it active; ``timeout`` 0 waits until cancelled, as in SAQ."""
        interval = poll_interval or self.poll_interval
        try:
            async with asyncio.timeout(timeout if timeout > 0 else None), self._dequeue_lock:
                while True:
                    # Cleared before looking, so an enqueue during the look is not missed.
                    self._ready.clear()
                    job = await self._claim_or_release()
                    if job is not None:
                        return job
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), interval)
        except TimeoutError:
            return None

    async def _claim_or_release(self) -> Job | None:
        """Claim a job; if the caller is cancelled meanwhile, put the job back rather than leave
        it active with nobody running it until a sweep notices."""
        claim = asyncio.ensure_future(self._claim())
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            await asyncio.wait([claim])
            if claim.exception() is None and (job := claim.result()) is not None:
                await self._write(
                    "UPDATE saq_jobs SET status = 'queued' WHERE queue = :queue AND key = :key AND status = 'active'",
                    {"queue": self.name, "key": job.key},
                )
            raise

    async def _claim(self) -> Job | None:
        params = {"queue": self.name, "now": now_seconds()}
        # A plain read first: idle polls must not take the write lock from the other processes.
        if not await self._read(_NEXT_READY, params):
            return None
        async with self._transaction() as db:
            rows = list(await db.execute_fetchall(_NEXT_READY, params))
            if not rows:
                return None
            key, payload = rows[0]
            job = self._job_from_row(payload, Status.ACTIVE)
            # Stamped now so a sweep never sees a claimed job as started at epoch 0 (stuck).
            job.started = job.touched = now()
            await db.execute(
                "UPDATE saq_jobs SET status = 'active', job = :job WHERE queue = :queue AND key = :key",
                {"job": self.serialize(job), "queue": self.name, "key": key},
            )
        return job

    async def _update(self, job: Job, status: Status | None = None, **kwargs: Any) -> None:
        # Without a status the stored one stays: a heartbeat must not undo an abort.
        await self._write(
            "UPDATE saq_jobs SET job = :job, status = COALESCE(:status, status), "
            "scheduled = COALESCE(:scheduled, scheduled) WHERE queue = :queue AND key = :key",
            {
                "job": self.serialize(job),
                "status": status.value if status else None,
                "scheduled": (job.scheduled or now_seconds()) if "scheduled" in kwargs else None,
                "queue": self.name,
                "key": job.key,
            },
        )

    async def _retry(self, job: Job, error: str | None) -> None:
        delay = job.next_retry_delay()
        await self._write(
            "UPDATE saq_jobs SET job = :job, status = 'queued', scheduled = :scheduled, expires = NULL "
            "WHERE queue = :queue AND key = :key",
            {
                "job": self.serialize(job),
                # Behind the jobs already waiting, like SAQ's Redis queue, unless a delay applies.
                "scheduled": now_seconds() + delay,
                "queue": self.name,
                "key": job.key,
            },
        )
        if not delay:
            self._ready.set()

    async def _finish(
        self,
        job: Job,
        status: Status,
        *,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        params: dict[str, Any] = {"queue": self.name, "key": job.key}
        if job.ttl < 0:
            await self._write("DELETE FROM saq_jobs WHERE queue = :queue AND key = :key", params)
            return
        await self._write(
            "UPDATE saq_jobs SET job = :job, status = :status, expires = :expires WHERE queue = :queue AND key = :key",
            {
                **params,
                "job": self.serialize(job),
                "status": status.value,
                "expires": now_seconds() + job.ttl if job.ttl > 0 else None,
            },
        )

    async def abort(self, job: Job, error: str, ttl: float = 5) -> None:
        """Finish a job nobody runs yet; mark a running one ``aborting`` for its worker to cancel.

        ``ttl`` is accepted for SAQ's signature only: the abort request lives in the job's row.
        """
        async with self._transaction() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT status FROM saq_jobs WHERE queue = :queue AND key = :key",
                    {"queue": self.name, "key": job.key},
                )
            )
            if not rows or Status(rows[0][0]) in TERMINAL_STATUSES:
                return
            was_queued = rows[0][0] == Status.QUEUED.value
            job.status = Status.ABORTING
            job.error = error
            await db.execute(
                "UPDATE saq_jobs SET status = 'aborting', job = :job WHERE queue = :queue AND key = :key",
                {"job": self.serialize(job), "queue": self.name, "key": job.key},
            )
        if was_queued:
            await self.finish(job, Status.ABORTED, error=error)

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """Delete expired jobs and worker records, and take back jobs stuck past their timeout or
        heartbeat (their worker died or hangs): retried if attempts remain, else aborted."""
        current = now_seconds()
        if not await self._write(
            _TAKE_LOCK,
            {"name": f"{self.name}:sweep", "owner": self._owner, "expires": current + lock, "now": current},
        ):
            return []
        async with self._transaction() as db:
            await db.execute(
                f"DELETE FROM saq_jobs WHERE queue = :queue AND status IN ({_TERMINAL_SQL}) AND expires <= :now",
                {"queue": self.name, "now": current},
            )
            await db.execute("DELETE FROM saq_workers WHERE expires <= :now", {"now": current})
        rows = await self._read(
            "SELECT key, job, status FROM saq_jobs WHERE queue = :queue AND status IN ('active', 'aborting')",
            {"queue": self.name},
        )
        swept = []
        for key, payload, status in rows:
            job = self._job_from_row(payload, status)
            if not job.stuck:
                continue
            swept.append(key)
            logger.info("Sweeping %s", job.info(logger.isEnabledFor(logging.DEBUG)))
            await self.abort(job, error=self.swept_error_message)
            try:
                await job.refresh(abort)
            except TimeoutError:
                logger.info("Could not abort job %s", key)
            except RuntimeError:
                # Its worker finished it meanwhile and, with ttl -1, deleted it: nothing to take back.
                continue
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return swept

    async def job(self, job_key: str) -> Job | None:
        rows = await self._read(
            f"SELECT job, status FROM saq_jobs WHERE queue = :queue AND key = :key AND {_VISIBLE}",
            {"queue": self.name, "key": job_key, "now": now_seconds()},
        )
        return self._job_from_row(*rows[0]) if rows else None

    async def jobs(self, job_keys: Iterable[str]) -> list[Job | None]:
        keys = list(job_keys)
        found: dict[str, Job] = {}
        current = now_seconds()
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            params: dict[str, Any] = {f"k{i}": key for i, key in enumerate(chunk)}
            placeholders = ", ".join(f":{name}" for name in params)
            rows = await self._read(
                f"SELECT key, job, status FROM saq_jobs "
                f"WHERE queue = :queue AND key IN ({placeholders}) AND {_VISIBLE}",
                {**params, "queue": self.name, "now": current},
            )
            found.update((key, self._job_from_row(payload, status)) for key, payload, status in rows)
        return [found.get(key) for key in keys]

    async def iter_jobs(
        self,
        statuses: Sequence[Status] = _ALL_STATUSES,
        batch_size: int = 100,
    ) -> AsyncIterator[Job]:
        wanted = {f"s{i}": Status(status).value for i, status in enumerate(statuses)}
        if not wanted:
            return
        placeholders = ", ".join(f":{name}" for name in wanted)
        last_key = ""
        while True:
            # Keyset pagination: no read transaction stays open between batches.
            rows = await self._read(
                f"SELECT key, job, status FROM saq_jobs WHERE queue = :queue AND key > :last "
                f"AND status IN ({placeholders}) AND {_VISIBLE} ORDER BY key LIMIT :limit",
                {**wanted, "queue": self.name, "last": last_key, "now": now_seconds(), "limit": batch_size},
            )
            if not rows:
                return
            for key, payload, status in rows:
                last_key = key
                yield self._job_from_row(payload, status)

    async def count(self, kind: CountKind) -> int:
        if kind == "queued":
            where = "status = 'queued' AND scheduled <= :now"
        elif kind == "active":
            where = "status = 'active'"
        elif kind == "incomplete":
            where = "status IN ('queued', 'active')"
        else:
            raise ValueError(f"Can't count unknown type {kind}")
        rows = await self._read(
            f"SELECT count(*) FROM saq_jobs WHERE queue = :queue AND {where}",
            {"queue": self.name, "now": now_seconds()},
        )
        return int(rows[0][0])

    async def info(self, jobs: bool = False, offset: int = 0, limit: int = 10) -> QueueInfo:
        worker_rows = await self._read(
            "SELECT worker_id, info FROM saq_workers WHERE queue = :queue AND expires > :now",
            {"queue": self.name, "now": now_seconds()},
        )
        queued = await self.count("queued")
        active = await self.count("active")
        incomplete = await self.count("incomplete")
        job_info: list[dict[str, Any]] = []
        if jobs:
            rows = await self._read(
                "SELECT job, status FROM saq_jobs WHERE queue = :queue AND status IN ('queued', 'active') "
                "ORDER BY status = 'active' DESC, priority, scheduled LIMIT :limit OFFSET :offset",
                {"queue": self.name, "limit": limit, "offset": offset},
            )
            job_info = [self._job_from_row(payload, status).to_dict() for payload, status in rows]
        return {
            "workers": {worker_id: json.loads(info) for worker_id, info in worker_rows},
            "name": self.name,
            "queued": queued,
            "active": active,
            "scheduled": incomplete - queued - active,
            "jobs": job_info,
        }

    async def write_worker_info(self, worker_id: str, info: WorkerInfo, ttl: int) -> None:
        await self._write(
            "INSERT INTO saq_workers (worker_id, queue, info, expires) "
            "VALUES (:worker_id, :queue, :info, :expires) "
            "ON CONFLICT (worker_id) DO UPDATE SET "
            "queue = excluded.queue, info = excluded.info, expires = excluded.expires",
            {
                "worker_id": worker_id,
                "queue": self.name,
                "info": json.dumps(info),
                "expires": now_seconds() + ttl,
            },
        )
