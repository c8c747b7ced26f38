"""A real SMTP server for tests: ``aiosmtpd`` on a free local port, keeping every message it receives."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as MIMEMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message as the server saw it: envelope sender and recipients, and the parsed MIME message."""

    sender: str
    recipients: list[str]
    message: MIMEMessage


@dataclass
class Inbox:
    """The aiosmtpd handler; ``port`` is where the server listens."""

    port: int = 0
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until ``count`` messages arrived (for servers in other processes); fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} messages after {timeout} s"
            time.sleep(0.1)
        return self.received


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    """Run the server (in aiosmtpd's own thread) for the duration of the block."""
    inbox = Inbox(port=_free_port())
    server = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    server.start()
    try:
        yield inbox
    finally:
        server.stop()
