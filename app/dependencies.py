"""DI providers: handlers receive domain services, never the composition root itself."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from domain.catalogue.service import CatalogueService
from domain.runs.service import RunService
from domain.users.service import UserService
from infrastructure.composition import Services


def provide_services(state: State) -> Services:
    """The services the lifespan opened."""
    return state.services


def provide_catalogue(state: State) -> CatalogueService:
    """Catalogue use cases."""
    return state.services.catalogue


def provide_runs(state: State) -> RunService:
    """Run lifecycle use cases."""
    return state.services.runs


def provide_users(state: State) -> UserService:
    """Account use cases."""
    return state.services.users


DEPENDENCIES: dict[str, Any] = {
    "services": Provide(provide_services, sync_to_thread=False),
    "catalogue": Provide(provide_catalogue, sync_to_thread=False),
    "users": Provide(provide_users, sync_to_thread=False),
    "runs": Provide(provide_runs, sync_to_thread=False),
}
