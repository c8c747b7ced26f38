"""The clock port: services ask it for the time so tests can pin it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Source of the current time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The real clock; storage keeps millisecond precision, so the time is truncated to it."""

    def now(self) -> datetime:
        """The current UTC time, truncated to milliseconds."""
        moment = datetime.now(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
