"""GitHub OAuth and Cloudflare Access logins: browser round trips that end in a server-side session.

The OAuth ``state`` is bound to the browser that started the login by a short-lived HttpOnly,
SameSite=Lax cookie holding only the SHA-256 of the state (and where to go afterwards), scoped to
the callback path; a callback whose state does not hash to the cookie is refused, so a forged
callback cannot log a victim into the attacker's account. Failures render a page with the reason
and a 4xx status; nothing is created on a refused login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote, unquote

import structlog
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from app.auth.login import cookie_secure, safe_redirect_target, start_session
from app.security import PUBLIC, authenticate, is_impersonating
from app.system.controller import service_version
from domain.errors import DomainError, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from domain.users.external import ExternalLoginService
from infrastructure.settings import Settings

GITHUB_CALLBACK = "/profile/oauth/github"
STATE_COOKIE = "argus_github_state"
STATE_MAX_AGE_SECONDS = 600
CF_TOKEN_HEADER = "cf-access-jwt-assertion"
# The Go CLI sends the token it got from ``cloudflared access login`` under the edge's cookie name.
CF_TOKEN_COOKIE = "CF_Authorization"
GITHUB = {**PUBLIC, "provider": "GitHub"}
CLOUDFLARE = {**PUBLIC, "provider": "Cloudflare Access"}
_PAGE_STATUS: dict[type[DomainError], int] = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404}
log = structlog.get_logger("argus.auth")


def _page(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=str, media_type=MediaType.HTML, description=description,
                        generate_examples=False)


# Documented answers besides the 303 of a successful login; each is an HTML page with the reason.
REFUSALS = {401: _page("the provider did not vouch for the person (rejected code, invalid or expired token)"),
            403: _page("refused: state mismatch, not a member of the required organisations, disabled account, "
                       "or sign-up closed to the address"),
            404: _page("this login method is not enabled")}

NextTarget = Annotated[str | None, QueryParameter(name="next", description="where to go after the login")]
# ``state`` is a name Litestar reserves for the application state, hence the alias.
OAuthState = Annotated[str | None, QueryParameter(name="state", description="the state sent to GitHub")]


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _state_cookie(state: str, target: str) -> str:
    return f"{_digest(state)}.{quote(target, safe='')}"


def _read_state_cookie(value: str | None) -> tuple[str, str]:
    """The state digest and the redirect target; empty strings when the cookie is missing."""
    digest, _, target = (value or "").partition(".")
    return digest, unquote(target)


def _require_method(settings: Settings, method: str, configured: bool, name: str) -> None:
    """Methods not switched on in ``auth.login_methods``, or without credentials, do not exist."""
    if method not in settings.auth.login_methods or not configured:
        raise NotFound(f"{name} login is not enabled on this server")


def login_failed_page(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """The reason on a page with a 4xx status; the half-finished login's state cookie is dropped."""
    status = next((code for kind, code in _PAGE_STATUS.items() if isinstance(exc, kind)), 400)
    provider = request.route_handler.opt.get("provider", "External")
    log.info("external login refused", provider=provider, error=exc.message, status=status)
    page = Template("auth/external_login_failed.html.j2", status_code=status,
                    context={"provider": provider, "message": exc.message, "version": service_version()})
    if STATE_COOKIE in request.cookies:
        page.delete_cookie(STATE_COOKIE, path=GITHUB_CALLBACK)
    return page


class ExternalLoginController(Controller):
    """Logins vouched for by GitHub or Cloudflare Access, enabled by ``auth.login_methods``."""

    tags = ["auth"]
    exception_handlers = {DomainError: login_failed_page}

    @get("/auth/login/github", operation_id="startGithubLogin", opt=GITHUB, status_code=302,
         responses={404: REFUSALS[404]})
    async def start_github(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings],
                           external_logins: NamedDependency[ExternalLoginService],
                           target: NextTarget = None) -> Redirect:
        """Send the browser to GitHub's consent page with a fresh state bound to this browser."""
        _require_method(settings, "gh", external_logins.github_configured, "GitHub")
        state = secrets.token_urlsafe(32)
        redirect = Redirect(external_logins.github_authorize_url(state), status_code=302)
        redirect.set_cookie(STATE_COOKIE, _state_cookie(state, safe_redirect_target(target)),
                            max_age=STATE_MAX_AGE_SECONDS, path=GITHUB_CALLBACK, httponly=True, samesite="lax",
                            secure=cookie_secure(request))
        return redirect

    @get(GITHUB_CALLBACK, operation_id="finishGithubLogin", opt=GITHUB, status_code=303, responses=REFUSALS)
    async def finish_github(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings],
                            external_logins: NamedDependency[ExternalLoginService],
                            code: FromQuery[str | None] = None, oauth_state: OAuthState = None,
                            error: FromQuery[str | None] = None,
                            error_description: FromQuery[str | None] = None) -> Response[Any]:
        """GitHub's callback: check the state, exchange the code, log in (or link to the signed-in account)."""
        _require_method(settings, "gh", external_logins.github_configured, "GitHub")
        expected, target = _read_state_cookie(request.cookies.get(STATE_COOKIE))
        if not oauth_state or not expected or not hmac.compare_digest(expected, _digest(oauth_state)):
            raise PermissionDenied("This login did not start in this browser or took too long; start it again")
        if error:
            raise NotAuthenticated(f"GitHub did not approve the login: {error_description or error}")
        if not code:
            raise InvalidInput("GitHub sent no authorization code")
        identity = await external_logins.github_identity(code)
        # Someone already signed in is linking GitHub to their account rather than logging in.
        signed_in = await authenticate(request)
        if signed_in is not None:
            if is_impersonating(request):  # the identity would end up opening the service account
                raise PermissionDenied("Stop impersonating before linking a GitHub account")
            await external_logins.link(signed_in, identity)
            response: Response[Any] = Redirect(safe_redirect_target(target), status_code=303)
        else:
            response = await start_session(request, await external_logins.login(identity),
                                           safe_redirect_target(target))
        response.delete_cookie(STATE_COOKIE, path=GITHUB_CALLBACK)
        return response

    @get("/auth/login/cf", operation_id="cloudflareAccessLogin", opt=CLOUDFLARE, status_code=303,
         responses=REFUSALS)
    async def cloudflare_get(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings],
                             external_logins: NamedDependency[ExternalLoginService],
                             target: NextTarget = None) -> Response[Any]:
        """Log in with the Access JWT the Cloudflare edge attached (header or cookie)."""
        return await _cloudflare_login(request, settings, external_logins, target)

    @post("/auth/login/cf", operation_id="cloudflareAccessLoginPost", opt=CLOUDFLARE, status_code=303,
          responses=REFUSALS)
    async def cloudflare_post(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings],
                              external_logins: NamedDependency[ExternalLoginService],
                              target: NextTarget = None) -> Response[Any]:
        """The same, as the login page's button and the Go CLI call it."""
        return await _cloudflare_login(request, settings, external_logins, target)


async def _cloudflare_login(request: Request[Any, Any, Any], settings: Settings,
                            external_logins: ExternalLoginService, target: str | None) -> Response[Any]:
    _require_method(settings, "cf", external_logins.access_configured, "Cloudflare Access")
    token = request.headers.get(CF_TOKEN_HEADER) or request.cookies.get(CF_TOKEN_COOKIE)
    if not token:
        raise NotAuthenticated("No Cloudflare Access token: the Cf-Access-Jwt-Assertion header and the "
                               "CF_Authorization cookie are both missing")
    user = await external_logins.login(await external_logins.access_identity(token))
    return await start_session(request, user, safe_redirect_target(target))
