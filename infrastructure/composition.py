"""The composition root: builds every adapter from settings and hands them to the services.

The web app's lifespan, the SAQ worker and the CLI all open the same ``Services`` here, and tests
open it with other settings, so there is exactly one place that knows how the parts fit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import saq

from domain.catalogue.search import CatalogueSearch
from domain.catalogue.service import CatalogueService
from domain.clock import SystemClock
from domain.replay.service import ReplayService
from domain.results.graphs import ResultGraphsService
from domain.results.service import ResultsService
from domain.runs.browsing import RunBrowser
from domain.runs.costs import CostService
from domain.runs.driver_matrix_service import DriverMatrixService
from domain.runs.plugins import PluginName
from domain.runs.pytest_results import PytestResultService
from domain.runs.reading import RunReader, combined
from domain.runs.run_results import RunResults
from domain.runs.service import AutoCreate, RunService
from domain.runs.sirenada import SirenadaService
from domain.sct.events import SCTEventService
from domain.sct.nemeses import NemesisService
from domain.sct.report import Mailer, ReportService
from domain.sct.service import RunConfigService, SCTService
from domain.stats.service import ReleaseStatsService
from domain.users.accounts import AccountService
from domain.users.audit import AuditLog
from domain.users.external import ExternalLoginService
from domain.users.login import PasswordLogin
from domain.users.pictures import PictureService
from domain.users.service import UserService
from domain.users.sessions import SessionService
from infrastructure.identity.external_logins import build_external_logins
from infrastructure.mail.report_renderer import JinjaReportRenderer
from infrastructure.mail.smtp_mailer import SMTPMailer
from infrastructure.queue.broker import open_queue
from infrastructure.queue.email_job import SAQReportOutbox
from infrastructure.replay.s3_logs import S3LogArchiveLister
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.security.identity import Identity, build_identity
from infrastructure.settings import Settings
from infrastructure.storage.account_repository import StoreAccountRepository, StorePictureRepository
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.catalogue_snapshot import CachedCatalogueSnapshots
from infrastructure.storage.graph_view_repository import StoreGraphViewRepository
from infrastructure.storage.instrumented_store import InstrumentedStore
from infrastructure.storage.migrations import MIGRATIONS
from infrastructure.storage.release_facet_repository import StoreReleaseFacetRepository
from infrastructure.storage.results_repository import StoreResultsRepository
from infrastructure.storage.run_data_repository import (
    StoreDriverCollectionRepository,
    StorePytestResultRepository,
    StoreSirenadaRepository,
)
from infrastructure.storage.run_repository import StoreRunRepository, StoreSummaryRepository
from infrastructure.storage.sct_events_repository import StoreEventRepository, StoreNemesisRepository
from infrastructure.storage.sct_repository import StoreRunConfigRepository, StoreSCTDataRepository
from infrastructure.storage.sqlite_store import SQLiteStore
from infrastructure.storage.store import TableStore
from infrastructure.storage.user_repository import StoreTokenRepository, StoreUserRepository


@dataclass(frozen=True)
class Services:
    """Everything a request, a job or a CLI command may use."""

    settings: Settings
    store: TableStore
    queue: saq.Queue
    catalogue: CatalogueService
    users: UserService
    sessions: SessionService
    password_login: PasswordLogin
    external_logins: ExternalLoginService
    audit: AuditLog
    accounts: AccountService
    pictures: PictureService
    runs: RunService
    results: ResultsService
    sirenada: SirenadaService
    pytest_results: PytestResultService
    driver_matrix: DriverMatrixService
    run_reader: RunReader
    run_browser: RunBrowser
    catalogue_search: CatalogueSearch
    run_results: RunResults
    costs: CostService
    sct: SCTService
    run_configs: RunConfigService
    sct_events: SCTEventService
    nemeses: NemesisService
    reports: ReportService
    mailer: Mailer
    replay: ReplayService
    stats: ReleaseStatsService
    result_graphs: ResultGraphsService


async def open_store(settings: Settings) -> TableStore:
    """The storage engine the settings name, connected."""
    if settings.storage.engine == "scylla":
        # Imported here so the embedded mode never loads the driver's C extensions.
        from infrastructure.storage.scylla_store import ScyllaStore

        return InstrumentedStore(await ScyllaStore.open(settings.storage))
    return InstrumentedStore(await SQLiteStore.open(settings.storage.sqlite_path))


async def migrate(settings: Settings) -> list[int]:
    """Apply pending schema migrations and return the versions applied."""
    store = await open_store(settings)
    try:
        return await store.migrate(MIGRATIONS)
    finally:
        await store.close()


@asynccontextmanager
async def open_services(settings: Settings, *, apply_migrations: bool = True) -> AsyncIterator[Services]:
    """Connect storage and broker, migrate, wire the services; close everything on exit."""
    store = await open_store(settings)
    queue = open_queue(settings.queue_url, settings.queue.name)
    identity: Identity | None = None
    try:
        if apply_migrations:
            await store.migrate(MIGRATIONS)
        await queue.connect()
        clock = SystemClock()
        user_repository, hasher = StoreUserRepository(store), Argon2PasswordHasher(settings.auth)
        users = UserService(user_repository, StoreTokenRepository(store, settings.storage.max_concurrency),
                            hasher, clock)
        account_repository = StoreAccountRepository(store, settings.storage.max_concurrency)
        identity = build_identity(settings, store, user_repository, account_repository, hasher, clock)
        catalogue_repository = StoreCatalogueRepository(store)
        catalogue = CatalogueService(catalogue_repository)
        run_repository = StoreRunRepository(store, settings.storage.max_concurrency)
        # One facet index per process: summaries write it, the dashboard reads it, and its cache of
        # values already written is shared.
        facets = StoreReleaseFacetRepository(store)
        summary_repository = StoreSummaryRepository(store, facets)
        runs = RunService(run_repository, summary_repository, catalogue, clock,
                          AutoCreate(settings.catalogue.auto_create))
        results_repository = StoreResultsRepository(store, settings.storage.max_concurrency)
        results = ResultsService(results_repository, run_repository, clock)
        sirenada = SirenadaService(runs, StoreSirenadaRepository(store, settings.storage.max_concurrency))
        driver_matrix = DriverMatrixService(runs, StoreDriverCollectionRepository(store), catalogue, clock)
        sct = SCTService(runs, StoreSCTDataRepository(store), clock)
        sct_events = SCTEventService(runs, StoreEventRepository(store, settings.storage.max_concurrency))
        nemeses = NemesisService(runs, StoreNemesisRepository(store), clock)
        reader = RunReader(runs, {PluginName.SIRENADA: sirenada.run_fields,
                                  PluginName.DRIVER_MATRIX: driver_matrix.run_fields,
                                  PluginName.SCT: combined(sct.run_fields, sct_events.run_fields,
                                                           nemeses.run_fields)})
        yield Services(settings=settings, store=store, queue=queue, catalogue=catalogue, users=users, runs=runs,
                       sessions=identity.sessions, password_login=identity.password_login,
                       external_logins=build_external_logins(settings.auth, store, user_repository, clock),
                       audit=identity.audit,
                       accounts=AccountService(users, user_repository, account_repository, hasher, identity.sessions,
                                               identity.audit),
                       pictures=PictureService(StorePictureRepository(store), account_repository, clock,
                                               settings.profile.max_picture_bytes),
                       sirenada=sirenada, pytest_results=PytestResultService(runs, StorePytestResultRepository(store)),
                       driver_matrix=driver_matrix,
                       run_reader=reader, results=results, run_results=RunResults(runs, results),
                       run_browser=RunBrowser(run_repository, catalogue),
                       catalogue_search=CatalogueSearch(CachedCatalogueSnapshots(
                           store, catalogue_repository, settings.storage.max_concurrency), run_repository),
                       costs=CostService(runs), sct=sct,
                       run_configs=RunConfigService(runs, StoreRunConfigRepository(
                           store, settings.storage.max_concurrency)),
                       sct_events=sct_events, nemeses=nemeses,
                       reports=ReportService(runs, reader, sct_events, results, JinjaReportRenderer(),
                                             SAQReportOutbox(queue)),
                       mailer=SMTPMailer(settings.mail),
                       replay=ReplayService(catalogue, S3LogArchiveLister(settings.replay.s3_endpoint,
                                                                          settings.replay.s3_bucket)),
                       stats=ReleaseStatsService(catalogue_repository, summary_repository, facets),
                       result_graphs=ResultGraphsService(catalogue, results_repository, StoreGraphViewRepository(store),
                                                         run_repository, clock, settings.storage.max_concurrency))
    finally:
        if identity is not None:
            await identity.close()
        await queue.disconnect()
        await store.close()
