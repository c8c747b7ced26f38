"""Server-rendered pages; the foundation serves the landing page, features add theirs."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from app.pages.context import page_context
from app.security import PUBLIC
from infrastructure.composition import Services


class PagesController(Controller):
    """HTML pages rendered with Jinja."""

    include_in_schema = False

    @get("/", operation_id="indexPage", opt=PUBLIC)
    async def index(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Template:
        """Landing page: what this service is and where its API documentation lives."""
        return Template("index.html.j2", context=await page_context(request, engine=services.store.engine))
