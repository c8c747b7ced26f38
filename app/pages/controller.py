"""Server-rendered pages; the foundation serves the landing page, features add theirs."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.response import Template

from app.security import PUBLIC
from app.system.controller import service_version
from infrastructure.composition import Services


class PagesController(Controller):
    """HTML pages rendered with Jinja."""

    include_in_schema = False

    @get("/", operation_id="indexPage", opt=PUBLIC)
    async def index(self, services: NamedDependency[Services]) -> Template:
        """Landing page: what this service is and where its API documentation lives."""
        return Template("index.html.j2", context={"version": service_version(),
                                                  "engine": services.store.engine})
