"""DI providers: handlers receive domain services, never the composition root itself."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from domain.catalogue.service import CatalogueService
from domain.results.service import ResultsService
from domain.runs.costs import CostService
from domain.runs.driver_matrix_service import DriverMatrixService
from domain.runs.pytest_results import PytestResultService
from domain.runs.reading import RunReader
from domain.runs.run_results import RunResults
from domain.runs.service import RunService
from domain.runs.sirenada import SirenadaService
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


def provide_sirenada(state: State) -> SirenadaService:
    """Sirenada submissions."""
    return state.services.sirenada


def provide_pytest_results(state: State) -> PytestResultService:
    """pytest reporter results."""
    return state.services.pytest_results


def provide_run_reader(state: State) -> RunReader:
    """Runs with their per-type data."""
    return state.services.run_reader


def provide_results(state: State) -> ResultsService:
    """Results tables use cases."""
    return state.services.results


def provide_driver_matrix(state: State) -> DriverMatrixService:
    """Driver-matrix results and environment."""
    return state.services.driver_matrix


def provide_run_results(state: State) -> RunResults:
    """Results tables submitted for runs."""
    return state.services.run_results


def provide_costs(state: State) -> CostService:
    """Run costs."""
    return state.services.costs


def provide_users(state: State) -> UserService:
    """Account use cases."""
    return state.services.users


DEPENDENCIES: dict[str, Any] = {
    "services": Provide(provide_services, sync_to_thread=False),
    "catalogue": Provide(provide_catalogue, sync_to_thread=False),
    "users": Provide(provide_users, sync_to_thread=False),
    "runs": Provide(provide_runs, sync_to_thread=False),
    "results": Provide(provide_results, sync_to_thread=False),
    "sirenada": Provide(provide_sirenada, sync_to_thread=False),
    "pytest_results": Provide(provide_pytest_results, sync_to_thread=False),
    "run_reader": Provide(provide_run_reader, sync_to_thread=False),
    "driver_matrix": Provide(provide_driver_matrix, sync_to_thread=False),
    "run_results": Provide(provide_run_results, sync_to_thread=False),
    "costs": Provide(provide_costs, sync_to_thread=False),
}
