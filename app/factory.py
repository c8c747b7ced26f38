"""The app factory: one Litestar application built from settings, used by uvicorn, the CLI and tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from app.accounts.admin_controller import AdminUsersController
from app.accounts.profile_controller import PictureController, ProfileController
from app.auth.bootstrap import ensure_admin
from app.auth.controller import AuthController
from app.auth.external_controller import ExternalLoginController
from app.auth.user_controller import AuditController, UserController
from app.catalogue.build_links import BuildLinkController, BuildLinkRouting
from app.catalogue.controller import CatalogueController
from app.catalogue.search_controller import SearchController
from app.client.controller import (
    ClientRunController,
    DriverMatrixController,
    PytestResultController,
    RunCostController,
)
from app.dependencies import DEPENDENCIES
from app.errors import EXCEPTION_HANDLERS
from app.pages.controller import PagesController
from app.replay.controller import ReplayController
from app.request_log import RequestLogger
from app.results.controller import ResultsController
from app.results.graphs_controller import ResultGraphsController
from app.runs.browse_controller import RunBrowseController
from app.runs.controller import RunController
from app.sct.controller import RunConfigController, SCTRunController
from app.sct.events_controller import SCTEventController
from app.sct.report_controller import ReportController
from app.security import PUBLIC
from app.stats.controller import StatsController
from app.system.controller import SystemController, service_version
from infrastructure.composition import Services, open_services
from infrastructure.observability import metrics
from infrastructure.observability.logging import configure_logging
from infrastructure.queue.broker import build_worker
from infrastructure.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
log = structlog.get_logger("argus.app")


class MetricsController(PrometheusController):
    """``/metrics`` in the Prometheus text format; aggregates all workers in multiprocess mode."""

    path = "/metrics"
    include_in_schema = False
    opt = PUBLIC


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application; storage and broker are opened by its lifespan, not here."""
    settings = settings or load_settings()
    configure_logging(settings.log)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            await ensure_admin(services)
            async with _embedded_worker(services):
                log.info("argus started", engine=services.store.engine,
                         queue=settings.queue_url.split(":", 1)[0], embedded_worker=settings.queue.embedded_worker)
                yield

    prometheus = PrometheusConfig(app_name="argus", prefix=metrics.PREFIX, group_path=True,
                                  exclude=["/metrics", "/healthz"])
    route_handlers: list[object] = [SystemController, CatalogueController, ClientRunController,
                                    PytestResultController, DriverMatrixController, RunCostController, RunController,
                                    ResultsController, SCTEventController, SCTRunController, RunConfigController,
                                    ReportController, StatsController, ResultGraphsController,
                                    RunBrowseController, BuildLinkController, SearchController,
                                    PagesController, ReplayController, ExternalLoginController,
                                    AdminUsersController, ProfileController, PictureController,
                                    AuthController, UserController, AuditController,
                                    create_static_files_router(path="/public", directories=[ROOT / "public"],
                                                               opt=PUBLIC, include_in_schema=False)]
    middleware = []
    if settings.metrics.enabled:
        route_handlers.append(MetricsController)
        middleware.append(prometheus.middleware)
    app = Litestar(
        route_handlers=route_handlers,  # type: ignore[arg-type]
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=middleware,
        lifespan=[lifespan],
        state=State({"settings": settings}),
        compression_config=CompressionConfig(backend="gzip", minimum_size=500),
        request_max_body_size=settings.server.max_body_bytes,
        template_config=TemplateConfig(directory=ROOT / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="Argus", version=service_version(),
            openapi_router=Router(path="/docs", route_handlers=[], opt=PUBLIC, include_in_schema=False),
            description="Test tracking for long-running automated pipelines.",
            render_plugins=[SwaggerRenderPlugin(path="/swagger"), RedocRenderPlugin(path="/redoc")],
        ),
        logging_config=None,
    )
    app.asgi_handler = RequestLogger(BuildLinkRouting(app.asgi_handler))
    return app


@contextlib.asynccontextmanager
async def _embedded_worker(services: Services) -> AsyncIterator[None]:
    """Run the SAQ worker inside the web process unless a separate ``argus worker`` is configured."""
    if not services.settings.queue.embedded_worker:
        yield
        return
    worker = build_worker(services.queue, concurrency=services.settings.queue.worker_concurrency,
                          context={"services": services}, embedded=True)
    task = asyncio.create_task(worker.start(), name="saq-worker")
    try:
        yield
    finally:
        await worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
