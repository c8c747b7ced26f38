"""What every server-rendered page knows: the service version and who is looking.

Pages are public or login-only, but the header shows the viewer on all of them, so the identity is
resolved here rather than by a guard. The viewer reaches the template as the same public fields
``GET /api/v1/user/me`` returns (never a token or a hash), plus the session's CSRF token that the
logout form and a JSON frontend send back.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from app.auth.schemas import CurrentUser
from app.security import authenticate
from app.system.controller import service_version
from domain.errors import NotAuthenticated


async def page_context(request: Request[Any, Any, Any], **context: Any) -> dict[str, Any]:
    """``context`` plus ``version`` and ``current_user`` (a dict, or None for anonymous viewers)."""
    try:
        user = await authenticate(request)
    except NotAuthenticated:
        user = None  # a bad API token on a page: the page still renders, for nobody
    viewer = msgspec.to_builtins(CurrentUser.of(request, user)) if user is not None else None
    return {"version": service_version(), "current_user": viewer, **context}
