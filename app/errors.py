"""Exception handlers: every failure leaves as the error envelope, never as a stack trace.

Under ``/api/v1/client`` errors are HTTP 200 with the envelope, because the ``argus-alm`` client
only reads the reason from a 200 answer. Elsewhere the envelope travels with a 4xx/5xx status.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from app.envelope import AuthErrorEnvelope, error_envelope, new_trace_id
from domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from domain.results.errors import DataValidationError
from infrastructure.queue.broker import BrokerUnavailable
from infrastructure.storage.store import InvalidCursor, StorageUnavailable

CLIENT_API_PREFIX = "/api/v1/client"
log = structlog.get_logger("argus.errors")

_DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: HTTP_404_NOT_FOUND,
    AlreadyExists: HTTP_409_CONFLICT,
    InvalidInput: HTTP_400_BAD_REQUEST,
    PermissionDenied: HTTP_403_FORBIDDEN,
    NotAuthenticated: 401,
    RateLimited: 429,
}


def _status_for(request: Request[Any, Any, Any], status: int) -> int:
    return HTTP_200_OK if request.url.path.startswith(CLIENT_API_PREFIX) else status


def _respond(request: Request[Any, Any, Any], status: int, exception: str, message: str,
             arguments: list[Any]) -> Response[Any]:
    trace_id = new_trace_id()
    log.info("request failed", trace_id=trace_id, exception=exception, error=message, status=status)
    return Response(error_envelope(exception, message, arguments, trace_id), status_code=_status_for(request, status))


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Named domain failures keep their class name and arguments, as clients display them."""
    status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind)), HTTP_400_BAD_REQUEST)
    # Clients show arguments[0] to people, so the message comes first and the offending values after.
    return _respond(request, status, type(exc).__name__, exc.message, [exc.message, *exc.args[1:]])


def data_validation_handler(request: Request[Any, Any, Any], exc: DataValidationError) -> Response[Any]:
    """Keep ``arguments[0] == "DataValidationError"``: CI tools read it as the regression signal."""
    return _respond(request, HTTP_400_BAD_REQUEST, "DataValidationError", exc.message,
                    ["DataValidationError", exc.message, *exc.error_cells])


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors (validation, unknown route, wrong method, body too large)."""
    if isinstance(exc, NotAuthorizedException | PermissionDeniedException):
        # The existing service answers a missing login with 403 on every route, client API included.
        return Response(AuthErrorEnvelope(message=exc.detail), status_code=HTTP_403_FORBIDDEN)
    message = exc.detail
    arguments: list[Any] = [message]
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        limit = request.app.state.settings.server.max_body_bytes
        message = f"Request body is larger than {limit} bytes (setting server.max_body_bytes)"
        arguments = [message]
    elif isinstance(exc.__cause__, msgspec.ValidationError):
        # msgspec's own message carries the full path of the bad field (``$.data.rel.groups``).
        message = f"{message}: {exc.__cause__}".replace("`$.data.", "`$.").replace("`$.data`", "`$`")
        arguments = [message]
    elif isinstance(exc.extra, list) and exc.extra:
        # Litestar's validation detail: say which field and why, so the fix is obvious.
        problems = [f"{e.get('key', '?')}: {e.get('message', '')}" if isinstance(e, dict) else str(e)
                    for e in exc.extra]
        message = f"{message}: {'; '.join(problems)}"
        arguments = [message]
    return _respond(request, exc.status_code, type(exc).__name__, message, arguments)


def cursor_error_handler(request: Request[Any, Any, Any], exc: InvalidCursor) -> Response[Any]:
    """A tampered or foreign paging cursor is the caller's mistake."""
    return _respond(request, HTTP_400_BAD_REQUEST, "InvalidCursor", str(exc), [str(exc)])


def unavailable_handler(request: Request[Any, Any, Any], exc: StorageUnavailable | BrokerUnavailable
                        ) -> Response[Any]:
    """Database or broker outage: 503 everywhere (even the client API), so retries make sense."""
    trace_id = new_trace_id()
    log.warning("dependency unavailable", trace_id=trace_id, error=str(exc))
    body = error_envelope(type(exc).__name__, "Service temporarily unavailable, retry later", [str(exc)], trace_id)
    return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: log the traceback with a trace id, show the caller only the id and the class name."""
    trace_id = new_trace_id()
    log.error("unhandled exception", trace_id=trace_id, exc_info=exc)
    body = error_envelope(type(exc).__name__, "Internal error; quote the trace id when reporting it", [trace_id],
                          trace_id)
    return Response(body, status_code=_status_for(request, HTTP_500_INTERNAL_SERVER_ERROR))


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    DataValidationError: data_validation_handler,
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    InvalidCursor: cursor_error_handler,
    StorageUnavailable: unavailable_handler,
    BrokerUnavailable: unavailable_handler,
    Exception: unexpected_error_handler,
}
