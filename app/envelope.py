"""The ``{"status": "ok", "response": ...}`` envelope every ``/api/v1`` answer is wrapped in."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any, Generic, Literal, TypeVar

import msgspec

T = TypeVar("T")


class Ok(msgspec.Struct, Generic[T]):
    """A successful answer; generic so the OpenAPI document shows the payload's schema."""

    response: T
    status: Literal["ok"] = "ok"


def ok(payload: T) -> Ok[T]:
    """Wrap ``payload`` in the success envelope."""
    return Ok(response=payload)


class ResultsSubmitted(msgspec.Struct):
    """The one success answer without ``response``: ``submit_results`` (the client only checks ``status``)."""

    message: str = "Results submitted"
    status: Literal["ok"] = "ok"


class ErrorDetail(msgspec.Struct):
    """What went wrong; clients show ``arguments[0]`` (or ``message``) to people."""

    trace_id: str
    exception: str
    message: str
    arguments: list[Any]


class ErrorEnvelope(msgspec.Struct):
    """A failed answer in the existing service's shape."""

    response: ErrorDetail
    status: Literal["error"] = "error"


class AuthErrorEnvelope(msgspec.Struct):
    """The 403 shape of the existing service's login and role checks (``message``, no ``response``)."""

    message: str
    status: Literal["error"] = "error"


def new_trace_id() -> str:
    """A random id that ties an error answer to its log line (base64 of a SHA-256, like upstream)."""
    return base64.b64encode(hashlib.sha256(os.urandom(32)).digest()).decode()


def error_envelope(exception: str, message: str, arguments: list[Any], trace_id: str) -> ErrorEnvelope:
    """Build the error envelope; arguments are made JSON-safe here so encoding never fails."""
    safe = msgspec.json.decode(msgspec.json.encode(arguments, enc_hook=str))
    return ErrorEnvelope(ErrorDetail(trace_id=trace_id, exception=exception, message=message, arguments=safe))
