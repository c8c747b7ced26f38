"""Bodies ``ArgusSCTClient`` sends for events and nemeses."""

from __future__ import annotations

from typing import Annotated

import msgspec

from domain.sct.events import EventPayload

# What the storage columns hold (bigint start time, int shards), so an absurd value is a clear 400
# envelope rather than a database error.
EpochSeconds = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Shards = Annotated[int, msgspec.Meta(ge=0, lt=2**31)]


class EventSubmit(msgspec.Struct):
    """``submit_event``: one event or a list of them."""

    data: EventPayload | list[EventPayload]
    schema_version: str | None = None


class NemesisStart(msgspec.Struct):
    """The nemesis of ``submit_nemesis``; ``description`` is accepted and not stored, as upstream."""

    name: str
    class_name: str
    start_time: EpochSeconds
    node_name: str
    node_ip: str
    node_shards: Shards
    description: str | None = None


class NemesisSubmit(msgspec.Struct):
    """``submit_nemesis``."""

    nemesis: NemesisStart
    schema_version: str | None = None


class NemesisOutcome(msgspec.Struct):
    """The nemesis of ``finalize_nemesis``; ``status`` is checked by the domain for a useful message."""

    name: str
    start_time: EpochSeconds
    status: str
    message: str


class NemesisFinalize(msgspec.Struct):
    """``finalize_nemesis``."""

    nemesis: NemesisOutcome
    schema_version: str | None = None
