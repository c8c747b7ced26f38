"""structlog set-up: JSON lines for log shippers, a readable console for people at a terminal.

Standard-library loggers (uvicorn, the Cassandra driver, SAQ) are routed through the same
processors so every line has one shape, and secrets are masked before anything is rendered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from infrastructure.settings import LogSettings

REDACTED = "[redacted]"
# Keys whose values must never reach a log line, whatever logs them.
SECRET_KEYS = frozenset({
    "authorization", "cookie", "set-cookie", "password", "password_hash", "token", "api_token", "secret",
    "session", "csrf_token", "x-csrf-token",
})


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask secret-looking keys at any depth of the event dict."""
    return _redact(event)


def drop_color_message(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """uvicorn adds an ANSI-coloured copy of its message; it is noise in JSON and duplicated on a console."""
    event.pop("color_message", None)
    return event


def _redact(value: Any) -> Any:
    if isinstance(value, MutableMapping):
        for key in list(value):
            value[key] = REDACTED if str(key).lower() in SECRET_KEYS else _redact(value[key])
    elif isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _renderer(settings: LogSettings) -> Any:
    as_json = settings.format == "json" or (settings.format == "auto" and not sys.stderr.isatty())
    return structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()


def configure_logging(settings: LogSettings) -> None:
    """Install the processors on structlog and on the root standard-library logger."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
        drop_color_message,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info,
                    _renderer(settings)],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # uvicorn's access log would duplicate our request lines without the request id and user.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("cassandra").setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
