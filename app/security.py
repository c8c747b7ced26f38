"""Who may call a route: every handler declares an access rule, and guards enforce it.

Callers authenticate with ``Authorization: token <secret>`` exactly as ``argus-alm`` sends it.
The rule lives in the handler's ``opt["access"]`` so the authorization test can read it from the
app's route table and fail for any route that forgot to declare one.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from domain.errors import NotAuthenticated
from domain.users.entities import User

Access = Literal["public", "login"]
PUBLIC: dict[str, Access] = {"access": "public"}
LOGIN: dict[str, Access] = {"access": "login"}
TOKEN_SCHEME = "token"


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The account behind the request's API token; None when no token scheme is used.

    Another scheme (``Bearer`` and the like) is ignored rather than rejected, as the existing service
    does; a malformed or unknown token is an error the caller must see.
    """
    header = connection.headers.get("authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    if scheme != TOKEN_SCHEME:
        return None
    if not secret.strip():
        raise NotAuthenticated("Malformed authorization header")
    user = await connection.app.state.services.users.authenticate_token(secret.strip())
    connection.scope["user"] = user
    return user


async def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for ``LOGIN`` routes: an authenticated account is required."""
    if await authenticate(connection) is None:
        raise NotAuthorizedException("Authorization required")


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    """The account a guard authenticated; only for handlers behind ``login_required``."""
    return connection.scope["user"]
