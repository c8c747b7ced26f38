"""The ``send_report_email`` job and the outbox that queues it.

The request renders and validates the report; the job only delivers it, so SMTP slowness or an
outage never holds a CI request, and SAQ records (and retries) a failed delivery.
"""

from __future__ import annotations

from typing import Any

import msgspec
import saq
from saq.types import Context

from domain.sct.report import EmailMessage

SEND_REPORT_EMAIL = "send_report_email"
# SMTP servers refuse transiently (greylisting, restarts): a few spaced attempts before the job fails for good.
RETRIES = 3
TIMEOUT_SECONDS = 120


class SAQReportOutbox:
    """Queues finished report messages as ``send_report_email`` jobs."""

    def __init__(self, queue: saq.Queue) -> None:
        self._queue = queue

    async def enqueue(self, message: EmailMessage) -> None:
        """Queue the message; attachments travel base64-encoded in the job's JSON payload."""
        await self._queue.enqueue(SEND_REPORT_EMAIL, message=msgspec.to_builtins(message), retries=RETRIES,
                                  retry_delay=30.0, retry_backoff=True, timeout=TIMEOUT_SECONDS)


async def send_report_email(ctx: Context, *, message: dict[str, Any]) -> int:
    """Deliver one queued report through the services' ``Mailer``; returns the number of recipients."""
    email = msgspec.convert(message, EmailMessage)
    await ctx["services"].mailer.send(email)  # type: ignore[typeddict-item]
    return len(email.to)
