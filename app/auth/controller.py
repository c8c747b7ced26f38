"""Browser login and logout with a password, and administrators' impersonation of service accounts.

Login forms are protected against login CSRF with a double-submit cookie: ``GET /auth/login`` sets a
random value in an HttpOnly cookie and in the form, and ``POST /auth/login`` requires both to match,
so another site cannot log a visitor into an account of its choosing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_404_NOT_FOUND,
    HTTP_429_TOO_MANY_REQUESTS,
)

from app.auth.login import (
    end_current_session,
    logged_out,
    safe_redirect_target,
    start_impersonation,
    start_session,
)
from app.security import (
    ADMIN,
    LOGIN,
    PUBLIC,
    admin_required,
    current_session,
    current_user,
    login_required,
    session_user,
)
from app.system.controller import service_version
from domain.errors import InvalidInput, NotAuthenticated, PermissionDenied, RateLimited
from domain.users.audit import AuditLog
from domain.users.entities import Role
from domain.users.login import PasswordLogin
from domain.users.service import UserService

LOGIN_CSRF_COOKIE = "argus_login_csrf"
MAX_FIELD = 1024
NextPath = Annotated[str | None, QueryParameter(name="next", description="local path to return to after login")]


def _login_page(request: Request[Any, Any, Any], *, error: str = "", next_path: str = "/",
                status_code: int = 200) -> Template:
    """The login page with a fresh login-CSRF value in the form and in its cookie."""
    value = secrets.token_urlsafe(32)
    cookie = Cookie(key=LOGIN_CSRF_COOKIE, value=value, path="/auth", httponly=True, samesite="strict",
                    max_age=3600)
    context = {"version": service_version(), "methods": request.app.state.settings.auth.login_methods,
               "error": error, "next": safe_redirect_target(next_path), "login_csrf": value}
    return Template("auth/login.html.j2", context=context, status_code=status_code, cookies=[cookie])


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


async def _target_user_id(request: Request[Any, Any, Any]) -> UUID:
    """``user_id`` from the form or the JSON body, as the admin page or a script sends it."""
    if request.content_type[0] == "application/json":
        body = await request.json()
        raw = body.get("user_id") if isinstance(body, dict) else None
    else:
        raw = (await request.form()).get("user_id")
    try:
        return UUID(str(raw))
    except ValueError:
        raise InvalidInput("user_id must be a UUID", str(raw)[:64]) from None


class AuthController(Controller):
    """``/auth``: the login page, password login, logout, impersonation."""

    path = "/auth"
    include_in_schema = False

    @get("/login", operation_id="loginPage", opt=PUBLIC)
    async def login_page(self, request: Request[Any, Any, Any], next_path: NextPath = None) -> Template:
        """The login page, offering only the enabled methods."""
        return _login_page(request, next_path=next_path or "/")

    @post("/login", operation_id="passwordLogin", opt=PUBLIC)
    async def login(self, request: Request[Any, Any, Any],
                    password_login: NamedDependency[PasswordLogin]) -> Response[Any]:
        """Check the password and start a session; every failure looks the same to the caller."""
        form = await request.form()
        next_path = _field(form, "next") or "/"
        if "password" not in request.app.state.settings.auth.login_methods:
            return _login_page(request, error="Password login is disabled", next_path=next_path,
                               status_code=HTTP_404_NOT_FOUND)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(_field(form, "csrf_token").encode(), expected.encode()):
            return _login_page(request, error="The login form expired; please try again", next_path=next_path,
                               status_code=HTTP_400_BAD_REQUEST)
        address = request.client.host if request.client else ""
        try:
            user = await password_login.login(_field(form, "username"), _field(form, "password"), address)
        except RateLimited as exc:
            page = _login_page(request, error=exc.message, next_path=next_path,
                               status_code=HTTP_429_TOO_MANY_REQUESTS)
            page.headers["Retry-After"] = str(request.app.state.settings.auth.login_failure_window_seconds)
            return page
        except NotAuthenticated as exc:
            return _login_page(request, error=exc.message, next_path=next_path, status_code=HTTP_401_UNAUTHORIZED)
        response = await start_session(request, user, next_path)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/auth")
        return response

    @post("/logout", operation_id="logout", opt=PUBLIC)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session server-side (a copied cookie dies too) and clear the cookie."""
        await session_user(request)  # a live session must prove the logout is not cross-site (CSRF)
        await end_current_session(request)
        return logged_out(request, "/auth/login")

    @post("/admin/impersonate", operation_id="startImpersonation", guards=[admin_required], opt=ADMIN)
    async def impersonate(self, request: Request[Any, Any, Any], users: NamedDependency[UserService],
                          audit: NamedDependency[AuditLog]) -> Response[Any]:
        """Act as a service account in this browser session; the audit log records it."""
        admin = current_user(request)
        if current_session(request) is None:
            raise InvalidInput("Impersonation needs a browser session, not an API token")
        target = await users.get_user(await _target_user_id(request))
        if not target.has_role(Role.SERVICE) or target.disabled:
            raise PermissionDenied("Only enabled service accounts can be impersonated", str(target.id))
        response = await start_impersonation(request, admin, target)
        await audit.record(admin.id, "impersonation.start", str(target.id), {"username": target.username})
        return response

    @post("/admin/impersonate/stop", operation_id="stopImpersonation", guards=[login_required], opt=LOGIN)
    async def stop_impersonating(self, request: Request[Any, Any, Any], users: NamedDependency[UserService],
                                 audit: NamedDependency[AuditLog]) -> Response[Any]:
        """Return to the administrator's own account (a fresh session); the audit log records it."""
        session = current_session(request)
        if session is None or session.original_user_id is None:
            raise InvalidInput("This session is not impersonating anyone")
        impersonated = current_user(request)
        admin = await users.get_user(session.original_user_id)
        await audit.record(admin.id, "impersonation.stop", str(impersonated.id),
                           {"username": impersonated.username})
        if admin.disabled or not admin.has_role(Role.ADMIN):
            await end_current_session(request)
            return logged_out(request, "/auth/login")
        return await start_session(request, admin, "/")
