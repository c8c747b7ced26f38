"""Operational routes: version, liveness and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from importlib.metadata import PackageNotFoundError, version

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.envelope import Ok, ok
from app.security import PUBLIC
from infrastructure.composition import Services
from infrastructure.queue.broker import BrokerUnavailable, ping_queue
from infrastructure.storage.store import StorageUnavailable

READINESS_TIMEOUT_SECONDS = 3.0


def service_version() -> str:
    """The installed package version (source checkouts report the pyproject version once installed)."""
    try:
        return version("argus")
    except PackageNotFoundError:
        return "0+unknown"


class VersionInfo(msgspec.Struct):
    """What build is answering; ``commit_id`` keeps the existing service's field name."""

    commit_id: str
    version: str
    storage_engine: str


class Check(msgspec.Struct):
    """The outcome of one readiness probe."""

    ok: bool
    detail: str = ""


class Readiness(msgspec.Struct):
    """Readiness of each dependency; ``ready`` only when all answer."""

    ready: bool
    database: Check
    job_broker: Check


async def _probe(check: Awaitable[None]) -> Check:
    try:
        await asyncio.wait_for(check, READINESS_TIMEOUT_SECONDS)
    except (StorageUnavailable, BrokerUnavailable) as exc:
        return Check(ok=False, detail=str(exc))
    except TimeoutError:
        return Check(ok=False, detail=f"no answer within {READINESS_TIMEOUT_SECONDS:g} s")
    return Check(ok=True)


class SystemController(Controller):
    """Routes operators and load balancers call; none needs a login."""

    tags = ["system"]

    @get("/api/v1/version", operation_id="getVersion", opt=PUBLIC)
    async def get_version(self, services: NamedDependency[Services]) -> Ok[VersionInfo]:
        """The running version."""
        current = service_version()
        return ok(VersionInfo(commit_id=current, version=current, storage_engine=services.store.engine))

    @get("/healthz", operation_id="getHealth", opt=PUBLIC, include_in_schema=True)
    async def healthz(self) -> dict[str, str]:
        """The process is up and serving; says nothing about dependencies."""
        return {"status": "ok"}

    @get("/readyz", operation_id="getReadiness", opt=PUBLIC)
    async def readyz(self, services: NamedDependency[Services]) -> Response[Readiness]:
        """Ready when the database and the job broker both answer; 503 otherwise."""
        database, broker = await asyncio.gather(_probe(services.store.ping()), _probe(ping_queue(services.queue)))
        ready = database.ok and broker.ok
        return Response(Readiness(ready=ready, database=database, job_broker=broker),
                        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE)
