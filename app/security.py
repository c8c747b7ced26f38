"""Who may call a route: every handler declares an access rule, and guards enforce it.

Callers authenticate with ``Authorization: token <secret>`` exactly as ``argus-alm`` sends it, or
with the browser session cookie. The rule lives in the handler's ``opt["access"]`` so the
authorization test can read it from the app's route table and fail for any route that forgot to
declare one.

Cookie-authenticated unsafe requests must carry the session's CSRF token (``X-CSRF-Token`` header
or ``csrf_token`` form field). Token-authenticated and anonymous requests are unaffected: a
cross-site page can neither read the cookie-bound token nor set an ``Authorization`` header.
"""

from __future__ import annotations

import hmac
from typing import Any, Literal

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.errors import NotAuthenticated, NotFound
from domain.users.entities import Role, Session, User
from domain.users.sessions import csrf_token_for

Access = Literal["public", "login", "admin"]
PUBLIC: dict[str, Access] = {"access": "public"}
LOGIN: dict[str, Access] = {"access": "login"}
ADMIN: dict[str, Access] = {"access": "admin"}
TOKEN_SCHEME = "token"
SESSION_COOKIE = "argus_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Scope keys; the scope never reaches a log.
_RESOLVED = "argus.auth_resolved"
_SESSION = "argus.session"
_SECRET = "argus.session_secret"


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The account behind the request: its API token, else its session cookie; None when anonymous.

    Another ``Authorization`` scheme (``Bearer`` and the like) is ignored rather than rejected, as
    the existing service does; a malformed or unknown token is an error the caller must see. The
    answer is remembered for the rest of the request, so guards and handlers may both ask.
    """
    if connection.scope.get(_RESOLVED):
        return connection.scope.get("user")
    header = connection.headers.get("authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    if scheme == TOKEN_SCHEME:
        if not secret.strip():
            raise NotAuthenticated("Malformed authorization header")
        user: User | None = await connection.app.state.services.users.authenticate_token(secret.strip())
    else:
        user = await session_user(connection)
    connection.scope[_RESOLVED] = True  # type: ignore[literal-required]
    if user is not None:
        connection.scope["user"] = user
    return user


async def session_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The enabled account of the session cookie, whatever ``Authorization`` says; a stale cookie is anonymous.

    Unsafe requests with a live session must carry its CSRF token.
    """
    secret = connection.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    services = connection.app.state.services
    session: Session | None = await services.sessions.resolve(secret)
    if session is None:
        return None
    try:
        user: User = await services.users.get_user(session.user_id)
    except NotFound:
        return None
    if user.disabled:
        return None
    if connection.scope.get("method", "GET") in UNSAFE_METHODS:
        await _check_csrf(connection, secret)
    connection.scope[_SESSION] = session  # type: ignore[literal-required]
    connection.scope[_SECRET] = secret  # type: ignore[literal-required]
    return user


async def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any], secret: str) -> None:
    presented = connection.headers.get(CSRF_HEADER, "")
    if not presented and isinstance(connection, Request) and connection.content_type[0] in FORM_TYPES:
        value = (await connection.form()).get(CSRF_FIELD, "")
        presented = value if isinstance(value, str) else ""
    if not hmac.compare_digest(presented.encode(), csrf_token_for(secret).encode()):
        raise PermissionDeniedException("CSRF token missing or invalid")


async def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for ``LOGIN`` routes: an authenticated account of any role, service accounts included."""
    if await authenticate(connection) is None:
        raise NotAuthorizedException("Authorization required")


async def admin_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for ``ADMIN`` routes: anyone else, anonymous included, gets 403 "Forbidden" as before.

    While an administrator impersonates a service account, requests act as that account, so the
    admin area is closed until the impersonation stops.
    """
    user = await authenticate(connection)
    if user is None or not user.has_role(Role.ADMIN):
        raise PermissionDeniedException("Forbidden")


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    """The account a guard authenticated; only for handlers behind ``login_required``/``admin_required``."""
    return connection.scope["user"]


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> Session | None:
    """The browser session the request was authenticated with; None for API tokens and anonymous calls."""
    return connection.scope.get(_SESSION)


def is_impersonating(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether an administrator is acting as a service account in this request's session."""
    session = current_session(connection)
    return session is not None and session.original_user_id is not None


def csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The CSRF token of the request's session, for pages and the JSON frontend to send back."""
    secret = connection.scope.get(_SECRET)
    return csrf_token_for(secret) if secret else None
