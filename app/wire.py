"""Wire conventions of the existing service that msgspec does not produce by itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from domain.errors import InvalidInput

T = TypeVar("T")


class MalformedBody(InvalidInput):
    """The request body is not JSON of the expected shape (unknown key, wrong type, missing field)."""


def parse_uuid(raw: str, what: str) -> UUID:
    """An id from a URL or query string; a malformed one is the caller's mistake (400, not 404)."""
    try:
        return UUID(raw.strip())
    except ValueError:
        raise InvalidInput(f"badly formed {what}: {raw!r}", raw) from None


def format_datetime(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC, the one datetime format ``argus-alm`` and the UI read."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def decode_body(raw: bytes, kind: type[T]) -> T:
    """Decode a JSON body into ``kind``; the error names the offending field, as clients show it."""
    if not raw.strip():
        raise MalformedBody("Request body is empty; a JSON object is expected")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise MalformedBody(f"Invalid request body: {exc}", str(exc)) from None
    except msgspec.DecodeError as exc:
        raise MalformedBody(f"Request body is not valid JSON: {exc}", str(exc)) from None


def jsonable(value: Any) -> Any:
    """Builtins ready for the envelope: datetimes in the wire format, UUIDs and enums as strings."""
    return _format_datetimes(msgspec.to_builtins(value, builtin_types=(datetime,)))


def _format_datetimes(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, dict):
        return {key: _format_datetimes(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_format_datetimes(item) for item in value]
    return value
