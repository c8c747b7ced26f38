"""``GET /api/v1/test/<build id>/<build number>``: the stable link the CLI prints before a run exists.

The build id is a Jenkins path with slashes, and Litestar's router cannot hold a ``path`` parameter
beside the ``/api/v1/test/{test_id}/...`` routes: every parameter at one position shares one trie
node, so a ``path`` parameter there would swallow ``/test/<id>/details`` and the rest. Instead a thin
ASGI wrapper recognises the one shape none of those routes has (the last segment is a number) and
hands the request to a route of its own, with the build number first and the build id last.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send

from app.envelope import Ok, ok
from app.runs.schemas import BuildLink
from app.security import LOGIN, login_required
from domain.runs.browsing import RunBrowser

PUBLIC_PREFIX = "/api/v1/test/"
ROUTED_PREFIX = "/api/v1/build-link"
# No /api/v1/test/{test_id}/... route ends in a number, so this shape is unambiguous.
_BUILD_LINK = re.compile(r"^/api/v1/test/(?P<build_id>.+)/(?P<build_number>[0-9]{1,9})/?$")


class BuildLinkRouting:
    """ASGI wrapper placed before the router: rewrites build links to the build-link route's path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite ``/api/v1/test/<build id>/<n>``; pass everything else through untouched."""
        if scope["type"] == "http" and scope["path"].startswith(PUBLIC_PREFIX):
            match = _BUILD_LINK.match(scope["path"])
            if match is not None:
                path = f"{ROUTED_PREFIX}/{match['build_number']}/{match['build_id']}"
                scope = {**scope, "path": path, "raw_path": path.encode()}  # type: ignore[assignment]
        await self.app(scope, receive, send)


class BuildLinkController(Controller):
    """Resolves a Jenkins build to its run (reached as ``/api/v1/test/<build id>/<build number>``)."""

    path = ROUTED_PREFIX
    tags = ["runs"]
    guards = [login_required]
    opt = LOGIN

    @get("/{build_number:int}/{build_id:path}", operation_id="getRunByBuild")
    async def run_by_build(self, request: Request[Any, Any, Any], run_browser: NamedDependency[RunBrowser],
                           build_number: FromPath[int], build_id: FromPath[str]) -> Ok[BuildLink]:
        """The run of build ``build_number`` of the job ``build_id`` and the absolute URL of its page.

        Public path: ``/api/v1/test/<build id>/<build number>``.
        """
        run = await run_browser.run_by_build(build_id, build_number)
        url = f"{str(request.base_url).rstrip('/')}/tests/{run.plugin_name.value}/{run.id}"
        return ok(BuildLink(run_id=run.id, plugin_name=run.plugin_name, url=url))
