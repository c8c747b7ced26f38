"""Starting and ending browser sessions: the one place that sets and clears the session cookie.

Every login method (password, GitHub, Cloudflare Access, impersonation) ends in ``start_session``,
so cookie attributes and redirect validation cannot drift apart between them.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from app.security import SESSION_COOKIE, current_session
from domain.users.entities import User
from domain.users.sessions import SessionService

LOCAL_HOSTS = frozenset({"localhost"})


def safe_redirect_target(raw: str | None) -> str:
    """``raw`` when it is a local absolute path (``/runs?x=1``), else ``/``: no open redirects.

    Refuses scheme-relative (``//evil``), backslash tricks (``/\\evil``), absolute URLs and control
    characters, all of which browsers may resolve to another host.
    """
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")) or len(raw) > 2000:
        return "/"
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in raw):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw


def cookie_secure(request: Request[Any, Any, Any]) -> bool:
    """Whether the session cookie gets ``Secure``: always, unless configured off or plain-HTTP localhost."""
    mode = request.app.state.settings.auth.cookie_secure
    if mode != "auto":
        return mode == "on"
    if request.url.scheme == "https":
        return True
    host = (request.url.hostname or "").strip("[]")
    if host in LOCAL_HOSTS:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def session_cookie(request: Request[Any, Any, Any], secret: str, *, max_age: int | None = None) -> Cookie:
    """The session cookie: HttpOnly, SameSite=Lax, whole site, Secure as ``cookie_secure`` decides."""
    return Cookie(key=SESSION_COOKIE, value=secret, path="/", httponly=True, samesite="lax",
                  secure=cookie_secure(request), max_age=max_age)


def _client(request: Request[Any, Any, Any]) -> tuple[str, str]:
    return request.headers.get("user-agent", ""), request.client.host if request.client else ""


async def end_current_session(request: Request[Any, Any, Any]) -> None:
    """End the session the request came with, if any, so an old cookie never outlives a new login."""
    sessions: SessionService = request.app.state.services.sessions
    session = current_session(request)
    if session is None:
        secret = request.cookies.get(SESSION_COOKIE, "")
        session = await sessions.resolve(secret) if secret else None
    if session is not None:
        await sessions.end(session)


async def start_session(request: Request[Any, Any, Any], user: User, redirect_to: str = "/") -> Response[Any]:
    """Start a session for ``user`` and answer 303 to the validated local ``redirect_to`` with its cookie."""
    return await _start(request, user, redirect_to)


async def _start(request: Request[Any, Any, Any], user: User, redirect_to: str, *,
                 original_user: User | None = None) -> Response[Any]:
    await end_current_session(request)
    sessions: SessionService = request.app.state.services.sessions
    user_agent, address = _client(request)
    _, secret = await sessions.start(user.id, user_agent=user_agent, address=address,
                                     original_user_id=original_user.id if original_user else None)
    max_age = request.app.state.settings.auth.session_max_age_seconds
    return Redirect(safe_redirect_target(redirect_to), status_code=HTTP_303_SEE_OTHER,
                    cookies=[session_cookie(request, secret, max_age=max_age)])


async def start_impersonation(request: Request[Any, Any, Any], admin: User, target: User) -> Response[Any]:
    """Replace the administrator's session by one acting as ``target`` and owned by the administrator."""
    return await _start(request, target, "/", original_user=admin)


def logged_out(request: Request[Any, Any, Any], redirect_to: str) -> Response[Any]:
    """A 303 that deletes the session cookie in the browser."""
    expired = session_cookie(request, "", max_age=0)
    return Redirect(safe_redirect_target(redirect_to), status_code=HTTP_303_SEE_OTHER, cookies=[expired])
