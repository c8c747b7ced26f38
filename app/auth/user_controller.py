"""The current user's identity over JSON: who am I, the user directory, my API tokens and sessions."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from app.auth.schemas import (
    AuditPage,
    CliToken,
    CurrentUser,
    IssuedToken,
    Revoked,
    SessionInfo,
    TokenInfo,
    TokenRequest,
    UserBrief,
)
from app.caching import etag_response
from app.envelope import Ok, ok
from app.security import ADMIN, LOGIN, admin_required, current_session, current_user, login_required
from domain.users.audit import AuditLog
from domain.users.service import UserService
from domain.users.sessions import SessionService

CLI_TOKEN_NAME = "cli"


def _owner_id(request: Request[Any, Any, Any]) -> UUID:
    """The person behind the request: the administrator when impersonating, else the account itself."""
    session = current_session(request)
    return session.owner_id if session else current_user(request).id


class UserController(Controller):
    """``/api/v1/user...`` and ``/api/v1/users``."""

    path = "/api/v1"
    tags = ["users"]
    guards = [login_required]
    opt = LOGIN

    @get("/user/me", operation_id="currentUser")
    async def me(self, request: Request[Any, Any, Any]) -> Ok[CurrentUser]:
        """The account the request acts as; pages and the frontend read identity from here."""
        return ok(CurrentUser.of(request, current_user(request)))

    @get("/users", operation_id="listUsers")
    async def users(self, request: Request[Any, Any, Any], users: NamedDependency[UserService]
                    ) -> Response[Ok[dict[str, UserBrief]]]:
        """Every account keyed by id; the UI polls it, so an unchanged list answers 304."""
        return etag_response(request, {str(u.id): UserBrief.of(u) for u in await users.list_users()})

    @get("/user/token", operation_id="issueCliToken")
    async def cli_token(self, request: Request[Any, Any, Any], users: NamedDependency[UserService]
                        ) -> Ok[CliToken]:
        """A new API token named "cli" (only hashes are stored, so an old one cannot be shown again)."""
        _, secret = await users.issue_token(current_user(request).id, CLI_TOKEN_NAME)
        return ok(CliToken(token=secret))

    @get("/user/tokens", operation_id="listTokens")
    async def tokens(self, request: Request[Any, Any, Any], users: NamedDependency[UserService]
                     ) -> Ok[list[TokenInfo]]:
        """The account's tokens, newest first, without secrets."""
        return ok([TokenInfo.of(t) for t in await users.list_tokens(current_user(request).id)])

    @post("/user/tokens", operation_id="createToken", status_code=200)
    async def create_token(self, request: Request[Any, Any, Any], users: NamedDependency[UserService],
                           data: JSONBody[TokenRequest]) -> Ok[IssuedToken]:
        """A new named token; its secret is in this answer and nowhere else, ever."""
        token, secret = await users.issue_token(current_user(request).id, data.name)
        return ok(IssuedToken(id=token.id, name=token.name, created_at=token.created_at, token=secret))

    @post("/user/tokens/{token_id:uuid}/revoke", operation_id="revokeToken", status_code=200)
    async def revoke_token(self, request: Request[Any, Any, Any], users: NamedDependency[UserService],
                           token_id: FromPath[UUID]) -> Ok[Revoked]:
        """Revoke one of the account's tokens; it stops working on the next request."""
        await users.revoke_token(current_user(request).id, token_id)
        return ok(Revoked())

    @get("/user/sessions", operation_id="listSessions")
    async def sessions(self, request: Request[Any, Any, Any], sessions: NamedDependency[SessionService]
                       ) -> Ok[list[SessionInfo]]:
        """The person's live browser sessions, most recently used first."""
        current = current_session(request)
        return ok([SessionInfo.of(s, current) for s in await sessions.list_for_user(_owner_id(request))])

    @post("/user/sessions/{session_id:uuid}/revoke", operation_id="revokeSession", status_code=200)
    async def revoke_session(self, request: Request[Any, Any, Any], sessions: NamedDependency[SessionService],
                             session_id: FromPath[UUID]) -> Ok[Revoked]:
        """End one of the person's sessions (logs that browser out at once)."""
        await sessions.revoke(_owner_id(request), session_id)
        return ok(Revoked())


class AuditController(Controller):
    """``/admin/api/v1/audit``: what administrators did, newest first."""

    path = "/admin/api/v1"
    tags = ["admin"]
    guards = [admin_required]
    opt = ADMIN

    @get("/audit", operation_id="listAuditLog")
    async def audit(self, audit: NamedDependency[AuditLog],
                    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
                    cursor: Annotated[str | None, QueryParameter(max_length=4096)] = None) -> Ok[AuditPage]:
        """A page of entries; pass ``cursor`` from the previous answer for the next."""
        entries, next_cursor = await audit.newest(limit, cursor)
        return ok(AuditPage(entries=entries, cursor=next_cursor))
