"""One structured log line per HTTP request, with a request id bound to every line it causes.

It wraps Litestar's whole ASGI handler rather than being a route middleware, so requests that
match no route (404, 405) are logged too. The route is the template (``/api/v1/test/{test_id}``),
never the raw path, and no header value is logged.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.observability import metrics

REQUEST_ID_HEADER = b"x-request-id"
# A caller-supplied id is kept only when it is short and plain, so it cannot forge log content.
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
log = structlog.get_logger("argus.http")


class RequestLogger:
    """ASGI wrapper: binds ``request_id``, echoes it in ``X-Request-ID``, logs the outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Log HTTP requests; pass anything else (websockets) straight through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"")
        request_id = incoming.decode() if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._log(scope, status, time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, status: int, seconds: float) -> None:
        user: Any = scope.get("user")
        fields = {
            "method": scope["method"],
            "route": scope.get("path_template") or "<unmatched>",
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "user": getattr(user, "username", None),
        }
        if fields["route"] == "<unmatched>":
            # Route-labelled request metrics skip these; count them apart with a bounded label set.
            metrics.unmatched_requests.labels(scope["method"] if scope["method"] in _METHODS else "OTHER",
                                              str(status)).inc()
        if status >= 500:
            log.error("request", **fields)
        else:
            log.info("request", **fields)
