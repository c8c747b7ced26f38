"""What a CI job says about a run when it registers it, whatever its type."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from domain.runs.entities import LogLink


class RunSubmission(msgspec.Struct, kw_only=True):
    """The type-neutral part of a submit call; ``details`` carries the type's own scalar fields."""

    run_id: UUID
    build_id: str
    build_url: str = ""
    started_by: str | None = None
    product_version: str | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    logs: list[LogLink] = msgspec.field(default_factory=list)
    # Keys of ``details`` a re-sent submit writes again (SCT re-derives them from its configuration).
    refreshed_details: tuple[str, ...] = ()
