"""What replay ingest needs from outside: the log archives a run uploaded while Argus was down."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from domain.errors import DomainError


class LogListingFailed(DomainError):
    """The object store could not be listed (unreachable, refused, or not answering S3 XML)."""


class LogArchive(msgspec.Struct, frozen=True):
    """One uploaded log archive: the name a run page shows and the link that downloads it."""

    name: str
    link: str


class LogArchiveLister(Protocol):
    """Lists the log archives stored for a run (SCT uploads them under ``<bucket>/<run_id>/``).

    A job whose Argus calls failed still uploaded its logs; listing them is how a replay recovers
    the ``logs/submit`` calls that never reached Argus.
    """

    @property
    def enabled(self) -> bool:
        """False when no object store is configured: back-fill is then skipped, not an error."""
        ...

    async def list_archives(self, run_id: str) -> list[LogArchive]:
        """Every archive under the run's prefix; LogListingFailed when the store cannot be listed."""
        ...


class ClientDispatcher(Protocol):
    """Sends a recorded call through the service's own client API, as the client would have.

    Going through the API (not the services directly) means a replayed call gets exactly the
    validation, authorization and idempotency of a live one.
    """

    async def post(self, path: str, params: dict[str, Any] | None, body: Any) -> str | None:
        """POST to ``/api/v1/client{path}``; None on success, else the reason it failed."""
        ...

    async def recorded_logs(self, run_type: str, run_id: str) -> set[str] | None:
        """Names and links of the logs the run already has; None when the run does not exist."""
        ...
